package web_test

import (
	"bytes"
	"context"
	"image"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// TestIssueOverHTTP: the signer signs the printed draft, the clerk issues
// it: 201 with number 01 and its symbol, the organisation's seal key bound
// over the API (a sealed PKCS#12); the issued file is VALID for the
// verifier and pdfsig with both signatures; the register lists it with the
// Appendix IV columns; another organisation's clerk does not find the
// document, the signer may not issue it.
func TestIssueOverHTTP(t *testing.T) {
	w := newSignWorld(t)
	w.e.configure(func(s *web.Server) {
		s.Issuing = web.IssueConfig{SealImage: func(_ context.Context, org storage.Organization) (image.Image, error) {
			return appearance.DemoSeal(org.Name), nil
		}}
	})
	w.bindP12(w.an, devpki.Official)
	org := w.e.office.org.ID
	w.bindSeal(org)
	clerk := w.e.member(org, "vanthu", []string{storage.RoleClerk}, w.e.office.units["VP"].ID)
	stc := w.e.newOffice("STC", "Sở Tài chính", "VP")
	otherClerk := w.e.member(stc.org.ID, "vanthu-stc", []string{storage.RoleClerk}, stc.units["VP"].ID)

	doc := w.e.uploadPDF("Quyết định ban hành quy chế", draft(t, "qd-chu-tich.pdf"))
	w.turns.give(doc.ID, w.an.user.ID)
	if resp, b := w.call(w.an.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", map[string]any{}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign: %d %s", resp.StatusCode, b)
	}
	// The test chain stands in for the real one, which marks the document
	// signed after its last signature.
	if _, err := w.e.db.Pool.Exec(context.Background(), "UPDATE documents SET status = 'signed' WHERE id = $1", doc.ID); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"recipients": []map[string]string{{"organization_id": stc.org.ID}, {"name": "Công ty ABC", "email": "vanthu@abc.example"}}, "copies_kept": "Lưu: VT"}
	for _, c := range []struct {
		token string
		want  int
	}{{otherClerk.token, http.StatusNotFound}, {w.an.token, http.StatusForbidden}} {
		if resp, b := w.call(c.token, "POST", "/api/v1/documents/"+doc.ID+"/issue", body); resp.StatusCode != c.want {
			t.Fatalf("issue by the wrong person: %d %s, want %d", resp.StatusCode, b, c.want)
		}
	}
	resp, b := w.call(clerk.token, "POST", "/api/v1/documents/"+doc.ID+"/issue", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d %s", resp.StatusCode, b)
	}
	out := decode[register.Issued](t, b)
	if out.Number != 1 || out.Symbol != "01/QĐ-UBND" || out.Version != 3 || out.RegisterID == "" {
		t.Fatalf("issued %+v", out)
	}
	if resp, b := w.call(clerk.token, "POST", "/api/v1/documents/"+doc.ID+"/issue", body); resp.StatusCode != http.StatusConflict {
		t.Fatalf("issued twice: %d %s", resp.StatusCode, b)
	}
	pdf := w.file(doc.ID, 3)
	rep, err := verify.Verify(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 {
		t.Fatalf("verifier: %s, %d signatures", rep.Verdict, len(rep.Signatures))
	}
	rendercheck.AssertPdfsigValid(t, pdf, 2)

	resp, b = w.call(clerk.token, "GET", "/api/v1/registers/"+out.RegisterID+"/entries", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("entries: %d %s", resp.StatusCode, b)
	}
	list := decode[struct {
		Columns []string         `json:"columns"`
		Entries []map[string]any `json:"entries"`
	}](t, b)
	if len(list.Columns) != 10 || list.Columns[0] != "Số, ký hiệu văn bản" || len(list.Entries) != 1 || list.Entries[0]["so_ky_hieu"] != "01/QĐ-UBND" ||
		list.Entries[0]["noi_nhan"] != "Sở Tài chính; Công ty ABC" || list.Entries[0]["nguoi_ky"] != "Nguyễn Văn An" {
		t.Fatalf("entries %s", b)
	}
	if resp, b := w.call(otherClerk.token, "GET", "/api/v1/registers/"+out.RegisterID+"/entries", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another organisation reads the register: %d %s", resp.StatusCode, b)
	}

	// Deliveries: the issuing clerk sees both, as written at issuing; the
	// receiving organisation sees only its own.
	type deliveries struct {
		Deliveries []register.Delivery `json:"deliveries"`
	}
	resp, b = w.call(clerk.token, "GET", "/api/v1/documents/"+doc.ID+"/deliveries", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("deliveries: %d %s", resp.StatusCode, b)
	}
	ds := decode[deliveries](t, b).Deliveries
	if len(ds) != 2 || ds[0].Recipient+ds[1].Recipient != "Sở Tài chínhCông ty ABC" && ds[0].Recipient+ds[1].Recipient != "Công ty ABCSở Tài chính" {
		t.Fatalf("deliveries %s", b)
	}
	for _, d := range ds {
		want := map[string]string{"Sở Tài chính": "internal", "Công ty ABC": "email"}[d.Recipient]
		if d.Channel != want || d.Status != "sent" || d.At.IsZero() || d.Reason != "" {
			t.Fatalf("delivery %+v", d)
		}
	}
	resp, b = w.call(otherClerk.token, "GET", "/api/v1/documents/"+doc.ID+"/deliveries", nil)
	if got := decode[deliveries](t, b).Deliveries; resp.StatusCode != http.StatusOK || len(got) != 1 || got[0].Recipient != "Sở Tài chính" || got[0].OrganizationID != stc.org.ID {
		t.Fatalf("the receiver's deliveries: %d %s", resp.StatusCode, b)
	}
	checkRegisterBooks(t, w, clerk.token, otherClerk.token, out.RegisterID)

	// The queue holds nothing once issued; only clerks read it.
	resp, b = w.call(clerk.token, "GET", "/api/v1/issuing/queue", nil)
	if q := decode[struct {
		Documents []map[string]any `json:"documents"`
	}](t, b); resp.StatusCode != http.StatusOK || len(q.Documents) != 0 {
		t.Fatalf("queue after issuing: %d %s", resp.StatusCode, b)
	}
	if resp, b := w.call(w.an.token, "GET", "/api/v1/issuing/queue", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a signer's queue: %d %s", resp.StatusCode, b)
	}

	// Recall: a reason is required, only the issuing organisation's clerk
	// recalls, and then every delivery shows recalled.
	for _, c := range []struct {
		token string
		body  any
		want  int
	}{
		{clerk.token, map[string]any{"reason": " "}, http.StatusUnprocessableEntity},
		{otherClerk.token, map[string]any{"reason": "sai"}, http.StatusForbidden},
		{clerk.token, map[string]any{"reason": "Sai thẩm quyền ban hành"}, http.StatusOK},
		{clerk.token, map[string]any{"reason": "lại"}, http.StatusConflict},
	} {
		if resp, b := w.call(c.token, "POST", "/api/v1/documents/"+doc.ID+"/recall", c.body); resp.StatusCode != c.want {
			t.Fatalf("recall %v: %d %s, want %d", c.body, resp.StatusCode, b, c.want)
		}
	}
	resp, b = w.call(clerk.token, "GET", "/api/v1/documents/"+doc.ID+"/deliveries", nil)
	for _, d := range decode[deliveries](t, b).Deliveries {
		if d.Status != "recalled" || d.Reason != "Sai thẩm quyền ban hành" {
			t.Fatalf("delivery after recall %+v", d)
		}
	}
	resp, b = w.call(clerk.token, "GET", "/api/v1/documents/"+doc.ID, nil)
	if got := decode[map[string]any](t, b); resp.StatusCode != http.StatusOK || got["status"] != "recalled" || got["recall_reason"] != "Sai thẩm quyền ban hành" {
		t.Fatalf("document after recall: %d %s", resp.StatusCode, b)
	}
}

