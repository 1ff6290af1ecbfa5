package ui_test

import (
	"testing"

	"github.com/vanthu/vanthu/web/ui"
)

// TestDong: fees are written as the receipt writes them, dots between
// thousands in Vietnamese, commas in English.
func TestDong(t *testing.T) {
	for _, c := range []struct {
		lang string
		n    int64
		want string
	}{
		{"vi", 0, "0 đ"}, {"vi", 5000, "5.000 đ"}, {"vi", 10000, "10.000 đ"}, {"vi", 200000, "200.000 đ"},
		{"vi", 1234567, "1.234.567 đ"}, {"en", 10000, "10,000 VND"}, {"en", 999, "999 VND"},
	} {
		if got := (&ui.Page{Lang: c.lang}).Dong(c.n); got != c.want {
			t.Errorf("Dong(%d) in %s = %q, want %q", c.n, c.lang, got, c.want)
		}
	}
}
