package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestIssueFormPostedTwice: the office walk found that the issue form
// posted a second time (a double click, the back button and a re-post, a
// colleague's page left open) answered with an error page saying the
// document was not signed yet. It now leads to the deliveries of the one
// issue, saying the document was issued already and not again; the
// register holds one entry.
func TestIssueFormPostedTwice(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	doc, stc := signedForIssuing(t, w, "Quyết định phát hành hai lần")
	c := e.client()
	e.login(c, "vanthu")
	form := url.Values{"orgs": {stc.ID}, "copies_kept": {"Lưu: VT, VP."}}
	status, first, body := postPage(t, e, c, "/documents/"+doc.ID+"/issue", form)
	if status != http.StatusSeeOther || !strings.Contains(first, "/deliveries?issued=") {
		t.Fatalf("the issue: %d to %q\n%.500s", status, first, body)
	}
	status, again, body := postPage(t, e, c, "/documents/"+doc.ID+"/issue", form)
	want := "/documents/" + doc.ID + "/deliveries?already=01%2FQ%C4%90-UBND"
	if status != http.StatusSeeOther || again != want {
		t.Fatalf("the form posted again: %d to %q, want %q\n%.500s", status, again, want, body)
	}
	page := pageOK(t, c, e.url+again)
	mustContain(t, "the deliveries after the second post", page, "Văn bản đã được phát hành trước đó với số 01/QĐ-UBND; không phát hành lại.", "Sở Tài chính")
	if strings.Contains(page, "chưa được ký") {
		t.Error("the deliveries page still says the document is unsigned")
	}
	// Only what the document holds is shown: another number is no flash.
	if page := pageOK(t, c, e.url+"/documents/"+doc.ID+"/deliveries?already=99%2FQ%C4%90-UBND"); strings.Contains(page, "99/QĐ-UBND") {
		t.Error("the deliveries page shows a number from its query")
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM register_entries").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d register entries after two posts (%v), want 1", n, err)
	}
}
