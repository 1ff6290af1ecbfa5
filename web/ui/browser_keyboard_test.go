package ui_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/vanthu/vanthu/signing/appearance"
)

// The keyboard walk: each role's main path in the demo office, done with
// the keys alone — Tab, Shift+Tab, Enter, Space and the arrow keys sent
// as key events, never a click or a form sent by script. Choosing a file
// is the system's dialog, outside the page, which the test fills in.

// focusState reads the focused element: a short description, whether its
// focus shows (an outline or a box shadow, as computed), and whether it is
// the element the step looks for (match, a function of the element).
const focusState = `(() => {
	const e = document.activeElement;
	if (!e || e === document.body) return {what: "body", shown: true, match: false};
	const s = getComputedStyle(e);
	const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
	const shadow = !!s.boxShadow && s.boxShadow !== "none";
	const text = (e.getAttribute("aria-label") || e.textContent || e.value || "").trim().replace(/\s+/g, " ").slice(0, 40);
	return {what: e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.name ? "[name=" + e.name + "]" : "") + " " + JSON.stringify(text),
		shown: outline || shadow, match: !!(%s)(e)};
})()`

type focused struct {
	What  string `json:"what"`
	Shown bool   `json:"shown"`
	Match bool   `json:"match"`
}

// keys is a browser tab driven by the keyboard alone.
type keys struct {
	*browser
	office *demoOffice
	// unseen lists the controls whose focus did not show, once each.
	unseen map[string]bool
}

// focus reads the focused element against match (a JavaScript function
// of the element) and records a focus that does not show.
func (k *keys) focus(step, match string) focused {
	k.t.Helper()
	f := eval[focused](k.browser, step, fmt.Sprintf(focusState, match))
	if f.What != "body" && !f.Shown && !k.unseen[f.What] {
		k.unseen[f.What] = true
		k.t.Errorf("%s: the focus on %s does not show (no outline, no box shadow)", step, f.What)
	}
	return f
}

// tabUntil presses Tab (or Shift+Tab when back) until the focused element
// satisfies match; every control on the way must show its focus. A
// control Tab never reaches in 150 presses fails the step.
func (k *keys) tabUntil(step, match string, back bool) {
	k.t.Helper()
	var opts []chromedp.KeyOption
	if back {
		opts = append(opts, chromedp.KeyModifiers(chromedp.ModifierShift))
	}
	var path []string
	for range 150 {
		f := k.focus(step, match)
		if f.Match {
			return
		}
		path = append(path, f.What)
		k.do(step, chromedp.KeyEvent(kb.Tab, opts...))
	}
	k.fail(step, fmt.Errorf("Tab never reached the control; it went through %v", path[max(0, len(path)-12):]))
}

// tabTo tabs forward to the element matching a CSS selector.
func (k *keys) tabTo(step, sel string) {
	k.t.Helper()
	k.tabUntil(step, fmt.Sprintf(`e => e.matches(%q)`, sel), false)
}

// tabToText tabs forward to the element matching sel whose text holds
// text (a link in a table found by what it says).
func (k *keys) tabToText(step, sel, text string) {
	k.t.Helper()
	k.tabUntil(step, fmt.Sprintf(`e => e.matches(%q) && e.textContent.includes(%q)`, sel, text), false)
}

// press sends keys to the focused element.
func (k *keys) press(step, keys string) {
	k.t.Helper()
	k.do(step, chromedp.KeyEvent(keys))
}

// follow presses Enter on the focused link or button and waits for the
// page it loads.
func (k *keys) follow(step string) {
	k.t.Helper()
	k.submit(step, chromedp.KeyEvent(kb.Enter))
}

// skipLink checks the page's first Tab stop: the link to the main
// content, shown when focused; Enter on it takes the next Tab into main.
func (k *keys) skipLink(page string) {
	k.t.Helper()
	eval[chromedp.Void](k.browser, page+": start from the top", `document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); undefined`)
	k.press(page+": first Tab", kb.Tab)
	f := k.focus(page+": skip link", `e => e.matches("a.skip[href='#main']")`)
	if !f.Match {
		k.fail(page+": skip link", fmt.Errorf("the first Tab goes to %s, not the link to the main content", f.What))
	}
	if vis := eval[bool](k.browser, page+": skip link shown", `(() => { const r = document.activeElement.getBoundingClientRect();
		return r.left >= 0 && r.top >= 0 && r.width > 0 && r.height > 0; })()`); !vis {
		k.t.Errorf("%s: the focused skip link is off the screen", page)
	}
	k.press(page+": follow the skip link", kb.Enter)
	k.press(page+": Tab after the skip link", kb.Tab)
	if in := eval[bool](k.browser, page+": in main", `!!document.activeElement.closest("main")`); !in {
		f := k.focus(page+": after the skip link", `e => false`)
		k.t.Errorf("%s: after the skip link, Tab goes to %s, outside the main content", page, f.What)
	}
}

