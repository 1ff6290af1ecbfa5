package ui_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestIncomingDocumentOffersNoChain: the office walk found a registered
// incoming document's page showing the approval chain's panel ("not
// submitted", "your task: no chain template for this type"), as if the
// clerk had drafted it. An incoming document goes through handling, not
// a chain: its page shows no chain, no submit and no new-version form,
// and a new version posted anyway is refused with nothing added. The
// registration posted twice leads to the document both times.
func TestIncomingDocumentOffersNoChain(t *testing.T) {
	e := newEnv(t)
	incomingUser(t, e, "vanthu", "Lê Thị Thư", "Văn thư", "VP", storage.RoleClerk)
	pdf := fixture(t, "drafts/qd-chu-tich.pdf")
	receiveOverAPI(t, e, "vanthu", pdf, map[string]string{"from": "Sở Tư pháp", "number": "7", "symbol": "STP-VP",
		"type": "CV", "subject": "Văn bản đến không qua luồng trình ký"})
	var arrival string
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT id FROM arrivals WHERE code_number = '7'").Scan(&arrival); err != nil {
		t.Fatal(err)
	}
	clerk := e.client()
	e.login(clerk, "vanthu")
	resp := e.post(clerk, "/reception/"+arrival+"/register", "", nil)
	docPath, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(docPath, "/documents/") {
		t.Fatalf("register: %d to %q", resp.StatusCode, docPath)
	}
	// The registration posted again (a double click, the back button)
	// leads to the registered document, not to an error page.
	again := e.post(clerk, "/reception/"+arrival+"/register", "", nil)
	if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != resp.Header.Get("Location") {
		t.Errorf("the registration posted again: %d to %q, want %q", again.StatusCode, again.Header.Get("Location"), resp.Header.Get("Location"))
	}
	page := pageOK(t, clerk, e.url+docPath)
	mustContain(t, "the registered document's page", page, "Xử lý văn bản đến")
	for _, offered := range []string{`id="chain"`, `action="` + docPath + `/submit"`, `id="version-form"`, "Luồng trình ký"} {
		if strings.Contains(page, offered) {
			t.Errorf("the incoming document's page shows %s", offered)
		}
	}
	content, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := postNamedFile(t, clerk, e.url+docPath+"/versions", "bản khác.pdf", content); status < 400 || status == http.StatusInternalServerError {
		t.Fatalf("a new version of an incoming document: %d\n%.300s", status, body)
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM document_versions WHERE document_id = $1", strings.TrimPrefix(docPath, "/documents/")).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d versions of the incoming document (%v), want 1", n, err)
	}
}
