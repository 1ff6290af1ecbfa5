package ui_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/storage"
)

// signedForIssuing runs a draft through the chain over the API (submit,
// approve, the chairman's signature), binds the dev PKI's seal as the
// organisation's, and adds the clerk (vanthu) and a second organisation
// (STC) to send to: the document then waits for issuing.
func signedForIssuing(t *testing.T, w *chainWorld, subject string) (documents.Document, storage.Organization) {
	t.Helper()
	e := w.e
	ctx := context.Background()
	if _, ok := e.users["vanthu"]; !ok {
		w.titled("vanthu", "Lê Thị Thư", "Văn thư", storage.RoleClerk)
		w.bindP12("an", devpki.Official)
		p12, err := os.ReadFile(w.pki.P12Path(devpki.Seal))
		if err != nil {
			t.Fatal(err)
		}
		b, err := accounts.BindingFor(ctx, accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: p12, Password: w.pki.Password()}, nil,
			[]*x509.Certificate{w.pki.Root()}, e.accounts.Keystore, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b.OrganizationID = e.org.ID
		if _, err := storage.CreateKeyBinding(ctx, e.db.Pool, b); err != nil {
			t.Fatal(err)
		}
		if _, err := e.accounts.CreateOrganization(ctx, operator, storage.Organization{Code: "STC", Name: "Sở Tài chính"}); err != nil {
			t.Fatal(err)
		}
	}
	var stc storage.Organization
	orgs, err := storage.ListOrganizations(ctx, e.db.Pool, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		if o.Code == "STC" {
			stc = o
		}
	}
	doc := w.upload(t, "qd-chu-tich.pdf", subject)
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	w.api("chuyenvien", "POST", "/api/v1/documents/"+doc.ID+"/submit", "application/json", js(map[string]string{"template_id": w.template}), http.StatusOK)
	w.api("truongphong", "POST", "/api/v1/documents/"+doc.ID+"/actions", "application/json", js(map[string]string{"action": "approve"}), http.StatusOK)
	w.api("an", "POST", "/api/v1/documents/"+doc.ID+"/sign", "application/json", []byte(`{}`), http.StatusCreated)
	got, err := storage.GetDocument(ctx, e.db.Pool, doc.ID)
	if err != nil || got.Status != documents.StatusSigned {
		t.Fatalf("after the chain: %s %v", got.Status, err)
	}
	return doc, stc
}

// TestIssuingPagesAuthorization: the issuing pages are the clerk's; a
// drafter is refused the queue, the form and the post, and nothing is
// issued.
func TestIssuingPagesAuthorization(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	doc, stc := signedForIssuing(t, w, "Quyết định thử quyền phát hành")
	c := e.client()
	e.login(c, "chuyenvien")
	for _, path := range []string{"/issuing", "/documents/" + doc.ID + "/issue"} {
		resp, err := c.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a drafter's GET %s: %d, want 403", path, resp.StatusCode)
		}
	}
	if resp := e.post(c, "/documents/"+doc.ID+"/issue", "orgs="+stc.ID, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a drafter's issue: %d, want 403", resp.StatusCode)
	}
	// A clerk of another organisation does not find the document.
	other := e.client()
	stcClerk, err := e.accounts.CreateUser(t.Context(), operator, accounts.NewUser{Username: "vanthu-stc", FullName: "Phạm Văn Thư",
		OrganizationID: stc.ID, Roles: []string{storage.RoleClerk}})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := testPasswordHash()
	if err := storage.SetPassword(t.Context(), e.db.Pool, stcClerk.ID, hash); err != nil {
		t.Fatal(err)
	}
	e.login(other, "vanthu-stc")
	if resp := e.post(other, "/documents/"+doc.ID+"/issue", "orgs="+stc.ID, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another organisation's clerk's issue: %d, want 404", resp.StatusCode)
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM register_entries").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d register entries after refused issues (%v)", n, err)
	}
}

