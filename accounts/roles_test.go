package accounts_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

func TestSetRoles(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	op := accounts.Operator("test")
	admin, drafter := o.users[storage.RoleAdmin], o.users[storage.RoleDrafter]
	other, err := o.svc.CreateOrganization(ctx, op, storage.Organization{Code: "UBNDX", Name: "Ủy ban nhân dân xã Khác"})
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := o.svc.CreateUser(ctx, op, accounts.NewUser{Username: "quantri.khac", FullName: "Quản trị khác", OrganizationID: other.ID,
		Roles: []string{storage.RoleAdmin}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	// The drafter signs in before the change: the session sees it.
	secret, _, err := o.svc.Login(ctx, drafter.Username, password, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		by    accounts.Principal
		user  string
		roles []string
		want  error
	}{
		{"a drafter changes roles", o.users[storage.RoleSigner], drafter.ID, []string{storage.RoleSigner}, accounts.ErrForbidden},
		{"a user raises themselves", drafter, drafter.ID, []string{storage.RoleAdmin}, accounts.ErrForbidden},
		{"an admin of another organisation", accounts.Principal{User: outsider}, drafter.ID, []string{storage.RoleSigner}, storage.ErrNotFound},
		{"an unknown role", admin, drafter.ID, []string{"emperor"}, &accounts.InputError{}},
		{"an unknown user", admin, "00000000-0000-0000-0000-000000000000", nil, storage.ErrNotFound},
		{"the last admin drops the role", admin, admin.ID, []string{storage.RoleSigner}, accounts.ErrLastAdmin},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := auditActions(t, o.db)
			_, err := o.svc.SetRoles(ctx, c.by, c.user, c.roles)
			var in *accounts.InputError
			if _, isInput := c.want.(*accounts.InputError); isInput {
				if !errors.As(err, &in) {
					t.Fatalf("got %v, want an input error", err)
				}
			} else if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if after := auditActions(t, o.db); count(after, "user.roles") != count(before, "user.roles") {
				t.Fatal("a refused change was audited")
			}
		})
	}

	u, err := o.svc.SetRoles(ctx, admin, drafter.ID, []string{storage.RoleSigner, storage.RoleDrafter, storage.RoleSigner})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Roles, []string{storage.RoleDrafter, storage.RoleSigner}) {
		t.Fatalf("roles %v", u.Roles)
	}
	p, err := o.svc.AuthenticateSession(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Has(storage.RoleSigner) {
		t.Fatalf("the session still sees roles %v", p.Roles)
	}
	if n := count(auditActions(t, o.db), "user.roles"); n != 1 {
		t.Fatalf("%d user.roles entries, want 1", n)
	}

	// With a second admin, the first may step down; then the second is
	// the last one.
	if _, err := o.svc.SetRoles(ctx, op, drafter.ID, []string{storage.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.svc.SetRoles(ctx, admin, admin.ID, []string{storage.RoleAuditor}); err != nil {
		t.Fatalf("stepping down beside another admin: %v", err)
	}
	if _, err := o.svc.SetRoles(ctx, op, drafter.ID, nil); !errors.Is(err, accounts.ErrLastAdmin) {
		t.Fatalf("removing the now last admin: %v", err)
	}
	// The superadmin changes roles in any organisation.
	root, err := storage.CreateUser(ctx, o.db.Pool, storage.User{Username: "root", FullName: "Quản trị hệ thống", IsSuperadmin: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.svc.SetRoles(ctx, accounts.Principal{User: root}, outsider.ID, []string{storage.RoleAdmin, storage.RoleAuditor}); err != nil {
		t.Fatalf("superadmin: %v", err)
	}
}
