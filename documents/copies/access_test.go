package copies_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/copies"
	"github.com/vanthu/vanthu/storage"
)

// unitUser is a user of w.org in one unit with one role.
func (w *world) unitUser(username, unitID, role string) accounts.Principal {
	w.t.Helper()
	u, err := storage.CreateUser(context.Background(), w.db.Pool, storage.User{Username: username, FullName: username,
		OrganizationID: w.org.ID, Roles: []string{role}, UnitIDs: []string{unitID}}, "")
	if err != nil {
		w.t.Fatal(err)
	}
	return accounts.Principal{User: u}
}

// TestCopiesVisibleToTheOriginalsUnit: the copies of a document (SAO Y,
// TRÍCH SAO, and the SAO LỤC of its SAO Y) are seen by whoever sees the
// original as its drafter or through its unit — a drafter of the unit, a
// reviewer of the unit for a confidential one — and by nobody the original
// is hidden from: a drafter of another unit, a drafter of the unit for a
// confidential original, another organisation. Reading and listing agree.
func TestCopiesVisibleToTheOriginalsUnit(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	unit := func(code string) string {
		u, err := storage.CreateUnit(ctx, w.db.Pool, storage.Unit{OrganizationID: w.org.ID, Code: code, Name: "Phòng " + code})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	tp, vh := unit("TP"), unit("VH")
	author := w.unitUser("tacgia", tp, storage.RoleDrafter)
	mate := w.unitUser("dongnghiep", tp, storage.RoleDrafter)
	reviewer := w.unitUser("truongphong", tp, storage.RoleReviewer)
	stranger := w.unitUser("phongkhac", vh, storage.RoleDrafter)

	// An original drafted in the unit, issued; and one of the unit's
	// drafter with no unit on the document.
	inUnit := func(confidentiality string) storage.Document {
		d := w.issued(confidentiality)
		if _, err := w.db.Pool.Exec(ctx, "UPDATE documents SET unit_id = $1, created_by = $2 WHERE id = $3", tp, author.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		d.UnitID = tp
		return d
	}
	copyOf := func(p accounts.Principal, id string, req copies.Request) copies.Copy {
		t.Helper()
		c, err := w.svc.Make(ctx, p, id, req)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	plain := inUnit("thuong")
	sy := copyOf(w.clerk, plain.ID, copies.Request{Form: "SY"})
	trs := copyOf(w.clerk, plain.ID, copies.Request{Form: "TrS", Pages: []int{2}})
	sl := copyOf(w.clerk, sy.ID, copies.Request{Form: "SL"})
	secret := inUnit("mat")
	secretSY := copyOf(w.clerk, secret.ID, copies.Request{Form: "SY"})
	if _, err := w.db.Pool.Exec(ctx, "UPDATE documents SET unit_id = NULL WHERE id = ANY($1::uuid[])",
		[]string{sy.ID, trs.ID, sl.ID, secretSY.ID}); err != nil {
		t.Fatal(err) // the copies' own unit aside: seen through the original alone
	}
	noUnit := w.issued("thuong") // drafted by w.drafter, no unit
	noUnitSY := copyOf(w.clerk, noUnit.ID, copies.Request{Form: "SY"})

	cases := []struct {
		who  string
		p    accounts.Principal
		copy copies.Copy
		sees bool
	}{
		{"the drafter, SAO Y", author, sy, true},
		{"the drafter, TRÍCH SAO", author, trs, true},
		{"the drafter, SAO LỤC of the SAO Y", author, sl, true},
		{"a drafter of the unit, SAO Y", mate, sy, true},
		{"a drafter of the unit, TRÍCH SAO", mate, trs, true},
		{"a drafter of the unit, SAO LỤC", mate, sl, true},
		{"a drafter of another unit, SAO Y", stranger, sy, false},
		{"a drafter of another unit, SAO LỤC", stranger, sl, false},
		{"the drafter, confidential SAO Y", author, secretSY, true},
		{"a drafter of the unit, confidential SAO Y", mate, secretSY, false},
		{"the unit's reviewer, confidential SAO Y", reviewer, secretSY, true},
		{"a drafter of another unit, confidential SAO Y", stranger, secretSY, false},
		{"the drafter of an original with no unit", w.drafter, noUnitSY, true},
		{"a drafter of the unit, original with no unit", mate, noUnitSY, false},
		{"another organisation", w.otherClerk, sy, false},
	}
	for _, c := range cases {
		_, err := w.svc.Docs.Get(ctx, c.p, c.copy.ID)
		switch {
		case c.sees && err != nil:
			t.Errorf("%s: %v, want the copy", c.who, err)
		case !c.sees && !errors.Is(err, documents.ErrNotFound):
			t.Errorf("%s: %v, want not found", c.who, err)
		}
		list, _, err := w.svc.Docs.List(ctx, c.p, documents.Filter{Type: c.copy.Type, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		listed := slices.ContainsFunc(list, func(d documents.Document) bool { return d.ID == c.copy.ID })
		if listed != c.sees {
			t.Errorf("%s: listed %v, want %v", c.who, listed, c.sees)
		}
	}
}
