package certify

import (
	"context"
	"fmt"
	"strconv"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// Row is one line of the certified-copies register (sổ chứng thực bản sao
// điện tử từ bản chính), its eight columns in order.
type Row struct {
	Number        string `json:"so_chung_thuc"`        // Số chứng thực
	Date          string `json:"ngay_chung_thuc"`      // Ngày chứng thực
	Requester     string `json:"ho_ten_nguoi_yeu_cau"` // Họ tên người yêu cầu
	Original      string `json:"ten_ban_chinh"`        // Tên bản chính giấy tờ
	Signer        string `json:"nguoi_ky"`             // Họ tên, chức danh người ký
	Copies        int    `json:"so_ban_sao"`           // Số bản sao
	Fee           string `json:"le_phi"`               // Lệ phí
	Note          string `json:"ghi_chu"`              // Ghi chú
	Certification string `json:"certification_id"`
}

// Columns names the register's columns in order.
var Columns = []string{"Số chứng thực", "Ngày chứng thực", "Họ tên người yêu cầu", "Tên bản chính giấy tờ",
	"Họ tên, chức danh người ký", "Số bản sao", "Lệ phí", "Ghi chú"}

// ColumnWidths are the columns' widths in characters, and their shares of
// a printed page.
var ColumnWidths = []float64{16, 18, 32, 44, 36, 14, 18, 22}

// Cells is the row as the printed book's cells.
func (r Row) Cells() []string {
	return []string{r.Number, r.Date, r.Requester, r.Original, r.Signer, strconv.Itoa(r.Copies), r.Fee, r.Note}
}

// Register lists a certified-copies register's entries of a year (0: the
// current one) for those who see certification requests: the register
// holds citizens' names, so membership of the organisation is not enough.
func (s *Service) Register(ctx context.Context, p accounts.Principal, registerID string, year int) (storage.Register, int, []Row, error) {
	reg, err := storage.GetRegister(ctx, s.DB.Pool, registerID)
	if err != nil {
		return reg, 0, nil, err
	}
	if err := accounts.Authorize(p, accounts.CertificationRead, accounts.Target{OrgID: reg.OrganizationID}); err != nil {
		return storage.Register{}, 0, nil, err
	}
	if reg.Kind != storage.RegisterCertifiedCopies {
		return storage.Register{}, 0, nil, because(rRegisterKind, invalid("register %q is a %s register, not a certified-copies register", reg.Name, reg.Kind), reg.Name)
	}
	if year == 0 {
		year = s.now().In(Vietnam).Year()
	}
	if year < 1900 || year > 9999 {
		return reg, 0, nil, because(rYear, invalid("year must be a year such as %d", s.now().In(Vietnam).Year()), s.now().In(Vietnam).Year())
	}
	cs, err := storage.CertifiedRegister(ctx, s.DB.Pool, reg.ID, year)
	if err != nil {
		return reg, 0, nil, err
	}
	rows := make([]Row, 0, len(cs))
	for _, c := range cs {
		signer := c.CertifierName
		if c.CertifierTitle != "" {
			signer += ", " + c.CertifierTitle
		}
		note := ""
		if c.OnTime != nil && !*c.OnTime {
			note = "Trả kết quả quá hạn"
		}
		day := ""
		if c.CertifiedAt != nil {
			day = c.CertifiedAt.In(Vietnam).Format("02/01/2006")
		}
		rows = append(rows, Row{Number: fmt.Sprint(c.Number), Date: day, Requester: c.RequesterName, Original: c.OriginalName,
			Signer: signer, Copies: c.Copies, Fee: formatMoney(c.Fee), Note: note, Certification: c.ID})
	}
	return reg, year, rows, nil
}
