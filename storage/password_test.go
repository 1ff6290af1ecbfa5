package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage"
)

// TestSetPasswordEndsSessions: a new password ends every session the user
// had (opened with the old one) and no one else's; a session opened after
// the change lives.
func TestSetPasswordEndsSessions(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	org, err := storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã"})
	if err != nil {
		t.Fatal(err)
	}
	var users []storage.User
	for _, name := range []string{"vanthu1", "vanthu2"} {
		u, err := storage.CreateUser(ctx, db.Pool, storage.User{Username: name, FullName: "Nguyễn Văn Thư", OrganizationID: org.ID}, "old-hash")
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	expires := time.Now().Add(time.Hour)
	for _, s := range []struct{ user, secret string }{{users[0].ID, "phone"}, {users[0].ID, "desk"}, {users[1].ID, "other"}} {
		if _, err := storage.CreateSession(ctx, db.Pool, s.user, s.secret, expires); err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.SetPassword(ctx, db.Pool, users[0].ID, "new-hash"); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.CreateSession(ctx, db.Pool, users[0].ID, "after", expires); err != nil {
		t.Fatal(err)
	}
	for secret, live := range map[string]bool{"phone": false, "desk": false, "other": true, "after": true} {
		_, _, err := storage.SessionUser(ctx, db.Pool, secret, time.Hour, 12*time.Hour)
		switch {
		case live && err != nil:
			t.Errorf("session %s ended: %v", secret, err)
		case !live && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("session %s outlived the password change: %v", secret, err)
		}
	}
	if err := storage.SetPassword(ctx, db.Pool, "6f1c1f4e-0000-4000-8000-000000000000", "h"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
}
