package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestCertifiedRegisterPage: the office walk found the certified-copies
// register (it holds citizens' names) listed to a clerk and a reviewer,
// opened as an outgoing register ("0 entries", the outgoing filters)
// whose XLSX and PDF links then answered 403. It is now listed and opened
// only for those who see certification requests, in its own columns; the
// others do not find it in the list and get the refusal page.
func TestCertifiedRegisterPage(t *testing.T) {
	e := newEnv(t)
	e.user("vanthu", "Lê Thị Thư", storage.RoleClerk)
	e.user("chungthuc", "Đỗ Văn Thực", storage.RoleCertifier)
	var reg storage.Register // every organisation has one from its creation
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT id FROM registers WHERE organization_id = $1 AND kind = $2",
		e.org.ID, storage.RegisterCertifiedCopies).Scan(&reg.ID); err != nil {
		t.Fatal(err)
	}
	path := "/registers/" + reg.ID + "?year=2026"
	for _, c := range []struct {
		username string
		may      bool
	}{{"chungthuc", true}, {"kiemtra", true}, {"vanthu", false}} {
		cl := e.client()
		e.login(cl, c.username)
		list := pageOK(t, cl, e.url+"/registers")
		if listed := strings.Contains(list, reg.ID); listed != c.may {
			t.Errorf("%s: the certified-copies register listed: %v, want %v", c.username, listed, c.may)
		}
		resp, page := get(t, cl, e.url+path)
		if !c.may {
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: the certified-copies register: %d, want 403", c.username, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: the certified-copies register: %d", c.username, resp.StatusCode)
		}
		mustContain(t, c.username+"'s certified-copies register", page, `id="export-xlsx"`, "Không có văn bản nào khớp.")
		if strings.Contains(page, `id="type"`) {
			t.Errorf("%s: the certified-copies register offers the outgoing register's type filter", c.username)
		}
		resp, _ = get(t, cl, e.url+"/api/v1/registers/"+reg.ID+"/entries?year=2026&format=xlsx")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: its XLSX export: %d", c.username, resp.StatusCode)
		}
	}
}
