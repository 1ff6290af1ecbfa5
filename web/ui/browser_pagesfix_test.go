package ui_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/storage"
)

// TestBrowserForwardRefusedKeepsTyped: a forward (chuyển xử lý) the chain
// refuses comes back in the forward form as typed — the person chosen
// still chosen, the comment in the forward's box (not the review's), the
// further actions unfolded — and the error summary links to the refused
// field of that form, which names the reason as its description.
func TestBrowserForwardRefusedKeepsTyped(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	deputy := w.titled("phophong", "Đỗ Văn Em", "Phó Trưởng phòng", storage.RoleReviewer)
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	doc := w.upload(t, "qd-chu-tich.pdf", "Quyết định thành lập tổ công tác")
	w.api("chuyenvien", "POST", "/api/v1/documents/"+doc.ID+"/submit", "application/json", js(map[string]string{"template_id": w.template}), http.StatusOK)

	b := newBrowser(t, e)
	b.login("truongphong")
	open := func(step string) {
		b.do(step, chromedp.Navigate(e.url+"/documents/"+doc.ID), chromedp.WaitVisible(chromedp.ID("approve-btn")),
			chromedp.Click(chromedp.CSS(`details.more summary`)), chromedp.WaitVisible(chromedp.ID("forward-btn")))
	}
	typed := struct{ To, Comment, Review, Link, Invalid, Described string }{}
	read := func(step string) {
		b.do(step, chromedp.WaitVisible(chromedp.ID("error-summary")))
		typed = eval[struct{ To, Comment, Review, Link, Invalid, Described string }](b, step, `(() => {
			const a = document.querySelector("#error-summary a");
			const f = a && document.querySelector(a.getAttribute("href"));
			return {To: document.getElementById("forward-to").value, Comment: document.getElementById("forward-comment").value,
				Review: document.getElementById("comment").value, Link: a ? a.getAttribute("href") : "",
				Invalid: f ? f.getAttribute("aria-invalid") || "" : "",
				Described: f && document.getElementById("error-reason") && (f.getAttribute("aria-describedby") || "").split(" ").includes("error-reason") ?
					document.getElementById("error-reason").textContent : ""};
		})()`)
	}

	// A comment too long for the chain: the person and the comment stay.
	long := strings.Repeat("Nhờ anh Em xem giúp. ", 500)
	open("the document")
	b.submit("forward a too long comment", chromedp.SetValue(chromedp.ID("forward-to"), deputy.ID),
		chromedp.SetValue(chromedp.ID("forward-comment"), long), chromedp.Click(chromedp.ID("forward-btn")))
	read("the refused forward")
	if typed.To != deputy.ID || typed.Comment != long || typed.Review != "" {
		t.Errorf("the refused forward came back with to=%q comment of %d chars, review box %q", typed.To, len(typed.Comment), typed.Review)
	}
	if typed.Link != "#forward-comment" || typed.Invalid != "true" || !strings.Contains(typed.Described, "dài quá") {
		t.Errorf("the summary links %q (invalid %q), the field's description %q", typed.Link, typed.Invalid, typed.Described)
	}
	if open := eval[bool](b, "folded", `document.querySelector("details.more").open`); !open {
		t.Error("the refused forward is folded away")
	}
	b.accessible("document (refused forward)")

	// Someone who may not take the turn (the drafter, posted by a page
	// out of date): the comment stays, the summary links the choice.
	open("the document again")
	eval[chromedp.Void](b, "offer the drafter", `(() => { const o = document.createElement("option");
		o.value = `+jsString(e.users["chuyenvien"].ID)+`; document.getElementById("forward-to").append(o); })()`)
	b.submit("forward to the drafter", chromedp.SetValue(chromedp.ID("forward-to"), e.users["chuyenvien"].ID),
		chromedp.SendKeys(chromedp.ID("forward-comment"), "Chuyển lại cho người soạn."), chromedp.Click(chromedp.ID("forward-btn")))
	read("the forward refused its person")
	if typed.Comment != "Chuyển lại cho người soạn." || typed.Review != "" || typed.Link != "#forward-to" || typed.Invalid != "true" || typed.Described == "" {
		t.Errorf("the forward refused its person: %+v", typed)
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }
