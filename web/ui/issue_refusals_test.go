package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestIssueFormRefusalsNameTheirFields: each refusal of the issue form
// (no recipient, a line that is no e-mail recipient, a "Lưu" too long, a
// register not the organisation's) comes back with what was typed, in the
// reader's language, its summary linking to the field it is about, which
// is marked invalid and described by the reason.
func TestIssueFormRefusalsNameTheirFields(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	doc, stc := signedForIssuing(t, w, "Quyết định phát hành bị từ chối")
	c := e.client()
	e.login(c, "vanthu")
	kept := "Lưu: VT, VP."
	for _, tc := range []struct {
		name  string
		form  url.Values
		link  string // the summary's link: the field's id and label
		typed []string
	}{
		{"no recipient", url.Values{"copies_kept": {kept}}, `<a href="#issue-orgs">Cơ quan trong hệ thống</a>: <span id="error-reason">Hãy chọn ít nhất một nơi nhận`, []string{kept}},
		{"a bad e-mail line", url.Values{"orgs": {stc.ID}, "emails": {"Sở Xây dựng <sxd@example.vn>\nSở Y tế khong-phai-email"}, "copies_kept": {kept}},
			`<a href="#emails">Địa chỉ thư điện tử</a>: <span id="error-reason">Dòng 2`, []string{"Sở Y tế khong-phai-email", kept, `value="` + stc.ID + `" checked`}},
		{"copies kept too long", url.Values{"orgs": {stc.ID}, "copies_kept": {strings.Repeat("Lưu VT. ", 80)}},
			`<a href="#copies-kept">Nơi lưu</a>: <span id="error-reason">Mục “Lưu” dài quá`, []string{strings.Repeat("Lưu VT. ", 80)}},
		{"an unknown register", url.Values{"orgs": {stc.ID}, "register_id": {"00000000-0000-0000-0000-000000000000"}, "copies_kept": {kept}},
			`<a href="#pick-register">Sổ đăng ký</a>: <span id="error-reason">Sổ đã chọn không phải sổ của cơ quan`, []string{kept, `value="` + stc.ID + `" checked`}},
	} {
		status, _, page := postPage(t, e, c, "/documents/"+doc.ID+"/issue", tc.form)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d\n%.2000s", tc.name, status, page)
			continue
		}
		if !strings.Contains(page, tc.link) {
			t.Errorf("%s: the summary does not link its field:\n%s", tc.name, summary(page))
		}
		id := regexp.MustCompile(`href="#([^"]+)"`).FindStringSubmatch(tc.link)[1]
		if !regexp.MustCompile(`<[a-z]+ id="` + id + `" aria-invalid="true"[^>]*aria-describedby="[^"]*\berror-reason"`).MatchString(page) {
			t.Errorf("%s: the field #%s is not marked and described by the reason", tc.name, id)
		}
		for _, s := range tc.typed {
			if !strings.Contains(page, s) {
				t.Errorf("%s: %q typed is lost", tc.name, s)
			}
		}
	}
	// The register asked for on the preview: the same, in English too.
	c.Jar.SetCookies(mustURL(t, e.url), []*http.Cookie{{Name: "vanthu_lang", Value: "en"}})
	resp, page := get(t, c, e.url+"/documents/"+doc.ID+"/issue?register=00000000-0000-0000-0000-000000000000")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `<a href="#pick-register">Register</a>: <span id="error-reason">The register chosen is not one of the organisation&#39;s`) {
		t.Errorf("the register refused on the preview: %d\n%s", resp.StatusCode, summary(page))
	}
}

func summary(page string) string {
	i := strings.Index(page, `id="error-summary"`)
	if i < 0 {
		return "(no summary)"
	}
	return page[i:min(len(page), i+800)]
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
