package web_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/web"
)

// TestReceptionOverHTTP: a document issued by the province to the
// department arrives in the department's queue with its verification
// report (VALID); the clerk downloads it and registers it (số đến 01), the
// sender sees it registered; an uploaded scan (UNSIGNED) is registered as
// 02; the same document uploaded again is refused with 409 naming the
// earlier registration and returned with a reason; the incoming register
// reads in JSON, XLSX and PDF with the Appendix IV incoming columns; other
// organisations get 404, a drafter 403.
func TestReceptionOverHTTP(t *testing.T) {
	w := newSignWorld(t)
	w.e.configure(func(s *web.Server) { s.Verify = verify.Options{Trust: chain.NewStore(w.pki.Root())} })
	w.bindP12(w.an, devpki.Official)
	org := w.e.office.org.ID
	w.bindSeal(org)
	sender := w.e.member(org, "vanthu", []string{storage.RoleClerk}, w.e.office.units["VP"].ID)
	stc := w.e.newOffice("STC", "Sở Tài chính", "VP")
	clerk := w.e.member(stc.org.ID, "vanthu-stc", []string{storage.RoleClerk}, stc.units["VP"].ID)
	drafter := w.e.member(stc.org.ID, "chuyenvien-stc", []string{storage.RoleDrafter}, stc.units["VP"].ID)

	doc := w.e.uploadPDF("Quyết định ban hành quy chế", draft(t, "qd-chu-tich.pdf"))
	w.turns.give(doc.ID, w.an.user.ID)
	if resp, b := w.call(w.an.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", map[string]any{}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign: %d %s", resp.StatusCode, b)
	}
	if _, err := w.e.db.Pool.Exec(context.Background(), "UPDATE documents SET status = 'signed' WHERE id = $1", doc.ID); err != nil {
		t.Fatal(err)
	}
	resp, b := w.call(sender.token, "POST", "/api/v1/documents/"+doc.ID+"/issue", map[string]any{"recipients": []map[string]string{{"organization_id": stc.org.ID}}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d %s", resp.StatusCode, b)
	}
	issued := decode[register.Issued](t, b)

	type queue struct {
		Items []reception.Item `json:"items"`
	}
	resp, b = w.call(clerk.token, "GET", "/api/v1/reception", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("queue: %d %s", resp.StatusCode, b)
	}
	items := decode[queue](t, b).Items
	if len(items) != 1 || items[0].From != w.e.office.org.Name || items[0].Symbol != issued.Symbol || items[0].Verdict != "VALID" ||
		!bytes.Contains(items[0].Verification, []byte(`"verdict":"VALID"`)) || items[0].Signer != "Nguyễn Văn An" {
		t.Fatalf("queue %s", b)
	}
	id := items[0].ID
	for _, c := range []struct {
		token, method, path string
		want                int
	}{
		{sender.token, "GET", "/api/v1/reception/" + id, http.StatusNotFound},
		{sender.token, "POST", "/api/v1/reception/" + id + "/register", http.StatusNotFound},
		{sender.token, "POST", "/api/v1/reception/" + id + "/return", http.StatusNotFound},
		{drafter.token, "GET", "/api/v1/reception", http.StatusForbidden},
		{drafter.token, "POST", "/api/v1/reception/" + id + "/register", http.StatusForbidden},
		{clerk.token, "GET", "/api/v1/reception/not-an-id", http.StatusNotFound},
		{clerk.token, "GET", "/api/v1/reception?status=lost", http.StatusUnprocessableEntity},
		{clerk.token, "POST", "/api/v1/reception/" + id + "/confirm-recall", http.StatusConflict},
	} {
		var body any
		if c.method == "POST" {
			body = map[string]any{"reason": "x"}
		}
		if resp, b := w.call(c.token, c.method, c.path, body); resp.StatusCode != c.want {
			t.Fatalf("%s %s: %d %s, want %d", c.method, c.path, resp.StatusCode, b, c.want)
		}
	}
	resp, b = w.call(clerk.token, "GET", "/api/v1/reception/"+id+"/file", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.Equal(b, w.file(doc.ID, issued.Version)) {
		t.Fatalf("arrived file: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	resp, b = w.call(clerk.token, "POST", "/api/v1/reception/"+id+"/register", nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", resp.StatusCode, b)
	}
	reg := decode[reception.Registered](t, b)
	if reg.ArrivalNumber != 1 || reg.DocumentID == "" || reg.ArrivalDate != time.Now().In(reception.Vietnam).Format(time.DateOnly) {
		t.Fatalf("registered %s", b)
	}
	if resp, b := w.call(clerk.token, "GET", "/api/v1/documents/"+reg.DocumentID, nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"status":"received"`) {
		t.Fatalf("incoming document: %d %s", resp.StatusCode, b)
	}
	resp, b = w.call(sender.token, "GET", "/api/v1/documents/"+doc.ID+"/deliveries", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"status":"registered"`) {
		t.Fatalf("the sender's deliveries: %d %s", resp.StatusCode, b)
	}

	// A scan of a paper document, received by post.
	scan := string(testpdf.Bytes(testpdf.Options{Text: "Cong van 12/BTC-NSNN"}))
	fields := []part{{name: "from", value: "Bộ Tài chính"}, {name: "symbol", value: "12/BTC-NSNN"}, {name: "date", value: "15/01/2026"},
		{name: "type", value: "CV"}, {name: "subject", value: "Hướng dẫn quyết toán ngân sách"}, {name: "signer", value: "Lê Văn Ký"},
		{name: "urgency", value: "khẩn"}, {name: "medium", value: "paper"}}
	post := func(token string, parts []part) (*http.Response, []byte) {
		body, ct := multipartBody(parts)
		return send(t, w.e.url, token, "POST", "/api/v1/reception", bytes.NewReader(body.Bytes()), ct)
	}
	resp, b = post(clerk.token, append(fields, part{name: "file", fileName: "scan.pdf", value: scan}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	up := decode[reception.Item](t, b)
	if up.Verdict != "UNSIGNED" || up.Symbol != "12/BTC-NSNN" || up.Medium != "paper" || up.Urgency != "khan" {
		t.Fatalf("uploaded %s", b)
	}
	if resp, b := w.call(clerk.token, "POST", "/api/v1/reception/"+up.ID+"/register", map[string]any{"receiver": "Phòng Ngân sách"}); resp.StatusCode != http.StatusCreated ||
		decode[reception.Registered](t, b).ArrivalNumber != 2 {
		t.Fatalf("register the scan: %d %s", resp.StatusCode, b)
	}
	for _, c := range []struct {
		token string
		parts []part
		want  int
	}{
		{drafter.token, append(fields, part{name: "file", fileName: "scan.pdf", value: scan}), http.StatusForbidden},
		{clerk.token, append(fields, part{name: "date", value: "31/02/2026"}, part{name: "file", fileName: "scan.pdf", value: scan}), http.StatusUnprocessableEntity},
		{clerk.token, append(fields, part{name: "file", fileName: "scan.pdf", value: "not a pdf"}), http.StatusUnsupportedMediaType},
		{clerk.token, fields, http.StatusBadRequest},
	} {
		if resp, b := post(c.token, c.parts); resp.StatusCode != c.want {
			t.Fatalf("bad upload: %d %s, want %d", resp.StatusCode, b, c.want)
		}
	}
	// The same letter again: flagged, refused with the earlier
	// registration named, returned to its sender.
	resp, b = post(clerk.token, append(fields, part{name: "file", fileName: "scan-2.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "again"}))}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("second upload: %d %s", resp.StatusCode, b)
	}
	again := decode[reception.Item](t, b)
	resp, b = w.call(clerk.token, "POST", "/api/v1/reception/"+again.ID+"/register", nil)
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(string(b), "/problems/duplicate-arrival") || !strings.Contains(string(b), `"arrival_number":2`) {
		t.Fatalf("duplicate: %d %s", resp.StatusCode, b)
	}
	if resp, b := w.call(clerk.token, "POST", "/api/v1/reception/"+again.ID+"/return", map[string]any{"reason": "Trùng văn bản đã nhận"}); resp.StatusCode != http.StatusOK ||
		!strings.Contains(string(b), `"status":"returned"`) {
		t.Fatalf("return: %d %s", resp.StatusCode, b)
	}

	// The incoming register.
	resp, b = w.call(clerk.token, "GET", "/api/v1/organizations/"+stc.org.ID+"/registers", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registers: %d %s", resp.StatusCode, b)
	}
	var incoming string
	for _, r := range decode[struct {
		Registers []storage.Register `json:"registers"`
	}](t, b).Registers {
		if r.Kind == storage.RegisterIncoming && r.Default {
			incoming = r.ID
		}
	}
	year := strconv.Itoa(time.Now().In(reception.Vietnam).Year())
	path := "/api/v1/registers/" + incoming + "/entries?year=" + year
	resp, b = w.call(clerk.token, "GET", path, nil)
	list := decode[struct {
		Columns []string          `json:"columns"`
		Entries []reception.Entry `json:"entries"`
	}](t, b)
	if resp.StatusCode != http.StatusOK || len(list.Columns) != 10 || list.Columns[0] != "Ngày đến" || len(list.Entries) != 2 ||
		list.Entries[0].ArrivalNumber != 1 || list.Entries[0].NumberSymbol != issued.Symbol || list.Entries[0].Issuer != w.e.office.org.Name ||
		list.Entries[1].Receiver != "Phòng Ngân sách" || list.Entries[1].Date != "15/01/2026" {
		t.Fatalf("incoming entries: %d %s", resp.StatusCode, b)
	}
	resp, b = w.call(clerk.token, "GET", path+"&format=xlsx", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("xlsx: %d %.200s", resp.StatusCode, b)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	f.Close()
	if err != nil || len(rows) != 4 || rows[1][0] != "Ngày đến" || rows[1][1] != "Số đến" || rows[2][1] != "01" || rows[2][3] != issued.Symbol ||
		rows[3][2] != "Bộ Tài chính" || rows[3][3] != "12/BTC-NSNN" {
		t.Fatalf("xlsx rows %q %v", rows, err)
	}
	resp, b = w.call(clerk.token, "GET", path+"&format=pdf", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %.200s", resp.StatusCode, b)
	}
	file := filepath.Join(t.TempDir(), "incoming.pdf")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command(testharness.Tool(t, "pdftotext", "poppler-utils"), "-raw", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, text)
	}
	for _, s := range []string{"Sổ đăng ký văn bản đến", "Từ số 01 đến số 02", "Ngày đến", "Số đến", "Tác giả", issued.Symbol, "12/BTC-NSNN", "Phòng Ngân sách"} {
		if !strings.Contains(string(text), s) {
			t.Fatalf("incoming register pdf lacks %q:\n%s", s, text)
		}
	}
	if resp, b := w.call(sender.token, "GET", path+"&format=pdf", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another organisation prints the incoming register: %d %.200s", resp.StatusCode, b)
	}
	// The follow-up register beside it: a line per registered document,
	// narrowed to a period, printed with the decree's headings.
	follow := "/api/v1/registers/" + incoming + "/follow-up?year=" + year
	resp, b = w.call(clerk.token, "GET", follow, nil)
	fl := decode[struct {
		Columns []string                  `json:"columns"`
		Entries []reception.FollowUpEntry `json:"entries"`
	}](t, b)
	if resp.StatusCode != http.StatusOK || len(fl.Columns) != 7 || fl.Columns[4] != "Tiến độ giải quyết" || len(fl.Entries) != 2 ||
		fl.Entries[0].ArrivalNumber != 1 || fl.Entries[1].Receiver != "Phòng Ngân sách" {
		t.Fatalf("follow-up: %d %s", resp.StatusCode, b)
	}
	resp, b = w.call(clerk.token, "GET", follow+"&from=2000-01-01&to=2000-01-31", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"entries":[]`) {
		t.Fatalf("follow-up of an empty period: %d %s", resp.StatusCode, b)
	}
	for _, bad := range []string{"&from=yesterday", "&from=2026-02-01&to=2026-01-01", "&format=doc", "x"} {
		target := follow + bad
		if bad == "x" {
			target = "/api/v1/registers/" + incoming + "/follow-up?year=x"
		}
		if resp, b := w.call(clerk.token, "GET", target, nil); resp.StatusCode != http.StatusUnprocessableEntity ||
			resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("follow-up %s: %d %s", bad, resp.StatusCode, b)
		}
	}
	resp, b = w.call(clerk.token, "GET", follow+"&format=xlsx", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("follow-up xlsx: %d %.200s", resp.StatusCode, b)
	}
	if f, err = excelize.OpenReader(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	rows, err = f.GetRows(f.GetSheetName(0))
	f.Close()
	if err != nil || len(rows) != 4 || rows[1][0] != "Số đến" || rows[1][3] != "Thời hạn giải quyết" || rows[2][0] != "01" || rows[3][0] != "02" {
		t.Fatalf("follow-up xlsx rows %q %v", rows, err)
	}
	resp, b = w.call(clerk.token, "GET", follow+"&format=pdf", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("follow-up pdf: %d %.200s", resp.StatusCode, b)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if text, err = exec.Command(testharness.Tool(t, "pdftotext", "poppler-utils"), "-raw", file, "-").CombinedOutput(); err != nil {
		t.Fatalf("pdftotext: %v %s", err, text)
	}
	for _, s := range []string{"SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN", "Số đến", "Tiến độ giải quyết", "12/BTC-NSNN", "Chờ trình, giao xử lý"} {
		if !strings.Contains(strings.ReplaceAll(string(text), "\n", " "), s) {
			t.Fatalf("follow-up pdf lacks %q:\n%s", s, text)
		}
	}
	if resp, b := w.call(sender.token, "GET", follow+"&format=pdf", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another organisation prints the follow-up register: %d %.200s", resp.StatusCode, b)
	}
}

// arrival puts a scan in a side's reception queue, for the authorization
// matrix: a fresh one each time, since registering or returning it uses it
// up.
func (m *matrix) arrival(t *side) string {
	m.e.t.Helper()
	ctx := context.Background()
	info, err := m.e.blobs.Put(ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: "arrival"})), blob.PutOptions{})
	if err != nil {
		m.e.t.Fatal(err)
	}
	a, err := storage.InsertArrival(ctx, m.e.db.Pool, storage.Arrival{OrganizationID: t.office.org.ID, Source: "upload", Medium: "paper",
		FromName: "Bộ Tài chính", CodeNumber: m.unique(""), CodeNotation: "BTC", Type: "CV", Subject: "Công văn", Urgency: "thuong",
		Confidentiality: "thuong", BlobKey: info.Key, Size: info.Size, FileName: "scan.pdf", Verdict: "UNSIGNED",
		Verification: []byte(`{"verdict":"UNSIGNED"}`), ArrivedAt: time.Now()})
	if err != nil {
		m.e.t.Fatal(err)
	}
	return a.ID
}

// receptionRoutes are the matrix's entries of the reception queue: only
// the clerks of the receiving organisation; members without the role are
// refused, everyone else does not find the arrival.
func (m *matrix) receptionRoutes() []route {
	clerkOnly := func(status int) func(role, rel string) int {
		return authed(func(role, rel string) int {
			switch {
			case rel == other || (role == superadmin && rel != none):
				return http.StatusNotFound
			case role == storage.RoleClerk:
				return status
			}
			return http.StatusForbidden
		})
	}
	at := func(suffix string, body any) func(*matrix, caller, string, *side) request {
		return func(m *matrix, _ caller, _ string, t *side) request {
			path := "/api/v1/reception/" + m.arrival(t) + suffix
			if body == nil {
				return request{path: path}
			}
			return jsonBody(path, body)
		}
	}
	return []route{
		{"GET", "/api/v1/reception", []string{none}, func(*matrix, caller, string, *side) request {
			return request{path: "/api/v1/reception"}
		}, clerkOnly(http.StatusOK)},
		{"POST", "/api/v1/reception", []string{none}, func(m *matrix, _ caller, _ string, _ *side) request {
			parts := []part{{name: "from", value: "Bộ Tài chính"}, {name: "number", value: m.unique("")}, {name: "symbol", value: "BTC"},
				{name: "type", value: "CV"}, {name: "subject", value: "Công văn"},
				{name: "file", fileName: "scan.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: m.unique("scan ")}))}}
			body, ct := multipartBody(parts)
			return request{path: "/api/v1/reception", body: body, contentType: ct}
		}, clerkOnly(http.StatusCreated)},
		{"GET", "/api/v1/reception/{id}", []string{own, other}, at("", nil), clerkOnly(http.StatusOK)},
		{"GET", "/api/v1/reception/{id}/file", []string{own, other}, at("/file", nil), clerkOnly(http.StatusOK)},
		{"POST", "/api/v1/reception/{id}/register", []string{own, other}, at("/register", map[string]any{}), clerkOnly(http.StatusCreated)},
		{"POST", "/api/v1/reception/{id}/return", []string{own, other}, at("/return", map[string]any{"reason": "Gửi nhầm"}), clerkOnly(http.StatusOK)},
		{"POST", "/api/v1/reception/{id}/confirm-recall", []string{own, other}, at("/confirm-recall", nil), clerkOnly(http.StatusConflict)},
	}
}