// refused checks a refused form's page: the focus is on the error
// summary (role=alert), which shows it.
func (k *keys) refused(step string) string {
	k.t.Helper()
	f := k.focus(step, `e => e.id === "error-summary" && e.getAttribute("role") === "alert"`)
	if !f.Match {
		k.fail(step, fmt.Errorf("after a refused form the focus is on %s, not the error summary", f.What))
	}
	return k.text(step, "#error-summary")
}

// login signs in with the keyboard: the login page opens on the username.
func (k *keys) login(username string) {
	k.t.Helper()
	k.newTab()
	k.do("open the login page", chromedp.Navigate(k.office.url+"/login"), chromedp.WaitVisible(chromedp.ID("username")))
	if f := k.focus("login focus", `e => e.id === "username"`); !f.Match {
		k.fail("login focus", fmt.Errorf("the login page opens with the focus on %s", f.What))
	}
	k.press("type the username", username)
	k.tabTo("password", "#password")
	k.press("type the password", k.office.passwords[username])
	k.follow("log in as " + username)
	k.waitPath("inbox of "+username, regexp.MustCompile(`^/$`))
}

// open goes through the navigation to one of its pages.
func (k *keys) open(page, path string) {
	k.t.Helper()
	k.tabTo("the navigation's "+page, fmt.Sprintf(`header nav a[href=%q]`, path))
	k.follow("open " + page)
	k.waitPath(page, regexp.MustCompile(`^`+regexp.QuoteMeta(path)+`$`))
}

// flash waits for the element sel of the page an action leads to and
// returns its text.
func (k *keys) flash(step, sel string) string {
	k.t.Helper()
	k.do(step, chromedp.WaitVisible(chromedp.CSS(sel)))
	return k.text(step, sel)
}

// TestKeyboardWalk walks each role's main path in the demo office (`vanthu
// serve --demo`) with the keyboard alone: the drafter uploads and
// submits; the reviewer returns a draft with a comment (first refused
// without one: the focus goes to the error summary) and approves another;
// the clerk checks the format; the chairman, whose name the draft does
// not print, chooses a preset spot for the signature with the arrow keys
// and signs with his server-held key; the clerk issues the document to
// the district, whose clerk finds the delivery in its reception queue and
// registers it; the commune's clerk registers a paper arrival and presents
// it, the leader assigns the office to lead it; the handler completes a
// handling; the certifier certifies a copy; the auditor verifies a file.
// On every page the first Tab is the skip link to the main content, and
// every control the focus passes shows it.
func TestKeyboardWalk(t *testing.T) {
	office := startDemoOffice(t)
	t.Run("walk", func(t *testing.T) { keyboardWalk(t, office) })
	// Every page, once the walk has filled the office (an issued document,
	// deliveries, a registered arrival, a certified copy).
	t.Run("axe", func(t *testing.T) { axeOffice(t, office) })
}

