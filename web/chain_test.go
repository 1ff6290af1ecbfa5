package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
)

// TestChainOverAPI walks a draft through its chain over the API: a
// template, submission with an Idempotency-Key, two reviewers racing on an
// any stage (one wins, the other gets 409 with the state), the signer's
// inbox, the history, the status filter and the version refused while the
// chain awaits the signature.
func TestChainOverAPI(t *testing.T) {
	e := newEnv(t, 1<<20)
	org, vp := e.office.org.ID, e.office.units["VP"].ID
	admin := e.member(org, "quantri", []string{storage.RoleAdmin}, vp)
	r1 := e.member(org, "truongphong", []string{storage.RoleReviewer}, vp)
	r2 := e.member(org, "phophong", []string{storage.RoleReviewer}, vp)
	signer := e.member(org, "chutich", []string{storage.RoleSigner}, vp)
	root := e.member("", "hethong", nil)
	call := func(token, method, path string, body any, hdr ...string) (int, []byte) {
		t.Helper()
		var rd *bytes.Reader
		ct := ""
		if body != nil {
			b, _ := json.Marshal(body)
			rd, ct = bytes.NewReader(b), "application/json"
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequest(method, e.url+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		out.ReadFrom(resp.Body)
		if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: %d as %s", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return resp.StatusCode, out.Bytes()
	}

	status, b := call(admin.token, "POST", "/api/v1/chain-templates", map[string]any{"name": "Quyết định", "document_types": []string{"QĐ"},
		"stages": []map[string]any{
			{"name": "Kiểm tra", "kind": "review", "participants": []map[string]string{{"role": "reviewer", "unit_id": "drafter"}}, "rule": "any", "due": map[string]int{"days": 2}},
			{"name": "Ký", "kind": "sign", "participants": []map[string]string{{"user_id": signer.user.ID}}, "rule": map[string]int{"k": 1}},
		}})
	if status != http.StatusCreated {
		t.Fatalf("template: %d %s", status, b)
	}
	tmpl := decode[struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	}](t, b)

	resp, b := e.upload([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Quyết định ban hành quy chế"}, {name: "unit", value: "VP"},
		{name: "file", fileName: "qd.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "chain"}))}}, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload %d %s", resp.StatusCode, b)
	}
	doc := decode[storage.Document](t, b)
	path := "/api/v1/documents/" + doc.ID

	status, first := call(e.token, "POST", path+"/submit", map[string]any{"template_id": tmpl.ID}, "Idempotency-Key", "trinh-1")
	status2, again := call(e.token, "POST", path+"/submit", map[string]any{"template_id": tmpl.ID}, "Idempotency-Key", "trinh-1")
	if status != http.StatusOK || status2 != http.StatusOK || !bytes.Equal(first, again) {
		t.Fatalf("submit %d / replay %d:\n%s\n%s", status, status2, first, again)
	}
	if !strings.Contains(string(first), `"status":"in_review"`) || !strings.Contains(string(first), `"current_stage":"Kiểm tra"`) {
		t.Fatalf("chain %s", first)
	}

	var wg sync.WaitGroup
	codes := make([]int, 2)
	bodies := make([][]byte, 2)
	for i, m := range []member{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], bodies[i] = call(m.token, "POST", path+"/actions", map[string]any{"action": "approve"})
		}()
	}
	wg.Wait()
	if codes[0]+codes[1] != http.StatusOK+http.StatusConflict {
		t.Fatalf("two approvers: %d %s / %d %s", codes[0], bodies[0], codes[1], bodies[1])
	}
	loser := bodies[0]
	if codes[1] == http.StatusConflict {
		loser = bodies[1]
	}
	conflict := decode[struct {
		Status int `json:"status"`
		State  struct {
			Status string `json:"status"`
		} `json:"state"`
	}](t, loser)
	if conflict.Status != http.StatusConflict || conflict.State.Status != "approved" {
		t.Fatalf("the loser's answer: %s", loser)
	}

	if status, b := call(signer.token, "POST", path+"/actions", map[string]any{"action": "return"}); status != http.StatusUnprocessableEntity ||
		decode[struct{ Reason string }](t, b).Reason != "chain.return-comment" {
		t.Fatalf("a return without a comment: %d %s", status, b)
	}
	if status, b := call(signer.token, "POST", path+"/actions", map[string]any{"action": "approve", "extra": 1}); status != http.StatusBadRequest {
		t.Fatalf("an unknown field: %d %s", status, b)
	}
	body, ct := multipartBody([]part{{name: "file", fileName: "v2.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "v2"}))}})
	if r, b := send(t, e.url, e.token, "POST", path+"/versions", body, ct); r.StatusCode != http.StatusConflict || !strings.Contains(string(b), "version-refused") {
		t.Fatalf("a version while awaiting the signature: %d %s", r.StatusCode, b)
	}

	status, b = call(signer.token, "GET", "/api/v1/inbox?view=open&limit=10", nil)
	inbox := decode[struct {
		Counts struct{ Open, Overdue int } `json:"counts"`
		Items  []struct {
			Document struct {
				ID string `json:"id"`
			} `json:"document"`
			ExpectedAction string `json:"expected_action"`
			SinceDisplay   string `json:"since_display"`
		} `json:"items"`
	}](t, b)
	if status != http.StatusOK || inbox.Counts.Open != 1 || len(inbox.Items) != 1 || inbox.Items[0].Document.ID != doc.ID ||
		inbox.Items[0].ExpectedAction != "sign" || !strings.HasSuffix(inbox.Items[0].SinceDisplay, "+07:00") {
		t.Fatalf("the signer's inbox: %d %s", status, b)
	}
	if status, _ := call(signer.token, "GET", "/api/v1/inbox?view=everything", nil); status != http.StatusBadRequest {
		t.Fatalf("an unknown view: %d", status)
	}

	status, b = call(e.token, "GET", path+"/history", nil)
	if status != http.StatusOK || strings.Count(string(b), `"action":`) != 2 || !strings.Contains(string(b), `+07:00"`) {
		t.Fatalf("history: %d %s", status, b)
	}
	if status, b := call(e.token, "GET", "/api/v1/documents?status=cho_ky", nil); status != http.StatusBadRequest {
		t.Fatalf("an unknown status filter: %d %s", status, b)
	}
	if status, b := call(e.token, "GET", "/api/v1/documents?status=approved", nil); status != http.StatusOK || !strings.Contains(string(b), doc.ID) {
		t.Fatalf("approved documents: %d %s", status, b)
	}

	// The working calendar: the system administrator sets a year, anyone reads it.
	if status, b := call(root.token, "PUT", "/api/v1/calendar/2026", map[string]any{"holidays": []map[string]string{{"date": "2026-02-30"}}}); status != http.StatusUnprocessableEntity ||
		decode[struct{ Reason string }](t, b).Reason != "calendar.date-format" {
		t.Fatalf("a bad date: %d %s", status, b)
	}
	if status, b := call(root.token, "PUT", "/api/v1/calendar/2026", map[string]any{"holidays": []map[string]string{{"date": "2026-02-17", "name": "Tết"}},
		"working_days": []map[string]string{{"date": "2026-02-07", "name": "Làm bù"}}}); status != http.StatusOK {
		t.Fatalf("set 2026: %d %s", status, b)
	}
	status, b = call(e.token, "GET", "/api/v1/calendar/2026", nil)
	if status != http.StatusOK || !strings.Contains(string(b), `"set":true`) || !strings.Contains(string(b), "2026-02-07") {
		t.Fatalf("read 2026: %d %s", status, b)
	}
	if status, _ := call(e.token, "GET", "/api/v1/calendar/tet", nil); status != http.StatusNotFound {
		t.Fatalf("a year that is not one: %d", status)
	}
}
