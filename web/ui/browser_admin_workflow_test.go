package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/storage"
)

// superadmin adds the system administrator (hethong), of no organisation.
func (e *env) superadmin() {
	e.t.Helper()
	ctx := context.Background()
	hash, err := testPasswordHash()
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := storage.CreateUser(ctx, e.db.Pool, storage.User{Username: "hethong", FullName: "Quản trị hệ thống", IsSuperadmin: true}, hash)
	if err != nil {
		e.t.Fatal(err)
	}
	e.users["hethong"] = u
}

// TestAdminWorkflowAuthorization: the workflow administration is refused
// server-side to whoever may not use it: a drafter gets none of its pages,
// an organisation's administrator may not set the shared calendar nor a
// signing level; nothing changes.
func TestAdminWorkflowAuthorization(t *testing.T) {
	e := newEnv(t)
	drafter, admin := e.client(), e.client()
	e.login(drafter, "chuyenvien")
	e.login(admin, "quantri")
	for _, path := range []string{"/admin/templates", "/admin/registers", "/admin/signing"} {
		resp, err := drafter.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a drafter's GET %s: %d, want 403", path, resp.StatusCode)
		}
	}
	for _, c := range []struct {
		who        *http.Client
		path, form string
	}{
		{drafter, "/admin/templates", "name=X&rows=1&s1_name=K%C3%BD&s1_kind=sign&s1_participants=role:signer"},
		{drafter, "/admin/registers", "kind=outgoing&name=S%E1%BB%95"},
		{admin, "/admin/calendar", "year=2026&holidays=2026-09-02+Qu%E1%BB%91c+kh%C3%A1nh"},
		{admin, "/admin/signing", "org=" + e.org.ID + "&level=B-LTA"},
	} {
		if resp := e.post(c.who, c.path, c.form, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s by the wrong person: %d, want 403", c.path, resp.StatusCode)
		}
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM chain_templates) + (SELECT count(*) FROM calendar_years)
		+ (SELECT count(*) FROM registers WHERE NOT is_default)`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows written by refused forms (%v)", n, err)
	}
	if l, err := storage.OrganizationSigningLevel(t.Context(), e.db.Pool, e.org.ID); err != nil || l == "B-LTA" {
		t.Fatalf("signing level %s %v", l, err)
	}
}

// TestBrowserAdminWorkflow: the administrator builds a chain template of
// two stages (review by the drafter's unit's reviewers within 2 working
// days, then the chairman's signature) and adds a confidential series;
// the system administrator sets the year's holidays and a compensating
// working day and raises the organisation's signing level. Each page
// passes axe-core and fits a phone.
func TestBrowserAdminWorkflow(t *testing.T) {
	e := newEnv(t)
	an := e.user("an", "Nguyễn Văn An", storage.RoleSigner)
	e.superadmin()
	b := newBrowser(t, e)
	b.login("quantri")
	b.do("templates page", chromedp.Navigate(e.url+"/admin/templates"), chromedp.WaitVisible(chromedp.ID("tpl-name")))
	b.accessible("admin templates")
	b.do("fill the template",
		chromedp.SendKeys(chromedp.ID("tpl-name"), "Trình ký quyết định"),
		chromedp.SendKeys(chromedp.ID("s1-name"), "Thẩm định"),
		chromedp.SetValue(chromedp.ID("s1-kind"), "review"),
		chromedp.SendKeys(chromedp.ID("s1-days"), "2"),
		chromedp.SendKeys(chromedp.ID("s2-name"), "Chủ tịch ký"),
		chromedp.SetValue(chromedp.ID("s2-kind"), "sign"),
		chromedp.SetValue(chromedp.ID("s2-rule"), "any"))
	eval[chromedp.Void](b, "choose participants", `document.querySelector('#s1-participants option[value="unit:reviewer"]').selected = true;
		document.querySelector('#s2-participants option[value="user:`+an.ID+`"]').selected = true; undefined`)
	b.submit("save the template", chromedp.Click(chromedp.ID("tpl-submit")))
	b.do("save the template", chromedp.WaitVisible(chromedp.CSS(".notice")))
	var def []byte
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT v.definition FROM chain_templates t JOIN chain_template_versions v ON v.template_id = t.id WHERE t.name = 'Trình ký quyết định'`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	var got chain.Definition
	if err := json.Unmarshal(def, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Stages) != 2 || got.Stages[0].Kind != "review" || got.Stages[0].Due == nil || got.Stages[0].Due.Days != 2 ||
		len(got.Stages[0].Participants) != 1 || got.Stages[0].Participants[0] != (chain.Participant{Role: "reviewer", UnitID: chain.DrafterUnit}) ||
		got.Stages[1].Rule.Kind != "any" || len(got.Stages[1].Participants) != 1 || got.Stages[1].Participants[0].UserID != an.ID {
		t.Fatalf("stored template %s", def)
	}
	if list := b.text("templates list", "ul.templates"); !strings.Contains(list, "Nguyễn Văn An") || !strings.Contains(list, "Thẩm định") {
		t.Errorf("templates list:\n%s", list)
	}
	b.accessible("admin templates (saved)")

	b.do("registers page", chromedp.Navigate(e.url+"/admin/registers"), chromedp.WaitVisible(chromedp.ID("reg-name")))
	b.accessible("admin registers")
	b.submit("add a confidential series", chromedp.SendKeys(chromedp.ID("reg-name"), "Sổ văn bản mật"),
		chromedp.Click(chromedp.CSS(`input[name=confidential]`)), chromedp.Click(chromedp.ID("reg-submit")))
	b.do("add a confidential series", chromedp.WaitVisible(chromedp.CSS(".notice")))
	if rows := b.text("registers", "table.registers"); !strings.Contains(rows, "Sổ văn bản mật") {
		t.Errorf("registers:\n%s", rows)
	}
	b.do("calendar (read only)", chromedp.Navigate(e.url+"/admin/calendar"), chromedp.WaitVisible(chromedp.CSS(`nav.tabs a[aria-current="page"]`)))
	b.accessible("admin calendar (read only)")
	b.do("signing level (read only)", chromedp.Navigate(e.url+"/admin/signing"), chromedp.WaitVisible(chromedp.CSS(`table.levels`)))
	b.accessible("admin signing (read only)")

	b.newTab()
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.login("hethong")
	b.do("calendar", chromedp.Navigate(e.url+"/admin/calendar?year=2027"), chromedp.WaitVisible(chromedp.ID("cal-holidays")))
	b.accessible("admin calendar (phone)")
	b.noOverflow("admin calendar (phone)")
	b.submit("a bad line", chromedp.SetValue(chromedp.ID("cal-holidays"), "ngày mai"), chromedp.Click(chromedp.ID("cal-save")))
	b.do("a bad line", chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	b.submit("save the holidays", chromedp.SetValue(chromedp.ID("cal-holidays"), "2027-09-02 Quốc khánh\n2027-09-03 Nghỉ bù"),
		chromedp.SetValue(chromedp.ID("cal-working"), "2027-09-11 Làm bù"), chromedp.Click(chromedp.ID("cal-save")))
	b.do("save the holidays", chromedp.WaitVisible(chromedp.CSS(".notice")))
	y, set, err := (&calendar.Service{DB: e.db}).Year(t.Context(), operator, 2027)
	if err != nil || !set || len(y.Holidays) != 2 || y.Holidays[0].Name != "Quốc khánh" || len(y.WorkingDays) != 1 || y.WorkingDays[0].Date != "2027-09-11" {
		t.Fatalf("stored calendar %+v %v %v", y, set, err)
	}
	b.do("signing levels", chromedp.Navigate(e.url+"/admin/signing?org="+e.org.ID), chromedp.WaitVisible(chromedp.ID("level-"+e.org.ID)))
	b.accessible("admin signing (phone)")
	b.noOverflow("admin signing (phone)")
	b.submit("raise the level", chromedp.SetValue(chromedp.ID("level-"+e.org.ID), "B-LTA"),
		chromedp.Click(chromedp.CSS(`form[action="/admin/signing"] button`)))
	b.do("raise the level", chromedp.WaitVisible(chromedp.CSS(".notice")))
	if l, err := storage.OrganizationSigningLevel(t.Context(), e.db.Pool, e.org.ID); err != nil || l != "B-LTA" {
		t.Fatalf("signing level %s %v", l, err)
	}
	b.do("templates (phone)", chromedp.Navigate(e.url+"/admin/users"), chromedp.WaitVisible(chromedp.CSS(`nav.tabs`)))
	b.noOverflow("admin tabs (phone)")
	t.Logf("axe-core checked: %v", b.checked)
}
