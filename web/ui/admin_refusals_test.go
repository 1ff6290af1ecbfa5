package ui_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestAdminFormsKeepWhatWasTyped: a refused API token form came back
// empty (its name, scopes and expiry lost) and neither it nor the
// delegation form's date refusals nor a chain template stage's number
// linked their field. Each now comes back as typed with the refused field
// linked.
func TestAdminFormsKeepWhatWasTyped(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	e.login(c, "quantri")
	user := e.users["chuyenvien"].ID
	token := func(name, expires string, scopes ...string) url.Values {
		return url.Values{"org": {e.org.ID}, "user": {user}, "name": {name}, "expires": {expires}, "scopes": scopes}
	}
	for _, tc := range []struct {
		form  url.Values
		link  string
		typed []string
	}{
		{token("Tích hợp phần mềm kế toán", "ngày mai", "documents:read"), "tok-expires", []string{`value="Tích hợp phần mềm kế toán"`, `value="ngày mai"`, `value="documents:read" checked`}},
		{token("Tích hợp phần mềm kế toán", "2020-01-01", "documents:read"), "tok-expires", []string{`value="Tích hợp phần mềm kế toán"`, `value="2020-01-01"`}},
		{token("Tích hợp phần mềm kế toán", "", "bogus"), "tok-scopes", []string{`value="Tích hợp phần mềm kế toán"`}},
	} {
		status, _, page := postPage(t, e, c, "/admin/tokens", tc.form)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("%v: %d\n%s", tc.form, status, summary(page))
			continue
		}
		mustContain(t, tc.link, page, append([]string{`<a href="#` + tc.link + `">`, `aria-invalid="true"`}, tc.typed...)...)
	}
	from := e.user("chutich", "Phạm Văn Chủ", storage.RoleSigner)
	to := e.user("phochutich", "Lê Thị Phó", storage.RoleSigner)
	deleg := url.Values{"from": {from.ID}, "to": {to.ID}, "form": {"KT"}, "starts": {"thứ hai"}, "ends": {"2099-01-01"}, "basis": {"Quyết định 15/QĐ-UBND"}}
	status, _, page := postPage(t, e, c, "/admin/delegations", deleg)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("a delegation from no date: %d", status)
	}
	mustContain(t, "a delegation from no date", page, `<a href="#dl-starts">`, `value="thứ hai"`, `value="Quyết định 15/QĐ-UBND"`)

	// A chain template's stage with a number that is none: the summary
	// links that stage's field.
	status, _, page = postPage(t, e, c, "/admin/templates", url.Values{"rows": {"2"}, "name": {"Trình ký công văn"},
		"s1_name": {"Thẩm định"}, "s1_kind": {"review"}, "s1_rule": {"all"}, "s1_days": {"ba"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("a stage's deadline that is no number: %d", status)
	}
	mustContain(t, "a stage's deadline that is no number", page, `<a href="#s1-days">`, `value="ba"`, `value="Trình ký công văn"`)

	// A stage filled in but for its name was left out without a word: it
	// is refused, its name's field linked, and nothing is saved.
	status, _, page = postPage(t, e, c, "/admin/templates", url.Values{"rows": {"2"}, "name": {"Trình ký công văn"},
		"s1_name": {"Thẩm định"}, "s1_kind": {"review"}, "s1_rule": {"all"},
		"s2_name": {""}, "s2_kind": {"sign"}, "s2_rule": {"all"}, "s2_participants": {"role:signer"}, "s2_days": {"2"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("a stage without a name: %d", status)
	}
	mustContain(t, "a stage without a name", page, `<a href="#s2-name">`, "Bước 2: cần tên bước", `value="Trình ký công văn"`, `value="2"`)
	var templates int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM chain_templates WHERE name = 'Trình ký công văn'").Scan(&templates); err != nil || templates != 0 {
		t.Fatalf("%d templates saved (%v)", templates, err)
	}
}