func keyboardWalk(t *testing.T, office *demoOffice) {
	k := &keys{browser: newBrowser(t, &env{t: t, url: office.url}), office: office, unseen: map[string]bool{}}

	// The drafter uploads a draft and submits it along the template.
	k.login("chuyenvien")
	k.skipLink("inbox")
	k.tabTo("upload link", `a[href="/documents/new"]`)
	k.follow("open the upload page")
	k.waitPath("upload page", regexp.MustCompile(`^/documents/new$`))
	k.skipLink("upload page")
	k.tabTo("subject", "#subject")
	subject := "Ke hoach phong chong thien tai nam 2027"
	k.press("type the subject", subject)
	k.tabTo("type", "#type")
	k.tabTo("file", "#file")
	k.do("choose the file", chromedp.SetUploadFiles(chromedp.ID("file"), []string{fixture(t, "drafts/qd-kt-pho-chu-tich.pdf")}))
	k.tabTo("upload button", `#upload-form button[type=submit]`)
	k.press("upload", kb.Enter)
	draftPath := k.waitPath("the draft's page", documentPath)
	k.do("the draft's page", chromedp.WaitVisible(chromedp.ID("submit-btn")))
	k.skipLink("document page (drafter)")
	k.tabTo("template", "#template")
	k.tabTo("submit button", "#submit-btn")
	k.follow("submit the draft")
	if f := k.flash("submitted", ".flash"); f == "" {
		t.Error("no message after submitting")
	}

	// The reviewer returns the demo's waiting draft with a comment, then
	// approves the new one.
	k.login("chanhvp")
	waiting := "Tổ công tác chuyển đổi số"
	k.tabToText("the waiting draft in the inbox", "table.inbox a", waiting)
	k.follow("open the waiting draft")
	k.waitPath("the waiting draft", documentPath)
	k.do("the review form", chromedp.WaitVisible(chromedp.ID("return-btn")))
	k.tabTo("return without a comment", "#return-btn")
	k.follow("return without a comment")
	if msg := k.refused("return without a comment"); msg == "" {
		t.Error("the refusal says nothing")
	}
	// The summary names the refused field and links to it: the next Tab
	// is that link, and Enter on it takes the focus into the field.
	k.press("Tab to the summary's link", kb.Tab)
	if f := k.focus("the summary's link", `e => e.matches("#error-summary a[href='#comment']")`); !f.Match {
		k.fail("the summary's link", fmt.Errorf("after the summary, Tab goes to %s, not its link to the comment", f.What))
	}
	if label := k.text("the summary's link", "#error-summary a"); !strings.Contains(label, "Ý kiến") && !strings.Contains(label, "ý kiến") {
		t.Errorf("the summary's link is %q, not the comment field's label", label)
	}
	k.press("follow the summary's link", kb.Enter)
	if f := k.focus("the refused field", `e => e.id === "comment" && e.getAttribute("aria-invalid") === "true"`); !f.Match {
		k.fail("the refused field", fmt.Errorf("the summary's link took the focus to %s, not the comment marked invalid", f.What))
	}
	k.tabTo("the comment", "#comment")
	k.press("type the comment", "De nghi bo sung can cu phap ly.")
	k.tabTo("return", "#return-btn")
	k.follow("return with a comment")
	k.flash("returned", ".flash")
	k.do("the new draft", chromedp.Navigate(office.url+"/"), chromedp.WaitVisible(chromedp.CSS(".counters")))
	k.tabToText("the new draft in the inbox", "table.inbox a", subject)
	k.follow("open the new draft")
	k.waitPath("the new draft", regexp.MustCompile(`^`+regexp.QuoteMeta(draftPath)+`$`))
	k.tabTo("the comment", "#comment")
	k.press("type the comment", "Dong y.")
	k.tabTo("approve", "#approve-btn")
	k.follow("approve")
	k.flash("approved", ".flash")

	// The clerk checks the format of the demo's draft past review.
	signedSubject := "Ngày hội Đại đoàn kết"
	k.login("vanthu")
	k.skipLink("inbox (clerk)")
	k.tabToText("the draft to check", "table.inbox a", signedSubject)
	k.follow("open the draft to check")
	docPath := k.waitPath("the draft to check", documentPath)
	k.tabTo("format correct", "#approve-btn")
	k.follow("format correct")
	k.flash("checked", ".flash")

	// The chairman signs: his printed name is not in the draft, so he
	// chooses a spot on the page with the arrow keys.
	k.login("an")
	k.tabToText("the draft to sign", "table.inbox a", signedSubject)
	k.follow("open the draft to sign")
	k.waitPath("the draft to sign", regexp.MustCompile(`^`+regexp.QuoteMeta(docPath)+`$`))
	k.do("preview drawn", chromedp.WaitVisible(chromedp.CSS(`#preview-canvas[data-rendered="1"]`)), chromedp.WaitVisible(chromedp.ID("sign-spots")))
	k.skipLink("document page (signer)")
	if s := k.text("where", "#place-status"); !strings.Contains(s, "Không tìm thấy") {
		t.Errorf("the signer's name is in the demo draft: %q", s)
	}
	k.tabTo("the spots", `#sign-spots input[type=radio]`)
	k.press("choose a spot", kb.ArrowDown)
	k.press("choose the first spot", kb.ArrowUp)
	k.waitFor("the spot is taken", `document.getElementById("sign-rect").value + "|" + document.getElementById("sign-page").value`,
		func(v string) bool { return strings.Count(v, ",") == 3 && strings.HasSuffix(v, "|1") })
	k.do("the frame", chromedp.WaitVisible(chromedp.CSS(`.mark.sign`)))
	k.tabTo("sign", "#sign-btn")
	k.follow("sign")
	if f := k.flash("signed", ".flash"); !strings.Contains(f, "Đã ký số") {
		t.Fatalf("after signing: %q", f)
	}

	// The clerk issues it to the district.
	k.login("vanthu")
	k.open("issuing", "/issuing")
	k.skipLink("issuing queue")
	k.tabTo("issue link", fmt.Sprintf(`a[href="%s/issue"]`, docPath))
	k.follow("open the issue form")
	k.do("the issue form", chromedp.WaitVisible(chromedp.ID("issue-btn")))
	k.tabUntil("the district", `e => e.matches("input[name=orgs]") && e.parentElement.textContent.includes("huyện An Bình")`, false)
	k.press("choose the district", " ")
	k.tabTo("issue", "#issue-btn")
	k.follow("issue")
	k.waitPath("deliveries", regexp.MustCompile(`^`+regexp.QuoteMeta(docPath)+`/deliveries$`))
	if rows := k.flash("deliveries", "table.deliveries tbody"); !strings.Contains(rows, "huyện An Bình") {
		t.Errorf("deliveries:\n%s", rows)
	}

	// The district's clerk finds it in the reception queue and registers it.
	k.login("vanthu.huyen")
	k.open("reception", "/reception")
	k.skipLink("reception queue")
	k.tabToText("the delivery", "table.arrivals a", "Đại đoàn kết")
	k.follow("open the delivery")
	k.waitPath("the arrival", regexp.MustCompile(`^/reception/[0-9a-f-]{36}$`))
	k.do("the arrival", chromedp.WaitVisible(chromedp.ID("register-btn")))
	k.skipLink("arrival page")
	k.tabTo("receiver", "#receiver")
	k.press("type the receiver", "Chu tich UBND huyen")
	k.tabTo("register", "#register-btn")
	k.follow("register")
	k.waitPath("registered", documentPath)
	if f := k.flash("registered", "#handling-flash"); !strings.Contains(f, "số đến") {
		t.Errorf("after registering: %q", f)
	}

	// The commune's clerk registers a paper arrival and presents it; the
	// leader assigns the office to lead it.
	k.login("vanthu")
	k.open("reception", "/reception")
	k.tabToText("the paper arrival", "table.arrivals a", "chuyển đổi số năm tới")
	k.follow("open the paper arrival")
	k.waitPath("the paper arrival", regexp.MustCompile(`^/reception/[0-9a-f-]{36}$`))
	k.tabTo("register", "#register-btn")
	k.follow("register the paper arrival")
	arrivalPath := k.waitPath("registered", documentPath)
	k.tabTo("leader", "#present-to")
	leader := eval[string](k.browser, "leader", `document.getElementById("present-to").selectedOptions[0].textContent`)
	k.tabTo("present", "#present-btn")
	k.follow("present")
	k.do("presented", chromedp.WaitVisible(chromedp.CSS(`#handling-status[data-status=presented]`)))
	leaderLogin := map[bool]string{true: "an", false: "binh"}[strings.Contains(leader, "Nguyễn Văn An")]
	k.login(leaderLogin)
	k.tabUntil("the arrival in the inbox", fmt.Sprintf(`e => e.matches("table.inbox a") && e.getAttribute("href") === %q`, arrivalPath), false)
	k.follow("open the arrival")
	k.do("the assign form", chromedp.WaitVisible(chromedp.ID("assign-btn")))
	k.skipLink("document page (leader)")
	k.tabTo("assign without a lead", "#assign-btn")
	k.follow("assign without a lead")
	k.refused("assign without a lead")
	k.tabTo("the office's role", "#role-unit-VP")
	k.press("lead", kb.ArrowDown)
	if v := eval[string](k.browser, "role", `document.getElementById("role-unit-VP").value`); v != "lead" {
		t.Errorf("the arrow chose %q, want lead", v)
	}
	k.tabTo("the office's days", "#days-unit-VP")
	k.press("days", "5")
	k.tabTo("direction", "#direction")
	k.press("direction", "Van phong chu tri tham muu.")
	k.tabTo("assign", "#assign-btn")
	k.follow("assign")
	k.do("assigned", chromedp.WaitVisible(chromedp.CSS(`#handling-status[data-status=assigned]`)))

	// The handler completes the demo's handling given to her.
	k.login("chuyenvien")
	k.tabToText("the handling in the inbox", "table.inbox a", "giao chỉ tiêu thu ngân sách")
	k.follow("open the handling")
	k.do("the handler's panel", chromedp.WaitVisible(chromedp.ID("complete-btn-0")))
	k.tabTo("the report", "#complete-note-0")
	k.press("type the report", "Da hoan thanh.")
	k.tabTo("complete", "#complete-btn-0")
	k.follow("complete")
	k.do("completed", chromedp.WaitVisible(chromedp.CSS(`#handling-flash`)))

	// The certifier certifies the scanned copy waiting at the desk.
	k.login("chungthuc")
	k.open("the certified-copy desk", "/certifications")
	k.skipLink("certified-copy desk")
	k.tabToText("the scanned request", "a", "Bằng tốt nghiệp")
	k.follow("open the request")
	k.do("the certify form", chromedp.WaitVisible(chromedp.ID("certify-btn")))
	k.skipLink("certification page")
	k.tabTo("certify", "#certify-btn")
	k.follow("certify")
	k.flash("certified", "#certified-flash")

	// The auditor verifies a file.
	k.login("kiemtra")
	k.open("verification", "/verify")
	k.skipLink("verify page")
	k.tabTo("file", "#file")
	k.do("choose the file", chromedp.SetUploadFiles(chromedp.ID("file"), []string{fixture(t, "drafts/qd-chu-tich.pdf")}))
	k.tabTo("verify", `form[action="/verify"] button[type=submit]`)
	k.follow("verify")
	k.waitPath("report", regexp.MustCompile(`^/verify/reports/`))
	k.skipLink("report page")

	// The vice-chairman, who has no signature image yet, reaches his
	// account page from his name in the header and uploads one.
	k.login("binh")
	k.tabTo("the account link", "#account-link")
	k.follow("open my account")
	k.waitPath("account page", regexp.MustCompile(`^/account$`))
	k.skipLink("account page")
	k.tabTo("the signature file", "#signature-file")
	k.do("choose the image", chromedp.SetUploadFiles(chromedp.ID("signature-file"), []string{pngFile(t, t.TempDir(), "chu-ky.png", appearance.DemoSignature("Trần Thị Bình"))}))
	k.tabTo("upload", "#signature-upload")
	k.follow("upload")
	k.flash("uploaded", ".notice")
	k.tabTo("the current password", "#current-password")
	k.tabTo("change the password", "#password-save")
}

