package ui_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/web"
)

// TestBrowserCopies: the clerk makes a TRÍCH SAO of page 1 of an issued
// decision from its document page; the copy's page links to its original,
// and the original's lists the copy. Then a SAO Y of a paper original
// from its scan: a 150-dpi page refused naming the page and the dpi
// found, a good scan copied. The public verification page (no login)
// answers VALID for the copy and not found for it with one byte changed;
// the QR code's landing page answers the same in English on a phone.
// axe-core checks every page.
func TestBrowserCopies(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(w.pki.Root())} })
	doc, stc := signedForIssuing(t, w, "Quyết định ban hành quy chế văn thư, lưu trữ")
	js, _ := json.Marshal(map[string]any{"recipients": []map[string]string{{"organization_id": stc.ID}}})
	w.api("vanthu", "POST", "/api/v1/documents/"+doc.ID+"/issue", "application/json", js, http.StatusCreated)

	b := newBrowser(t, e)
	b.login("vanthu")
	b.do("the issued document", chromedp.Navigate(e.url+"/documents/"+doc.ID), chromedp.WaitVisible(chromedp.ID("copy-link")))
	b.submit("open the copy form", chromedp.Click(chromedp.ID("copy-link")))
	b.do("open the copy form", chromedp.WaitVisible(chromedp.ID("copy-form")))
	b.accessible("copy form")
	b.submit("bad pages", chromedp.Click(chromedp.CSS(`input[name=form][value=TrS]`)), chromedp.SendKeys(chromedp.ID("copy-pages"), "một"),
		chromedp.Click(chromedp.ID("copy-btn")))
	b.do("bad pages", chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	b.submit("TRÍCH SAO of page 1", chromedp.SetValue(chromedp.ID("copy-pages"), "1"), chromedp.Click(chromedp.ID("copy-btn")))
	copyPath := b.waitPath("the copy's page", documentPath)
	if copyPath == "/documents/"+doc.ID {
		t.Fatal("the copy form came back to the original")
	}
	b.do("the copy's panel", chromedp.WaitVisible(chromedp.ID("original-link")))
	if href := eval[string](b, "original link", `document.getElementById("original-link").getAttribute("href")`); !strings.HasPrefix(href, "/documents/"+doc.ID) {
		t.Errorf("the copy links to %q", href)
	}
	b.accessible("copy's page")
	b.submit("the original lists the copy", chromedp.Click(chromedp.ID("original-link")))
	b.do("the original lists the copy", chromedp.WaitVisible(chromedp.CSS(`ul.copies-made a[href="`+copyPath+`"]`)))

	b.do("copy from a scan", chromedp.Navigate(e.url+"/copies/new"), chromedp.WaitVisible(chromedp.ID("scan-copy-form")))
	b.accessible("copy from a scan")
	b.submit("a 150-dpi scan", chromedp.SendKeys(chromedp.ID("copy-original"), "Quyết định số 12/QĐ-UBND ngày 05/3/2026 của UBND huyện An Bình"),
		chromedp.SendKeys(chromedp.ID("copy-subject"), "Về việc giao chỉ tiêu kế hoạch năm 2026"),
		chromedp.SetUploadFiles(chromedp.ID("copy-file"), []string{scanFile(t, 2, 2)}),
		chromedp.Click(chromedp.ID("copy-btn")))
	b.do("a 150-dpi scan", chromedp.WaitVisible(chromedp.ID("scan-problems")))
	if p := b.text("scan problems", "#scan-problems"); !strings.Contains(p, "Trang 2") || !strings.Contains(p, "150 dpi") {
		t.Errorf("the refused scan says %q, want page 2 and 150 dpi", p)
	}
	if v := eval[string](b, "kept", `document.getElementById("copy-subject").value`); v != "Về việc giao chỉ tiêu kế hoạch năm 2026" {
		t.Errorf("the refused form lost the subject: %q", v)
	}
	b.accessible("scan refused")
	b.submit("a good scan", chromedp.SetUploadFiles(chromedp.ID("copy-file"), []string{scanFile(t, 2, 0)}), chromedp.Click(chromedp.ID("copy-btn")))
	scanCopy := b.waitPath("the scan copy's page", documentPath)
	b.do("paper original named", chromedp.WaitVisible(chromedp.ID("copy-of")))
	if txt := b.text("copy of", "#copy-of"); !strings.Contains(txt, "12/QĐ-UBND") {
		t.Errorf("the scan copy says %q", txt)
	}

	// The public page, by someone who never logged in.
	id := strings.TrimPrefix(scanCopy, "/documents/")
	var sha, code string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT p.sha256, p.code FROM public_records p WHERE p.document_id = $1`, id).Scan(&sha, &code); err != nil {
		t.Fatal(err)
	}
	pdf := w.api("vanthu", "GET", "/api/v1/documents/"+id+"/versions/1/file", "", nil, http.StatusOK)
	if sum := sha256.Sum256(pdf); hex.EncodeToString(sum[:]) != sha {
		t.Fatalf("the copy's file is not the recorded one")
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "ban-sao.pdf"), filepath.Join(dir, "ban-sao-sua.pdf")
	os.WriteFile(good, pdf, 0o600)
	tampered := append([]byte(nil), pdf...)
	tampered[len(tampered)/2] ^= 1
	os.WriteFile(bad, tampered, 0o600)
	b.newTab()
	b.do("public verification page", chromedp.Navigate(e.url+"/check"), chromedp.WaitVisible(chromedp.ID("check-form")))
	b.accessible("public verification")
	b.submit("verify the copy", chromedp.SetUploadFiles(chromedp.ID("check-file"), []string{good}), chromedp.Click(chromedp.ID("check-btn")))
	b.do("verify the copy", chromedp.WaitVisible(chromedp.ID("verdict")))
	v := eval[[]string](b, "verdict", `(d => [d.found, d.kind, d.verdict])(document.getElementById("verdict").dataset)`)
	if strings.Join(v, " ") != "true copy VALID" {
		t.Errorf("the copy's public verdict: %v", v)
	}
	if txt := b.text("verdict page", "main"); !strings.Contains(txt, sha) || !strings.Contains(txt, "Hợp lệ") || !strings.Contains(txt, "SY-UBND") {
		t.Errorf("the verdict page:\n%s", txt)
	}
	b.accessible("verdict (found)")
	b.do("verify a changed byte", chromedp.Navigate(e.url+"/check"), chromedp.WaitVisible(chromedp.ID("check-form")),
		chromedp.SetUploadFiles(chromedp.ID("check-file"), []string{bad}), chromedp.Click(chromedp.ID("check-btn")),
		chromedp.WaitVisible(chromedp.CSS(`#verdict[data-found="false"]`)))
	b.accessible("verdict (not found)")
	b.do("a malformed code", chromedp.Navigate(e.url+"/check?code=%3Cscript%3E"), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	b.do("check page", chromedp.Navigate(e.url+"/check"), chromedp.WaitVisible(chromedp.ID("code-form")))
	b.switchLanguage("switch to English", "en")
	b.do("check page in English", chromedp.WaitVisible(chromedp.ID("code-form")))
	b.submit("enter the QR link", chromedp.SendKeys(chromedp.ID("check-code"), e.url+"/v/"+code), chromedp.Click(chromedp.ID("code-btn")))
	b.do("enter the QR link", chromedp.WaitVisible(chromedp.ID("verdict")))
	b.waitPath("QR landing", regexp.MustCompile(`^/v/`+regexp.QuoteMeta(code)+`$`))
	if txt := b.text("verdict in English", "#verdict"); !strings.Contains(txt, "copy of") {
		t.Errorf("the English verdict: %q", txt)
	}
	b.accessible("QR landing (en)")
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("verdict")))
	b.noOverflow("QR landing (phone)")
	t.Logf("axe-core checked: %v", b.checked)
}
