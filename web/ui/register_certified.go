package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/storage"
)

// A certified-copies register (sổ chứng thực bản sao điện tử, kept
// permanently) holds citizens' names: only those who see certification
// requests read it, in its own columns (Decree 23/2015), never in the
// outgoing register's.

var _ = addMessages(map[string][2]string{
	"certbook.number":    {"Số chứng thực", "Certification number"},
	"certbook.date":      {"Ngày chứng thực", "Date"},
	"certbook.requester": {"Họ tên người yêu cầu", "Requester"},
	"certbook.original":  {"Tên bản chính giấy tờ", "Original paper"},
	"certbook.signer":    {"Họ tên, chức danh người ký", "Signed by"},
	"certbook.copies":    {"Số bản sao", "Copies"},
	"certbook.fee":       {"Lệ phí", "Fee"},
	"certbook.note":      {"Ghi chú", "Note"},
})

type certifiedRegisterData struct {
	Register        storage.Register
	Year            int
	Years           []int
	Rows            []certify.Row
	XLSXURL, PDFURL string
}

// mayReadCertified says whether p reads the organisation's certified-copies
// registers (the certification service's own rule).
func mayReadCertified(p accounts.Principal, orgID string) bool {
	return accounts.Authorize(p, accounts.CertificationRead, accounts.Target{OrgID: orgID}) == nil
}

// certifiedRegister writes a certified-copies register's rows of a year;
// whoever may not read it gets the refusal page.
func (u *UI) certifiedRegister(w http.ResponseWriter, r *http.Request, reg storage.Register, year int) {
	p, _ := principal(r.Context())
	if u.cfg.Certify == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	reg, year, rows, err := u.cfg.Certify.Register(r.Context(), p, reg.ID, year)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d := certifiedRegisterData{Register: reg, Year: year, Rows: rows}
	for y := register.Year(nowFunc()); y >= register.Year(nowFunc())-5; y-- {
		d.Years = append(d.Years, y)
	}
	if !slices.Contains(d.Years, year) {
		d.Years = append(d.Years, year)
	}
	base := "/api/v1/registers/" + url.PathEscape(reg.ID) + "/entries?year=" + strconv.Itoa(year) + "&format="
	d.XLSXURL, d.PDFURL = base+"xlsx", base+"pdf"
	pg := u.page(r, "registers.title")
	pg.Title, pg.Data = reg.Name, d
	u.write(w, r, http.StatusOK, "register_certified", pg)
}
