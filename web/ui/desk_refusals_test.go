package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestDeskRefusalsNameTheirFields: the one-stop desk's request form
// refused a missing requester's or original's name with the service's
// English ("requester_name is required, at most 200 characters") under a
// Vietnamese headline, and no refusal of the form, nor of the certifier's
// refusal form, linked its field. Each now reads in the reader's words,
// links the field it is about (marked invalid, described by the reason)
// and keeps what was typed.
func TestDeskRefusalsNameTheirFields(t *testing.T) {
	e := newEnv(t)
	e.user("motcua", "Trần Văn Cửa", storage.RoleDesk)
	e.user("chungthuc", "Đỗ Văn Thực", storage.RoleCertifier)
	desk, cert := e.client(), e.client()
	e.login(desk, "motcua")
	e.login(cert, "chungthuc")
	typed := url.Values{"requester_name": {"Trần Văn Dân"}, "requester_id_number": {"001080009999"}, "original_name": {"Bằng tốt nghiệp"},
		"page_count": {"2"}, "copies": {"3"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range typed {
			f[key] = vs
		}
		f.Set(k, v)
		return f
	}
	for _, tc := range []struct {
		form       url.Values
		field, why string
	}{
		{with("requester_name", " "), "requester-name", "Hãy nhập họ tên người yêu cầu"},
		{with("original_name", ""), "original-name", "Hãy nhập tên giấy tờ bản chính"},
		{with("requester_id_number", "12"), "requester-id", "Số giấy tờ tùy thân"},
		{with("page_count", "hai"), "page-count", "Số trang và số bản phải là số nguyên dương"},
		{with("copies", "99"), "copies", "Số bản sao cần chứng thực từ 1 đến 50"},
		{with("received_at", "hôm qua"), "received-at", "Thời điểm tiếp nhận không đúng định dạng"},
	} {
		status, _, page := postPage(t, e, desk, "/certifications/new", tc.form)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", tc.field, status)
			continue
		}
		mustContain(t, tc.field, page, `<a href="#`+tc.field+`">`, `<span id="error-reason">`+tc.why, `id="`+tc.field+`" aria-invalid="true"`)
		for _, v := range tc.form {
			if v[0] != " " && !strings.Contains(page, `value="`+v[0]+`"`) {
				t.Errorf("%s: %q typed is lost", tc.field, v[0])
			}
		}
		if strings.Contains(page, "is required") {
			t.Errorf("%s: the service's English shows through", tc.field)
		}
	}
	status, where, _ := postPage(t, e, desk, "/certifications/new", typed)
	if status != http.StatusSeeOther {
		t.Fatalf("the request: %d", status)
	}
	status, _, page := postPage(t, e, cert, where+"/refuse", url.Values{"note": {"Bản chính bị tẩy xóa"}})
	if status != http.StatusUnprocessableEntity || !regexp.MustCompile(`<fieldset class="grounds" id="refuse-grounds" aria-invalid="true" aria-describedby="error-reason" name="reasons">`).MatchString(page) {
		t.Errorf("a refusal without its ground: %d\n%s", status, summary(page))
	}
	mustContain(t, "a refusal without its ground", page, `<a href="#refuse-grounds">`, "Bản chính bị tẩy xóa")
}
