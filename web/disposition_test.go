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
		// A name with a line break or a quote never ends the header or
		// the parameter: both forms are escaped.
		{"a\r\nSet-Cookie: x=1.pdf", `attachment; filename="a set-cookie: x=1.pdf"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1.pdf`, "a\r\nSet-Cookie: x=1.pdf"},
		{"x\"; filename=\"evil.html", `attachment; filename="x_; filename=_evil.html"; filename*=UTF-8''x%22%3B%20filename%3D%22evil.html`, "x\"; filename=\"evil.html"},
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
