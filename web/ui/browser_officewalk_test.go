package ui_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/web/ui"
)

// demoOffice is `vanthu serve --demo` (what `make run` starts) on a free
// port and a fresh data directory: its own embedded database, blobs and
// development PKI, and the demo office's accounts.
type demoOffice struct {
	url string
	// accounts is every demo account: username → password, and its role.
	passwords map[string]string
	roles     map[string]string
	logs      *lockedBuffer
}

// lockedBuffer collects the service's output, which exec copies from its
// own goroutine while the test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startDemoOffice builds cmd/vanthu and starts it as `make run` does. The
// first start creates the office (initdb, the PKI, the documents): the
// wait for it is long on a busy machine, and bounded only as a safety net.
func startDemoOffice(t *testing.T) *demoOffice {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "vanthu")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/vanthu")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/vanthu: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data := filepath.Join(dir, "data")
	d := &demoOffice{url: "http://" + addr, logs: &lockedBuffer{}}
	cmd := exec.Command(bin, "serve", "--demo", "--addr", addr, "--data-dir", data, "--metrics-addr", "")
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if resp, err := http.Get(d.url + "/readyz"); err == nil {
			resp.Body.Close()
			if b, err := os.ReadFile(filepath.Join(data, "demo-accounts")); err == nil && resp.StatusCode == http.StatusOK {
				d.passwords, d.roles = map[string]string{}, map[string]string{}
				sc := bufio.NewScanner(bytes.NewReader(b))
				for sc.Scan() {
					if f := strings.Fields(sc.Text()); len(f) == 3 {
						d.roles[f[1]], d.passwords[f[1]] = f[0], f[2]
					}
				}
				return d
			}
		}
		select {
		case err := <-done:
			t.Fatalf("vanthu serve --demo exited: %v\n%s", err, d.logs)
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("vanthu serve --demo never became ready\n%s", d.logs)
		}
	}
}

// walker is one visitor of the demo office: a browser tab logged in as
// one account, and what its pages reported on the way.
type walker struct {
	*browser
	office *demoOffice
	mu     sync.Mutex
	// problems are the console errors, uncaught exceptions and failed
	// loads since the last look.
	problems []string
}

func (w *walker) listen() {
	err := chromedp.Listen(w.ctx, func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				p = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
			}
		case *runtime.EventExceptionThrown:
			p = "uncaught: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				p += " " + ev.ExceptionDetails.Exception.Description
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				p = "log: " + ev.Entry.Text + " " + ev.Entry.URL
			}
		}
		if p != "" {
			w.mu.Lock()
			w.problems = append(w.problems, p)
			w.mu.Unlock()
		}
	})
	if err != nil {
		w.t.Fatalf("listen to the tab: %v", err)
	}
}

// takeProblems returns and forgets what the pages reported.
func (w *walker) takeProblems() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.problems
	w.problems = nil
	return p
}

// loginAs signs in through the login form and waits for the page it leads
// to.
func (w *walker) loginAs(username string) {
	w.t.Helper()
	w.do("open the login page", chromedp.Navigate(w.office.url+"/login"), chromedp.WaitVisible(chromedp.ID("username")))
	w.do("fill the login form as "+username,
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), w.office.passwords[username]))
	w.submit("log in as "+username, chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)))
	w.waitFor("logged in", `location.pathname`, func(p string) bool { return p != "/login" })
}

// pageReport is what one page shows the crawler.
type pageReport struct {
	Lang string `json:"lang"`
	Text string `json:"text"`
	// Codes are the texts shown as code (the audit log's actions and
	// objects): identifiers on purpose, never message keys.
	Codes    []string `json:"codes"`
	Links    []string `json:"links"`
	Nav      []string `json:"nav"`
	Unlabled []string `json:"unlabelled"`
	CSP      []string `json:"csp"`
	Overflow []int    `json:"overflow"`
}

