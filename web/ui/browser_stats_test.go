package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// withNotify gives the service its notifications engine (not started:
// events are recorded and jobs queued, none run) and returns it.
func (e *env) withNotify(cfg notify.Config) *notify.Engine {
	e.t.Helper()
	en, err := notify.New(e.db, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.configure(func(s *web.Server) { s.Notify = en; s.Handling = nil; s.Chain = nil })
	return en
}

// incomingDoc is a document of the organisation received at the given
// time (Vietnam) and handled as the columns say: the whole document's
// deadline and completion, and one part (lead) for a unit or a person.
type incomingDoc struct {
	received, due, completed string
	unit, user               string
}

func vnTime(t testing.TB, s string) any {
	if s == "" {
		return nil
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, time.FixedZone("ICT", 7*3600))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// seedHandling stores documents as registered and assigned, by hand (the
// handling pages are another's; the statistics only count).
func (e *env) seedHandling(t testing.TB, docs []incomingDoc) []string {
	t.Helper()
	ctx := context.Background()
	pdf, err := os.ReadFile(fixture(t, "drafts/qd-chu-tich.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.accounts.AuthenticateToken(ctx, e.token(t, "chuyenvien"))
	if err != nil {
		t.Fatal(err)
	}
	leader := e.users["quantri"].ID
	var ids []string
	for i, d := range docs {
		stored, err := e.docs.StoreFile(ctx, strings.NewReader(string(pdf)), "den.pdf")
		if err != nil {
			t.Fatal(err)
		}
		meta, err := e.docs.CheckMeta(ctx, p, documents.Meta{Type: "CV", Subject: fmt.Sprintf("Công văn đến số %d", i+1)})
		if err != nil {
			t.Fatal(err)
		}
		doc, _, err := e.docs.Create(ctx, p, meta, stored, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, doc.ID)
		received := vnTime(t, d.received).(time.Time)
		status := "assigned"
		if d.completed != "" {
			status = "completed"
		}
		err = e.db.InTx(ctx, func(tx pgx.Tx) error {
			if err := handling.Open(ctx, tx, doc.ID, e.org.ID, received); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE document_handling SET status = $2, due_at = $3, completed_at = $4 WHERE document_id = $1`,
				doc.ID, status, vnTime(t, d.due), vnTime(t, d.completed)); err != nil {
				return err
			}
			state := "open"
			if d.completed != "" {
				state = "done"
			}
			var unit, user any
			if d.unit != "" {
				unit = e.units[d.unit].ID
			} else {
				user = e.users[d.user].ID
			}
			_, err := tx.Exec(ctx, `INSERT INTO assignments (organization_id, document_id, unit_id, user_id, role, state,
				assigned_by, assigned_at, due_at, completed_at) VALUES ($1, $2, $3, $4, 'lead', $5, $6, $7, $8, $9)`,
				e.org.ID, doc.ID, unit, user, state, leader, received.Add(time.Hour), vnTime(t, d.due), vnTime(t, d.completed))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

var statsDocs = []incomingDoc{
	{received: "2026-01-05 09:00", due: "2026-01-15 17:00", completed: "2026-01-10 10:00", unit: "VP"},   // on time
	{received: "2026-01-12 09:00", due: "2026-01-20 17:00", completed: "2026-01-19 10:00", user: "lanh"}, // on time, a person
	{received: "2026-02-03 09:00", due: "2026-02-10 17:00", completed: "2026-02-20 10:00", unit: "VP"},   // late
	{received: "2026-02-10 09:00", due: "2026-03-01 17:00", unit: "TH"},                                  // overdue
	{received: "2026-03-02 09:00", due: "2026-12-31 17:00", unit: "TH"},                                  // in progress
}

// TestBrowserStatistics: a leader opens the statistics of the first
// quarter of 2026: the charts are drawn (the canvas holds pixels), the
// table beside them says what GET /api/v1/statistics says for the same
// period, the unit filter narrows both, and the exports are the API's
// XLSX and PDF. An auditor reads the same page on a phone. axe-core
// checks every page.
func TestBrowserStatistics(t *testing.T) {
	e := newEnv(t)
	e.user("lanh", "Phạm Thị Lành", storage.RoleSigner)
	e.seedHandling(t, statsDocs)
	b := newBrowser(t, e)
	b.login("lanh")
	b.do("statistics link", chromedp.WaitVisible(chromedp.CSS(`nav a[href="/statistics"]`)))
	b.do("statistics page", chromedp.Navigate(e.url+"/statistics?from=2026-01-01&to=2026-03-31"),
		chromedp.WaitVisible(chromedp.CSS(`#chart-monthly[data-rendered="1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart-units[data-rendered="1"]`)))
	b.accessible("statistics")
	for _, id := range []string{"chart-monthly", "chart-units"} {
		if !b.inked(id) {
			t.Errorf("the %s canvas is empty: no chart was drawn", id)
		}
	}
	if n := eval[int](b, "months", `Chart.getChart("chart-monthly").data.labels.length`); n != 3 {
		t.Errorf("the monthly chart has %d months, want 3", n)
	}
	b.matchesAPI("2026-01-01", "2026-03-31", "")
	org := b.row("org")
	if org["received"] != "5" || org["completed_on_time"] != "2" || org["completed_late"] != "1" || org["overdue"] != "1" ||
		org["in_progress"] != "1" || org["on_time_rate"] != "50,0 %" {
		t.Errorf("the organisation's row: %v", org)
	}
	// Exports are the API's formats for the same period.
	for _, c := range []struct{ id, ct string }{{"stats-xlsx", "spreadsheetml"}, {"stats-pdf", "application/pdf"}} {
		href := eval[string](b, "export link", `document.getElementById("`+c.id+`").getAttribute("href")`)
		got := eval[string](b, "export", `fetch(`+strconv.Quote(href)+`).then(r => r.status + " " + r.headers.get("Content-Type"))`)
		if !strings.HasPrefix(got, "200 ") || !strings.Contains(got, c.ct) {
			t.Errorf("export %s (%s): %s", c.id, href, got)
		}
	}
	// The unit filter.
	b.submit("choose unit TH", chromedp.SetValue(chromedp.ID("stats-unit"), e.units["TH"].ID), chromedp.Click(chromedp.ID("stats-show")))
	b.waitPath("filtered", regexp.MustCompile(`^/statistics$`))
	b.do("filtered chart", chromedp.WaitVisible(chromedp.CSS(`#chart-monthly[data-rendered="1"]`)))
	b.matchesAPI("2026-01-01", "2026-03-31", e.units["TH"].ID)
	if n := eval[int](b, "filtered rows", `document.querySelectorAll("#stats-table tr[data-level=unit]").length`); n != 1 {
		t.Errorf("%d unit rows for one unit", n)
	}
	b.accessible("statistics (one unit)")
	b.do("a bad period", chromedp.Navigate(e.url+"/statistics?from=2026-03-31&to=2026-01-01"), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	b.accessible("statistics (bad period)")

	e.user("thanhtra", "Đỗ Văn Tra", storage.RoleAuditor)
	b.newTab()
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.login("thanhtra")
	b.do("statistics (phone)", chromedp.Navigate(e.url+"/statistics?from=2026-01-01&to=2026-03-31"),
		chromedp.WaitVisible(chromedp.CSS(`#chart-monthly[data-rendered="1"]`)))
	b.matchesAPI("2026-01-01", "2026-03-31", "")
	b.accessible("statistics (phone)")
	b.noOverflow("statistics (phone)")
	t.Logf("axe-core checked: %v", b.checked)
}

// inked reports whether a canvas has a painted pixel.
func (b *browser) inked(id string) bool {
	return eval[bool](b, "ink of "+id, `(() => { const c = document.getElementById("`+id+`");
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; } return false; })()`)
}

// row is one row of the statistics table by its data-k cells.
func (b *browser) row(level string) map[string]string {
	return eval[map[string]string](b, "row "+level, `Object.fromEntries([...document.querySelectorAll("#stats-table tr[data-level=`+level+`] td[data-k]")].map(td => [td.dataset.k, td.textContent.trim()]))`)
}

// matchesAPI compares every row of the page's tables with the API's JSON
// for the same period and unit, fetched with the same session.
func (b *browser) matchesAPI(from, to, unit string) {
	b.t.Helper()
	q := "from=" + from + "&to=" + to
	if unit != "" {
		q += "&unit_id=" + unit
	}
	raw := eval[string](b, "API statistics", `fetch("/api/v1/statistics?`+q+`").then(r => r.text())`)
	var st handling.Statistics
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		b.t.Fatalf("API statistics: %v: %s", err, raw)
	}
	type cells = map[string]string
	page := eval[[]cells](b, "table", `[...document.querySelectorAll("#stats-table tbody tr")].map(tr => Object.assign({level: tr.dataset.level, id: tr.dataset.id},
		Object.fromEntries([...tr.querySelectorAll("td[data-k]")].map(td => [td.dataset.k, td.textContent.trim()]))))`)
	var want []cells
	rate := func(r *float64) string {
		if r == nil {
			return "—"
		}
		return strings.Replace(fmt.Sprintf("%.1f %%", *r*100), ".", ",", 1)
	}
	add := func(level string, c handling.Counts) {
		want = append(want, cells{"level": level, "id": c.ID, "received": strconv.Itoa(c.Received), "completed_on_time": strconv.Itoa(c.CompletedOnTime),
			"completed_late": strconv.Itoa(c.CompletedLate), "in_progress": strconv.Itoa(c.InProgress), "overdue": strconv.Itoa(c.Overdue), "on_time_rate": rate(c.OnTimeRate)})
	}
	if st.Organization != nil {
		add("org", *st.Organization)
	}
	for _, c := range st.Units {
		add("unit", c)
	}
	for _, c := range st.People {
		add("person", c)
	}
	if len(want) == 0 {
		b.t.Fatalf("the API has no figures for %s", q)
	}
	if fmt.Sprint(page) != fmt.Sprint(want) {
		b.t.Errorf("the page's table for %s:\n%v\nthe API:\n%v", q, page, want)
	}
}

// TestBrowserNotifications: the bell counts a handler's unread
// notifications on every page; the list opens a document (marking its
// notification read), marks one read, then all; the channels page keeps
// an e-mail address and refuses a bad one. The inbox with the bell still
// loads under 300 KB (TestInboxFirstLoadIsSmall counts it too).
func TestBrowserNotifications(t *testing.T) {
	e := newEnv(t)
	en := e.withNotify(notify.Config{})
	ids := e.seedHandling(t, []incomingDoc{statsDocs[0], statsDocs[2], statsDocs[3]})
	me := e.users["chuyenvien"]
	ctx := context.Background()
	for i, id := range ids {
		if err := e.db.InTx(ctx, func(tx pgx.Tx) error {
			return en.Publish(ctx, tx, events.Event{Kind: events.DocumentAssigned, OrganizationID: e.org.ID, DocumentID: id,
				UserIDs: []string{me.ID}, Summary: fmt.Sprintf("Được giao chủ trì xử lý công văn đến số %d", i+1)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, e)
	b.login("chuyenvien")
	if got := b.text("bell", "#bell .count"); !strings.HasPrefix(got, "3") {
		t.Errorf("the bell says %q, want 3 unread", got)
	}
	b.submit("notifications", chromedp.Click(chromedp.ID("bell")))
	b.do("notifications", chromedp.WaitVisible(chromedp.CSS("ul.notes")))
	b.accessible("notifications")
	if n := eval[int](b, "unread items", `document.querySelectorAll("ul.notes li.unread").length`); n != 3 {
		t.Errorf("%d unread items, want 3", n)
	}
	// Open the newest one's document: it is read, the bell says 2.
	newest := eval[string](b, "newest", `document.querySelector("ul.notes li").dataset.id`)
	b.submit("open the document", chromedp.Click(chromedp.CSS(`ul.notes li:first-child button.open`)))
	b.waitPath("document page", documentPath)
	if p := b.path("document"); p != "/documents/"+ids[2] {
		t.Errorf("opened %s, want the third document", p)
	}
	if got := b.text("bell", "#bell .count"); !strings.HasPrefix(got, "2") {
		t.Errorf("after opening one the bell says %q", got)
	}
	b.submit("back to notifications", chromedp.Click(chromedp.ID("bell")))
	b.do("back to notifications", chromedp.WaitVisible(chromedp.CSS("ul.notes")))
	if cls := eval[string](b, "opened one", `document.querySelector('ul.notes li[data-id="`+newest+`"]').className`); cls != "read" {
		t.Errorf("the opened notification is %q", cls)
	}
	b.submit("mark one read", chromedp.Click(chromedp.CSS(`ul.notes li.unread button.markread`)))
	// The list comes back with one unread left (the old one had two).
	b.do("one unread left", chromedp.WaitVisible(chromedp.CSS(`#notes-unread[data-unread="1"]`)))
	if n := eval[int](b, "unread items", `document.querySelectorAll("ul.notes li.unread").length`); n != 1 {
		t.Errorf("%d unread after marking one, want 1", n)
	}
	b.submit("mark all read", chromedp.Click(chromedp.ID("notes-readall")))
	b.do("mark all read", chromedp.WaitVisible(chromedp.CSS(".notice")))
	if n := eval[int](b, "bell count", `document.querySelectorAll("#bell .count").length`); n != 0 {
		t.Error("the bell still counts after marking all read")
	}
	var unread int
	if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", me.ID).Scan(&unread); err != nil || unread != 0 {
		t.Errorf("%d unread stored (%v)", unread, err)
	}
	b.accessible("notifications (all read)")

	b.do("channels", chromedp.Navigate(e.url+"/notifications/preferences"), chromedp.WaitVisible(chromedp.ID("prefs-email")))
	b.accessible("notification channels")
	b.submit("e-mail on without an address", chromedp.Click(chromedp.ID("prefs-email-on")), chromedp.Click(chromedp.ID("prefs-save")))
	b.do("e-mail on without an address", chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	b.submit("e-mail on", chromedp.SendKeys(chromedp.ID("prefs-email"), "an.nguyen@anbinh.gov.vn"), chromedp.Click(chromedp.ID("prefs-save")))
	b.do("e-mail on", chromedp.WaitVisible(chromedp.CSS(".notice")))
	pr, err := en.GetPreferences(ctx, mustPrincipal(t, e, "chuyenvien"))
	if err != nil || !pr.EmailOn || pr.Email != "an.nguyen@anbinh.gov.vn" {
		t.Errorf("stored channels %+v %v", pr, err)
	}

	b.newTab()
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.login("chuyenvien")
	b.do("notifications (phone)", chromedp.Navigate(e.url+"/notifications"), chromedp.WaitVisible(chromedp.CSS("ul.notes")))
	b.accessible("notifications (phone)")
	b.noOverflow("notifications (phone)")

	// Someone else's notification is not theirs to mark.
	c := e.client()
	e.login(c, "kiemtra")
	if resp := e.post(c, "/notifications/"+newest+"/read", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("marking another's notification: %d, want 404", resp.StatusCode)
	}
	t.Logf("axe-core checked: %v", b.checked)
}

func mustPrincipal(t testing.TB, e *env, username string) accounts.Principal {
	t.Helper()
	p, err := e.accounts.AuthenticateToken(context.Background(), e.token(t, username))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBrowserWebhooks: the organisation's administrator adds a webhook
// (its secret shown once, never again), an event is delivered to it —
// the first attempt fails and waits for its retry, the second succeeds,
// signed with that secret — and the delivery log shows both; the
// administrator cannot allow a private address, the system administrator
// can; deleting keeps the log.
func TestBrowserWebhooks(t *testing.T) {
	e := newEnv(t)
	e.superadmin()
	var calls atomic.Int32
	var secret atomic.Value
	var verified atomic.Bool
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if s, ok := secret.Load().(string); ok && notify.Sign([]byte(s), r.Header.Get(notify.HeaderTimestamp), body) == r.Header.Get(notify.HeaderSignature) {
			verified.Store(true)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	// The endpoint's public address is the test's receiver: the client
	// dials it whatever the URL names.
	dialer := &net.Dialer{}
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, receiver.Listener.Addr().String())
	}}}
	en := e.withNotify(notify.Config{WebhookClient: client, Backoff: func(int) time.Duration { return 2 * time.Second }, PollInterval: 200 * time.Millisecond})
	b := newBrowser(t, e)
	b.login("quantri")
	b.do("webhooks page", chromedp.Navigate(e.url+"/admin/webhooks"), chromedp.WaitVisible(chromedp.ID("wh-url")))
	b.accessible("admin webhooks")
	if n := eval[int](b, "private choice", `document.querySelectorAll("#wh-private").length`); n != 0 {
		t.Error("the organisation's administrator is offered private addresses")
	}
	b.submit("a loopback address is refused", chromedp.SendKeys(chromedp.ID("wh-url"), "http://127.0.0.1:9/hook"), chromedp.Click(chromedp.ID("wh-submit")))
	b.do("a loopback address is refused", chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	b.accessible("admin webhooks (refused)")
	b.submit("add the webhook", chromedp.SetValue(chromedp.ID("wh-url"), "http://93.184.216.34/vanthu-hook"), chromedp.Click(chromedp.ID("wh-submit")))
	b.do("add the webhook", chromedp.WaitVisible(chromedp.ID("wh-secret")))
	shown := b.text("secret", "#wh-secret")
	if !strings.HasPrefix(shown, "whsec_") {
		t.Fatalf("secret shown: %q", shown)
	}
	secret.Store(shown)
	b.accessible("admin webhooks (created)")
	b.do("list again", chromedp.Navigate(e.url+"/admin/webhooks"), chromedp.WaitVisible(chromedp.ID("wh-table")))
	if html := eval[string](b, "page", `document.documentElement.outerHTML`); strings.Contains(html, shown) {
		t.Error("the secret is shown again")
	}

	ids := e.seedHandling(t, statsDocs[:1])
	ctx := context.Background()
	if err := e.db.InTx(ctx, func(tx pgx.Tx) error {
		return en.Publish(ctx, tx, events.Event{Kind: events.DocumentCompleted, OrganizationID: e.org.ID, DocumentID: ids[0], Summary: "Đã hoàn thành"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := en.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = en.Stop(sctx)
	})
	b.submit("delivery log", chromedp.Click(chromedp.CSS("#wh-table a.log")))
	b.do("delivery log", chromedp.WaitVisible(chromedp.CSS("main h2")))
	// The failed attempt and its retry, then the success (reloading).
	deadline := time.Now().Add(stepTimeout)
	for {
		b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h2")))
		if eval[int](b, "delivered", `document.querySelectorAll('#wh-log tr[data-ok="true"]').length`) == 1 {
			break
		}
		if time.Now().After(deadline) {
			b.fail("delivery", fmt.Errorf("no successful delivery in the log"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	b.accessible("webhook delivery log")
	rows := eval[[]string](b, "log rows", `[...document.querySelectorAll("#wh-log tbody tr")].map(tr => tr.dataset.event + " " + tr.dataset.ok + " " + tr.cells[2].textContent)`)
	if fmt.Sprint(rows) != "[document.completed true 2 document.completed false 1]" {
		t.Errorf("delivery log rows %v", rows)
	}
	if !verified.Load() {
		t.Error("the delivery's signature did not verify with the secret shown")
	}
	b.do("back", chromedp.Navigate(e.url+"/admin/webhooks"), chromedp.WaitVisible(chromedp.ID("wh-table")))
	b.submit("delete", chromedp.Click(chromedp.CSS("#wh-table button.delete")))
	b.do("delete", chromedp.WaitVisible(chromedp.CSS(".notice")))
	var live int
	if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM webhook_endpoints WHERE deleted_at IS NULL").Scan(&live); err != nil || live != 0 {
		t.Errorf("%d endpoints left (%v)", live, err)
	}

	b.newTab()
	b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.login("hethong")
	b.do("webhooks (system administrator)", chromedp.Navigate(e.url+"/admin/webhooks?org="+e.org.ID), chromedp.WaitVisible(chromedp.ID("wh-private")))
	b.submit("allow a loopback address", chromedp.SendKeys(chromedp.ID("wh-url"), receiver.URL+"/hook"), chromedp.Click(chromedp.ID("wh-private")),
		chromedp.Click(chromedp.ID("wh-submit")))
	b.do("allow a loopback address", chromedp.WaitVisible(chromedp.ID("wh-secret")))
	b.accessible("admin webhooks (phone)")
	b.noOverflow("admin webhooks (phone)")
	var private bool
	if err := e.db.Pool.QueryRow(ctx, "SELECT allow_private FROM webhook_endpoints WHERE deleted_at IS NULL").Scan(&private); err != nil || !private {
		t.Errorf("the system administrator's endpoint: private %v (%v)", private, err)
	}
	t.Logf("axe-core checked: %v", b.checked)
}

// TestBrowserAdminDirectory: the system administrator adds an
// organisation under the commune's district; the organisation's
// administrator, who may not, is not offered the form and is refused;
// the administrator issues an API token to the drafter (shown once; it
// works on the API) and revokes it (it no longer does).
func TestBrowserAdminDirectory(t *testing.T) {
	e := newEnv(t)
	e.superadmin()
	b := newBrowser(t, e)
	b.login("hethong")
	b.do("organisations", chromedp.Navigate(e.url+"/admin/organizations"), chromedp.WaitVisible(chromedp.ID("org-code")))
	b.accessible("admin organisations")
	b.submit("add one", chromedp.SendKeys(chromedp.ID("org-code"), "THON"), chromedp.SendKeys(chromedp.ID("org-name"), "Thôn Bình Minh"),
		chromedp.SetValue(chromedp.ID("org-parent"), e.org.ID), chromedp.Click(chromedp.ID("org-submit")))
	b.do("add one", chromedp.WaitVisible(chromedp.CSS(".notice")))
	var parent string
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT coalesce(parent_id::text, '') FROM organizations WHERE code = 'THON'").Scan(&parent); err != nil || parent != e.org.ID {
		t.Fatalf("stored organisation: parent %q (%v)", parent, err)
	}
	if rows := b.text("organisations", "#org-table"); !strings.Contains(rows, "Thôn Bình Minh") {
		t.Errorf("organisations table:\n%s", rows)
	}

	b.newTab()
	b.login("quantri")
	b.do("organisations (admin)", chromedp.Navigate(e.url+"/admin/organizations"), chromedp.WaitVisible(chromedp.ID("org-table")))
	if n := eval[int](b, "form", `document.querySelectorAll("#org-code").length`); n != 0 {
		t.Error("the organisation's administrator is offered to add organisations")
	}
	b.accessible("admin organisations (read only)")
	c := e.client()
	e.login(c, "quantri")
	if resp := e.post(c, "/admin/organizations", "code=X&name=Y", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an organisation's administrator adding one: %d, want 403", resp.StatusCode)
	}

	drafter := e.users["chuyenvien"]
	b.do("tokens", chromedp.Navigate(e.url+"/admin/tokens?user="+drafter.ID), chromedp.WaitVisible(chromedp.ID("tok-name")))
	b.accessible("admin tokens")
	b.submit("issue", chromedp.SendKeys(chromedp.ID("tok-name"), "Đồng bộ phần mềm kế toán"),
		chromedp.Click(chromedp.CSS(`input[name=scopes][value="documents:read"]`)), chromedp.Click(chromedp.ID("tok-submit")))
	b.do("issue", chromedp.WaitVisible(chromedp.ID("tok-secret")))
	token := b.text("token", "#tok-secret")
	api := func() int {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/documents", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := api(); s != http.StatusOK {
		t.Fatalf("the issued token on the API: %d", s)
	}
	b.accessible("admin tokens (issued)")
	b.do("tokens again", chromedp.Navigate(e.url+"/admin/tokens?user="+drafter.ID), chromedp.WaitVisible(chromedp.ID("tok-table")))
	b.submit("revoke", chromedp.Click(chromedp.CSS("#tok-table button.revoke")))
	b.do("revoke", chromedp.WaitVisible(chromedp.CSS(".notice")))
	if s := api(); s != http.StatusUnauthorized {
		t.Errorf("the revoked token on the API: %d, want 401", s)
	}
	if html := eval[string](b, "page", `document.documentElement.outerHTML`); strings.Contains(html, token) {
		t.Error("the token is shown again")
	}
	t.Logf("axe-core checked: %v", b.checked)
}

// TestStatisticsAndWebhookPagesRefuse: whoever may not read statistics or
// manage webhooks and tokens gets a readable refusal and changes nothing;
// a period the service refuses is a readable 422, never a 500.
func TestStatisticsAndWebhookPagesRefuse(t *testing.T) {
	e := newEnv(t)
	e.withNotify(notify.Config{})
	drafter, auditor := e.client(), e.client()
	e.login(drafter, "chuyenvien")
	e.login(auditor, "kiemtra")
	for _, c := range []struct {
		who  *http.Client
		path string
		want int
	}{
		{drafter, "/statistics", http.StatusForbidden},
		{drafter, "/admin/webhooks", http.StatusForbidden},
		{drafter, "/admin/tokens", http.StatusForbidden},
		{drafter, "/admin/organizations", http.StatusForbidden},
		{drafter, "/notifications", http.StatusOK},
		{drafter, "/notifications/preferences", http.StatusOK},
		{auditor, "/statistics?from=2026-01-01&to=2026-03-31", http.StatusOK},
		{auditor, "/statistics?from=bad&to=2026-03-31", http.StatusUnprocessableEntity},
		{auditor, "/statistics?from=2020-01-01&to=2026-03-31", http.StatusUnprocessableEntity},
		{auditor, "/statistics?unit=6f1c1f4e-0000-4000-8000-000000000000", http.StatusNotFound},
		{auditor, "/admin/webhooks", http.StatusForbidden},
		{auditor, "/admin/webhooks/6f1c1f4e-0000-4000-8000-000000000000", http.StatusForbidden},
	} {
		resp, body := get(t, c.who, e.url+c.path)
		if resp.StatusCode != c.want || !strings.Contains(body, "<h1>") {
			t.Errorf("GET %s: %d, want %d as a page", c.path, resp.StatusCode, c.want)
		}
	}
	for _, c := range []struct{ path, form string }{
		{"/admin/webhooks", "url=https%3A%2F%2Fexample.org%2Fhook"},
		{"/admin/tokens", "user=" + e.users["chuyenvien"].ID + "&name=x"},
		{"/admin/organizations", "code=X&name=Y"},
		{"/admin/tokens/6f1c1f4e-0000-4000-8000-000000000000/revoke", ""},
	} {
		if resp := e.post(drafter, c.path, c.form, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a drafter's POST %s: %d, want 403", c.path, resp.StatusCode)
		}
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM webhook_endpoints) + (SELECT count(*) FROM api_tokens WHERE name = 'x')
		+ (SELECT count(*) FROM organizations WHERE code = 'X')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows written by refused forms (%v)", n, err)
	}
}