// checkRegisterBooks: the register as XLSX reopens with excelize with the
// title, the Appendix IV header and the entry; as PDF its text holds the
// cover and the entry in Vietnamese; both are attachments named with the
// register's code and year; another organisation gets neither; an unknown
// format is refused.
func checkRegisterBooks(t *testing.T, w *signWorld, token, otherToken, registerID string) {
	t.Helper()
	path := "/api/v1/registers/" + registerID + "/entries?year=" + strconv.Itoa(register.Year(time.Now()))
	resp, b := w.call(token, "GET", path+"&format=xlsx", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("xlsx: %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	year := strconv.Itoa(register.Year(time.Now()))
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, year+".xlsx") {
		t.Fatalf("xlsx disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !strings.Contains(rows[0][0], year) || rows[1][0] != "Số, ký hiệu văn bản" || len(rows[1]) != 10 ||
		rows[2][0] != "01/QĐ-UBND" || rows[2][3] != "Nguyễn Văn An" || rows[2][4] != "Sở Tài chính; Công ty ABC" {
		t.Fatalf("xlsx rows %q", rows)
	}

	resp, b = w.call(token, "GET", path+"&format=pdf", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, year+".pdf") {
		t.Fatalf("pdf disposition %q", cd)
	}
	file := filepath.Join(t.TempDir(), "register.pdf")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command(testharness.Tool(t, "pdftotext", "poppler-utils"), "-raw", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, text)
	}
	for _, s := range []string{"SỔ ĐĂNG KÝ VĂN BẢN", "Năm " + year, "Từ số 01 đến số 01", "Số, ký hiệu văn bản", "01/QĐ-UBND", "Nguyễn Văn An", "Lưu: VT"} {
		if !strings.Contains(string(text), s) {
			t.Fatalf("register pdf lacks %q:\n%s", s, text)
		}
	}
	for _, c := range []struct {
		token, query string
		want         int
	}{{otherToken, "&format=pdf", http.StatusNotFound}, {otherToken, "&format=xlsx", http.StatusNotFound}, {token, "&format=docx", http.StatusUnprocessableEntity}} {
		if resp, b := w.call(c.token, "GET", path+c.query, nil); resp.StatusCode != c.want {
			t.Fatalf("%s: %d %.200s, want %d", c.query, resp.StatusCode, b, c.want)
		}
	}
}
