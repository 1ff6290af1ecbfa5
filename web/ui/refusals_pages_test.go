package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestRefusalsReadInTheReadersLanguage: one refusal a person causes in
// each workflow — submitting a document already in review (approval chain), a
// signature by a signer without a key (signing), issuing without the
// organisation's seal key (issuing), a document's date after today (reception), a copy of
// no known form (copies) — reads on the page in Vietnamese, saying what
// to do, and after the reader switches to English, in English, with
// neither the other language's wording nor the service's English detail
// on the Vietnamese page.
func TestRefusalsReadInTheReadersLanguage(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	e.user("vanthu", "Đỗ Thị Hoa", storage.RoleClerk)
	doc := w.upload(t, "qd-chu-tich.pdf", "Quyết định ban hành quy chế")
	docPath := "/documents/" + doc.ID
	drafter := e.client()
	e.login(drafter, "chuyenvien")
	if status, loc, body := postPage(t, e, drafter, docPath+"/submit", url.Values{"template_id": {w.template}}); status != http.StatusSeeOther {
		t.Fatalf("submit: %d %s\n%s", status, loc, body)
	}

	type refusal struct {
		workflow, who string
		send          func(c *http.Client) (int, string)
		status        int
		vi, en        string
		// detail is the service's English detail, which the Vietnamese
		// page does not show.
		detail string
	}
	form := func(path string, v url.Values) func(c *http.Client) (int, string) {
		return func(c *http.Client) (int, string) {
			status, _, body := postPage(t, e, c, path, v)
			return status, body
		}
	}
	refusals := []refusal{
		{"chain", "chuyenvien", form(docPath+"/submit", url.Values{"template_id": {w.template}}), http.StatusConflict,
			"Văn bản đang trong quy trình nên không trình được", "The document is already under way",
			"only a draft, a returned or a withdrawn document is submitted"},
		{"signing", "an", form(docPath+"/sign", nil), http.StatusConflict,
			"an chưa có khóa ký còn hiệu lực do hệ thống giữ; hãy nhờ quản trị gắn khóa", "an has no valid key held by the service; have an administrator bind one",
			"(PKCS#11 or PKCS#12)"},
		{"issuing", "vanthu", form(docPath+"/issue", url.Values{"emails": {"Công ty ABC <vanthu@abc.example>"}}), http.StatusConflict,
			"Cơ quan chưa có khóa con dấu còn hiệu lực do hệ thống giữ", "The organisation has no valid seal key held by the service",
			"vanthu admin key bind --seal"},
		{"reception", "vanthu", func(c *http.Client) (int, string) {
			resp, body := postFile(t, c, e.url+"/reception/new", map[string]string{"from": "Sở Tư pháp tỉnh", "number": "12", "symbol": "STP-VP",
				"date": "2099-01-02", "type": "CV", "subject": "Công văn về việc rà soát văn bản", "medium": "paper",
				"urgency": "thuong", "confidentiality": "thuong"}, nil)
			return resp.StatusCode, body
		}, http.StatusUnprocessableEntity,
			"Ngày văn bản 2099-01-02 sau hôm nay; hãy sửa ngày", "2099-01-02 is after today; correct it",
			"is after today"},
		{"copies", "vanthu", form(docPath+"/copy", url.Values{"form": {"BẢN"}}), http.StatusBadRequest,
			"Hãy chọn hình thức sao: sao y, trích sao hoặc sao lục", "Choose the form: sao y, trích sao or sao lục",
			"form must be SY"},
	}
	for _, r := range refusals {
		c := e.client()
		e.login(c, r.who)
		// The language is remembered per person: the clerk chose English
		// in an earlier case.
		if resp := e.post(c, "/language", "lang=vi&back=%2F", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: switch to Vietnamese: %d", r.workflow, resp.StatusCode)
		}
		status, body := r.send(c)
		if status != r.status {
			t.Fatalf("%s in Vietnamese: %d, want %d\n%s", r.workflow, status, r.status, body)
		}
		if !strings.Contains(body, r.vi) {
			t.Fatalf("%s in Vietnamese: the page says %q", r.workflow, alertOf(body))
		}
		for _, other := range []string{r.en, r.detail} {
			if strings.Contains(body, other) {
				t.Errorf("%s: the Vietnamese page shows %q", r.workflow, other)
			}
		}
		if resp := e.post(c, "/language", "lang=en&back=%2F", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: switch to English: %d", r.workflow, resp.StatusCode)
		}
		status, body = r.send(c)
		if status != r.status {
			t.Fatalf("%s in English: %d, want %d\n%s", r.workflow, status, r.status, body)
		}
		if !strings.Contains(body, r.en) {
			t.Fatalf("%s in English: the page says %q", r.workflow, alertOf(body))
		}
		if strings.Contains(body, r.vi) {
			t.Errorf("%s: the English page shows the Vietnamese wording", r.workflow)
		}
	}
}
