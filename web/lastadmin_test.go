package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// The API refuses what would leave an organisation without an enabled
// administrator with a 409 problem+json naming the user, whether the
// route disables or changes roles, and whoever asks (the superadmin too).
func TestLastAdministratorIsAConflict(t *testing.T) {
	e := newEnv(t, 1<<20)
	org := e.office.org.ID
	// The office's organisation starts with these two administrators only.
	users, err := storage.ListUsers(context.Background(), e.db.Pool, org)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.DisabledAt == nil && len(u.Roles) > 0 {
			for _, r := range u.Roles {
				if r == storage.RoleAdmin {
					t.Fatalf("the office already has administrator %s", u.Username)
				}
			}
		}
	}
	a := e.member(org, "quantri.a", []string{storage.RoleAdmin}, e.office.units["VP"].ID)
	b := e.member(org, "quantri.b", []string{storage.RoleAdmin}, e.office.units["VP"].ID)
	root := e.member("", "root.he.thong", nil)
	steps := []struct {
		name, token, method, path, body string
		want                            int
	}{
		{"a disables b", a.token, "POST", "/api/v1/users/" + b.user.ID + "/disable", ``, http.StatusOK},
		{"the superadmin disables a, the last", root.token, "POST", "/api/v1/users/" + a.user.ID + "/disable", ``, http.StatusConflict},
		{"a drops their admin role", a.token, "PUT", "/api/v1/users/" + a.user.ID + "/roles", `{"roles":["signer"]}`, http.StatusConflict},
		{"a enables b", a.token, "POST", "/api/v1/users/" + b.user.ID + "/enable", ``, http.StatusOK},
		{"b disables a beside b", b.token, "POST", "/api/v1/users/" + a.user.ID + "/disable", ``, http.StatusOK},
		{"the superadmin demotes b, the last", root.token, "PUT", "/api/v1/users/" + b.user.ID + "/roles", `{"roles":[]}`, http.StatusConflict},
	}
	for _, s := range steps {
		e.token = s.token
		var body *bytes.Reader
		ct := ""
		if s.body != "" {
			body, ct = bytes.NewReader([]byte(s.body)), "application/json"
		} else {
			body = bytes.NewReader(nil)
		}
		resp, got := e.do(s.method, s.path, body, ct, nil)
		if resp.StatusCode != s.want {
			t.Fatalf("%s: %d %s, want %d", s.name, resp.StatusCode, got, s.want)
		}
		if s.want != http.StatusConflict {
			continue
		}
		// The reason member names the refusal for clients that word it
		// in their reader's language; the detail stays English.
		var p struct{ Type, Detail, Reason string }
		if resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(got, &p) != nil ||
			!bytes.HasSuffix([]byte(p.Type), []byte("last-administrator")) || !bytes.Contains([]byte(p.Detail), []byte("last enabled administrator")) ||
			p.Reason != "last-admin" {
			t.Fatalf("%s: %s %s", s.name, resp.Header.Get("Content-Type"), got)
		}
	}
}
