package ui

import (
	"fmt"
	"strings"
	"time"
)

// messages holds every text of the pages by language and key. Each
// section adds its own with addMessages; a key missing in a language
// falls back to Vietnamese, then to the key itself.
var messages = map[string]map[string]string{"vi": {}, "en": {}}

// addMessages registers a section's texts: each key maps to its
// Vietnamese and English text.
func addMessages(m map[string][2]string) bool {
	for k, v := range m {
		if _, dup := messages["vi"][k]; dup {
			panic("ui: message " + k + " defined twice")
		}
		messages["vi"][k], messages["en"][k] = v[0], v[1]
	}
	return true
}

func translate(m map[string]string, key string, args ...any) string {
	s, ok := m[key]
	if !ok {
		if s, ok = messages["vi"][key]; !ok {
			s = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// vietnam is the offset every time on the pages is shown in: offices work
// in Vietnam's time, whatever the server's zone.
var vietnam = time.FixedZone("+07:00", 7*3600)

// Time shows a time in Vietnam's offset: 29/11/2026 14:05 in Vietnamese,
// 29 Nov 2026 14:05 in English, both marked +07:00.
func (p *Page) Time(t any) string {
	var tt time.Time
	switch v := t.(type) {
	case time.Time:
		tt = v
	case *time.Time:
		if v == nil {
			return "—"
		}
		tt = *v
	default:
		return "—"
	}
	if tt.IsZero() {
		return "—"
	}
	tt = tt.In(vietnam)
	if p.Lang == "en" {
		return tt.Format("2 Jan 2006 15:04 (-07:00)")
	}
	return tt.Format("02/01/2006 15:04 (-07:00)")
}

// Date shows a day: 29/11/2026, or 29 Nov 2026 in English.
func (p *Page) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(vietnam)
	if p.Lang == "en" {
		return t.Format("2 Jan 2006")
	}
	return t.Format("02/01/2006")
}

// LongDate is the date as Vietnamese documents write it: ngày 29 tháng 11
// năm 2026.
func (p *Page) LongDate(t time.Time) string {
	t = t.In(vietnam)
	if p.Lang == "en" {
		return t.Format("Monday, 2 January 2006")
	}
	return fmt.Sprintf("%s, ngày %02d tháng %02d năm %d", weekdaysVI[t.Weekday()], t.Day(), int(t.Month()), t.Year())
}

var weekdaysVI = [...]string{"Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"}

// Size shows a byte count: 1,2 MB in Vietnamese, 1.2 MB in English.
func (p *Page) Size(n int64) string {
	var s string
	switch {
	case n >= 1<<20:
		s = fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		s = fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
	if p.Lang == "vi" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

var _ = addMessages(map[string][2]string{
	"app.name":          {"Văn thư điện tử", "Electronic records office"},
	"skip":              {"Bỏ qua, đến nội dung chính", "Skip to main content"},
	"nav.label":         {"Điều hướng chính", "Main navigation"},
	"lang.label":        {"Ngôn ngữ", "Language"},
	"lang.switch":       {"English", "Tiếng Việt"},
	"lang.other":        {"en", "vi"},
	"signedin.as":       {"Đăng nhập với tên", "Signed in as"},
	"logout":            {"Đăng xuất", "Log out"},
	"error.title":       {"Không thực hiện được", "Something went wrong"},
	"error.notfound":    {"Không tìm thấy trang hoặc tài liệu này, hoặc bạn không có quyền xem.", "This page or document does not exist, or you may not see it."},
	"error.method":      {"Trang này không nhận yêu cầu kiểu này.", "This page does not accept this kind of request."},
	"error.forbidden":   {"Bạn không có quyền làm việc này.", "You may not do this."},
	"error.conflict":    {"Mã hoặc tên này đã có.", "This code or name is already taken."},
	"error.internal":    {"Hệ thống gặp lỗi và đã ghi lại; xin thử lại sau.", "The service failed and logged it; please try again later."},
	"error.crossorigin": {"Yêu cầu đến từ một trang khác nên bị từ chối. Hãy thao tác từ chính trang của hệ thống.", "The request came from another site and was refused. Use this site's own pages."},
	"error.signedout":   {"Phiên làm việc đã hết. Hãy đăng nhập lại.", "Your session has ended. Please log in again."},
	"error.back":        {"Về trang chủ", "Back to the home page"},
	"error.status":      {"Mã lỗi", "Status"},
	"pager.next":        {"Trang sau", "Next page"},
	"pager.first":       {"Về trang đầu", "First page"},
	"none":              {"Không có", "None"},
})
