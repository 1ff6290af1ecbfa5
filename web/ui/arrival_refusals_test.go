package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestArrivalRefusalsInReadersWords: registering an arrival with a
// receiver or note too long, or sending it back with a reason too long,
// was refused with the service's English ("receiver is at most 500
// characters") under a Vietnamese headline, linked to no field. Each now
// reads in the reader's words and links its field, which keeps what was
// typed.
func TestArrivalRefusalsInReadersWords(t *testing.T) {
	e := newEnv(t)
	incomingUser(t, e, "vanthu", "Lê Thị Thư", "Văn thư", "VP", storage.RoleClerk)
	receiveOverAPI(t, e, "vanthu", fixture(t, "drafts/qd-chu-tich.pdf"), map[string]string{"from": "Sở Tài chính", "number": "7",
		"symbol": "STC-NS", "type": "CV", "subject": "Về việc quyết toán ngân sách"})
	var id string
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT id FROM arrivals").Scan(&id); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	e.login(c, "vanthu")
	long := strings.Repeat("Văn phòng ", 120)
	for _, tc := range []struct {
		path       string
		form       url.Values
		field, why string
		kept       string
	}{
		{"/register", url.Values{"receiver": {long}, "note": {"Chuyển gấp"}}, "receiver", "Người nhận, đơn vị nhận tối đa 500 ký tự", "Chuyển gấp"},
		{"/register", url.Values{"receiver": {"Chủ tịch"}, "note": {long}}, "note", "Ghi chú tối đa 500 ký tự", "Chủ tịch"},
		{"/return", url.Values{"reason": {long + long}}, "return-reason", "Lý do tối đa 1000 ký tự", strings.TrimSpace(long)},
	} {
		status, _, page := postPage(t, e, c, "/reception/"+id+tc.path, tc.form)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", tc.field, status)
			continue
		}
		mustContain(t, tc.field, page, `<a href="#`+tc.field+`">`, `<span id="error-reason">`+tc.why, `id="`+tc.field+`" aria-invalid="true"`, tc.kept)
		if strings.Contains(page, "at most") {
			t.Errorf("%s: the service's English shows through", tc.field)
		}
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM arrivals WHERE status IN ('registered', 'returned')").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d arrivals changed (%v)", n, err)
	}
}
