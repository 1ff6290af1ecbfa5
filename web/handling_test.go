package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
)

// TestHandlingAPI runs a registered document through assigning, a unit
// head's handler and completion over HTTP, with the answers to bad input
// and to a repeated completion, the inbox and the statistics' forms.
func TestHandlingAPI(t *testing.T) {
	e := newEnv(t, 1<<20)
	org := e.office.org.ID
	doc := e.uploadPDF("Công văn đến", testpdf.Bytes(testpdf.Options{Text: "den"}))
	if err := e.db.InTx(context.Background(), func(tx pgx.Tx) error {
		return handling.Open(context.Background(), tx, doc.ID, org, doc.CreatedAt)
	}); err != nil {
		t.Fatal(err)
	}
	leader := e.member(org, "lanhdao", []string{storage.RoleSigner}, e.office.units["VP"].ID)
	head := e.member(org, "truongphong", []string{storage.RoleReviewer}, e.office.units["TH"].ID)
	handler := e.member(org, "chuyenvienth", []string{storage.RoleDrafter}, e.office.units["TH"].ID)
	call := func(who member, method, path string, body any) (*http.Response, []byte) {
		t.Helper()
		var r *bytes.Reader
		ct := ""
		switch b := body.(type) {
		case nil:
			r = bytes.NewReader(nil)
		case string:
			r, ct = bytes.NewReader([]byte(b)), "application/json"
		default:
			raw, _ := json.Marshal(b)
			r, ct = bytes.NewReader(raw), "application/json"
		}
		return e.do(method, path, r, ct, map[string]string{"Authorization": "Bearer " + who.token})
	}
	expect := func(resp *http.Response, body []byte, status int) {
		t.Helper()
		if resp.StatusCode != status {
			t.Fatalf("%d %s, want %d", resp.StatusCode, body, status)
		}
		if status >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%d answered as %s", status, resp.Header.Get("Content-Type"))
		}
	}
	path := "/api/v1/documents/" + doc.ID
	th := e.office.units["TH"].ID
	resp, b := call(leader, "POST", path+"/assign", `{"assignments": [{"unit_id": "`+th+`", "role": "lead", "due": "soon"}]}`)
	expect(resp, b, http.StatusBadRequest)
	resp, b = call(leader, "POST", path+"/assign", `{"assignments": [{"unit_id": "`+th+`", "role": "lead"}], "extra": 1}`)
	expect(resp, b, http.StatusBadRequest)
	resp, b = call(leader, "POST", path+"/assign", map[string]any{"assignments": []map[string]any{
		{"unit_id": th, "role": "lead"}, {"user_id": handler.user.ID, "role": "lead"}}})
	expect(resp, b, http.StatusUnprocessableEntity)
	resp, b = call(leader, "POST", path+"/assign", map[string]any{"direction": "Phòng TH chủ trì",
		"assignments": []map[string]any{{"unit_id": th, "role": "lead", "due": 5}}})
	expect(resp, b, http.StatusOK)
	var v handling.View
	if err := json.Unmarshal(b, &v); err != nil || v.Status != handling.StatusAssigned || v.Due == nil || len(v.Assignments) != 1 {
		t.Fatalf("after assigning: %v %s", err, b)
	}
	resp, b = call(head, "POST", path+"/assign", map[string]any{"assignments": []map[string]any{{"user_id": handler.user.ID}}})
	expect(resp, b, http.StatusOK)
	resp, b = call(handler, "POST", path+"/progress", map[string]any{"note": "Đang xử lý"})
	expect(resp, b, http.StatusOK)
	resp, b = call(handler, "POST", path+"/complete", map[string]any{"note": "Xong"})
	expect(resp, b, http.StatusOK)
	if err := json.Unmarshal(b, &v); err != nil || v.Status != handling.StatusCompleted || len(v.History) != 4 {
		t.Fatalf("after completing: %v %s", err, b)
	}
	resp, b = call(handler, "POST", path+"/complete", map[string]any{})
	expect(resp, b, http.StatusConflict)

	resp, b = call(handler, "GET", "/api/v1/inbox?view=handled&source=handling", nil)
	expect(resp, b, http.StatusOK)
	var inbox struct {
		Counts storage.InboxCounts `json:"counts"`
		Items  []struct {
			AssignmentID string `json:"assignment_id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &inbox); err != nil || inbox.Counts.Handled != 1 || len(inbox.Items) != 1 || inbox.Items[0].AssignmentID == "" {
		t.Fatalf("the handler's inbox: %v %s", err, b)
	}
	resp, b = call(handler, "GET", "/api/v1/inbox?source=mail", nil)
	expect(resp, b, http.StatusBadRequest)

	year := doc.CreatedAt.In(calendar.Vietnam).Format("2006")
	resp, b = call(leader, "GET", "/api/v1/statistics?from="+year+"-01-01&to="+year+"-12-31", nil)
	expect(resp, b, http.StatusOK)
	var st handling.Statistics
	if err := json.Unmarshal(b, &st); err != nil || st.Organization == nil || st.Organization.Received != 1 || st.Organization.CompletedOnTime != 1 {
		t.Fatalf("statistics: %v %s", err, b)
	}
	for format, magic := range map[string]string{"xlsx": "PK", "pdf": "%PDF-"} {
		resp, b = call(leader, "GET", "/api/v1/statistics?from="+year+"-01-01&to="+year+"-12-31&format="+format, nil)
		expect(resp, b, http.StatusOK)
		if !strings.HasPrefix(string(b), magic) || !strings.Contains(resp.Header.Get("Content-Disposition"), "thong-ke-") {
			t.Errorf("%s: %q %q", format, resp.Header.Get("Content-Disposition"), b[:min(len(b), 8)])
		}
	}
	resp, b = call(leader, "GET", "/api/v1/statistics?from="+year+"-01-01&to="+year+"-12-31&format=doc", nil)
	expect(resp, b, http.StatusBadRequest)
	resp, b = call(leader, "GET", "/api/v1/statistics?to="+year+"-12-31", nil)
	expect(resp, b, http.StatusUnprocessableEntity)
	resp, b = call(head, "GET", "/api/v1/statistics?from="+year+"-01-01&to="+year+"-12-31&unit_id="+th, nil)
	expect(resp, b, http.StatusOK)
	resp, b = call(head, "GET", "/api/v1/statistics?from="+year+"-01-01&to="+year+"-12-31&unit_id=bogus", nil)
	expect(resp, b, http.StatusNotFound)
}

// Sending straight to a unit over HTTP: 403 problem while the
// organisation's rules do not allow it; an administrator allows it
// (PUT handling-settings, a bad body is 400 or 422); then presenting to
// the unit assigns it.
func TestSendStraightToUnitOverHTTP(t *testing.T) {
	e := newEnv(t, 1<<20)
	org := e.office.org.ID
	doc := e.uploadPDF("Công văn đến", testpdf.Bytes(testpdf.Options{Text: "den"}))
	if err := e.db.InTx(context.Background(), func(tx pgx.Tx) error {
		return handling.Open(context.Background(), tx, doc.ID, org, doc.CreatedAt)
	}); err != nil {
		t.Fatal(err)
	}
	clerk := e.member(org, "vanthu2", []string{storage.RoleClerk}, e.office.units["VP"].ID)
	admin := e.member(org, "quantri2", []string{storage.RoleAdmin}, e.office.units["VP"].ID)
	e.member(org, "truongphong2", []string{storage.RoleReviewer}, e.office.units["TH"].ID)
	call := func(who member, method, path string, body string) (*http.Response, []byte) {
		t.Helper()
		return e.do(method, path, bytes.NewReader([]byte(body)), "application/json", map[string]string{"Authorization": "Bearer " + who.token})
	}
	th := e.office.units["TH"].ID
	present := "/api/v1/documents/" + doc.ID + "/present"
	resp, b := call(clerk, "POST", present, `{"unit_id": "`+th+`", "due": 5}`)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(b), "clerk_sends_to_unit") {
		t.Fatalf("sent while the rules forbid it: %d %s", resp.StatusCode, b)
	}
	settings := "/api/v1/organizations/" + org + "/handling-settings"
	for body, want := range map[string]int{`{}`: http.StatusUnprocessableEntity, `{"clerk_sends_to_unit": "yes"}`: http.StatusBadRequest} {
		if resp, b := call(admin, "PUT", settings, body); resp.StatusCode != want {
			t.Fatalf("settings %s: %d %s", body, resp.StatusCode, b)
		}
	}
	if resp, b := call(clerk, "PUT", settings, `{"clerk_sends_to_unit": true}`); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a clerk changes the rules: %d %s", resp.StatusCode, b)
	}
	if resp, b := call(admin, "PUT", settings, `{"clerk_sends_to_unit": true}`); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"clerk_sends_to_unit":true`) {
		t.Fatalf("allowing: %d %s", resp.StatusCode, b)
	}
	if resp, b := call(clerk, "GET", settings, ""); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"clerk_sends_to_unit":true`) {
		t.Fatalf("reading the rules: %d %s", resp.StatusCode, b)
	}
	resp, b = call(clerk, "POST", present, `{"unit_id": "`+th+`", "due": 5}`)
	var v handling.View
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &v) != nil || v.Status != handling.StatusAssigned || len(v.Assignments) != 1 || v.Assignments[0].UnitID != th {
		t.Fatalf("sent: %d %s", resp.StatusCode, b)
	}
	if resp, b := call(clerk, "POST", present, `{"unit_id": "`+th+`"}`); resp.StatusCode != http.StatusConflict {
		t.Fatalf("sent twice: %d %s", resp.StatusCode, b)
	}
}
