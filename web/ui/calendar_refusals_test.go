package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCalendarYearRefusedOnThePage: a year asked for on the calendar page
// that is none answered an error page without the form — in English on
// the Vietnamese page for a year out of range ("invalid calendar: year
// 99999 is out of range"). The calendar page now comes back with the
// refusal in the reader's words linked to the year box, which keeps what
// was typed, over the current year's calendar; a bad line of the
// holidays or of the working days links the box it is in.
func TestCalendarYearRefusedOnThePage(t *testing.T) {
	e := newEnv(t)
	e.superadmin()
	c := e.client()
	e.login(c, "hethong")
	for _, tc := range []struct{ year, lang, want string }{
		{"99999", "vi", "Năm 99999 nằm ngoài phạm vi cho phép."},
		{"năm sau", "vi", "Năm năm sau nằm ngoài phạm vi cho phép."},
		{"99999", "en", "The year 99999 is out of range."},
	} {
		c.Jar.SetCookies(mustURL(t, e.url), []*http.Cookie{{Name: "vanthu_lang", Value: tc.lang, Path: "/"}})
		resp, page := get(t, c, e.url+"/admin/calendar?"+url.Values{"year": {tc.year}}.Encode())
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("year %q: %d", tc.year, resp.StatusCode)
		}
		mustContain(t, "year "+tc.year, page, `<a href="#cal-year">`, `<span id="error-reason">`+tc.want,
			`id="cal-year" aria-invalid="true" aria-describedby="error-reason" name="year" inputmode="numeric" size="6" value="`+tc.year+`"`, `id="cal-holidays"`)
		if strings.Contains(page, "invalid calendar") {
			t.Errorf("year %q: the service's English shows through", tc.year)
		}
	}
	c.Jar.SetCookies(mustURL(t, e.url), []*http.Cookie{{Name: "vanthu_lang", Value: "vi", Path: "/"}})
	for field, form := range map[string]url.Values{
		"cal-holidays": {"year": {"2027"}, "holidays": {"2027-09-02 Quốc khánh\nmai nghỉ"}, "working_days": {"2027-09-11 Làm bù"}},
		"cal-working":  {"year": {"2027"}, "holidays": {"2027-09-02 Quốc khánh"}, "working_days": {"thứ bảy"}},
	} {
		status, _, page := postPage(t, e, c, "/admin/calendar", form)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", field, status)
		}
		mustContain(t, field, page, `<a href="#`+field+`">`, `id="`+field+`" aria-invalid="true"`, form.Get("holidays"), form.Get("working_days"))
	}
}
