package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/storage"
)

// TestAdminIssuingQR: the organisation's administrator turns the
// verification QR code on from the signing page (audited); a drafter's
// POST is refused and changes nothing.
func TestAdminIssuingQR(t *testing.T) {
	e := newEnv(t)
	drafter, admin := e.client(), e.client()
	e.login(drafter, "chuyenvien")
	e.login(admin, "quantri")
	if resp := e.post(drafter, "/admin/signing/qr", "org="+e.org.ID+"&verify_qr=on", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a drafter turning the QR code on: %d, want 403", resp.StatusCode)
	}
	if s, err := storage.GetIssuingSettings(t.Context(), e.db.Pool, e.org.ID); err != nil || s.VerifyQR {
		t.Fatalf("after the refused form: %+v %v", s, err)
	}
	if resp := e.post(admin, "/admin/signing/qr", "org="+e.org.ID+"&verify_qr=on", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the administrator turning the QR code on: %d", resp.StatusCode)
	}
	if resp, body := get(t, admin, e.url+"/admin/signing?org="+e.org.ID); resp.StatusCode != http.StatusOK ||
		!strings.Contains(body, `id="qr-`+e.org.ID+`" name="verify_qr" value="on" checked`) {
		t.Fatalf("the signing page after: %d\n%.3000s", resp.StatusCode, body)
	}
	if s, err := storage.GetIssuingSettings(t.Context(), e.db.Pool, e.org.ID); err != nil || !s.VerifyQR {
		t.Fatalf("after the form: %+v %v", s, err)
	}
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM audit_log WHERE action = 'organization.issuing_settings'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d audit entries (%v)", n, err)
	}
}