// readPage reads the page's language, its texts (what is shown, and the
// texts of attributes a reader hears or sees: titles, labels,
// placeholders, buttons' values), its same-origin links, and its form
// fields nobody labelled.
const readPage = `(() => {
	const texts = [document.title, document.body.innerText];
	for (const el of document.querySelectorAll("[title],[aria-label],[placeholder],[alt],input[type=submit],input[type=button]")) {
		for (const a of ["title", "aria-label", "placeholder", "alt"]) { if (el.getAttribute(a)) texts.push(el.getAttribute(a)); }
		if (el.matches("input[type=submit],input[type=button]")) texts.push(el.value);
	}
	const links = a => [...a].filter(a => a.origin === location.origin && !a.hasAttribute("download"))
		.map(a => a.pathname + a.search);
	const unlabelled = [...document.querySelectorAll("input, select, textarea")]
		.filter(el => !["hidden", "submit", "button", "reset", "image"].includes(el.type))
		.filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
		.map(el => el.outerHTML.slice(0, 160));
	return {
		lang: document.documentElement.lang,
		text: texts.join("\n"),
		links: links(document.querySelectorAll("main a[href], header a[href]")),
		nav: links(document.querySelectorAll("header nav a[href]")),
		unlabelled,
		codes: [...document.querySelectorAll("code")].map(c => c.innerText),
		csp: window.__csp || [],
		overflow: [document.documentElement.scrollWidth, window.innerWidth],
	};
})()`

// skipLink reports whether the crawler leaves a link alone: files and the
// API (not pages), and the static assets.
func skipLink(p string) bool {
	for _, prefix := range []string{"/api/", "/static/", "/healthz", "/readyz"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return strings.Contains(p, "/file") || strings.Contains(p, "/download") || strings.HasSuffix(p, ".pdf") ||
		strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".xlsx") || strings.Contains(p, "format=")
}

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// pageKind is a link with its identifiers taken out: the crawler visits one
// document's page, not every document's.
func pageKind(p string) string { return uuidPattern.ReplaceAllString(p, ":id") }

// dottedKey finds the words that look like message keys (inbox.title).
var dottedKey = regexp.MustCompile(`\b[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\b`)

// lookedUp are the prefixes of the message keys the pages build from a
// value (a status, an action, a role, a refusal's reason): a value
// without its text would show as the key itself, which keys (the texts
// that exist) does not list.
var lookedUp = map[string]bool{}

func init() {
	for _, p := range []string{"action", "admin", "arrival", "astate", "chain", "channel", "conf", "copyform", "cstatus", "day", "delivery",
		"done", "form", "haction", "handled", "handling", "hrole", "ind", "kind", "medium", "pubkind", "refusal", "role", "scanprob",
		"source", "stage", "status", "task", "tpl", "turn", "urgency", "verdict"} {
		lookedUp[p] = true
	}
}

// walkOptions bound a walk.
type walkOptions struct {
	lang     string
	maxPages int
	maxDepth int
	// phone walks at 360 px wide and fails a page wider than the screen.
	phone bool
	// forms sends each page's forms (POST) empty, with junk and with
	// over-long text, without following them, and wants a readable
	// refusal, never a 500. What they accept changes the office.
	forms bool
}

// formProbe is one form sent one bad way.
type formProbe struct {
	Action   string `json:"action"`
	How      string `json:"how"`
	Status   int    `json:"status"`
	Readable bool   `json:"readable"`
}

// probeForms sends every POST form of the page (but logging out and the
// language) three bad ways through fetch, as the browser would send it,
// and reports the answers: a refusal is readable when it is a page with
// an alert in the page's language.
const probeForms = `(async () => {
	const out = [];
	// A form's own attributes, not its properties: a field named "action"
	// (the approval forms have one) hides form.action.
	const attr = (f, a) => (f.getAttribute(a) || "").toLowerCase();
	const target = f => new URL(f.getAttribute("action") || location.href, location.href);
	const forms = [...document.querySelectorAll("form")].filter(f => attr(f, "method") === "post" &&
		!["/logout", "/language", "/login"].includes(target(f).pathname));
	const junk = "<script>alert(1)</script>' OR 1=1 -- \u0000 ĐĂƠ 😀 " + "00000000-0000-0000-0000-000000000000";
	const long = "x".repeat(200000);
	for (const f of forms) {
		for (const how of ["empty", "junk", "over-long"]) {
			const data = new FormData(f);
			for (const [k, v] of [...data.entries()]) {
				if (v instanceof File) continue;
				data.set(k, how === "empty" ? "" : how === "junk" ? junk : long);
			}
			const body = attr(f, "enctype") === "multipart/form-data" ? data : new URLSearchParams(data);
			try {
				const r = await fetch(target(f), {method: "POST", body, redirect: "manual"});
				let readable = true;
				if (r.status >= 400) {
					const html = await r.text();
					const d = new DOMParser().parseFromString(html, "text/html");
					readable = d.documentElement.lang === document.documentElement.lang && !!d.querySelector('[role="alert"]');
				}
				out.push({action: target(f).pathname, how, status: r.type === "opaqueredirect" ? 303 : r.status, readable});
			} catch (e) {
				out.push({action: target(f).pathname, how, status: 0, readable: false});
			}
		}
	}
	return out;
})()`

