package ui_test

import (
	"context"
	"crypto/x509"
	"image"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/scancheck/scantest"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// deskWorld is the chain world with the one-stop desk: the organisation's
// seal bound, a desk officer (motcua) and a certifier (chungthuc) holding
// the dev PKI's official key, and the service trusting the dev PKI.
func deskWorld(t *testing.T) *chainWorld {
	t.Helper()
	w := newChainWorld(t)
	e := w.e
	e.configure(func(s *web.Server) {
		s.Verify = verify.Options{Trust: chain.NewStore(w.pki.Root())}
		s.Issuing = web.IssueConfig{SealImage: func(_ context.Context, org storage.Organization) (image.Image, error) {
			return appearance.DemoSeal(org.Name), nil
		}}
	})
	p12, err := os.ReadFile(w.pki.P12Path(devpki.Seal))
	if err != nil {
		t.Fatal(err)
	}
	b, err := accounts.BindingFor(t.Context(), accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: p12, Password: w.pki.Password()}, nil,
		[]*x509.Certificate{w.pki.Root()}, e.accounts.Keystore, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.OrganizationID = e.org.ID
	if _, err := storage.CreateKeyBinding(t.Context(), e.db.Pool, b); err != nil {
		t.Fatal(err)
	}
	w.titled("motcua", "Trần Văn Cửa", "Công chức Một cửa", storage.RoleDesk)
	w.titled("chungthuc", "Đỗ Văn Thực", "Công chức Tư pháp – Hộ tịch", storage.RoleCertifier)
	w.bindP12("chungthuc", devpki.Official)
	return w
}

// scanFile writes a scanned-looking PDF of pages at dpi (colour) and
// returns its path; lowPage, when not 0, is scanned at 150 dpi.
func scanFile(t *testing.T, pages int, lowPage int) string {
	t.Helper()
	ps := scantest.Pages(pages, 200, scantest.RGB)
	if lowPage > 0 {
		ps[lowPage-1].DPI = 150
	}
	path := filepath.Join(t.TempDir(), "ban-quet.pdf")
	if err := os.WriteFile(path, scantest.PDF(scantest.Options{Pages: ps}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowserCertifiedCopy: a certified copy end to end in the browser.
// The desk officer opens a request (3 pages, 2 copies: fee 10.000 đ),
// uploads a scan with a 150-dpi page (refused, naming page 3 and 150 dpi),
// then a good one; the certifier finds it in the queue, sees the number
// the system will assign (1) before certifying, certifies, and downloads
// the receipt; the citizen opens the link without logging in (in
// Vietnamese or English, on a phone) and downloads the copies. axe-core
// checks every page, the citizen's included. (The public verification
// page is walked with a copy in TestBrowserCopies.)
func TestBrowserCertifiedCopy(t *testing.T) {
	w := deskWorld(t)
	e := w.e
	b := newBrowser(t, e)
	b.login("motcua")
	b.do("desk queue", chromedp.Navigate(e.url+"/certifications"), chromedp.WaitVisible(chromedp.ID("desk-new")))
	b.accessible("desk queue")
	b.submit("open the form", chromedp.Click(chromedp.ID("desk-new")))
	b.do("open the form", chromedp.WaitVisible(chromedp.ID("desk-form")))
	b.accessible("new request")
	b.submit("open a request",
		chromedp.SendKeys(chromedp.ID("requester-name"), "Nguyễn Thị Hồng"),
		chromedp.SendKeys(chromedp.ID("requester-id"), "001190012345"),
		chromedp.SendKeys(chromedp.ID("original-name"), "Bằng tốt nghiệp trung học phổ thông"),
		chromedp.SetValue(chromedp.ID("page-count"), "3"),
		chromedp.SetValue(chromedp.ID("copies"), "2"),
		chromedp.Click(chromedp.ID("desk-open")))
	reqPath := b.waitPath("request page", regexp.MustCompile(`^/certifications/[0-9a-f-]{36}$`))
	b.do("request shown", chromedp.WaitVisible(chromedp.ID("scan-form")))
	if fee := b.text("fee", "#fee"); fee != "10.000 đ" {
		t.Errorf("fee shown %q, want 10.000 đ", fee)
	}
	b.accessible("request (received)")

	b.submit("upload a 150-dpi scan", chromedp.SetUploadFiles(chromedp.ID("scan-file"), []string{scanFile(t, 3, 3)}),
		chromedp.Click(chromedp.ID("scan-btn")))
	b.do("upload a 150-dpi scan", chromedp.WaitVisible(chromedp.ID("scan-problems")))
	if p := b.text("scan problems", "#scan-problems"); !strings.Contains(p, "Trang 3") || !strings.Contains(p, "150 dpi") {
		t.Errorf("the refused scan says %q, want page 3 and 150 dpi", p)
	}
	b.accessible("scan refused")
	b.submit("upload a good scan", chromedp.SetUploadFiles(chromedp.ID("scan-file"), []string{scanFile(t, 3, 0)}),
		chromedp.Click(chromedp.ID("scan-btn")))
	b.do("upload a good scan", chromedp.WaitVisible(chromedp.ID("scan-ok")))
	if s := eval[string](b, "status", `document.getElementById("cert-status").dataset.status`); s != "scanned" {
		t.Fatalf("status after the scan: %q", s)
	}
	b.accessible("request (scanned)")

	// A second original is refused at the desk on two grounds of art. 22.
	b.do("second request form", chromedp.Navigate(e.url+"/certifications/new"), chromedp.WaitVisible(chromedp.ID("desk-form")))
	b.submit("open a second request",
		chromedp.SendKeys(chromedp.ID("requester-name"), "Lê Văn Tâm"),
		chromedp.SendKeys(chromedp.ID("requester-id"), "001090054321"),
		chromedp.SendKeys(chromedp.ID("original-name"), "Giấy xác nhận tự lập"),
		chromedp.Click(chromedp.ID("desk-open")))
	b.do("open a second request", chromedp.WaitVisible(chromedp.ID("refuse-form")))
	b.submit("refuse without a ground", chromedp.Click(chromedp.ID("refuse-btn")))
	b.do("refuse without a ground", chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	b.submit("refuse on two grounds", chromedp.Click(chromedp.CSS(`input[name=reasons][value=altered]`)),
		chromedp.Click(chromedp.CSS(`input[name=reasons][value=unconfirmed]`)),
		chromedp.SendKeys(chromedp.ID("refuse-note"), "Bản chính có chỗ tẩy xóa ở trang 1."),
		chromedp.Click(chromedp.ID("refuse-btn")))
	b.do("refuse on two grounds", chromedp.WaitVisible(chromedp.ID("refusal-reasons")))
	if r := b.text("reasons", "#refusal-reasons"); !strings.Contains(r, "tẩy xóa, sửa chữa") || !strings.Contains(r, "không có xác nhận") {
		t.Errorf("refusal reasons shown: %q", r)
	}
	var reasons []string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT refusal_reasons FROM certifications WHERE requester_name = 'Lê Văn Tâm'`).Scan(&reasons); err != nil ||
		strings.Join(reasons, ",") != "altered,unconfirmed" {
		t.Errorf("recorded reasons %v (%v)", reasons, err)
	}
	b.accessible("request (refused)")

	// The certifier, in a browser of their own.
	b.newTab()
	b.login("chungthuc")
	b.do("certifier's queue", chromedp.Navigate(e.url+"/certifications"), chromedp.WaitVisible(chromedp.ID("open-table")))
	b.accessible("certifier's queue")
	b.submit("open the request", chromedp.Click(chromedp.CSS(`#open-table a[href="`+reqPath+`"]`)))
	b.do("open the request", chromedp.WaitVisible(chromedp.ID("cert-preview")))
	year := time.Now().In(time.FixedZone("+07", 7*3600)).Year()
	if p := b.text("number preview", "#cert-preview"); p != "1 · 01/"+itoa(year)+"-SCTĐT/BS" {
		t.Errorf("the number shown first is %q", p)
	}
	b.accessible("review")
	b.submit("certify", chromedp.Click(chromedp.ID("certify-btn")))
	b.do("certify", chromedp.WaitVisible(chromedp.ID("certified-flash")))
	if f := b.text("flash", "#certified-flash"); !strings.Contains(f, "số 1") {
		t.Errorf("flash %q", f)
	}
	b.accessible("certified")
	links := eval[[]string](b, "links", `[...document.querySelectorAll("#citizen-links a[data-copy]")].map(a => a.href)`)
	if len(links) != 2 || !strings.HasPrefix(links[0], e.url+"/c/") {
		t.Fatalf("citizen's links %v", links)
	}
	receipt := eval[string](b, "receipt", `fetch(document.getElementById("receipt-link").href).then(async r =>
		r.status + " " + r.headers.get("content-type") + " " + new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5)))`)
	if receipt != "200 application/pdf %PDF-" {
		t.Errorf("receipt download: %q", receipt)
	}
	b.do("reload the request", chromedp.Navigate(e.url+reqPath), chromedp.WaitVisible(chromedp.ID("cert-number")))
	if n := b.text("number", "#cert-number"); !strings.HasPrefix(n, "1 · 01/") {
		t.Errorf("certified request shows %q", n)
	}
	if n := eval[int](b, "links gone", `document.querySelectorAll("#citizen-links").length`); n != 0 {
		t.Error("the request page shows the citizen's links again")
	}

	// The citizen, not logged in.
	b.newTab()
	b.do("citizen's link", chromedp.Navigate(links[0]), chromedp.WaitVisible(chromedp.ID("citizen-number")))
	b.accessible("citizen's link")
	if n := eval[int](b, "downloads", `document.querySelectorAll("a[data-copy]").length`); n != 2 {
		t.Errorf("%d download buttons, want 2", n)
	}
	got := eval[string](b, "download from the page", `fetch(document.querySelector("a[data-copy='1']").href).then(r => r.status + " " + r.headers.get("content-type"))`)
	if got != "200 application/pdf" {
		t.Errorf("the page's download: %q", got)
	}
	resp, err := http.Get(links[1])
	if err != nil {
		t.Fatal(err)
	}
	copyPDF, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(copyPDF), "%PDF-") {
		t.Fatalf("copy 2 download: %d", resp.StatusCode)
	}
	// The link page is the citizen's, whatever language they choose.
	b.switchLanguage("citizen's link in English", "en")
	b.do("citizen's link in English", chromedp.WaitVisible(chromedp.ID("citizen-number")))
	if txt := b.text("citizen's page in English", "#citizen-number"); !strings.HasPrefix(txt, "Certification number 1, book 01/") {
		t.Errorf("the English link page: %q", txt)
	}
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("citizen-number")))
	b.noOverflow("citizen's link (phone)")
	if resp, err := http.Get(e.url + "/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown link: %v %v", resp.StatusCode, err)
	}
	b.do("an unknown link in the browser", chromedp.Navigate(e.url+"/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))

	// Anyone checks the downloaded copy on the public page: this deployment
	// certified this very file, and both its signatures are valid. The
	// verdict is the page the upload loads (#verdict is only there).
	downloaded := filepath.Join(t.TempDir(), "ban-sao-chung-thuc.pdf")
	if err := os.WriteFile(downloaded, copyPDF, 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("public verification page", chromedp.Navigate(e.url+"/check"), chromedp.WaitVisible(chromedp.ID("check-form")))
	b.do("check the downloaded copy", chromedp.SetUploadFiles(chromedp.ID("check-file"), []string{downloaded}), chromedp.Click(chromedp.ID("check-btn")))
	v := b.waitFor("the verdict", `(e => e ? [e.dataset.found, e.dataset.kind, e.dataset.verdict].join(" ") : "")(document.getElementById("verdict"))`,
		func(v string) bool { return v != "" })
	if v != "true certified-copy VALID" {
		t.Errorf("the downloaded copy's public verdict: %v, want found, certified-copy, VALID", v)
	}
	b.accessible("verdict (certified copy)")
	t.Logf("axe-core checked: %v", b.checked)
}

func itoa(n int) string { return strconv.Itoa(n) }
