package documents

import "testing"

func TestFold(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Quyết định", "quyet dinh"},
		{"QUYẾT ĐỊNH  số 05", "quyet dinh so 05"},
		{"Đề án phát triển", "de an phat trien"},
		{"Ủy ban nhân dân tỉnh Quảng Ngãi", "uy ban nhan dan tinh quang ngai"},
		{"Q\u0075\u0079\u00ea\u0301t", "quyet"}, // decomposed input
		{"05/QĐ-UBND", "05/qd-ubnd"},
		{"", ""},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := code("Thượng khẩn"); got != "thuong-khan" {
		t.Errorf("code = %q", got)
	}
}

func TestSearchText(t *testing.T) {
	n := "05/QĐ-UBND"
	for _, tc := range []struct {
		number *string
		want   string
	}{{nil, "quyet dinh ve viec"}, {&n, "05/qd-ubnd quyet dinh ve viec"}} {
		if got := SearchText("Quyết định về việc", tc.number); got != tc.want {
			t.Errorf("SearchText = %q, want %q", got, tc.want)
		}
	}
}
