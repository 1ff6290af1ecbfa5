package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestPasswordRoutes: through the API, a person changes their own password
// in one browser session: 204, that session goes on and the other one is
// gone (401), the old password no longer logs in and the new one does; a
// refused new password is 422 with its reason. An administrator sets
// another's password: their sessions end, and the new one logs in; the
// password appears in no answer and no audit entry.
func TestPasswordRoutes(t *testing.T) {
	e := newEnv(t, 1<<20)
	ctx := context.Background()
	vp := e.office.units["VP"].ID
	me := e.member(e.office.org.ID, "doimatkhau", []string{storage.RoleDrafter}, vp)
	e.setPassword(me.user.ID)
	admin := e.member(e.office.org.ID, "quantri", []string{storage.RoleAdmin}, vp)
	same := map[string]string{"Sec-Fetch-Site": "same-origin"}
	here := &browser{t: t, base: e.url, client: http.DefaultClient}
	there := &browser{t: t, base: e.url, client: http.DefaultClient}
	for _, b := range []*browser{here, there} {
		if resp, out := b.login("doimatkhau", testPassword, same); resp.StatusCode != http.StatusOK {
			t.Fatalf("login: %d %s", resp.StatusCode, out)
		}
	}
	// reasoned is a problem with the refusal's reason.
	type reasoned struct {
		problem
		Reason string `json:"reason"`
	}
	change := func(b *browser, current, next string) (int, reasoned) {
		body, _ := json.Marshal(map[string]string{"current_password": current, "new_password": next})
		resp, out := b.do("POST", "/api/v1/session/password", strings.NewReader(string(body)), "application/json", same)
		var p reasoned
		if len(out) > 0 {
			p = decode[reasoned](t, out)
		}
		return resp.StatusCode, p
	}
	if status, p := change(here, testPassword, "ngắn"); status != http.StatusUnprocessableEntity || p.Reason != "weak-password" {
		t.Fatalf("a short password: %d %+v", status, p)
	}
	const next = "mật khẩu mới của tôi 2026"
	if status, p := change(here, testPassword, next); status != http.StatusNoContent {
		t.Fatalf("the change: %d %+v", status, p)
	}
	if resp, out := here.do("GET", "/api/v1/users/"+me.user.ID, nil, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session of the change: %d %s", resp.StatusCode, out)
	}
	if resp, _ := there.do("GET", "/api/v1/users/"+me.user.ID, nil, "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the other session: %d, want 401", resp.StatusCode)
	}
	fresh := &browser{t: t, base: e.url, client: http.DefaultClient}
	if resp, _ := fresh.login("doimatkhau", testPassword, same); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old password: %d", resp.StatusCode)
	}
	if resp, _ := fresh.login("doimatkhau", next, same); resp.StatusCode != http.StatusOK {
		t.Fatalf("the new password: %d", resp.StatusCode)
	}

	const given = "mật khẩu quản trị đặt cho"
	body, _ := json.Marshal(map[string]string{"new_password": given})
	resp, out := send(t, e.url, admin.token, "PUT", "/api/v1/users/"+me.user.ID+"/password", strings.NewReader(string(body)), "application/json")
	if resp.StatusCode != http.StatusOK || strings.Contains(string(out), given) {
		t.Fatalf("the administrator's password: %d %s", resp.StatusCode, out)
	}
	for _, b := range []*browser{here, fresh} {
		if resp, _ := b.do("GET", "/api/v1/users/"+me.user.ID, nil, "", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a session after the administrator's password: %d, want 401", resp.StatusCode)
		}
	}
	if resp, _ := fresh.login("doimatkhau", given, same); resp.StatusCode != http.StatusOK {
		t.Fatalf("the administrator's password does not log in: %d", resp.StatusCode)
	}
	var leaked int
	if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE details::text LIKE '%' || $1 || '%' OR details::text LIKE '%' || $2 || '%' OR details::text LIKE '%' || $3 || '%'",
		next, given, testPassword).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("a password in the audit log: %d %v", leaked, err)
	}
	var actions []string
	rows, _ := e.db.Pool.Query(ctx, "SELECT action FROM audit_log WHERE action LIKE 'user.password.%' AND object = $1 ORDER BY seq", "user:"+me.user.ID)
	for rows.Next() {
		var a string
		rows.Scan(&a)
		actions = append(actions, a)
	}
	rows.Close()
	if strings.Join(actions, " ") != "user.password.change user.password.set" {
		t.Fatalf("audit entries %v", actions)
	}
}
