package web_test

import (
	"bytes"
	"context"
	"image"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/scancheck/scantest"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// TestCertifiedCopiesOverHTTP: the desk opens a request and uploads the
// scan (a 150-dpi page refused with the page named, as problem+json), the
// certifier certifies two copies, the citizen downloads them by the link
// without logging in, the receipt and the register (JSON, XLSX, PDF) answer;
// another commune's staff and the wrong roles are refused.
func TestCertifiedCopiesOverHTTP(t *testing.T) {
	w := newSignWorld(t)
	w.e.configure(func(s *web.Server) {
		s.Issuing = web.IssueConfig{SealImage: func(_ context.Context, org storage.Organization) (image.Image, error) {
			return appearance.DemoSeal(org.Name), nil
		}}
	})
	org := w.e.office.org.ID
	vp := w.e.office.units["VP"].ID
	w.bindSeal(org)
	desk := w.e.member(org, "motcua", []string{storage.RoleDesk}, vp)
	u, err := w.e.accounts.CreateUser(context.Background(), operator, accounts.NewUser{Username: "chungthuc", FullName: "Đỗ Văn Thực",
		Title: "Công chức Tư pháp – Hộ tịch", OrganizationID: org, UnitIDs: []string{vp}, Roles: []string{storage.RoleCertifier}})
	if err != nil {
		t.Fatal(err)
	}
	certifier := member{user: u, token: w.e.issueToken(u.ID)}
	w.bindP12(certifier, devpki.Official)
	other := w.e.newOffice("UBNDXBC", "Ủy ban nhân dân xã Bình Châu", "VP")
	otherCertifier := w.e.member(other.org.ID, "chungthuc-bc", []string{storage.RoleCertifier}, other.units["VP"].ID)

	req := map[string]any{"requester_name": "Nguyễn Thị Hồng", "requester_id_number": "001190012345", "original_name": "Bằng tốt nghiệp",
		"page_count": 3, "copies": 2}
	if resp, b := w.call(certifier.token, "POST", "/api/v1/certifications", req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the certifier opens a request: %d %s", resp.StatusCode, b)
	}
	resp, b := w.call(desk.token, "POST", "/api/v1/certifications", req)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("open: %d %s", resp.StatusCode, b)
	}
	c := decode[storage.Certification](t, b)
	if c.ID == "" || c.Fee != 10000 || c.Status != "received" {
		t.Fatalf("opened %s", b)
	}
	scanPath := "/api/v1/certifications/" + c.ID + "/scan"
	pages := scantest.Pages(3, 200, scantest.RGB)
	pages[2].DPI = 150
	body, ct := multipartBody([]part{{name: "file", fileName: "bang.pdf", value: string(scantest.PDF(scantest.Options{Pages: pages}))}})
	resp, b = send(t, w.e.url, desk.token, "POST", scanPath, body, ct)
	if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(string(b), `"page":3`) || !strings.Contains(string(b), `"dpi":150`) {
		t.Fatalf("150-dpi scan: %d %s", resp.StatusCode, b)
	}
	body, ct = multipartBody([]part{{name: "file", fileName: "bang.pdf", value: string(scantest.PDF(scantest.Options{Pages: scantest.Pages(3, 200, scantest.RGB)}))}})
	if resp, b := send(t, w.e.url, otherCertifier.token, "POST", scanPath, body, ct); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another commune scans: %d %s", resp.StatusCode, b)
	}
	body, ct = multipartBody([]part{{name: "file", fileName: "bang.pdf", value: string(scantest.PDF(scantest.Options{Pages: scantest.Pages(3, 200, scantest.RGB)}))}})
	if resp, b := send(t, w.e.url, desk.token, "POST", scanPath, body, ct); resp.StatusCode != http.StatusOK {
		t.Fatalf("scan: %d %s", resp.StatusCode, b)
	}
	certifyPath := "/api/v1/certifications/" + c.ID + "/certify"
	for _, who := range []struct {
		token string
		want  int
	}{{otherCertifier.token, http.StatusNotFound}, {desk.token, http.StatusForbidden}} {
		if resp, b := w.call(who.token, "POST", certifyPath, nil); resp.StatusCode != who.want {
			t.Fatalf("certify by the wrong person: %d %s, want %d", resp.StatusCode, b, who.want)
		}
	}
	resp, b = w.call(certifier.token, "POST", certifyPath, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("certify: %d %s", resp.StatusCode, b)
	}
	out := decode[certify.Certified](t, b)
	if out.Number != 1 || out.Fee != 10000 || len(out.Copies) != 2 || !strings.HasSuffix(out.Book, "-SCTĐT/BS") {
		t.Fatalf("certified %s", b)
	}
	if resp, b := w.call(certifier.token, "POST", certifyPath, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("certified twice: %d %s", resp.StatusCode, b)
	}
	for i, cp := range out.Copies {
		if !strings.HasPrefix(cp.DownloadURL, w.e.url+"/c/") {
			t.Fatalf("download URL %q", cp.DownloadURL)
		}
		resp, err := http.Get(cp.DownloadURL) // no credential
		if err != nil {
			t.Fatal(err)
		}
		pdf, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || sha(pdf) != cp.SHA256 {
			t.Fatalf("copy %d download: %d %s", i+1, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if resp, err := http.Get(w.e.url + "/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown link: %v %v", resp.StatusCode, err)
	}

	resp, b = w.call(desk.token, "GET", "/api/v1/certifications/"+c.ID+"/receipt", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("receipt: %d %.200s", resp.StatusCode, b)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "receipt.pdf"), b, 0o600)
	text, err := exec.Command(testharness.Tool(t, "pdftotext", "poppler-utils"), filepath.Join(dir, "receipt.pdf"), "-").CombinedOutput()
	if err != nil || !strings.Contains(string(text), "Lệ phí: 10.000 đ") || !strings.Contains(string(text), out.Copies[1].DownloadURL) {
		t.Fatalf("receipt text: %v\n%s", err, text)
	}

	resp, b = w.call(certifier.token, "GET", "/api/v1/organizations/"+org+"/registers", nil)
	regs := decode[struct {
		Registers []storage.Register `json:"registers"`
	}](t, b).Registers
	regID := ""
	for _, r := range regs {
		if r.Kind == storage.RegisterCertifiedCopies {
			regID = r.ID
		}
	}
	resp, b = w.call(certifier.token, "GET", "/api/v1/registers/"+regID+"/entries", nil)
	list := decode[struct {
		Columns []string      `json:"columns"`
		Entries []certify.Row `json:"entries"`
	}](t, b)
	if resp.StatusCode != http.StatusOK || len(list.Columns) != 8 || list.Columns[0] != "Số chứng thực" || len(list.Entries) != 1 ||
		list.Entries[0].Requester != "Nguyễn Thị Hồng" || list.Entries[0].Copies != 2 || list.Entries[0].Fee != "10.000 đ" {
		t.Fatalf("register: %d %s", resp.StatusCode, b)
	}
	if resp, b := w.call(w.an.token, "GET", "/api/v1/registers/"+regID+"/entries", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a signer reads citizens' names in the register: %d %s", resp.StatusCode, b)
	}
	resp, b = w.call(certifier.token, "GET", "/api/v1/registers/"+regID+"/entries?format=xlsx", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("xlsx: %d %.200s", resp.StatusCode, b)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(f.GetSheetName(0))
	f.Close()
	if len(rows) != 3 || len(rows[1]) != 8 || rows[1][2] != "Họ tên người yêu cầu" || rows[2][0] != "1" || rows[2][3] != "Bằng tốt nghiệp" {
		t.Fatalf("xlsx rows %q", rows)
	}
	resp, b = w.call(certifier.token, "GET", "/api/v1/registers/"+regID+"/entries?format=pdf", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pdf: %d %.200s", resp.StatusCode, b)
	}
	os.WriteFile(filepath.Join(dir, "book.pdf"), b, 0o600)
	text, err = exec.Command(testharness.Tool(t, "pdftotext", "poppler-utils"), filepath.Join(dir, "book.pdf"), "-").CombinedOutput()
	if err != nil || !strings.Contains(string(text), "SỔ CHỨNG THỰC BẢN SAO ĐIỆN TỬ TỪ BẢN CHÍNH") || !strings.Contains(string(text), "Nguyễn Thị Hồng") {
		t.Fatalf("book text: %v\n%s", err, text)
	}

	// A refusal over the API, with a ground code.
	resp, b = w.call(desk.token, "POST", "/api/v1/certifications", req)
	c2 := decode[storage.Certification](t, b)
	if resp, b := w.call(desk.token, "POST", "/api/v1/certifications/"+c2.ID+"/refuse", map[string]any{"reasons": []string{"nope"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown ground: %d %s", resp.StatusCode, b)
	}
	resp, b = w.call(desk.token, "POST", "/api/v1/certifications/"+c2.ID+"/refuse", map[string]any{"reasons": []string{"secret"}})
	if resp.StatusCode != http.StatusOK || decode[storage.Certification](t, b).Status != "refused" {
		t.Fatalf("refuse: %d %s", resp.StatusCode, b)
	}
}
