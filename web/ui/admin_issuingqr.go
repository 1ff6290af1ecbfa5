package ui

import (
	"net/http"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/storage"
)

// The signing page's column for each organisation's issuing rule: whether
// its signature on issued documents carries the QR code of their public
// verification (register.Service.SetIssuingSettings decides who may).

var _ = addMessages(map[string][2]string{
	"qr.column":  {"Mã QR tra cứu trên văn bản phát hành", "Verification QR code on issued documents"},
	"qr.on":      {"Có", "On"},
	"qr.off":     {"Không", "Off"},
	"qr.saved":   {"Đã lưu: văn bản %s phát hành %s mã QR tra cứu.", "Saved: documents %s issues %s a verification QR code."},
	"qr.with":    {"có", "carry"},
	"qr.without": {"không có", "carry no"},
})

// issuingQR fills, for the organisations on the page, whether each draws
// the QR code and whether p may change it (its administrators, the system
// administrator).
func (u *UI) issuingQR(r *http.Request, p accounts.Principal, d *workflowAdmin) error {
	d.QR, d.QREdit = map[string]bool{}, map[string]bool{}
	for _, l := range d.Levels {
		s, err := storage.GetIssuingSettings(r.Context(), u.cfg.DB.Pool, l.Org.ID)
		if err != nil {
			return err
		}
		d.QR[l.Org.ID] = s.VerifyQR
		d.QREdit[l.Org.ID] = u.cfg.Registers != nil && accounts.Authorize(p, accounts.IssuingSettingsManage, accounts.Target{OrgID: l.Org.ID}) == nil
	}
	return nil
}

func (u *UI) saveIssuingQR(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 16<<10) {
		return
	}
	if u.cfg.Registers == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	p, _ := principal(r.Context())
	on := r.PostForm.Get("verify_qr") == "on"
	// Neither call refuses input the form can send (the organisation is
	// found or not, p may or not, and verify_qr is always given): every
	// error is the error page's.
	o, err := u.cfg.Accounts.Organization(r.Context(), p, r.PostForm.Get("org"))
	if err == nil {
		_, err = u.cfg.Registers.SetIssuingSettings(r.Context(), p, o.ID, register.IssuingSettingsRequest{VerifyQR: &on})
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	r.Method = http.MethodGet
	how := u.tr(r, "qr.without")
	if on {
		how = u.tr(r, "qr.with")
	}
	u.showSigningLevel(w, r, http.StatusOK, "", u.tr(r, "qr.saved", o.Name, how))
}
