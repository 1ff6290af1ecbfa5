package register_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/storage"
)

// TestPreview: the number shown before issuing is the one issuing then
// takes; showing it reserves nothing (two previews show the same number,
// and no counter moves); what Issue refuses is refused.
func TestPreview(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	d := w.signedDocument("QĐ", "thuong")
	for range 2 {
		pv, err := w.svc.Preview(ctx, w.clerk, d.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if pv.Number != 1 || pv.Symbol != "01/QĐ-UBND" || pv.Register.ID != w.outgoing().ID || pv.Year != register.Year(w.clock.now()) {
			t.Fatalf("preview %+v", pv)
		}
	}
	if n := w.count("SELECT count(*) FROM register_counters"); n != 0 {
		t.Fatalf("previewing wrote %d counters", n)
	}
	req := register.IssueRequest{Recipients: []register.Recipient{{OrganizationID: w.other.ID}}}
	if out, err := w.svc.Issue(ctx, w.clerk, d.ID, req); err != nil || out.Symbol != "01/QĐ-UBND" {
		t.Fatalf("issued %+v %v", out, err)
	}
	// The next document of the series previews the next number; a
	// công văn names the drafting unit.
	next := w.signedDocument("CV", "thuong")
	pv, err := w.svc.Preview(ctx, w.clerk, next.ID, w.outgoing().ID)
	if err != nil || pv.Number != 2 || pv.Symbol != "02/UBND-VP" {
		t.Fatalf("preview after an issue: %+v %v", pv, err)
	}

	var in *accounts.InputError
	cases := []struct {
		name      string
		who       accounts.Principal
		doc, reg  string
		wantError func(error) bool
	}{
		{"issued already", w.clerk, d.ID, "", func(err error) bool { return errors.Is(err, register.ErrNotSigned) }},
		{"not a clerk", w.drafter, next.ID, "", func(err error) bool { return errors.Is(err, accounts.ErrForbidden) }},
		{"another organisation", w.otherClerk, next.ID, "", func(err error) bool { return errors.Is(err, documents.ErrNotFound) }},
		{"no such register", w.clerk, next.ID, "nope", func(err error) bool { return errors.As(err, &in) }},
		{"confidential series", w.clerk, next.ID, w.confidential(t).ID, func(err error) bool { return errors.As(err, &in) }},
	}
	for _, c := range cases {
		if _, err := w.svc.Preview(ctx, c.who, c.doc, c.reg); !c.wantError(err) {
			t.Errorf("%s: %v", c.name, err)
		}
	}

	dest, err := w.svc.Destinations(ctx, w.clerk)
	if err != nil || len(dest) != 1 || dest[0].ID != w.other.ID {
		t.Fatalf("destinations %+v %v", dest, err)
	}
	if _, err := w.svc.Destinations(ctx, w.drafter); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("a drafter's destinations: %v", err)
	}
}

func (w *world) confidential(t *testing.T) storage.Register {
	admin := w.user("quantri-mat", "Quản Trị", w.org.ID, storage.RoleAdmin)
	r, err := w.svc.Create(context.Background(), admin, w.org.ID, register.NewRegister{Kind: "outgoing", Name: "Sổ văn bản mật", Confidential: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
