package accounts_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// TestAnOrganisationKeepsAnAdministrator walks every path that can take an
// organisation's administrator away — disabling, dropping the role, and
// the two combined — and checks the organisation always keeps an enabled
// administrator, with refusals unaudited.
func TestAnOrganisationKeepsAnAdministrator(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	op := accounts.Operator("test")
	admin := o.users[storage.RoleAdmin]
	root, err := storage.CreateUser(ctx, o.db.Pool, storage.User{Username: "root", FullName: "Quản trị hệ thống", IsSuperadmin: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	super := accounts.Principal{User: root}
	second, err := o.svc.CreateUser(ctx, op, accounts.NewUser{Username: "quantri2", FullName: "Quản trị hai", OrganizationID: o.org.ID,
		Roles: []string{storage.RoleAdmin}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	secondP := accounts.Principal{User: second}

	type step struct {
		name string
		do   func() error
		want error // nil: allowed
	}
	disable := func(by accounts.Principal, id string, off bool) func() error {
		return func() error { _, err := o.svc.SetDisabled(ctx, by, id, off); return err }
	}
	roles := func(by accounts.Principal, id string, r ...string) func() error {
		return func() error { _, err := o.svc.SetRoles(ctx, by, id, r); return err }
	}
	steps := []step{
		{"an admin disables themselves", disable(admin, admin.ID, true), accounts.ErrForbidden},
		{"an admin disables the other of two", disable(admin, second.ID, true), nil},
		{"the superadmin disables the last enabled admin", disable(super, admin.ID, true), accounts.ErrLastAdmin},
		{"the operator disables the last enabled admin", disable(op, admin.ID, true), accounts.ErrLastAdmin},
		{"the last admin drops the role", roles(admin, admin.ID, storage.RoleSigner), accounts.ErrLastAdmin},
		{"a disabled admin's role may go", roles(admin, second.ID, storage.RoleSigner), nil},
		{"an admin's role comes back to a disabled account", roles(admin, second.ID, storage.RoleAdmin), nil},
		{"enabling the second admin", disable(admin, second.ID, false), nil},
		{"the second disables the first", disable(secondP, admin.ID, true), nil},
		{"the first is disabled: the second is the last", disable(super, second.ID, true), accounts.ErrLastAdmin},
		{"the last drops the role beside a disabled admin", roles(super, second.ID, storage.RoleDrafter), accounts.ErrLastAdmin},
		{"enabling the first again", disable(secondP, admin.ID, false), nil},
		{"the second steps down beside the first", roles(secondP, second.ID, storage.RoleDrafter), nil},
		{"the first cannot then be disabled", disable(super, admin.ID, true), accounts.ErrLastAdmin},
		{"disabling a non-admin is fine", disable(admin, o.users[storage.RoleDrafter].ID, true), nil},
	}
	for _, s := range steps {
		before := auditActions(t, o.db)
		err := s.do()
		if s.want == nil && err != nil || s.want != nil && !errors.Is(err, s.want) {
			t.Fatalf("%s: got %v, want %v", s.name, err, s.want)
		}
		if s.want != nil && len(auditActions(t, o.db)) != len(before) {
			t.Fatalf("%s: a refused change was audited", s.name)
		}
		if n, err := storage.CountEnabledAdmins(ctx, o.db.Pool, o.org.ID); err != nil || n < 1 {
			t.Fatalf("%s: the organisation has %d enabled administrators (%v)", s.name, n, err)
		}
	}
	if reason, args := accounts.Reason(roles(admin, admin.ID)()); reason != "last-admin" || len(args) != 1 || args[0] != admin.Username {
		t.Fatalf("the refusal's reason is %q %v", reason, args)
	}
}

// TestTwoAdministratorsDisablingEachOther runs the race the lock closes:
// two administrators, each disabling (or demoting) the other at the same
// moment. One change passes and the other is refused, whichever order the
// database gives them, so the organisation keeps an administrator.
func TestTwoAdministratorsDisablingEachOther(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	op := accounts.Operator("test")
	a := o.users[storage.RoleAdmin]
	cases := []struct {
		name string
		do   func(by accounts.Principal, id string) error
	}{
		{"disable", func(by accounts.Principal, id string) error {
			_, err := o.svc.SetDisabled(ctx, by, id, true)
			return err
		}},
		{"demote", func(by accounts.Principal, id string) error { _, err := o.svc.SetRoles(ctx, by, id, nil); return err }},
		{"disable and demote", nil},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Fresh: both admins enabled.
			b, err := o.svc.CreateUser(ctx, op, accounts.NewUser{Username: "quantri.dua" + string(rune('a'+i)), FullName: "Quản trị đua",
				OrganizationID: o.org.ID, Roles: []string{storage.RoleAdmin}, Password: password})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.svc.SetRoles(ctx, op, a.ID, []string{storage.RoleAdmin}); err != nil {
				t.Fatal(err)
			}
			if _, err := o.svc.SetDisabled(ctx, op, a.ID, false); err != nil {
				t.Fatal(err)
			}
			// Others from earlier cases step aside so that a and b are the
			// organisation's only administrators.
			users, _ := storage.ListUsers(ctx, o.db.Pool, o.org.ID)
			for _, x := range users {
				if x.ID != a.ID && x.ID != b.ID && x.DisabledAt == nil {
					if _, err := o.svc.SetDisabled(ctx, op, x.ID, true); err != nil {
						t.Fatal(err)
					}
				}
			}
			bp := accounts.Principal{User: b}
			first, second := c.do, c.do
			if first == nil {
				first, second = cases[0].do, cases[1].do
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			wg.Add(2)
			go func() { defer wg.Done(); <-start; errs[0] = first(a, b.ID) }()
			go func() { defer wg.Done(); <-start; errs[1] = second(bp, a.ID) }()
			close(start)
			wg.Wait()
			refused := 0
			for _, err := range errs {
				switch {
				case errors.Is(err, accounts.ErrLastAdmin):
					refused++
				case err != nil:
					t.Fatalf("unexpected error %v", err)
				}
			}
			if refused != 1 {
				t.Fatalf("%d of 2 changes refused (%v), want exactly 1", refused, errs)
			}
			if n, err := storage.CountEnabledAdmins(ctx, o.db.Pool, o.org.ID); err != nil || n != 1 {
				t.Fatalf("%d enabled administrators left (%v), want 1", n, err)
			}
		})
	}
}
