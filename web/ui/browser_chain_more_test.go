package ui_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/storage"
)

// TestBrowserChainActions: the reviewer picks a spot on the preview and
// sends a comment anchored to it (page and rectangle stored with the
// comment), then forwards the turn to a colleague; the chairman sees where
// his signature will land (a frame on the preview), moves it by picking
// another spot, and signs; on a second draft he refuses to sign, which
// needs a reason. axe-core checks the pages with the new forms.
func TestBrowserChainActions(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	deputy := w.titled("phophong", "Đỗ Văn Em", "Phó Trưởng phòng", storage.RoleReviewer)
	w.bindP12("an", devpki.Official)
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	doc := w.upload(t, "qd-chu-tich.pdf", "Quyết định thành lập tổ công tác")
	w.api("chuyenvien", "POST", "/api/v1/documents/"+doc.ID+"/submit", "application/json", js(map[string]string{"template_id": w.template}), http.StatusOK)
	docPath := "/documents/" + doc.ID

	b := newBrowser(t, e)
	b.login("truongphong")
	b.do("open the document", chromedp.Navigate(e.url+docPath), chromedp.WaitVisible(chromedp.CSS(`#preview-canvas[data-rendered="1"]`)),
		chromedp.WaitVisible(chromedp.ID("pick-comment")))
	b.accessible("document (reviewer, anchors)")
	b.do("pick a spot", chromedp.Click(chromedp.ID("pick-comment")), chromedp.Click(chromedp.ID("preview-canvas")),
		chromedp.WaitVisible(chromedp.CSS(`.mark.comment`)))
	if got := eval[[]string](b, "picked", `[document.getElementById("comment-page").value, document.getElementById("comment-rect").value]`); got[0] != "1" || strings.Count(got[1], ",") != 3 {
		t.Fatalf("picked page %q rect %q", got[0], got[1])
	}
	b.submit("comment on the spot", chromedp.SendKeys(chromedp.ID("comment"), "Sửa lại căn cứ ở đoạn này."), chromedp.Click(chromedp.ID("comment-btn")))
	b.do("comment on the spot", chromedp.WaitVisible(chromedp.CSS(".flash")))
	acts, err := storage.ChainActions(t.Context(), e.db.Pool, doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var anchored *storage.ChainAction
	for i := range acts {
		if acts[i].Action == "comment" {
			anchored = &acts[i]
		}
	}
	if anchored == nil || anchored.Page != 1 || len(anchored.Rect) != 4 || anchored.Rect[2]-anchored.Rect[0] < 100 {
		t.Fatalf("the anchored comment: %+v", anchored)
	}
	if h := b.text("history", "#history"); !strings.Contains(h, "trang 1") {
		t.Errorf("history does not show the comment's page:\n%s", h)
	}
	b.submit("forward the turn", chromedp.Click(chromedp.CSS(`details.more summary`)), chromedp.SetValue(chromedp.ID("forward-to"), deputy.ID),
		chromedp.SendKeys(chromedp.ID("forward-comment"), "Nhờ anh Em xem giúp."), chromedp.Click(chromedp.ID("forward-btn")))
	b.do("forward the turn", chromedp.WaitVisible(chromedp.CSS(".flash")))
	if c := b.text("chain", "#chain"); !strings.Contains(c, "Đỗ Văn Em") {
		t.Errorf("the chain after forwarding:\n%s", c)
	}
	w.api("phophong", "POST", "/api/v1/documents/"+doc.ID+"/actions", "application/json", js(map[string]string{"action": "approve"}), http.StatusOK)

	b.newTab()
	b.login("an")
	b.do("the signer's page", chromedp.Navigate(e.url+docPath), chromedp.WaitVisible(chromedp.CSS(`#preview-canvas[data-rendered="1"]`)),
		chromedp.WaitVisible(chromedp.ID("sign-btn")))
	if s := b.text("place", "#place-status"); !strings.Contains(s, "trang 1") {
		t.Errorf("where the signature lands: %q", s)
	}
	b.do("the frame", chromedp.WaitVisible(chromedp.CSS(`.mark.sign`)))
	b.accessible("document (signer, placement)")
	before := eval[string](b, "found rect", `document.getElementById("sign-rect").value`)
	b.do("move the signature", chromedp.Click(chromedp.ID("pick-sign")), chromedp.Click(chromedp.ID("preview-canvas")))
	// The page's script records the pick: wait for it rather than read at once.
	b.waitFor("moved", `document.getElementById("sign-moved").value`, func(v string) bool { return v == "1" })
	after := eval[[]string](b, "moved", `[document.getElementById("sign-moved").value, document.getElementById("sign-rect").value]`)
	if after[0] != "1" || after[1] == before {
		t.Fatalf("moving the signature: moved=%q rect %q (was %q)", after[0], after[1], before)
	}
	b.submit("sign", chromedp.Click(chromedp.ID("sign-btn")))
	b.do("sign", chromedp.WaitVisible(chromedp.CSS(".flash")))
	if f := b.text("flash", ".flash"); !strings.Contains(f, "Đã ký số") {
		t.Fatalf("after signing: %q", f)
	}

	// A second draft: the chairman refuses to sign it; a refusal without
	// a reason is sent back with the form.
	doc2 := w.upload(t, "qd-chu-tich.pdf", "Quyết định khen thưởng")
	w.api("chuyenvien", "POST", "/api/v1/documents/"+doc2.ID+"/submit", "application/json", js(map[string]string{"template_id": w.template}), http.StatusOK)
	w.api("truongphong", "POST", "/api/v1/documents/"+doc2.ID+"/actions", "application/json", js(map[string]string{"action": "approve"}), http.StatusOK)
	c := e.client()
	e.login(c, "an")
	if resp := e.post(c, "/documents/"+doc2.ID+"/actions", "action=reject&reason=", nil); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a refusal without its reason: %d", resp.StatusCode)
	}
	b.do("the second draft", chromedp.Navigate(e.url+"/documents/"+doc2.ID), chromedp.WaitVisible(chromedp.ID("reject-btn")))
	b.submit("refuse to sign", chromedp.SendKeys(chromedp.ID("reject-reason"), "Chưa đủ căn cứ khen thưởng."), chromedp.Click(chromedp.ID("reject-btn")))
	b.do("refuse to sign", chromedp.WaitVisible(chromedp.CSS(".flash")))
	got, err := storage.GetDocument(t.Context(), e.db.Pool, doc2.ID)
	if err != nil || got.Status != documents.StatusRejected {
		t.Fatalf("after refusing: %s %v", got.Status, err)
	}
	t.Logf("axe-core checked: %v", b.checked)
}
