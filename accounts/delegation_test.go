package accounts

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage"
)

var (
	t0       = time.Date(2026, 3, 1, 8, 0, 0, 0, vietnam)
	org      = "00000000-0000-0000-0000-00000000000a"
	head     = storage.User{ID: "u-head", Username: "chutich", OrganizationID: org, Roles: []string{storage.RoleSigner}}
	deputy   = storage.User{ID: "u-deputy", Username: "phochutich", OrganizationID: org, Roles: []string{storage.RoleSigner}}
	chief    = storage.User{ID: "u-chief", Username: "chanhvanphong", OrganizationID: org, Roles: []string{storage.RoleSigner}}
	vice     = storage.User{ID: "u-vice", Username: "phovanphong", OrganizationID: org, Roles: []string{storage.RoleSigner}}
	drafter  = storage.User{ID: "u-drafter", Username: "chuyenvien", OrganizationID: org, Roles: []string{storage.RoleDrafter}}
	outsider = storage.User{ID: "u-out", Username: "khac", OrganizationID: "other", Roles: []string{storage.RoleSigner}}
)

func delegation(id, form string, from, to storage.User) storage.Delegation {
	return storage.Delegation{ID: id, OrganizationID: org, Form: form, FromUser: from.ID, ToUser: to.ID,
		StartsAt: t0, EndsAt: t0.AddDate(0, 1, 0), Basis: "Quyết định số 12/QĐ-UBND"}
}

func TestCheckNewDelegation(t *testing.T) {
	tl := delegation("d-tl", FormByOrder, head, chief)
	tl.DocumentTypes = []string{"CV", "TB"}
	passedOn := delegation("d-tl2", FormByOrder, chief, vice)
	passedOn.ParentID = tl.ID
	passedOn.DocumentTypes = []string{"CV"}
	tuq := delegation("d-tuq", FormAuthorised, head, chief)
	kt := delegation("d-kt", FormDeputy, head, deputy)
	revoked := tl
	revoked.RevokedAt = &t0

	with := func(d storage.Delegation, f func(*storage.Delegation)) storage.Delegation { f(&d); return d }
	for _, tc := range []struct {
		name     string
		d        storage.Delegation
		from, to storage.User
		parent   *storage.Delegation
		children int
		want     string // "" for accepted, else part of the reason
	}{
		{"KT. to a deputy", kt, head, deputy, nil, 0, ""},
		{"TL. to the office chief", tl, head, chief, nil, 0, ""},
		{"TUQ. with its written basis", tuq, head, chief, nil, 0, ""},
		{"TUQ. without basis", with(tuq, func(d *storage.Delegation) { d.Basis = " " }), head, chief, nil, 0, "written authorisation"},
		{"unknown form", with(kt, func(d *storage.Delegation) { d.Form = "XX" }), head, deputy, nil, 0, "unknown authority form"},
		{"to oneself", kt, head, head, nil, 0, "themselves"},
		{"across organisations", kt, head, outsider, nil, 0, "organisation"},
		{"to a non-signer", kt, head, drafter, nil, 0, "signer role"},
		{"ends before it starts", with(kt, func(d *storage.Delegation) { d.EndsAt = t0.Add(-time.Hour) }), head, deputy, nil, 0, "before it starts"},
		{"already expired", with(kt, func(d *storage.Delegation) { d.StartsAt, d.EndsAt = t0.AddDate(0, -2, 0), t0.AddDate(0, -1, 0) }), head, deputy, nil, 0, "already ended"},
		{"TL. passed on once", passedOn, chief, vice, &tl, 0, ""},
		{"TL. passed on twice", passedOn, chief, vice, &tl, 1, "already been passed on"},
		{"TL. passed on from a passed-on one", with(passedOn, func(d *storage.Delegation) { d.ParentID = "d-tl2" }), vice, chief,
			&storage.Delegation{ID: "d-tl2", Form: FormByOrder, ParentID: "d-tl", ToUser: vice.ID, StartsAt: t0, EndsAt: t0.AddDate(0, 1, 0)}, 0, "only once"},
		{"TUQ. passed on", with(passedOn, func(d *storage.Delegation) { d.ParentID = tuq.ID }), chief, vice, &tuq, 0, "TUQ. delegation may not be passed on"},
		{"KT. passed on", with(passedOn, func(d *storage.Delegation) { d.ParentID = kt.ID }), deputy, vice, &kt, 0, "only a TL."},
		{"passed on by someone else", passedOn, deputy, vice, &tl, 0, "holder"},
		{"passed on beyond its period", with(passedOn, func(d *storage.Delegation) { d.EndsAt = t0.AddDate(0, 2, 0) }), chief, vice, &tl, 0, "within"},
		{"passed on beyond its types", with(passedOn, func(d *storage.Delegation) { d.DocumentTypes = []string{"QĐ"} }), chief, vice, &tl, 0, "document types"},
		{"passed on for every type", with(passedOn, func(d *storage.Delegation) { d.DocumentTypes = nil }), chief, vice, &tl, 0, "document types"},
		{"passed on after revocation", passedOn, chief, vice, &revoked, 0, "revoked"},
		{"passed on in another form", with(passedOn, func(d *storage.Delegation) { d.Form = FormDeputy }), chief, vice, &tl, 0, "as TL."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckNewDelegation(tc.d, tc.from, tc.to, tc.parent, tc.children, t0)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (!errors.Is(err, ErrDelegation) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want a refusal mentioning %q", err, tc.want)
			}
		})
	}
}

