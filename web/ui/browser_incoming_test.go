package ui_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// incomingUser creates a member of one unit of the organisation, who logs
// in with testPassword.
func incomingUser(t *testing.T, e *env, username, fullName, title, unit string, roles ...string) storage.User {
	t.Helper()
	ctx := context.Background()
	u, err := e.accounts.CreateUser(ctx, operator, accounts.NewUser{Username: username, FullName: fullName, Title: title,
		OrganizationID: e.org.ID, UnitIDs: []string{e.units[unit].ID}, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := testPasswordHash()
	if err == nil {
		err = storage.SetPassword(ctx, e.db.Pool, u.ID, hash)
	}
	if err != nil {
		t.Fatal(err)
	}
	e.users[username] = u
	return u
}

// receiveOverAPI puts a file in the reception queue as POST
// /api/v1/reception does, with the Appendix VI fields given.
func receiveOverAPI(t *testing.T, e *env, username, file string, fields map[string]string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	pdf, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fw, _ := mw.CreateFormFile("file", "van-ban-den.pdf")
	fw.Write(pdf)
	mw.Close()
	req, _ := http.NewRequest("POST", e.url+"/api/v1/reception", &body)
	req.Header.Set("Authorization", "Bearer "+e.token(t, username))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("receive over the API: %d", resp.StatusCode)
	}
}

// TestBrowserIncoming walks an incoming document from the văn thư's desk
// to its completion, each person in their own browser: the clerk receives
// a paper document with the Appendix VI fields, sees its arrival page (the
// file drawn by pdf.js, the verification report, số đến 1 shown before
// registering), registers it, finds a duplicate flagged in the queue and
// returns it with a reason, presents the document to the leader and reads
// the incoming register; the leader finds it in the inbox and assigns unit
// TH to lead with 5 working days and a direction (a form without a lead is
// refused); the head of TH gives the part to a handler (a deadline beyond
// the unit's is refused); the handler, on a phone, records progress and
// completes, which completes the document. axe-core checks every page.
func TestBrowserIncoming(t *testing.T) {
	e := newEnv(t)
	incomingUser(t, e, "vanthu", "Lê Thị Thư", "Văn thư", "VP", storage.RoleClerk)
	incomingUser(t, e, "chutich", "Nguyễn Văn Chủ", "Chủ tịch", "VP", storage.RoleSigner)
	incomingUser(t, e, "truongth", "Phạm Thị Dung", "Trưởng phòng", "TH", storage.RoleReviewer)
	handler := incomingUser(t, e, "xuly", "Đỗ Văn Xử", "Chuyên viên", "TH", storage.RoleDrafter)
	pdf := fixture(t, "drafts/qd-chu-tich.pdf")
	subject := "Về việc báo cáo công tác văn thư, lưu trữ năm 2026"

	b := newBrowser(t, e)
	b.login("vanthu")
	b.submit("reception queue", chromedp.Click(chromedp.CSS(`nav a[href="/reception"]`)))
	b.do("reception queue", chromedp.WaitVisible(chromedp.ID("receive-link")))
	b.accessible("reception queue (empty)")
	b.submit("receive form", chromedp.Click(chromedp.ID("receive-link")))
	b.do("receive form", chromedp.WaitVisible(chromedp.ID("receive-form")))
	b.accessible("receive form")
	b.submit("fill the Appendix VI fields",
		chromedp.SendKeys(chromedp.ID("from"), "Sở Nội vụ tỉnh Bình Dương"),
		chromedp.SendKeys(chromedp.ID("number"), "12"),
		chromedp.SendKeys(chromedp.ID("symbol"), "SNV-VP"),
		chromedp.SetValue(chromedp.ID("date"), "2026-11-20"),
		chromedp.SetValue(chromedp.ID("type"), "CV"),
		chromedp.SendKeys(chromedp.ID("subject"), subject),
		chromedp.SendKeys(chromedp.ID("signer"), "Trần Văn Ký"),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{pdf}),
		chromedp.Click(chromedp.ID("receive-btn")))
	b.waitPath("arrival page", regexp.MustCompile(`^/reception/[0-9a-f-]{36}$`))
	b.do("arrival drawn", chromedp.WaitVisible(chromedp.CSS(`#preview-canvas[data-rendered="1"]`)))
	if s := b.text("symbol", "#arrival-symbol"); s != "12/SNV-VP" {
		t.Errorf("arrival symbol %q, want 12/SNV-VP", s)
	}
	if v := b.text("verdict", "#arrival-verdict"); v != "Không có chữ ký" {
		t.Errorf("verdict %q, want Không có chữ ký (an unsigned scan)", v)
	}
	if n := b.text("số đến shown", "#arrival-number"); n != "1" {
		t.Errorf("the page shows số đến %q before registering, want 1", n)
	}
	b.accessible("arrival page")
	b.submit("register", chromedp.SendKeys(chromedp.ID("receiver"), "Chủ tịch UBND"), chromedp.Click(chromedp.ID("register-btn")))
	docPath := b.waitPath("registered document", documentPath)
	if f := b.text("registered flash", "#handling-flash"); !strings.Contains(f, "số đến 1") {
		t.Errorf("flash after registering: %q", f)
	}
	b.accessible("registered document (clerk)")

	// The same document arrives again: the queue flags it, and the clerk
	// returns it with a reason.
	receiveOverAPI(t, e, "vanthu", pdf, map[string]string{"from": "Sở Nội vụ tỉnh Bình Dương", "number": "12", "symbol": "SNV-VP",
		"date": "2026-11-20", "type": "CV", "subject": subject, "medium": "paper"})
	b.do("queue with the duplicate", chromedp.Navigate(e.url+"/reception"), chromedp.WaitVisible(chromedp.CSS(`table.arrivals tr[data-duplicate]`)))
	b.accessible("reception queue (duplicate)")
	b.submit("open the duplicate", chromedp.Click(chromedp.CSS(`table.arrivals tr[data-duplicate] a`)))
	b.do("open the duplicate", chromedp.WaitVisible(chromedp.ID("duplicate-flag")))
	if f := b.text("duplicate flag", "#duplicate-flag"); !strings.Contains(f, "số đến 1") {
		t.Errorf("duplicate flag %q does not name số đến 1", f)
	}
	b.submit("register the duplicate", chromedp.Click(chromedp.ID("register-btn")))
	b.do("register the duplicate", chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	b.submit("return it", chromedp.SendKeys(chromedp.ID("return-reason"), "Văn bản trùng, đã vào sổ số đến 1"), chromedp.Click(chromedp.ID("return-btn")))
	b.waitPath("queue after returning", regexp.MustCompile(`^/reception$`))
	if f := b.text("returned flash", ".flash"); !strings.Contains(f, "trả lại") {
		t.Errorf("flash after returning: %q", f)
	}
	var returned int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM arrivals WHERE status = 'returned'").Scan(&returned); err != nil || returned != 1 {
		t.Fatalf("%d returned arrivals (%v), want 1", returned, err)
	}

	b.do("the registered document", chromedp.Navigate(e.url+docPath), chromedp.WaitVisible(chromedp.ID("present-form")))
	b.submit("present to the leader", chromedp.Click(chromedp.ID("present-btn")))
	b.do("presented", chromedp.WaitVisible(chromedp.CSS(`#handling-status[data-status=presented]`)))

	b.do("registers", chromedp.Navigate(e.url+"/registers"), chromedp.WaitVisible(chromedp.CSS(`table.registers`)))
	b.submit("open the incoming register", chromedp.Click(chromedp.CSS(`table.registers tr[data-kind=incoming] a`)))
	b.do("open the incoming register", chromedp.WaitVisible(chromedp.CSS(`table.book.incoming`)))
	if row := b.text("incoming entry", "table.book tbody"); !strings.Contains(row, "Sở Nội vụ tỉnh Bình Dương") || !strings.Contains(row, "12/SNV-VP") || !strings.Contains(row, "Chủ tịch UBND") {
		t.Errorf("incoming register entry:\n%s", row)
	}
	b.accessible("incoming register")
	got := eval[[]string](b, "exports", `Promise.all(["export-xlsx", "export-pdf"].map(id => fetch(document.getElementById(id).href)
		.then(async r => r.status + " " + r.headers.get("content-type").split(";")[0])))`)
	if len(got) != 2 || got[0] != "200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || got[1] != "200 application/pdf" {
		t.Errorf("incoming register exports: %v", got)
	}
	b.submit("filter without diacritics", chromedp.SetValue(chromedp.ID("q"), "bao cao cong tac van thu"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	b.do("filter without diacritics", chromedp.WaitVisible(chromedp.CSS(`table.book.incoming`)))
	if row := b.text("filtered entry", "table.book tbody"); !strings.Contains(row, "12/SNV-VP") {
		t.Errorf("the filtered incoming register:\n%s", row)
	}

	// The leader assigns from the inbox.
	b.newTab()
	b.login("chutich")
	if s := b.text("leader's inbox", "table.inbox tbody"); !strings.Contains(s, subject) || !strings.Contains(s, "Giao xử lý") {
		t.Errorf("the leader's inbox:\n%s", s)
	}
	b.submit("open from the inbox", chromedp.Click(chromedp.CSS(`table.inbox a[href="`+docPath+`"]`)))
	b.do("open from the inbox", chromedp.WaitVisible(chromedp.ID("assign-form")))
	b.accessible("assign form")
	b.submit("assign without a lead", chromedp.SetValue(chromedp.ID("role-unit-TH"), "coordinate"), chromedp.SetValue(chromedp.ID("days-unit-TH"), "5"),
		chromedp.Click(chromedp.ID("assign-btn")))
	b.do("assign without a lead", chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	if a := b.text("refusal", "[role=alert]"); !strings.Contains(a, "đúng một nơi chủ trì") {
		t.Errorf("refusal of an assignment without a lead: %q", a)
	}
	b.submit("assign TH to lead", chromedp.SetValue(chromedp.ID("role-unit-TH"), "lead"), chromedp.SetValue(chromedp.ID("days-unit-TH"), "5"),
		chromedp.SendKeys(chromedp.ID("direction"), "Phòng TH chủ trì tham mưu báo cáo, trình trước hạn."),
		chromedp.Click(chromedp.ID("assign-btn")))
	b.do("assign TH to lead", chromedp.WaitVisible(chromedp.CSS(`#handling-status[data-status=assigned]`)))
	if tree := b.text("tree", "#handling-tree"); !strings.Contains(tree, "Chủ trì") || !strings.Contains(tree, "Phòng TH") {
		t.Errorf("assignment tree:\n%s", tree)
	}

	// The head of TH gives the part to a handler within the unit's deadline.
	b.newTab()
	b.login("truongth")
	b.do("open the document", chromedp.Navigate(e.url+docPath), chromedp.WaitVisible(chromedp.ID("unit-assign-0")))
	b.accessible("unit head's form")
	b.submit("a deadline beyond the unit's", chromedp.SetValue(chromedp.ID("handler-0"), handler.ID), chromedp.SetValue(chromedp.ID("handler-days-0"), "30"),
		chromedp.Click(chromedp.ID("unit-assign-btn-0")))
	b.do("a deadline beyond the unit's", chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	b.submit("assign the handler", chromedp.SetValue(chromedp.ID("handler-0"), handler.ID), chromedp.SetValue(chromedp.ID("handler-days-0"), "3"),
		chromedp.Click(chromedp.ID("unit-assign-btn-0")))
	b.do("assign the handler", chromedp.WaitVisible(chromedp.ID("handling-flash")))
	if tree := b.text("tree", "#handling-tree"); !strings.Contains(tree, "Đỗ Văn Xử") {
		t.Errorf("the handler is not in the tree:\n%s", tree)
	}

	// The handler works on a phone.
	b.newTab()
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.login("xuly")
	if s := b.text("handler's inbox", "table.inbox tbody"); !strings.Contains(s, subject) || !strings.Contains(s, "Xử lý (chủ trì)") {
		t.Errorf("the handler's inbox:\n%s", s)
	}
	b.noOverflow("inbox (phone)")
	b.accessible("inbox (phone)")
	b.do("open from the inbox", chromedp.Click(chromedp.CSS(`table.inbox a[href="`+docPath+`"]`)), chromedp.WaitVisible(chromedp.ID("progress-form-0")))
	b.noOverflow("document with the handling panel (phone)")
	b.accessible("handler's panel (phone)")
	b.submit("record progress", chromedp.SendKeys(chromedp.ID("progress-note-0"), "Đã tổng hợp số liệu của các bộ phận."),
		chromedp.Click(chromedp.ID("progress-btn-0")))
	b.do("record progress", chromedp.WaitVisible(chromedp.ID("handling-flash")))
	if h := b.text("history", "#handling-history"); !strings.Contains(h, "Cập nhật tiến độ") || !strings.Contains(h, "Đã tổng hợp số liệu") {
		t.Errorf("history after progress:\n%s", h)
	}
	b.submit("complete", chromedp.SendKeys(chromedp.ID("complete-note-0"), "Đã có báo cáo gửi Sở Nội vụ."),
		chromedp.Click(chromedp.ID("complete-btn-0")))
	b.do("complete", chromedp.WaitVisible(chromedp.CSS(`#handling-status[data-status=completed]`)))
	b.noOverflow("completed document (phone)")
	b.accessible("completed document (phone)")
	var status string
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT status FROM document_handling WHERE document_id = $1", strings.TrimPrefix(docPath, "/documents/")).Scan(&status); err != nil || status != "completed" {
		t.Fatalf("handling status %q (%v), want completed", status, err)
	}
	t.Logf("axe-core checked: %v", b.checked)
}
