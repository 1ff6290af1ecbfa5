package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/storage"
)

// TestRecallFromTheDeliveriesPage: the office walk found no way on the
// pages to recall (thu hồi) an issued document, only the API's POST
// .../recall. The deliveries page offers the issuing clerk a recall form
// that asks before posting; a drafter is offered none and refused it; a
// recall without a reason is refused on the page, linked to its field;
// a recall with one freezes the document and says so; the form posted
// again is refused readably, never a 500.
func TestRecallFromTheDeliveriesPage(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	doc, stc := signedForIssuing(t, w, "Quyết định sẽ thu hồi")
	clerk, drafter := e.client(), e.client()
	e.login(clerk, "vanthu")
	e.login(drafter, "chuyenvien")
	deliveries := "/documents/" + doc.ID + "/deliveries"
	if status, loc, body := postPage(t, e, clerk, "/documents/"+doc.ID+"/issue", url.Values{"orgs": {stc.ID}}); status != http.StatusSeeOther {
		t.Fatalf("issue: %d to %q\n%.500s", status, loc, body)
	}
	page := pageOK(t, clerk, e.url+deliveries)
	mustContain(t, "the clerk's deliveries", page, `id="recall-form"`, `action="/documents/`+doc.ID+`/recall"`, `data-confirm="Thu hồi văn bản này?`)
	if page := pageOK(t, drafter, e.url+deliveries); strings.Contains(page, `id="recall-form"`) {
		t.Error("the drafter is offered the recall form")
	}
	if status, _, _ := postPage(t, e, drafter, "/documents/"+doc.ID+"/recall", url.Values{"reason": {"Sai nội dung"}}); status != http.StatusForbidden {
		t.Errorf("the drafter's recall: %d, want 403", status)
	}

	status, _, body := postPage(t, e, clerk, "/documents/"+doc.ID+"/recall", url.Values{"reason": {"   "}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("a recall without a reason: %d\n%.500s", status, body)
	}
	mustContain(t, "the refused recall", body, `<a href="#recall-reason">Lý do thu hồi</a>`, `id="recall-form"`)
	status, loc, body := postPage(t, e, clerk, "/documents/"+doc.ID+"/recall", url.Values{"reason": {"Văn bản có sai sót về nội dung, sẽ ban hành văn bản thay thế"}})
	if status != http.StatusSeeOther || loc != deliveries+"?recalled=1" {
		t.Fatalf("the recall: %d to %q\n%.500s", status, loc, body)
	}
	page = pageOK(t, clerk, e.url+loc)
	mustContain(t, "the deliveries after the recall", page, "Đã thu hồi văn bản")
	if strings.Contains(page, `id="recall-form"`) {
		t.Error("a recalled document still offers the recall form")
	}
	got, err := storage.GetDocument(t.Context(), e.db.Pool, doc.ID)
	if err != nil || got.Status != documents.StatusRecalled {
		t.Fatalf("after the recall: %s %v", got.Status, err)
	}
	status, _, body = postPage(t, e, clerk, "/documents/"+doc.ID+"/recall", url.Values{"reason": {"Bấm hai lần"}})
	if status/100 != 4 || !strings.Contains(body, "Chỉ văn bản đã phát hành mới thu hồi được") {
		t.Fatalf("the recall posted again: %d, want the page with its refusal\n%.800s", status, body[strings.Index(body, "<main"):])
	}
}
