package web

import (
	"mime"
	"testing"
)

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct{ name, want, parsed string }{
		{"report.pdf", `attachment; filename="report.pdf"`, "report.pdf"},
		{"Quyết định 05.pdf", `attachment; filename="quyet dinh 05.pdf"; filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%2005.pdf`, "Quyết định 05.pdf"},
		{`a"b\c.pdf`, `attachment; filename="a_b_c.pdf"; filename*=UTF-8''a%22b%5Cc.pdf`, `a"b\c.pdf`},
		{"Đề án (bản 2).pdf", `attachment; filename="de an (ban 2).pdf"; filename*=UTF-8''%C4%90%E1%BB%81%20%C3%A1n%20%28b%E1%BA%A3n%202%29.pdf`, "Đề án (bản 2).pdf"},
	} {
		got := contentDisposition(tc.name)
		if got != tc.want {
			t.Errorf("contentDisposition(%q) = %s, want %s", tc.name, got, tc.want)
		}
		// What a client decodes must be the original name.
		_, params, err := mime.ParseMediaType(got)
		if err != nil || params["filename"] != tc.parsed {
			t.Errorf("%q: parsed back as %q (%v)", tc.name, params["filename"], err)
		}
	}
}
