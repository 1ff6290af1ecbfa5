package ui_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/storage"
)

// TestBrowserFormsAskFirstAndSendOnce: returning a document asks first,
// and a "no" sends nothing and keeps what was typed; a double click on
// Approve sends one request; the back button after it sends nothing again.
func TestBrowserFormsAskFirstAndSendOnce(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	doc := w.upload(t, "qd-chu-tich.pdf", "Quyết định thành lập tổ công tác")
	w.api("chuyenvien", "POST", "/api/v1/documents/"+doc.ID+"/submit", "application/json", js(map[string]string{"template_id": w.template}), http.StatusOK)
	docPath := "/documents/" + doc.ID
	actions := "POST " + docPath + "/actions"

	b := newBrowser(t, e)
	b.login("truongphong")
	b.do("open the document", chromedp.Navigate(e.url+docPath), chromedp.WaitVisible(chromedp.ID("return-btn")))
	eval[chromedp.Void](b, "answer no", `sessionStorage.setItem("__confirmNo", "1"); sessionStorage.removeItem("__confirms"); undefined`)
	const comment = "Cần bổ sung căn cứ pháp lý."
	b.do("return, then answer no", chromedp.SendKeys(chromedp.ID("comment"), comment), chromedp.Click(chromedp.ID("return-btn")))
	b.waitFor("the question", `JSON.parse(sessionStorage.getItem("__confirms") || "[]").length`, func(v string) bool { return v == "1" })
	if q := eval[string](b, "the question", `JSON.parse(sessionStorage.getItem("__confirms"))[0]`); q != "Trả lại văn bản cho người trình? Văn bản sẽ rời khỏi hộp công việc của bạn." {
		t.Errorf("returning asks %q", q)
	}
	if n := e.requests(actions); n != 0 {
		t.Errorf("a return answered no sent %d requests", n)
	}
	if v := eval[string](b, "the comment", `document.getElementById("comment").value`); v != comment {
		t.Errorf("after answering no the comment is %q", v)
	}

	// A double click on Approve: the second click comes while the first
	// one's answer loads, and sends nothing.
	eval[chromedp.Void](b, "answer yes", `sessionStorage.removeItem("__confirmNo"); undefined`)
	xy := eval[[]float64](b, "where Approve is", `(() => { const r = document.getElementById("approve-btn");
		r.scrollIntoView({block: "center"}); const b = r.getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; })()`)
	b.submit("approve with a double click", chromedp.MouseClickXY(xy[0], xy[1]), chromedp.MouseClickXY(xy[0], xy[1]))
	b.waitPath("the document after approving", regexp.MustCompile(`^`+regexp.QuoteMeta(docPath)+`$`))
	b.do("the flash", chromedp.WaitVisible(chromedp.CSS(".flash")))
	if n := e.requests(actions); n != 1 {
		t.Errorf("a double click on Approve sent %d requests, want 1", n)
	}
	count := func() int {
		acts, err := storage.ChainActions(t.Context(), e.db.Pool, doc.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range acts {
			if a.Action == "approve" {
				n++
			}
		}
		return n
	}
	if n := count(); n != 1 {
		t.Errorf("%d approvals recorded, want 1", n)
	}

	// Back: the page before (perhaps from the browser's cache, as it
	// was), and nothing sent again.
	b.do("back", chromedp.NavigateBack())
	b.waitFor("the page before", `location.pathname`, func(p string) bool { return p == docPath || p == "/" })
	if n := e.requests(actions); n != 1 {
		t.Errorf("the back button after approving sent the form again: %d requests", n)
	}
	if n := count(); n != 1 {
		t.Errorf("after the back button: %d approvals recorded, want 1", n)
	}
}
