package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// pngFile writes img as a PNG in dir and returns its path.
func pngFile(t *testing.T, dir, name string, img image.Image) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// opaqueSignature is a signature scanned on white paper: a PNG without
// transparency, which cannot be drawn over a page.
func opaqueSignature() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 120, 40))
	for y := range 40 {
		for x := range 120 {
			img.Set(x, y, color.RGBA{255, 255, 255, 255})
		}
	}
	return img
}

// TestBrowserAccountSignatureImage: the chairman, on a phone, has no
// handwritten-signature image; signing is refused with a link to his
// account page; there, with the keyboard only, he reaches the file input
// and the button, is refused a scan without transparency in words, uploads
// a transparent PNG (shown back through the login-protected GET), goes back
// and signs: version 2, VALID. The administrator then replaces another
// person's image on the people page and sets them a new password, and is
// refused (not found) for a person of another organisation. axe-core
// checks every page; the phone's pages do not scroll sideways.
func TestBrowserAccountSignatureImage(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	ctx := context.Background()
	e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(w.pki.Root())} })
	an := e.users["an"]
	if _, err := e.db.Pool.Exec(ctx, "DELETE FROM signature_images WHERE user_id = $1", an.ID); err != nil {
		t.Fatal(err)
	}
	doc := w.upload(t, "qd-chu-tich.pdf", "Quyết định ban hành quy chế làm việc")
	docPath := "/documents/" + doc.ID
	w.bindP12("an", devpki.Official)
	body, _ := json.Marshal(map[string]string{"template_id": w.template})
	w.api("chuyenvien", "POST", "/api/v1/documents/"+doc.ID+"/submit", "application/json", body, http.StatusOK)
	w.api("truongphong", "POST", "/api/v1/documents/"+doc.ID+"/actions", "application/json", []byte(`{"action":"approve"}`), http.StatusOK)
	dir := t.TempDir()
	opaque := pngFile(t, dir, "scan.png", opaqueSignature())
	good := pngFile(t, dir, "chu-ky.png", appearance.DemoSignature(an.FullName))

	b := newBrowser(t, e)
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.login("an")
	b.do("open the document", chromedp.Navigate(e.url+docPath), chromedp.WaitVisible(chromedp.ID("sign-btn")))
	b.submit("sign without an image", chromedp.Click(chromedp.ID("sign-btn")))
	msg := b.waitFor("refused", `(document.querySelector("[role=alert]") || {}).textContent || ""`, func(s string) bool { return s != "" })
	if !strings.Contains(msg, "chưa có ảnh chữ ký tay") {
		t.Errorf("the refusal says %q", msg)
	}
	b.accessible("document (no image, phone)")
	b.submit("follow the refusal's link", chromedp.Click(chromedp.ID("error-fix")))
	b.waitPath("account page", regexp.MustCompile(`^/account$`))
	b.do("account page", chromedp.WaitVisible(chromedp.ID("signature-none")))
	if txt := b.text("who", "main"); !strings.Contains(txt, "Nguyễn Văn An") || !strings.Contains(txt, "Ủy ban nhân dân xã An Bình") ||
		!strings.Contains(txt, "Người ký") || !strings.Contains(txt, "Chủ tịch") || !strings.Contains(txt, "256,0 KB") {
		t.Errorf("the account page shows %q", txt)
	}
	if txt := b.text("keys", "#keys-h + *"); !strings.Contains(txt, "Khóa do hệ thống giữ (PKCS#12)") {
		t.Errorf("the account page's keys: %q", txt)
	}
	b.accessible("account (phone)")
	b.noOverflow("account (phone)")

	// The keyboard reaches the file input and the button.
	b.do("focus the page top", chromedp.Focus(chromedp.ID("account-lang")))
	b.tabTo("the file input", "#signature-file")
	b.tabTo("the upload button", "#signature-upload")

	b.do("choose the opaque scan", chromedp.SetUploadFiles(chromedp.ID("signature-file"), []string{opaque}))
	b.submit("upload it", chromedp.Click(chromedp.ID("signature-upload")))
	msg = b.waitFor("refused scan", `(document.querySelector("[role=alert]") || {}).textContent || ""`, func(s string) bool { return s != "" })
	if !strings.Contains(msg, "nền trong suốt") {
		t.Errorf("the opaque scan's refusal says %q", msg)
	}
	if _, err := storage.GetSignatureImage(ctx, e.db.Pool, an.ID); err == nil {
		t.Fatal("the opaque scan was stored")
	}
	b.accessible("account (refused image, phone)")
	b.do("choose the transparent PNG", chromedp.SetUploadFiles(chromedp.ID("signature-file"), []string{good}))
	b.submit("upload it", chromedp.Click(chromedp.ID("signature-upload")))
	b.waitFor("image saved", `(document.querySelector(".notice") || {}).textContent || ""`, func(s string) bool { return strings.Contains(s, "Đã lưu ảnh chữ ký tay") })
	b.waitFor("image shown", `(document.getElementById("signature-current") || {}).naturalWidth || 0`, func(s string) bool { return s != "0" && s != "" })
	b.accessible("account (image, phone)")
	b.noOverflow("account (image, phone)")
	stored, err := storage.GetSignatureImage(ctx, e.db.Pool, an.ID)
	if err != nil || stored.UpdatedBy != an.ID {
		t.Fatalf("stored image %+v %v", stored.UpdatedBy, err)
	}

	b.do("back to the document", chromedp.Navigate(e.url+docPath), chromedp.WaitVisible(chromedp.ID("sign-btn")))
	b.submit("sign", chromedp.Click(chromedp.ID("sign-btn")))
	b.do("signed", chromedp.WaitVisible(chromedp.CSS(".flash")))
	if txt := b.text("flash", ".flash"); !strings.Contains(txt, "Đã ký số") {
		t.Errorf("flash after signing: %q", txt)
	}
	b.do("signature panel", chromedp.WaitVisible(chromedp.CSS(`#signatures .report`)))
	if v := eval[string](b, "verdict", `document.querySelector("#signatures .report").dataset.verdict`); v != "VALID" {
		t.Errorf("the signed version's verdict is %q, want VALID", v)
	}

	// The administrator, on a desktop screen: another person's image and
	// password on the people page.
	b.newTab()
	b.login("quantri")
	reviewer := e.users["truongphong"]
	rolesPath := "/admin/users/" + reviewer.ID + "/roles"
	b.do("the reviewer's page", chromedp.Navigate(e.url+rolesPath), chromedp.WaitVisible(chromedp.ID("person-signature-none")))
	b.accessible("people page (no image)")
	b.tabTo("the person's file input", "#person-signature-file")
	b.do("choose a PNG", chromedp.SetUploadFiles(chromedp.ID("person-signature-file"), []string{pngFile(t, dir, "dung.png", appearance.DemoSignature(reviewer.FullName))}))
	b.submit("upload it", chromedp.Click(chromedp.ID("person-signature-upload")))
	b.waitFor("image saved", `(document.querySelector(".notice") || {}).textContent || ""`, func(s string) bool { return strings.Contains(s, "Phạm Thị Dung") })
	b.waitFor("image shown", `(document.getElementById("person-signature") || {}).naturalWidth || 0`, func(s string) bool { return s != "0" && s != "" })
	b.accessible("people page (image)")
	if si, err := storage.GetSignatureImage(ctx, e.db.Pool, reviewer.ID); err != nil || si.UpdatedBy != e.users["quantri"].ID {
		t.Fatalf("the administrator's upload: %+v %v", si.UpdatedBy, err)
	}
	reviewerC := e.client()
	e.login(reviewerC, "truongphong")
	b.do("type a new password", chromedp.SendKeys(chromedp.ID("person-password"), "mật khẩu mới của Dung 2026"))
	b.submit("set it", chromedp.Click(chromedp.ID("person-password-save")))
	b.waitFor("password set", `(document.querySelector(".notice") || {}).textContent || ""`, func(s string) bool { return strings.Contains(s, "Đã đặt mật khẩu mới") })
	b.accessible("people page (password set)")
	if resp, _ := get(t, reviewerC, e.url+"/account"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the reviewer's session outlived the new password: %d", resp.StatusCode)
	}
	if _, _, err := e.accounts.Login(ctx, "truongphong", "mật khẩu mới của Dung 2026", "192.0.2.7"); err != nil {
		t.Errorf("the new password does not log in: %v", err)
	}

	// Another organisation's person: not found, nothing stored.
	other, err := e.accounts.CreateOrganization(ctx, operator, storage.Organization{Code: "UBNDH", Name: "Ủy ban nhân dân huyện"})
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := e.accounts.CreateUser(ctx, operator, accounts.NewUser{Username: "ky.huyen", FullName: "Người ký huyện", OrganizationID: other.ID, Roles: []string{storage.RoleSigner}})
	if err != nil {
		t.Fatal(err)
	}
	b.do("the outsider's page", chromedp.Navigate(e.url+"/admin/users/"+outsider.ID+"/roles"))
	b.waitFor("not found", `(document.getElementById("error-summary") || {}).textContent || ""`, func(s string) bool { return strings.Contains(s, "Không tìm thấy") })
	admin := e.client()
	e.login(admin, "quantri")
	status, _, _ := postMultipartImage(t, e, admin, "/admin/users/"+outsider.ID+"/signature-image", good)
	if status != http.StatusNotFound {
		t.Errorf("the upload for another organisation's person: %d, want 404", status)
	}
	if _, err := storage.GetSignatureImage(ctx, e.db.Pool, outsider.ID); err == nil {
		t.Error("an image was stored for another organisation's person")
	}
	if status, _, _ := postPage(t, e, admin, "/admin/users/"+outsider.ID+"/password", map[string][]string{"new_password": {"mật khẩu của người ngoài"}}); status != http.StatusNotFound {
		t.Errorf("the password for another organisation's person: %d, want 404", status)
	}
	t.Logf("axe-core checked: %v", b.checked)
}