func TestCheckAuthority(t *testing.T) {
	tuq := delegation("d-tuq", FormAuthorised, head, chief)
	tuq.DocumentTypes = []string{"CV"}
	tuq.UnitIDs = []string{"unit-vp"}
	tl := delegation("d-tl", FormByOrder, head, chief)
	tl2 := delegation("d-tl2", FormByOrder, chief, vice)
	tl2.ParentID = "d-tl"
	tlRevoked := tl
	revokedAt := t0.AddDate(0, 0, 10)
	tlRevoked.RevokedAt = &revokedAt
	parents := map[string]storage.Delegation{"d-tl": tl}
	parentOf := func(id string) (storage.Delegation, error) { return parents[id], nil }

	in := t0.AddDate(0, 0, 15)
	for _, tc := range []struct {
		name string
		use  SigningUse
		held []storage.Delegation
		want string
	}{
		{"own name", SigningUse{Signer: head, At: in}, nil, ""},
		{"own name without the role", SigningUse{Signer: drafter, At: in}, nil, "signer role"},
		{"TUQ. in scope", SigningUse{Signer: chief, Form: "TUQ.", DocumentType: "CV", UnitID: "unit-vp", At: in}, []storage.Delegation{tuq}, ""},
		{"TUQ. other type", SigningUse{Signer: chief, Form: "TUQ.", DocumentType: "QĐ", UnitID: "unit-vp", At: in}, []storage.Delegation{tuq}, "QĐ is outside its scope"},
		{"TUQ. other unit", SigningUse{Signer: chief, Form: "TUQ.", DocumentType: "CV", UnitID: "unit-kt", At: in}, []storage.Delegation{tuq}, "unit is outside"},
		{"TUQ. expired", SigningUse{Signer: chief, Form: "TUQ.", DocumentType: "CV", UnitID: "unit-vp", At: t0.AddDate(0, 2, 0)}, []storage.Delegation{tuq}, "expired on"},
		{"TUQ. not yet valid", SigningUse{Signer: chief, Form: "TUQ.", DocumentType: "CV", UnitID: "unit-vp", At: t0.Add(-time.Hour)}, []storage.Delegation{tuq}, "not valid before"},
		{"no delegation of that form", SigningUse{Signer: chief, Form: "KT.", At: in}, []storage.Delegation{tuq}, "holds no KT."},
		{"passed-on TL.", SigningUse{Signer: vice, Form: "TL.", At: in}, []storage.Delegation{tl2}, ""},
		{"passed-on TL. after its parent was revoked", SigningUse{Signer: vice, Form: "TL.", At: in}, []storage.Delegation{tl2}, "passed on from: revoked"},
		{"revoked later: still valid before", SigningUse{Signer: chief, Form: "TL", At: t0.AddDate(0, 0, 5)}, []storage.Delegation{tlRevoked}, ""},
		{"bad form", SigningUse{Signer: chief, Form: "ABC", At: in}, nil, "unknown authority form"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "parent was revoked") {
				parents["d-tl"] = tlRevoked
				defer func() { parents["d-tl"] = tl }()
			}
			d, err := CheckAuthority(tc.use, tc.held, parentOf)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "" && tc.use.Form != "" && d == nil:
				t.Fatal("allowed without naming the delegation")
			case tc.want != "" && (!errors.Is(err, ErrDelegation) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want a refusal mentioning %q", err, tc.want)
			}
		})
	}
}

