package ui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/refusal"

	// The services whose reasons the summary names fields of.
	_ "github.com/vanthu/vanthu/accounts"
	_ "github.com/vanthu/vanthu/documents/calendar"
	_ "github.com/vanthu/vanthu/documents/certify"
	_ "github.com/vanthu/vanthu/documents/chain"
	_ "github.com/vanthu/vanthu/documents/copies"
	_ "github.com/vanthu/vanthu/documents/handling"
	_ "github.com/vanthu/vanthu/documents/reception"
	_ "github.com/vanthu/vanthu/documents/register"
	_ "github.com/vanthu/vanthu/notify"
)

// TestSummaryFieldsExist: every reason the error summary links to a field
// is one the services declare, and its field is one a page's form has.
func TestSummaryFieldsExist(t *testing.T) {
	declared := map[string]bool{}
	for _, r := range refusal.All() {
		declared[r.String()] = true
	}
	names := map[string]bool{}
	nameAttr := regexp.MustCompile(`\bname="([a-z_]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, path)
		for _, m := range nameAttr.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reasonFields) < 80 {
		t.Fatalf("only %d reasons name their field", len(reasonFields))
	}
	for reason, field := range reasonFields {
		if !declared[reason] {
			t.Errorf("reason %s names field %s but no service declares it", reason, field)
		}
		if !names[field] {
			t.Errorf("reason %s names field %s, which no form has", reason, field)
		}
	}
}

// TestRefusedFormSummaryLinksTheField renders a refused form: the summary
// has its heading, names the field by its label on the page, links to
// the field's id, and the field is marked aria-invalid and described by
// the reason (aria-describedby); a refusal of no
// field lists the message alone; the error page keeps its plain alert.
func TestRefusedFormSummaryLinksTheField(t *testing.T) {
	u := &UI{pages: parsePages(loadAssets())}
	refuse := func(lang string, err error) string {
		w := httptest.NewRecorder()
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u.formRefused(w, r, err, func(status int, msg string) {
				u.renderErr(w, r, status, "verify", "verify.title", msg, nil)
			})
		})
		r := httptest.NewRequest(http.MethodPost, "/verify", nil)
		r.AddCookie(&http.Cookie{Name: "vanthu_lang", Value: lang})
		withRefusedField(h).ServeHTTP(w, r)
		return w.Body.String()
	}
	missing := &documents.InputError{Kind: documents.ErrMissingFile, Detail: "choose a PDF file"}
	for lang, want := range map[string][2]string{
		"vi": {"Có lỗi cần sửa", `<a href="#file">Tệp PDF cần kiểm tra</a>: <span id="error-reason">Chưa chọn tệp; hãy chọn tệp PDF`},
		"en": {"There is a problem", `<a href="#file">PDF to verify</a>: <span id="error-reason">No file was chosen; choose a PDF`},
	} {
		page := refuse(lang, missing)
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the summary lacks %q:\n%s", lang, w, summaryOf(page))
			}
		}
		if !strings.Contains(page, `<input id="file" aria-invalid="true" aria-describedby="error-reason" name="file"`) {
			t.Errorf("%s: the refused field is not marked aria-invalid and described by the reason", lang)
		}
		if strings.Count(page, `aria-invalid="true"`) != 1 {
			t.Errorf("%s: %d fields marked invalid", lang, strings.Count(page, `aria-invalid="true"`))
		}
	}
	// A refusal of no one field: the message, no link.
	page := refuse("vi", documents.ErrInvalidCursor)
	if s := summaryOf(page); !strings.Contains(s, "<li>Liên kết trang không còn hợp lệ") || strings.Contains(s, "<a ") || strings.Contains(page, "aria-invalid") {
		t.Errorf("a refusal of no field:\n%s", s)
	}
}

func summaryOf(page string) string {
	i := strings.Index(page, `id="error-summary"`)
	if i < 0 {
		return "(no summary)"
	}
	end := strings.Index(page[i:], "</div>")
	if end < 0 {
		return page[i:]
	}
	return page[i : i+end]
}

func TestFindField(t *testing.T) {
	page := `<main><form><label for="c-1">Ý kiến <span class="muted">(bắt buộc)</span></label><textarea id="c-1" name="comment" rows="3"></textarea></form>` +
		`<form id="forward-form"><label for="fw-to">Chuyển cho</label><select id="fw-to" name="to_user_id"></select>` +
		`<label for="fw-c">Ý kiến</label><textarea id="fw-c" name="comment" aria-describedby="fw-hint"></textarea></form></main>`
	tag, link, ok := findField(page, "", "comment")
	if !ok || link.ID != "c-1" || link.Label != "Ý kiến (bắt buộc)" || tag != `<textarea id="c-1" name="comment" rows="3">` {
		t.Fatalf("found %q %+v %v", tag, link, ok)
	}
	if _, _, ok := findField(page, "", "missing"); ok {
		t.Error("found a field the page lacks")
	}
	if got := markInvalid(page, tag); !strings.Contains(got, `<textarea id="c-1" aria-invalid="true" aria-describedby="error-reason" name="comment" rows="3">`) {
		t.Errorf("marked: %s", got)
	}
	// In a named form, its own field of that name (the forward's comment,
	// not the review's), whose hint stays among its descriptions.
	tag, link, ok = findField(page, "forward-form", "comment")
	if !ok || link.ID != "fw-c" || link.Label != "Ý kiến" {
		t.Fatalf("in the forward form: %q %+v %v", tag, link, ok)
	}
	if got := markInvalid(page, tag); !strings.Contains(got, `<textarea id="fw-c" aria-invalid="true" name="comment" aria-describedby="fw-hint error-reason">`) {
		t.Errorf("marked: %s", got)
	}
	if _, _, ok := findField(page, "consultee-form", "comment"); ok {
		t.Error("found a field in a form the page lacks")
	}
	// A group of choices is named by its legend, a table cell's field by
	// the labels its aria-labelledby names.
	groups := `<main><form><fieldset id="orgs" name="orgs"><legend>Nơi nhận</legend><label><input type="checkbox" name="orgs" value="a"> A</label></fieldset>` +
		`<table><tr><th id="u-1">Phòng Tài chính</th><td><input name="days_unit_1" id="d-1" aria-labelledby="u-1 h-1"><span id="h-1">Hạn (ngày)</span></td></tr></table></form></main>`
	if _, link, ok := findField(groups, "", "orgs"); !ok || link != (FieldLink{ID: "orgs", Label: "Nơi nhận"}) {
		t.Errorf("the group: %+v %v", link, ok)
	}
	if _, link, ok := findField(groups, "", "days_unit_1"); !ok || link != (FieldLink{ID: "d-1", Label: "Phòng Tài chính — Hạn (ngày)"}) {
		t.Errorf("the cell: %+v %v", link, ok)
	}
}