// axePage is one page of the demo office for axe-core: whose it is, its
// address, and, for a page reached through others (a document, an
// arrival), the links to follow from there, one per page, separated by
// " >> ".
type axePage struct {
	user, path, follow string
}

// demoPages are the demo office's pages, each with a role that sees it.
var demoPages = []axePage{
	{"", "/login", ""},
	{"", "/check", ""},
	{"chuyenvien", "/", ""},
	{"chuyenvien", "/documents", ""},
	{"chuyenvien", "/documents/new", ""},
	{"chuyenvien", "/documents", `table.docs tbody a[href^="/documents/"]`},
	{"chuyenvien", "/notifications", ""},
	{"chuyenvien", "/notifications/preferences", ""},
	{"chanhvp", "/", `table.inbox a[href^="/documents/"]`},
	{"an", "/admin/delegations", ""},
	{"an", "/admin/delegations/new", ""},
	{"an", "/account", ""},
	{"binh", "/account", ""},
	{"vanthu", "/issuing", ""},
	{"vanthu", "/documents?q=bao+cao+ket+qua+ra+soat", `table.docs tbody a[href^="/documents/"] >> #deliveries-link`},
	{"vanthu", "/registers", ""},
	{"vanthu", "/registers", `table.registers a[href^="/registers/"]`},
	{"vanthu", "/reception", ""},
	{"vanthu", "/reception?status=all", `table.arrivals a[href^="/reception/"]`},
	{"vanthu", "/reception/new", ""},
	{"vanthu", "/copies/new", ""},
	{"vanthu.huyen", "/reception", ""},
	{"vanthu.huyen", "/documents", `table.docs tbody a[href^="/documents/"]`},
	{"chungthuc", "/certifications", ""},
	{"chungthuc", "/certifications", `table a[href^="/certifications/"]`},
	{"motcua", "/certifications/new", ""},
	{"kiemtra", "/audit", ""},
	{"kiemtra", "/statistics", ""},
	{"kiemtra", "/verify", ""},
	{"quantri", "/admin/users", ""},
	{"quantri", "/admin/users", `a[href$="/roles"]`},
	{"quantri", "/admin/units", ""},
	{"quantri", "/admin/keys", ""},
	{"quantri", "/admin/delegations", ""},
	{"quantri", "/admin/organizations", ""},
	{"quantri", "/admin/tokens", ""},
	{"quantri", "/admin/templates", ""},
	{"quantri", "/admin/registers", ""},
	{"quantri", "/admin/calendar", ""},
	{"quantri", "/admin/signing", ""},
	{"quantri", "/admin/webhooks", ""},
	{"quantri", "/account", ""},
}

