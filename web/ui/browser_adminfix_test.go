package ui_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vanthu/vanthu/storage"
)

// TestBrowserDelegationsNavigation: a signer who is no administrator reads
// their delegations (on a phone) with their own navigation — the
// delegations entry current, no administration tabs — and every link the
// page shows opens for them; the administrator's delegations page keeps
// the administration tabs. Both pass axe-core.
func TestBrowserDelegationsNavigation(t *testing.T) {
	e := newEnv(t)
	e.user("chutich", "Phạm Văn Chủ", storage.RoleSigner)
	links := `JSON.stringify([...document.querySelectorAll("a[href^='/']")].map(a => a.getAttribute("href")))`
	cases := []struct {
		name, user string
		phone      bool
		tabs       bool
	}{
		{"signer", "chutich", true, false},
		{"administrator", "quantri", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newBrowser(t, e)
			if c.phone {
				b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
			}
			b.login(c.user)
			for _, path := range []string{"/admin/delegations", "/admin/delegations/new"} {
				b.do("open "+path, chromedp.Navigate(e.url+path))
				b.waitFor(path+" shown", `location.pathname + "|" + document.readyState + "|" + !!document.querySelector("main h1, main h2")`, func(s string) bool {
					return s == path+"|complete|true"
				})
				b.accessible(c.name + " " + path)
				if c.phone {
					b.noOverflow(c.name + " " + path)
				}
				tabs := b.waitFor("tabs", `!!document.querySelector("nav.tabs a[href^='/admin/users']")`, func(string) bool { return true })
				if tabs != map[bool]string{true: "true", false: "false"}[c.tabs] {
					t.Fatalf("%s on %s: administration tabs shown: %s, want %v", c.name, path, tabs, c.tabs)
				}
				if !c.tabs {
					cur := b.waitFor("own navigation", `(document.querySelector("nav a[aria-current=page]") || {getAttribute: () => ""}).getAttribute("href")`, func(string) bool { return true })
					if path == "/admin/delegations" && cur != "/admin/delegations" {
						t.Fatalf("the signer's current navigation entry is %q", cur)
					}
				}
				// No link the page shows is refused to its reader (the
				// webhooks tab is absent, 404, where no notifier runs).
				var hrefs []string
				if err := json.Unmarshal([]byte(b.waitFor("links", links, func(s string) bool { return strings.HasPrefix(s, "[") })), &hrefs); err != nil {
					t.Fatal(err)
				}
				hc := e.client()
				e.login(hc, c.user)
				for _, h := range hrefs {
					if strings.HasPrefix(h, "/static/") {
						continue
					}
					if resp, _ := get(t, hc, e.url+h); resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500 {
						t.Errorf("%s on %s: the link %s answers %d", c.name, path, h, resp.StatusCode)
					}
				}
			}
			t.Logf("axe-core checked: %v", b.checked)
		})
	}
}
