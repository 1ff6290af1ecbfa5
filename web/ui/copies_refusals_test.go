package ui_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestScanCopyRefusalsLinkTheirFields: the copy-from-a-scan form's
// refusals (no form of copy, pages that are no page numbers, no
// description of the paper original, no file) were shown linked to no
// field. Each now links the field it is about, which keeps what was typed.
func TestScanCopyRefusalsLinkTheirFields(t *testing.T) {
	e := newEnv(t)
	incomingUser(t, e, "vanthu", "Lê Thị Thư", "Văn thư", "VP", storage.RoleClerk)
	c := e.client()
	e.login(c, "vanthu")
	scan, err := os.ReadFile(scanFile(t, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	typed := map[string]string{"form": "TrS", "pages": "1", "original": "Quyết định số 12/QĐ-UBND ngày 05/3/2026", "subject": "Về việc giao chỉ tiêu"}
	with := func(k, v string) map[string]string {
		f := map[string]string{}
		for key, val := range typed {
			f[key] = val
		}
		f[k] = v
		return f
	}
	for _, tc := range []struct {
		fields map[string]string
		file   []byte
		link   string
	}{
		{with("form", ""), scan, "copy-forms"},
		{with("pages", "một, hai"), scan, "copy-pages"},
		{with("original", ""), scan, "copy-original"},
		{typed, nil, "copy-file"},
	} {
		resp, page := postFile(t, c, e.url+"/copies/new", tc.fields, tc.file)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d\n%s", tc.link, resp.StatusCode, summary(page))
			continue
		}
		mustContain(t, tc.link, page, `<a href="#`+tc.link+`">`, `aria-invalid="true"`)
		for k, v := range tc.fields {
			if k != "form" && v != "" && !strings.Contains(page, `value="`+v+`"`) {
				t.Errorf("%s: %s %q typed is lost", tc.link, k, v)
			}
		}
	}
}
