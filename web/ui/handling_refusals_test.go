package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestHandlingFormsKeepWhatWasTyped: a refused handling form (giao xử
// lý: a deadline that is no number of days; a completion with a reply
// that is none) came back with every field empty — the receivers chosen,
// their roles and days, the direction, the handler's note. It now comes
// back in the same form as typed, the summary linking the refused field
// of that form.
func TestHandlingFormsKeepWhatWasTyped(t *testing.T) {
	e := newEnv(t)
	incomingUser(t, e, "vanthu", "Lê Thị Thư", "Văn thư", "VP", storage.RoleClerk)
	leader := incomingUser(t, e, "chutich", "Nguyễn Văn Chủ", "Chủ tịch", "VP", storage.RoleSigner)
	coord := incomingUser(t, e, "phoihop", "Hà Văn Hợp", "Chuyên viên", "TH", storage.RoleDrafter)
	receiveOverAPI(t, e, "vanthu", fixture(t, "drafts/qd-chu-tich.pdf"), map[string]string{"from": "Sở Tư pháp", "number": "9",
		"symbol": "STP-VP", "type": "CV", "subject": "Văn bản đến số 9"})
	var arrival string
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT id FROM arrivals").Scan(&arrival); err != nil {
		t.Fatal(err)
	}
	clerk := e.client()
	e.login(clerk, "vanthu")
	resp := e.post(clerk, "/reception/"+arrival+"/register", "", nil)
	docPath, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
	if resp := e.post(clerk, docPath+"/handling/present", "user_id="+leader.ID, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("present: %d", resp.StatusCode)
	}

	boss := e.client()
	e.login(boss, "chutich")
	form := url.Values{"person_1": {coord.ID}, "role_person_1": {"lead"}, "days_person_1": {"4"},
		"person_2": {e.users["chuyenvien"].ID}, "role_person_2": {"coordinate"}, "days_person_2": {"hai"}, "direction": {"Trả lời trước hạn."}}
	status, _, page := postPage(t, e, boss, docPath+"/handling/assign", form)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("assign with a bad deadline: %d", status)
	}
	if !regexp.MustCompile(`<input [^>]*aria-invalid="true"[^>]* id="days-person-2"`).MatchString(page) {
		t.Error("the refused deadline is not marked invalid")
	}
	mustContain(t, "assign with a bad deadline", page, `<a href="#days-person-2">`,
		`<option value="`+coord.ID+`" selected>`, `<option value="`+e.users["chuyenvien"].ID+`" selected>`,
		`<option value="lead" selected>`, `<option value="coordinate" selected>`, `value="4"`, `value="hai"`, ">Trả lời trước hạn.</textarea>")

	form.Set("days_person_2", "2")
	if status, _, page := postPage(t, e, boss, docPath+"/handling/assign", form); status != http.StatusSeeOther {
		t.Fatalf("assign: %d\n%s", status, summary(page))
	}
	helper := e.client()
	e.login(helper, "phoihop")
	status, _, page = postPage(t, e, helper, docPath+"/handling/complete", url.Values{"note": {"Đã trả lời bằng điện thoại."},
		"reply_document_id": {"6f1c1f4e-0000-4000-8000-000000000000"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("complete with an unknown reply: %d", status)
	}
	mustContain(t, "complete with an unknown reply", page, `id="complete-note-0" name="note" rows="2" maxlength="4000">Đã trả lời bằng điện thoại.</textarea>`,
		`<a href="#complete-reply-0">`)
	if strings.Contains(page, `id="progress-note-0" name="note" rows="2" required maxlength="4000">Đã`) {
		t.Error("the completion's note came back in the progress form")
	}
}
