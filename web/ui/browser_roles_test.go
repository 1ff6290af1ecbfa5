package ui_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// signedDraft is a Decree 30 draft signed by the dev PKI's official, with
// the authority form as the signature's reason.
func signedDraft(t *testing.T, pki *devpki.PKI) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "quyết định đã ký.pdf")
	key, err := pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	if err := signing.SignFile(context.Background(), fixture(t, "drafts/qd-kt-pho-chu-tich.pdf"), out, key,
		signing.Options{Level: signing.LevelBB, Reason: "KT. CHỦ TỊCH"}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBrowserAuditor: an auditor verifies a signed PDF on the verification
// page and reads the full report in Vietnamese, then in English, and
// downloads it as a PDF; the audit log page lists what happened.
func TestBrowserAuditor(t *testing.T) {
	e := newEnv(t)
	pki := testharness.DevPKI(t)
	e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(pki.Root())} })
	signed := signedDraft(t, pki)
	b := newBrowser(t, e)
	b.login("kiemtra")

	b.do("open the verification page", chromedp.Navigate(e.url+"/verify"), chromedp.WaitVisible(chromedp.ID("file")))
	b.accessible("verify")
	b.submit("verify a signed PDF",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{signed}),
		chromedp.Click(chromedp.CSS(`form[action="/verify"] button[type=submit]`)))
	b.waitPath("report", regexp.MustCompile(`^/verify/reports/[0-9a-f]{32}$`))
	b.do("report shown", chromedp.WaitVisible(chromedp.CSS(".report")))
	if v := eval[string](b, "verdict", `document.querySelector(".report").dataset.verdict`); v != "VALID" {
		t.Errorf("verdict %q, want VALID", v)
	}
	report := b.text("report text", ".report")
	for _, want := range []string{"Hợp lệ", "KT. CHỦ TỊCH", "Người ký", "Mức chữ ký", "Thay đổi sau khi ký"} {
		if !strings.Contains(report, want) {
			t.Errorf("the Vietnamese report lacks %q:\n%s", want, report)
		}
	}
	b.accessible("report")

	b.submit("report in English", chromedp.Click(chromedp.CSS(`a[hreflang="en"]`)))
	b.do("English report shown", chromedp.WaitVisible(chromedp.CSS(`.report[lang="en"]`)))
	if en := b.text("English report", ".report"); !strings.Contains(en, "Valid") || !strings.Contains(en, "Changes after signing") {
		t.Errorf("the English report:\n%s", en)
	}
	got := eval[[]string](b, "PDF report", `fetch(document.querySelector(".report a.button").href)
		.then(async r => [String(r.status), r.headers.get("content-type"), (await r.text()).slice(0, 5)])`)
	if got[0] != "200" || got[1] != "application/pdf" || got[2] != "%PDF-" {
		t.Errorf("PDF report: %v", got)
	}

	b.do("audit log", chromedp.Navigate(e.url+"/audit"), chromedp.WaitVisible(chromedp.CSS("main table")))
	if log := b.text("audit rows", "main table"); !strings.Contains(log, "login.success") && !strings.Contains(log, "user.create") {
		t.Errorf("the audit log page shows:\n%.500s", log)
	}
	b.accessible("audit")
}