// walk logs in as username, chooses the language, and visits every page
// it can reach from the navigation (and from the pages the navigation
// leads to, up to maxDepth), one page of each kind. It returns what it
// visited.
func walkOffice(t *testing.T, office *demoOffice, username string, o walkOptions, keys map[string]bool) []string {
	b := newBrowser(t, &env{t: t, url: office.url})
	w := &walker{browser: b, office: office}
	w.listen()
	if o.phone {
		if _, err := chromedp.Call(w.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: 360, Height: 780, DeviceScaleFactor: 1, Mobile: true}); err != nil {
			t.Fatal(err)
		}
	}
	w.loginAs(username)
	if eval[string](b, "language", `document.documentElement.lang`) != o.lang {
		w.switchLanguage("switch to "+o.lang, o.lang)
	}
	w.takeProblems()
	type link struct {
		path  string
		depth int
		from  string
	}
	queue := []link{{path: "/", from: "login"}}
	seen := map[string]bool{pageKind("/"): true}
	var visited []string
	for len(queue) > 0 && len(visited) < o.maxPages {
		l := queue[0]
		queue = queue[1:]
		step := fmt.Sprintf("%s (%s) %s", username, o.lang, l.path)
		ctx, cancel := context.WithTimeout(w.ctx, stepTimeout)
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(office.url+l.path))
		cancel()
		if err != nil {
			w.fail(step, err)
		}
		w.waitFor(step+": loaded", `document.readyState`, func(s string) bool { return s == "complete" })
		visited = append(visited, l.path)
		status := 0
		if resp != nil {
			status = int(resp.Status)
		}
		if status >= 500 || status == 0 {
			t.Errorf("%s: status %d (linked from %s)", step, status, l.from)
		} else if status >= 400 {
			t.Errorf("%s: status %d: a link (on %s) to a page the visitor may not see", step, status, l.from)
		}
		rep := eval[pageReport](b, step+": read", readPage)
		if rep.Lang != o.lang {
			t.Errorf("%s: <html lang=%q>, want %q", step, rep.Lang, o.lang)
		}
		shownAsCode := map[string]bool{}
		for _, c := range rep.Codes {
			for _, k := range dottedKey.FindAllString(c, -1) {
				shownAsCode[k] = true
			}
		}
		for _, k := range dottedKey.FindAllString(rep.Text, -1) {
			if shownAsCode[k] {
				continue
			}
			if keys[k] {
				t.Errorf("%s: shows the message key %q, not its text", step, k)
			} else if prefix, _, _ := strings.Cut(k, "."); lookedUp[prefix] {
				// A key made from a value (status., action., ...) that
				// has no text at all shows as itself.
				t.Errorf("%s: shows %q, a message key without a text", step, k)
			}
		}
		if strings.Contains(rep.Text, "%!") {
			i := strings.Index(rep.Text, "%!")
			t.Errorf("%s: a text's arguments do not fit it: %q", step, rep.Text[max(0, i-40):min(len(rep.Text), i+40)])
		}
		for _, f := range rep.Unlabled {
			t.Errorf("%s: a form field without a label: %s", step, f)
		}
		for _, c := range rep.CSP {
			t.Errorf("%s: the Content-Security-Policy blocked %s", step, c)
		}
		if o.phone && len(rep.Overflow) == 2 && rep.Overflow[0] > rep.Overflow[1] {
			t.Errorf("%s: the page is %d px wide on a %d px screen", step, rep.Overflow[0], rep.Overflow[1])
		}
		for _, p := range w.takeProblems() {
			// The page's own refusal is its status, checked above.
			if status >= 400 && strings.Contains(p, "status of "+fmt.Sprint(status)) {
				continue
			}
			t.Errorf("%s: %s", step, p)
		}
		if o.forms {
			for _, f := range eval[[]formProbe](b, step+": send its forms badly", probeForms) {
				if f.Status >= 500 || f.Status == 0 {
					t.Errorf("%s: the form %s sent %s answers %d", step, f.Action, f.How, f.Status)
				} else if f.Status >= 400 && !f.Readable {
					t.Errorf("%s: the form %s sent %s answers %d without a readable error page", step, f.Action, f.How, f.Status)
				}
				if f.Status < 400 {
					t.Logf("%s: the form %s sent %s was accepted (%d)", step, f.Action, f.How, f.Status)
				}
			}
			w.takeProblems() // the refusals fetch logged
		}
		if l.depth >= o.maxDepth {
			continue
		}
		next := rep.Links
		if l.depth > 0 { // the navigation was queued from the first page
			next = slices.DeleteFunc(slices.Clone(next), func(p string) bool { return slices.Contains(rep.Nav, p) })
		}
		for _, p := range next {
			if u, err := url.Parse(p); err != nil || skipLink(u.Path) {
				continue
			}
			if seen[pageKind(p)] {
				continue
			}
			seen[pageKind(p)] = true
			queue = append(queue, link{path: p, depth: l.depth + 1, from: l.path})
		}
	}
	return visited
}