// axeCheck runs axe-core on the page and reports each serious or critical
// violation, without stopping: the table test lists every page's.
func (b *browser) axeCheck(page string) {
	b.t.Helper()
	b.axeViolations(page)
	b.checked = append(b.checked, page)
}

// axeOffice checks every page of demoPages with axe-core in Vietnamese, in
// English and on a 390×844 phone, logged in as the page's role, in one
// browser (one tab per account), and that each page's first control is
// the skip link to its main content.
func axeOffice(t *testing.T, office *demoOffice) {
	b := newBrowser(t, &env{t: t, url: office.url})
	w := &walker{browser: b, office: office}
	var users []string
	for _, p := range demoPages {
		if !slices.Contains(users, p.user) {
			users = append(users, p.user)
		}
	}
	for _, user := range users {
		b.newTab()
		if user != "" {
			w.loginAs(user)
		}
		for _, view := range []string{"vi", "en", "phone"} {
			lang := map[string]string{"vi": "vi", "en": "en", "phone": "vi"}[view]
			if view == "phone" {
				b.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
			}
			for _, p := range demoPages {
				if p.user != user {
					continue
				}
				name := fmt.Sprintf("%s %s (%s)", user, p.path, view)
				if p.follow != "" {
					name = fmt.Sprintf("%s %s → %s (%s)", user, p.path, p.follow, view)
				}
				b.do(name, chromedp.Navigate(office.url+p.path))
				b.waitFor(name, `document.readyState`, func(s string) bool { return s == "complete" })
				if eval[string](b, name+": language", `document.documentElement.lang`) != lang {
					b.switchLanguage(name+": language", lang)
				}
				followed := true
				for sel := range strings.SplitSeq(p.follow, " >> ") {
					if sel == "" {
						continue
					}
					href := eval[string](b, name+": link", fmt.Sprintf(`(document.querySelector(%q) || {}).href || ""`, sel))
					if href == "" {
						t.Errorf("%s: no link %s to follow", name, sel)
						followed = false
						break
					}
					b.do(name, chromedp.Navigate(href))
					b.waitFor(name, `document.readyState`, func(s string) bool { return s == "complete" })
				}
				if !followed {
					continue
				}
				b.axeCheck(name)
				// The page's first control is the link to its main content.
				if !eval[bool](b, name+": skip link", `(() => { const f = document.querySelector("a[href], button, input:not([type=hidden]), select, textarea, [tabindex]");
					return !!f && f.matches("a.skip[href='#main']") && !!document.getElementById("main"); })()`) {
					t.Errorf("%s: the first control is not the link to the main content", name)
				}
				if view == "phone" {
					if w := eval[[]int](b, "width of "+name, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
						t.Errorf("%s: the page is %dpx wide on a %dpx screen", name, w[0], w[1])
					}
				}
			}
		}
	}
	t.Logf("axe-core checked %d pages", len(b.checked))
}
