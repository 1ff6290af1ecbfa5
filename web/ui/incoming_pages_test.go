package ui_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestIncomingPagesRefuse: the reception pages are the clerk's — a drafter
// is refused the queue, the upload form and every action, and nothing
// changes; bad input (an unknown arrival, an unknown queue view, a form
// without a file, a deadline that is not a number of days) answers a
// readable page, never a 500; the handling forms on a document that is
// not in handling are refused, and a stranger's arrival is not found.
func TestIncomingPagesRefuse(t *testing.T) {
	e := newEnv(t)
	incomingUser(t, e, "vanthu", "Lê Thị Thư", "Văn thư", "VP", storage.RoleClerk)
	receiveOverAPI(t, e, "vanthu", fixture(t, "drafts/qd-chu-tich.pdf"), map[string]string{"from": "Sở Tài chính", "number": "7",
		"symbol": "STC-NS", "type": "CV", "subject": "Về việc quyết toán ngân sách"})
	var arrivalID string
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT id FROM arrivals").Scan(&arrivalID); err != nil {
		t.Fatal(err)
	}

	drafter := e.client()
	e.login(drafter, "chuyenvien")
	for _, path := range []string{"/reception", "/reception/new", "/reception/" + arrivalID} {
		if resp, _ := get(t, drafter, e.url+path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a drafter's GET %s: %d, want 403", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/reception/" + arrivalID + "/register", "/reception/" + arrivalID + "/return", "/reception/" + arrivalID + "/confirm-recall"} {
		if resp := e.post(drafter, path, "reason=x", nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a drafter's POST %s: %d, want 403", path, resp.StatusCode)
		}
	}

	clerk := e.client()
	e.login(clerk, "vanthu")
	for path, want := range map[string]int{
		"/reception?status=nonsense":                      http.StatusBadRequest,
		"/reception/6f1c1f4e-0000-4000-8000-000000000000": http.StatusNotFound,
		"/reception/not-a-uuid":                           http.StatusNotFound,
		"/reception/" + arrivalID:                         http.StatusOK,
		"/reception":                                      http.StatusOK,
		"/reception/new":                                  http.StatusOK,
	} {
		resp, body := get(t, clerk, e.url+path)
		if resp.StatusCode != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("the clerk's GET %s: %d %s, want %d and a page", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
		if want == http.StatusOK && path == "/reception/"+arrivalID && !strings.Contains(body, `id="arrival-number">1<`) {
			t.Errorf("the arrival page does not show số đến 1 before registering")
		}
	}
	// A form without a file, returning without a reason, a confirmation
	// of a recall nobody asked for.
	for path, want := range map[string]int{
		"/reception/new":                                           http.StatusBadRequest,
		"/reception/" + arrivalID + "/return":                      http.StatusUnprocessableEntity,
		"/reception/" + arrivalID + "/confirm-recall":              http.StatusConflict,
		"/reception/6f1c1f4e-0000-4000-8000-000000000000/register": http.StatusNotFound,
	} {
		resp := e.post(clerk, path, "reason=", nil)
		if resp.StatusCode != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("the clerk's POST %s: %d %s, want %d and a page", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM arrivals WHERE status <> 'arrived'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d arrivals changed by refused forms (%v)", n, err)
	}
	resp := e.post(clerk, "/reception/"+arrivalID+"/register", url.Values{"receiver": {"Chủ tịch"}}.Encode(), nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/documents/") {
		t.Fatalf("register: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	docPath, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
	// Registering twice (a double click) leads to the registered
	// document, with its số đến, and registers nothing more.
	if again := e.post(clerk, "/reception/"+arrivalID+"/register", "", nil); again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != resp.Header.Get("Location") {
		t.Errorf("registering twice: %d to %q, want the registered document", again.StatusCode, again.Header.Get("Location"))
	}
	// Assigning needs a leader; a days field that is not a number is
	// refused before the service sees it.
	if resp := e.post(clerk, docPath+"/handling/assign", "role_unit_x=lead&days_unit_x=abc", nil); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a bad deadline: %d, want 422", resp.StatusCode)
	}
	if resp := e.post(drafter, docPath+"/handling/complete", "", nil); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
		t.Errorf("a drafter's completion of a document they do not see: %d, want 404 or 403", resp.StatusCode)
	}
	if resp := e.post(clerk, docPath+"/handling/present", "user_id=nobody", nil); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("presenting to nobody: %d, want 422", resp.StatusCode)
	}
	if resp, _ := get(t, clerk, e.url+docPath); resp.StatusCode != http.StatusOK {
		t.Errorf("the registered document's page: %d", resp.StatusCode)
	}
}

// TestIncomingFormsReplyAndRecall walks the handling forms without a
// browser: the leader gives a registered document to a person to lead with
// a person to coordinate; the coordinator completes their part (the
// document stays in handling); the lead completes linking their outgoing
// draft as the reply, which completes the document and shows the reply on
// its page. A second arrival, recalled by its sender, is confirmed from
// its page and leaves the working queue.
func TestIncomingFormsReplyAndRecall(t *testing.T) {
	e := newEnv(t)
	incomingUser(t, e, "vanthu", "Lê Thị Thư", "Văn thư", "VP", storage.RoleClerk)
	leader := incomingUser(t, e, "chutich", "Nguyễn Văn Chủ", "Chủ tịch", "VP", storage.RoleSigner)
	coord := incomingUser(t, e, "phoihop", "Hà Văn Hợp", "Chuyên viên", "TH", storage.RoleDrafter)
	pdf := fixture(t, "drafts/qd-chu-tich.pdf")
	for _, n := range []string{"9", "10"} {
		receiveOverAPI(t, e, "vanthu", pdf, map[string]string{"from": "Sở Tư pháp", "number": n, "symbol": "STP-VP",
			"type": "CV", "subject": "Văn bản đến số " + n})
	}
	var first, second string
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT id FROM arrivals WHERE code_number = '9'").Scan(&first); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT id FROM arrivals WHERE code_number = '10'").Scan(&second); err != nil {
		t.Fatal(err)
	}
	clerk := e.client()
	e.login(clerk, "vanthu")
	resp := e.post(clerk, "/reception/"+first+"/register", "", nil)
	docPath, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(docPath, "/documents/") {
		t.Fatalf("register: %d to %q", resp.StatusCode, docPath)
	}
	if resp := e.post(clerk, docPath+"/handling/present", "user_id="+leader.ID, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("present: %d", resp.StatusCode)
	}

	// The drafter's outgoing draft, the reply.
	drafter := e.client()
	e.login(drafter, "chuyenvien")
	draft, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("subject", "Công văn trả lời Sở Tư pháp")
	mw.WriteField("type", "CV")
	fw, _ := mw.CreateFormFile("file", "tra-loi.pdf")
	fw.Write(draft)
	mw.Close()
	req, _ := http.NewRequest("POST", e.url+"/documents/new", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	up, err := drafter.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	up.Body.Close()
	replyID := strings.TrimPrefix(up.Header.Get("Location"), "/documents/")
	if up.StatusCode != http.StatusSeeOther || replyID == "" {
		t.Fatalf("the reply draft: %d", up.StatusCode)
	}

	boss := e.client()
	e.login(boss, "chutich")
	form := url.Values{"person_1": {e.users["chuyenvien"].ID}, "role_person_1": {"lead"}, "days_person_1": {"4"},
		"person_2": {coord.ID}, "role_person_2": {"coordinate"}, "days_person_2": {"2"}, "direction": {"Trả lời trước hạn."}}
	if resp := e.post(boss, docPath+"/handling/assign", form.Encode(), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d", resp.StatusCode)
	}
	helper := e.client()
	e.login(helper, "phoihop")
	if resp := e.post(helper, docPath+"/handling/complete", "note=Đã góp ý.", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the coordinator's completion: %d", resp.StatusCode)
	}
	if _, page := get(t, drafter, e.url+docPath); !strings.Contains(page, `data-status="assigned"`) || !strings.Contains(page, `id="complete-form-0"`) || !strings.Contains(page, replyID) {
		t.Fatalf("the lead's page after the coordinator's part: want handling assigned, the completion form and the draft as a reply choice")
	}
	if resp := e.post(drafter, docPath+"/handling/complete", url.Values{"note": {"Đã trả lời."}, "reply_document_id": {replyID}}.Encode(), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the lead's completion: %d", resp.StatusCode)
	}
	if _, page := get(t, boss, e.url+docPath); !strings.Contains(page, `data-status="completed"`) || !strings.Contains(page, `href="/documents/`+replyID+`" id="handling-reply"`) {
		t.Errorf("the completed document does not show its reply")
	}
	// Completing again is a state the page explains.
	if resp := e.post(drafter, docPath+"/handling/complete", "", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("completing a completed document: %d, want 409", resp.StatusCode)
	}

	// The sender recalls the second arrival; the clerk confirms.
	if _, err := e.db.Pool.Exec(t.Context(), "UPDATE arrivals SET recall_requested_at = now(), recall_reason = 'Gửi nhầm' WHERE id = $1", second); err != nil {
		t.Fatal(err)
	}
	if _, page := get(t, clerk, e.url+"/reception/"+second); !strings.Contains(page, `id="confirm-recall-btn"`) || strings.Contains(page, `id="register-form"`) {
		t.Fatal("a recalled arrival's page offers no confirmation, or still offers registering")
	}
	if resp := e.post(clerk, "/reception/"+second+"/confirm-recall", "", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm the recall: %d", resp.StatusCode)
	}
	if _, page := get(t, clerk, e.url+"/reception/"+second); !strings.Contains(page, `id="recall-confirmed"`) {
		t.Error("the confirmed recall is not shown")
	}
	if _, page := get(t, clerk, e.url+"/reception"); strings.Contains(page, second) {
		t.Error("the confirmed recall is still in the working queue")
	}
}
