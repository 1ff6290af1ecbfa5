package ui_test

import (
	"net/http"
	"net/url"
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
	// Registering twice is a state the page explains.
	if resp := e.post(clerk, "/reception/"+arrivalID+"/register", "", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("registering twice: %d, want 409", resp.StatusCode)
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
