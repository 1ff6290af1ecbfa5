package ui_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPagesNameSignerNotCitizenID: the signature panel of a document and
// the reception page of a signed arrival showed the certificate's whole
// subject (SERIALNUMBER/UID with the official's citizen ID number, CN, O,
// …), as did the key bindings' lists (with the binding's kind as the raw
// word "pkcs12"). They now show what an official reads — the signer's name, the
// organisation, the issuer's name, the certificate's validity — and the
// citizen ID number nowhere, not even in the report's technical details.
func TestPagesNameSignerNotCitizenID(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	doc, _ := signedForIssuing(t, w, "Quyết định có chữ ký số")
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT max(number) FROM document_versions WHERE document_id = $1", doc.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	signed := w.api("an", "GET", fmt.Sprintf("/api/v1/documents/%s/versions/%d/file", doc.ID, n), "", nil, http.StatusOK)
	file := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(file, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	receiveOverAPI(t, e, "vanthu", file, map[string]string{"from": "Sở Tài chính", "number": "8", "symbol": "STC-NS", "type": "QĐ",
		"subject": "Quyết định có chữ ký số"})
	var arrivalID string
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT id FROM arrivals").Scan(&arrivalID); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	e.login(c, "vanthu")
	for _, lang := range []string{"vi", "en"} {
		c.Jar.SetCookies(mustURL(t, e.url), []*http.Cookie{{Name: "vanthu_lang", Value: lang, Path: "/"}})
		for _, path := range []string{fmt.Sprintf("/documents/%s/versions/%d/signatures", doc.ID, n), "/reception/" + arrivalID} {
			page := pageOK(t, c, e.url+path)
			want := map[string][]string{
				"vi": {`<dd class="signer">Nguyễn Văn An</dd>`, "Cơ quan, tổ chức", "Tổ chức cấp chứng thư", "Hiệu lực chứng thư"},
				"en": {`<dd class="signer">Nguyễn Văn An</dd>`, "Organisation", "Certificate issuer", "Certificate valid"},
			}[lang]
			mustContain(t, lang+" "+path, page, want...)
			for _, raw := range []string{"001080001234", "CCCD", "CN=", "SERIALNUMBER", "0.9.2342.19200300.100.1.1"} {
				if strings.Contains(page, raw) {
					i := strings.Index(page, raw)
					t.Errorf("%s %s shows %q: …%s…", lang, path, raw, page[max(0, i-200):min(len(page), i+100)])
				}
			}
		}
	}
	// The key bindings, the administrator's list and the holder's own,
	// each kind named in words, not by its word in the database.
	for user, path := range map[string]string{"quantri": "/admin/keys", "an": "/account"} {
		c := e.client()
		e.login(c, user)
		page := pageOK(t, c, e.url+path)
		mustContain(t, path, page, "Nguyễn Văn An — ", "Khóa do hệ thống giữ (PKCS#12)")
		for _, raw := range []string{"001080001234", "CCCD", "CN=", "<td>pkcs12</td>"} {
			if strings.Contains(page, raw) {
				t.Errorf("%s shows %q", path, raw)
			}
		}
	}
}