// TestActingFor: the delegations an inbox may show turns for are those
// valid at the moment (and, passed on, whose parent is), to a signer; the
// scope is then checked per document by Covers.
func TestActingFor(t *testing.T) {
	kt := delegation("d-kt", FormDeputy, head, deputy)
	later := delegation("d-later", FormDeputy, chief, deputy)
	later.StartsAt = t0.AddDate(0, 0, 10)
	revoked := delegation("d-revoked", FormDeputy, vice, deputy)
	at := t0.AddDate(0, 0, 1)
	revokedAt := t0
	revoked.RevokedAt = &revokedAt
	parent := delegation("d-parent", FormByOrder, head, chief)
	parent.EndsAt = t0.AddDate(0, 0, 2)
	child := delegation("d-child", FormByOrder, chief, vice)
	child.ParentID = parent.ID
	parents := func(id string) (storage.Delegation, error) {
		if id == parent.ID {
			return parent, nil
		}
		return storage.Delegation{}, storage.ErrNotFound
	}
	ids := func(ds []storage.Delegation) string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		name   string
		signer storage.User
		held   []storage.Delegation
		at     time.Time
		want   string
	}{
		{"valid now", deputy, []storage.Delegation{kt}, at, "d-kt"},
		{"not yet valid, revoked", deputy, []storage.Delegation{kt, later, revoked}, at, "d-kt"},
		{"expired", deputy, []storage.Delegation{kt}, t0.AddDate(0, 2, 0), ""},
		{"not a signer", drafter, []storage.Delegation{delegation("d-x", FormDeputy, head, drafter)}, at, ""},
		{"passed on, parent valid", vice, []storage.Delegation{child}, at, "d-child"},
		{"passed on, parent expired", vice, []storage.Delegation{child}, t0.AddDate(0, 0, 3), ""},
	} {
		got, err := ActingFor(c.signer, c.held, c.at, parents)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ids(got) != c.want {
			t.Errorf("%s: %q, want %q", c.name, ids(got), c.want)
		}
	}
	scoped := kt
	scoped.DocumentTypes, scoped.UnitIDs = []string{"QĐ"}, []string{"unit-vp"}
	for _, c := range []struct {
		d         storage.Delegation
		typ, unit string
		covered   bool
	}{
		{kt, "CV", "", true},
		{scoped, "QĐ", "unit-vp", true},
		{scoped, "CV", "unit-vp", false},
		{scoped, "QĐ", "unit-tp", false},
	} {
		if Covers(c.d, c.typ, c.unit) != c.covered {
			t.Errorf("Covers(%v %v, %s, %s) != %v", c.d.DocumentTypes, c.d.UnitIDs, c.typ, c.unit, c.covered)
		}
	}
}