// TestOfficeWalk logs in to the demo office as each of its accounts, in
// Vietnamese and in English, and visits every page the navigation leads to
// and the pages those link to (one of each kind). Each page must answer
// below 400 (a link to a refusal is a broken link), carry the chosen
// language, show no message key in place of its text, label every form
// field, and log no console error, uncaught exception or failed load.
// VANTHU_WALK_PHONE=1 walks in Vietnamese at 360 px wide instead;
// VANTHU_WALK_FORMS=1 walks in Vietnamese sending every form badly
// (walkOptions.forms).
func TestOfficeWalk(t *testing.T) {
	office := startDemoOffice(t)
	keys := map[string]bool{}
	for _, k := range ui.MessageKeys() {
		keys[k] = true
	}
	usernames := make([]string, 0, len(office.roles))
	for u := range office.roles {
		usernames = append(usernames, u)
	}
	slices.Sort(usernames)
	for _, want := range []string{"drafter", "reviewer", "signer", "clerk", "certifier", "desk", "auditor", "admin"} {
		if !slices.ContainsFunc(usernames, func(u string) bool { return office.roles[u] == want }) {
			t.Fatalf("the demo office has no %s: %v", want, office.roles)
		}
	}
	phone, forms := os.Getenv("VANTHU_WALK_PHONE") != "", os.Getenv("VANTHU_WALK_FORMS") != ""
	langs := []string{"vi", "en"}
	if phone || forms {
		langs = langs[:1]
	}
	for _, username := range usernames {
		for _, lang := range langs {
			t.Run(office.roles[username]+"-"+username+"-"+lang, func(t *testing.T) {
				// English repeats the pages Vietnamese walked: the
				// navigation and what it leads to is enough.
				o := walkOptions{lang: lang, maxPages: 40, maxDepth: 2, phone: phone, forms: forms}
				if lang == "en" {
					o.maxPages, o.maxDepth = 25, 1
				}
				visited := walkOffice(t, office, username, o, keys)
				if len(visited) < 2 {
					t.Errorf("%s reached only %v", username, visited)
				}
				// The district's clerk reaches a real delivery: the commune's
				// report, issued to the district and registered there.
				if username == "vanthu.huyen" && !slices.ContainsFunc(visited, documentPath.MatchString) {
					t.Errorf("the district's clerk reached no document: %v", visited)
				}
				t.Logf("%s (%s) visited %d pages: %v", username, lang, len(visited), visited)
			})
		}
	}
}
