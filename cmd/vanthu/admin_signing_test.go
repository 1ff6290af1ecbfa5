package main

import (
	"context"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestAdminOrgSigningLevel: the operator sets an organisation's level; a
// level below B-T and an unknown organisation are refused; the change is
// audited.
func TestAdminOrgSigningLevel(t *testing.T) {
	a := newAdminEnv(t)
	a.ok("org", "create", "--code", "UBND", "--name", "Ủy ban nhân dân xã A")
	if out := a.ok("org", "signing-level", "--org", "UBND", "--level", "B-LTA"); !strings.Contains(out, "UBND signs at B-LTA") {
		t.Fatalf("output %q", out)
	}
	for _, c := range []struct{ args []string }{
		{[]string{"org", "signing-level", "--org", "UBND", "--level", "B-B"}},
		{[]string{"org", "signing-level", "--org", "UBND", "--level", "X"}},
		{[]string{"org", "signing-level", "--org", "NOPE", "--level", "B-LT"}},
	} {
		if _, _, err := a.run("", c.args...); err == nil {
			t.Fatalf("%v accepted", c.args)
		}
	}
	_, db := a.service()
	o, err := storage.OrganizationByCode(context.Background(), db.Pool, "UBND")
	if err != nil {
		t.Fatal(err)
	}
	level, err := storage.OrganizationSigningLevel(context.Background(), db.Pool, o.ID)
	if err != nil || level != "B-LTA" {
		t.Fatalf("level %q %v", level, err)
	}
	var n int
	db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = 'organization.signing_level'").Scan(&n)
	if n != 1 {
		t.Fatalf("%d audit entries", n)
	}
}