// TestBrowserIssuing: the clerk finds the signed document in the issuing
// queue, opens the issue form, which shows 01/QĐ-UBND before anything is
// taken, sends it to another organisation and an e-mail address, sees the
// deliveries, then reads the register: the entry, filtered, the export
// links answering XLSX and PDF, the print stylesheet hiding the
// navigation; the register fits a 390px phone. axe-core checks every page.
func TestBrowserIssuing(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	doc, stc := signedForIssuing(t, w, "Quyết định ban hành quy chế văn thư, lưu trữ")
	b := newBrowser(t, e)
	b.login("vanthu")
	b.do("issuing queue", chromedp.Navigate(e.url+"/issuing"), chromedp.WaitVisible(chromedp.CSS(`table.queue`)))
	b.accessible("issuing queue")
	b.submit("open the issue form", chromedp.Click(chromedp.CSS(`a[href="/documents/`+doc.ID+`/issue"]`)))
	b.do("issue form", chromedp.WaitVisible(chromedp.ID("symbol")))
	if s := b.text("number shown", "#symbol"); s != "01/QĐ-UBND" {
		t.Errorf("the form shows %q, want 01/QĐ-UBND", s)
	}
	b.accessible("issue form")
	b.submit("bad e-mail line", chromedp.Click(chromedp.CSS(`input[name=orgs][value="`+stc.ID+`"]`)),
		chromedp.SendKeys(chromedp.ID("emails"), "not an address"),
		chromedp.Click(chromedp.ID("issue-btn")))
	b.do("bad e-mail line", chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	if checked := eval[bool](b, "choice kept", `document.querySelector('input[name=orgs][value="`+stc.ID+`"]').checked`); !checked {
		t.Error("the refused form lost the chosen organisation")
	}
	b.submit("issue", chromedp.SetValue(chromedp.ID("emails"), "Công ty ABC <vanthu@abc.example>"),
		chromedp.SendKeys(chromedp.ID("copies-kept"), "Lưu: VT, VP."),
		chromedp.Click(chromedp.ID("issue-btn")))
	b.waitPath("deliveries", regexp.MustCompile(`^/documents/`+doc.ID+`/deliveries$`))
	b.do("deliveries shown", chromedp.WaitVisible(chromedp.CSS(`table.deliveries`)))
	if f := b.text("flash", ".flash"); !strings.Contains(f, "01/QĐ-UBND") {
		t.Errorf("flash %q", f)
	}
	if rows := b.text("deliveries", "table.deliveries tbody"); !strings.Contains(rows, "Sở Tài chính") || !strings.Contains(rows, "vanthu@abc.example") || !strings.Contains(rows, "Đã gửi") {
		t.Errorf("deliveries:\n%s", rows)
	}
	b.accessible("deliveries")

	b.do("registers", chromedp.Navigate(e.url+"/registers"), chromedp.WaitVisible(chromedp.CSS(`table.registers`)))
	b.accessible("registers")
	b.submit("open the outgoing register", chromedp.Click(chromedp.CSS(`table.registers tr[data-kind=outgoing][data-default] a`)))
	b.do("register", chromedp.WaitVisible(chromedp.CSS(`table.book`)))
	if row := b.text("entry", "table.book tbody"); !strings.Contains(row, "01/QĐ-UBND") || !strings.Contains(row, "Nguyễn Văn An") || !strings.Contains(row, "Sở Tài chính; Công ty ABC") {
		t.Errorf("register entry:\n%s", row)
	}
	b.accessible("register")
	got := eval[[]string](b, "exports", `Promise.all(["export-xlsx", "export-pdf"].map(id => fetch(document.getElementById(id).href)
		.then(async r => r.status + " " + r.headers.get("content-type").split(";")[0] + " " + (await r.arrayBuffer()).byteLength)))`)
	if len(got) != 2 || !strings.HasPrefix(got[0], "200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") || !strings.HasPrefix(got[1], "200 application/pdf") {
		t.Errorf("exports: %v", got)
	}
	b.submit("filter that matches nothing", chromedp.SetValue(chromedp.ID("q"), "khong co van ban nay"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	b.do("filter that matches nothing", chromedp.WaitNotPresent(chromedp.CSS(`table.book`)))
	b.submit("filter without diacritics", chromedp.SetValue(chromedp.ID("q"), "quy che van thu"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	b.do("filter without diacritics", chromedp.WaitVisible(chromedp.CSS(`table.book`)))
	if row := b.text("filtered entry", "table.book tbody"); !strings.Contains(row, "01/QĐ-UBND") {
		t.Errorf("the filtered register:\n%s", row)
	}
	b.media("print")
	if hidden := eval[[]string](b, "printed", `[".top", "form.filters", ".exports"].map(s => getComputedStyle(document.querySelector(s)).display)`); strings.Join(hidden, ",") != "none,none,none" {
		t.Errorf("printing shows the page's controls: %v", hidden)
	}
	b.media("")
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`table.book`)))
	b.noOverflow("register (phone)")
	t.Logf("axe-core checked: %v", b.checked)
}

// media emulates a CSS media type ("print", or "" for the screen).
func (b *browser) media(m string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m}); err != nil {
		b.fail("media "+m, err)
	}
}