// TestBrowserAdmin: an administrator creates a user with a role and a unit
// through the form, and the users, units, keys and delegations pages pass
// axe-core.
func TestBrowserAdmin(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.login("quantri")
	b.do("users page", chromedp.Navigate(e.url+"/admin/users"), chromedp.WaitVisible(chromedp.ID("nu-username")))
	b.accessible("admin users")
	b.submit("fill the new user",
		chromedp.SendKeys(chromedp.ID("nu-username"), "vanthu.hoa"),
		chromedp.SendKeys(chromedp.ID("nu-fullname"), "Phạm Thị Hoa"),
		chromedp.SendKeys(chromedp.ID("nu-title"), "Văn thư"),
		chromedp.Click(chromedp.CSS(`input[name=roles][value=clerk]`)),
		chromedp.Click(chromedp.CSS(`input[name=units][value="`+e.units["TH"].ID+`"]`)),
		chromedp.SendKeys(chromedp.ID("nu-password"), "mật khẩu ban đầu 2026"),
		chromedp.Click(chromedp.CSS(`form[action="/admin/users"] button[type=submit]`)))
	b.do("created", chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if n := b.text("notice", ".notice"); !strings.Contains(n, "vanthu.hoa") {
		t.Errorf("notice %q", n)
	}
	users, err := e.accounts.Users(t.Context(), operator, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	var made *storage.User
	for i := range users {
		if users[i].Username == "vanthu.hoa" {
			made = &users[i]
		}
	}
	if made == nil || made.FullName != "Phạm Thị Hoa" || len(made.Roles) != 1 || made.Roles[0] != storage.RoleClerk ||
		len(made.UnitIDs) != 1 || made.UnitIDs[0] != e.units["TH"].ID {
		t.Fatalf("created user: %+v", made)
	}
	if list := b.text("users table", "main table"); !strings.Contains(list, "Phạm Thị Hoa") {
		t.Errorf("the users list does not show the new user")
	}
	// A taken username is refused in the form, not with a 500.
	b.submit("taken username",
		chromedp.SendKeys(chromedp.ID("nu-username"), "vanthu.hoa"),
		chromedp.SendKeys(chromedp.ID("nu-fullname"), "Người khác"),
		chromedp.Click(chromedp.CSS(`form[action="/admin/users"] button[type=submit]`)))
	b.do("taken username", chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	for _, page := range []string{"units", "keys", "delegations"} {
		b.do("admin "+page, chromedp.Navigate(e.url+"/admin/"+page), chromedp.WaitVisible(chromedp.CSS(`nav.tabs a[aria-current="page"]`)))
		b.accessible("admin " + page)
	}
	// The new user logs in.
	b.newTab()
	b.do("the login page", chromedp.Navigate(e.url+"/login"), chromedp.WaitVisible(chromedp.ID("username")))
	b.submit("log in as the new user",
		chromedp.SendKeys(chromedp.ID("username"), "vanthu.hoa"),
		chromedp.SendKeys(chromedp.ID("password"), "mật khẩu ban đầu 2026"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)))
	b.waitPath("the new user's inbox", regexp.MustCompile(`^/$`))
}

// TestBrowserPhone: on a 390×844 phone screen the document page fits the
// width, draws the preview and shows the signature panel.
func TestBrowserPhone(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.login("chuyenvien")
	b.noOverflow("inbox")

	b.do("upload page", chromedp.Navigate(e.url+"/documents/new"), chromedp.WaitVisible(chromedp.ID("drop")))
	b.noOverflow("upload")
	b.do("upload",
		chromedp.SendKeys(chromedp.ID("subject"), "Quyết định phê duyệt kế hoạch chuyển đổi số của xã An Bình năm 2027"),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{fixture(t, "drafts/qd-chu-tich.pdf")}),
		chromedp.Click(chromedp.CSS(`#upload-form button[type=submit]`)))
	b.waitPath("document page", documentPath)
	b.do("preview drawn", chromedp.WaitVisible(chromedp.CSS(`#preview-canvas[data-rendered="1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#signatures .report`)))
	b.noOverflow("document")
	if w := eval[float64](b, "preview width", `document.getElementById("preview-canvas").getBoundingClientRect().width`); w < 300 || w > 390 {
		t.Errorf("the preview is %.0f CSS pixels wide on a 390px screen", w)
	}
	b.accessible("document (phone)")
	b.do("documents list", chromedp.Navigate(e.url+"/documents"), chromedp.WaitVisible(chromedp.CSS("table.docs")))
	b.noOverflow("documents")
	b.accessible("documents (phone)")
}
