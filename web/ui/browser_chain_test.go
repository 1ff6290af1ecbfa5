package ui_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/web"
)

// TestBrowserTrinhKy walks Trình ký in the browser: the drafter submits a
// printed draft along the chain template; the reviewer, on a 390×844
// phone, finds it in the inbox (counter 1), opens it and approves with a
// comment; the chairman signs with his server-held key (a sealed PKCS#12
// of the dev PKI) and the signature panel of the new version says VALID.
// axe-core checks every page on the way; the phone's pages do not scroll
// sideways.
func TestBrowserTrinhKy(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(w.pki.Root())} })
	doc := w.upload(t, "qd-chu-tich.pdf", "Quyết định ban hành quy chế làm việc")
	docPath := "/documents/" + doc.ID
	w.bindP12("an", devpki.Official)

	b := newBrowser(t, e)
	b.login("chuyenvien")
	b.do("open the draft", chromedp.Navigate(e.url+docPath), chromedp.WaitVisible(chromedp.ID("submit-btn")))
	b.accessible("document (drafter)")
	// The drafter submits with the keyboard only: the template is the
	// select's first choice, Tab reaches the button, Enter presses it.
	b.tabTo("template", "#template")
	if v := eval[string](b, "template chosen", `document.getElementById("template").value`); v != w.template {
		t.Fatalf("the template select starts at %q, want %q", v, w.template)
	}
	b.tabTo("submit button", "#submit-btn")
	b.submit("submit along the template", chromedp.KeyEvent("\r"))
	b.do("submitted", chromedp.WaitVisible(chromedp.CSS(".flash")), chromedp.WaitVisible(chromedp.ID("withdraw-btn")))
	if txt := b.text("chain panel", "#chain"); !strings.Contains(txt, "Bước hiện tại: Trưởng phòng thẩm định") || !strings.Contains(txt, "Phạm Thị Dung") {
		t.Errorf("chain panel after submitting: %q", txt)
	}
	b.accessible("document (submitted)")

	// The reviewer, on a phone.
	b.newTab()
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.login("truongphong")
	if n := b.text("open counter", "#view-open .count"); n != "1" {
		t.Errorf("the reviewer's chờ xử lý counter is %q, want 1", n)
	}
	b.accessible("inbox (phone)")
	b.noOverflow("inbox (phone)")
	b.submit("open the document from the inbox", chromedp.Click(chromedp.CSS(`table.inbox a[href="`+docPath+`"]`)))
	b.waitPath("document page", regexp.MustCompile(`^`+regexp.QuoteMeta(docPath)+`$`))
	b.do("approve form", chromedp.WaitVisible(chromedp.ID("approve-btn")))
	b.accessible("document (reviewer, phone)")
	b.noOverflow("document (reviewer, phone)")
	b.submit("approve with a comment",
		chromedp.SendKeys(chromedp.ID("comment"), "Đồng ý, trình Chủ tịch ký."),
		chromedp.Click(chromedp.ID("approve-btn")))
	b.do("approved", chromedp.WaitVisible(chromedp.CSS(".flash")))
	if txt := b.text("history", "#history"); !strings.Contains(txt, "Đồng ý, trình Chủ tịch ký.") || !strings.Contains(txt, "Duyệt") {
		t.Errorf("history after approving: %q", txt)
	}
	b.noOverflow("document (approved, phone)")

	// The chairman signs on a phone, with the keyboard only: from the
	// login form through the inbox to the sign button.
	b.newTab()
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.loginByKeyboard("an")
	if n := b.text("open counter", "#view-open .count"); n != "1" {
		t.Errorf("the signer's chờ xử lý counter is %q, want 1", n)
	}
	b.tabTo("the document in the inbox", `table.inbox a[href="`+docPath+`"]`)
	b.submit("open the document", chromedp.KeyEvent("\r"))
	b.waitPath("the signer's document page", regexp.MustCompile(`^`+regexp.QuoteMeta(docPath)+`$`))
	b.do("sign form", chromedp.WaitVisible(chromedp.ID("sign-btn")))
	b.accessible("document (signer, phone)")
	b.noOverflow("document (signer, phone)")
	b.tabTo("sign button", "#sign-btn")
	b.submit("sign", chromedp.KeyEvent("\r"))
	b.do("signed", chromedp.WaitVisible(chromedp.CSS(".flash")))
	if txt := b.text("flash", ".flash"); !strings.Contains(txt, "Đã ký số") {
		t.Errorf("flash after signing: %q", txt)
	}
	b.do("signature panel", chromedp.WaitVisible(chromedp.CSS(`#signatures .report`)))
	if v := eval[string](b, "verdict", `document.querySelector("#signatures .report").dataset.verdict`); v != "VALID" {
		t.Errorf("the signed version's verdict is %q, want VALID", v)
	}
	if txt := b.text("versions", ".versions"); !strings.Contains(txt, "Phiên bản 2") {
		t.Errorf("versions after signing: %q", txt)
	}
	b.accessible("document (signed)")
	b.noOverflow("document (signed, phone)")
	t.Logf("axe-core checked: %v", b.checked)
}
