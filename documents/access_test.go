package documents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
)

func TestVisibilityUnitsAndConfidentialReads(t *testing.T) {
	s, drafter := newService(t)
	ctx := context.Background()
	orgA := drafter.OrganizationID
	mustUnit := func(org, code string) storage.Unit {
		u, err := storage.CreateUnit(ctx, s.DB.Pool, storage.Unit{OrganizationID: org, Code: code, Name: "Phòng " + code})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	orgB, err := storage.CreateOrganization(ctx, s.DB.Pool, storage.Organization{Code: "SYT", Name: "Sở Y tế"})
	if err != nil {
		t.Fatal(err)
	}
	vp, kt, bvp := mustUnit(orgA, "VP"), mustUnit(orgA, "KT"), mustUnit(orgB.ID, "VPS")
	user := func(name, org string, units []string, roles ...string) documents.Principal {
		u, err := storage.CreateUser(ctx, s.DB.Pool, storage.User{Username: name, FullName: name, OrganizationID: org, UnitIDs: units, Roles: roles}, "")
		if err != nil {
			t.Fatal(err)
		}
		return documents.Principal{User: u}
	}
	// The drafter of newService belongs to no unit; this one to VP only.
	author := user("author", orgA, []string{vp.ID}, storage.RoleDrafter)
	reviewer := user("reviewer", orgA, []string{vp.ID}, storage.RoleReviewer)
	otherUnit := user("other-unit", orgA, []string{kt.ID}, storage.RoleDrafter)
	auditor := user("auditor", orgA, nil, storage.RoleAuditor)
	clerkB := user("clerk-b", orgB.ID, []string{bvp.ID}, storage.RoleClerk)

	create := func(p documents.Principal, m documents.Meta, text string) (documents.Document, error) {
		m, err := s.CheckMeta(ctx, p, m)
		if err != nil {
			return documents.Document{}, err
		}
		f, err := s.StoreFile(ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: text})), "a.pdf")
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := s.Create(ctx, p, m, f, "")
		return d, err
	}
	for _, tc := range []struct {
		name string
		p    documents.Principal
		unit string
		want error
	}{
		{"unknown unit", author, "XX", documents.ErrUnknownUnit},
		{"another organisation's unit", author, "VPS", documents.ErrUnknownUnit},
		{"auditor", auditor, "", accounts.ErrForbidden},
	} {
		if _, err := create(tc.p, documents.Meta{Type: "CV", Subject: "s", Unit: tc.unit}, tc.name); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Without a unit the document is the author's one unit's.
	plain, err := create(author, documents.Meta{Type: "CV", Subject: "Công văn thường"}, "plain")
	if err != nil || plain.Unit != "VP" || plain.UnitID != vp.ID || plain.OrganizationID != orgA {
		t.Fatalf("document %+v %v", plain, err)
	}
	secret, err := create(author, documents.Meta{Type: "QĐ", Subject: "Quyết định mật", Confidentiality: "Mật", Unit: "VP"}, "secret")
	if err != nil || secret.Confidentiality != "mat" {
		t.Fatalf("confidential document %+v %v", secret, err)
	}

	for _, tc := range []struct {
		name    string
		p       documents.Principal
		sees    []string
		changes error
	}{
		{"author", author, []string{plain.ID, secret.ID}, nil},
		{"reviewer of the unit", reviewer, []string{plain.ID, secret.ID}, nil},
		{"drafter of another unit", otherUnit, nil, documents.ErrNotFound},
		{"auditor", auditor, []string{plain.ID, secret.ID}, accounts.ErrForbidden},
		{"clerk of another organisation", clerkB, nil, documents.ErrNotFound},
	} {
		list, _, err := s.List(ctx, tc.p, documents.Filter{})
		if err != nil || len(list) != len(tc.sees) {
			t.Errorf("%s lists %d documents (%v), want %d", tc.name, len(list), err, len(tc.sees))
		}
		for _, id := range []string{plain.ID, secret.ID} {
			want := documents.ErrNotFound
			for _, s := range tc.sees {
				if s == id {
					want = nil
				}
			}
			_, gerr := s.Get(ctx, tc.p, id)
			_, verr := s.Version(ctx, tc.p, id, 1)
			if !errors.Is(gerr, want) || !errors.Is(verr, want) {
				t.Errorf("%s reading %s: %v, %v; want %v", tc.name, id, gerr, verr, want)
			}
		}
		if _, err := s.Changeable(ctx, tc.p, plain.ID); !errors.Is(err, tc.changes) {
			t.Errorf("%s changing: %v, want %v", tc.name, err, tc.changes)
		}
	}
	// Another organisation's clerk cannot add a version either, and the
	// refused upload is not kept.
	f, err := s.StoreFile(ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: "intruder"})), "v.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddVersion(ctx, clerkB, plain.ID, f); !errors.Is(err, documents.ErrNotFound) {
		t.Fatalf("version by another organisation: %v", err)
	}
	if _, err := s.Blobs.Stat(ctx, f.Key); err == nil {
		t.Fatal("the refused version's bytes are still stored")
	}

	// Reads of the confidential document are in the audit log (author,
	// reviewer and auditor each: its listing, metadata and file), those of
	// the ordinary one are not.
	entries, err := audit.Entries(ctx, s.DB.Pool, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	reads, listings := map[string]int{}, 0
	for _, e := range entries {
		if e.Action == documents.ActionReadConfidential {
			reads[e.Object]++
			var d struct{ Read string }
			if err := json.Unmarshal(e.Details, &d); err != nil {
				t.Fatal(err)
			}
			if d.Read == "listing" {
				listings++
			}
		}
	}
	if reads["document:"+secret.ID] != 9 || listings != 3 || reads["document:"+plain.ID] != 0 {
		t.Fatalf("confidential reads recorded: %v, %d in listings", reads, listings)
	}
}
