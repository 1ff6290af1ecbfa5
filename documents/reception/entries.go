package reception

import (
	"context"
	"fmt"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/register/book"
	"github.com/vanthu/vanthu/storage"
)

// Entry is one line of the incoming register, the columns of Decree 30
// Appendix IV (sổ đăng ký văn bản đến) in order, then what links it.
type Entry struct {
	ArrivalDate   string    `json:"ngay_den"`           // Ngày đến
	ArrivalNumber int       `json:"so_den"`             // Số đến
	Issuer        string    `json:"tac_gia"`            // Tác giả
	NumberSymbol  string    `json:"so_ky_hieu"`         // Số, ký hiệu văn bản
	Date          string    `json:"ngay_thang"`         // Ngày tháng văn bản
	TypeSubject   string    `json:"ten_loai_trich_yeu"` // Tên loại và trích yếu nội dung
	Receiver      string    `json:"don_vi_nguoi_nhan"`  // Đơn vị hoặc người nhận
	TransferredOn string    `json:"ngay_chuyen"`        // Ngày chuyển
	Receipt       string    `json:"ky_nhan"`            // Ký nhận (signed on paper)
	Note          string    `json:"ghi_chu"`            // Ghi chú
	DocumentID    string    `json:"document_id"`
	ArrivalID     string    `json:"arrival_id"`
	RegisteredAt  time.Time `json:"registered_at"`
}

// Columns names Entry's Appendix IV columns in the register's order.
var Columns = book.IncomingColumns

// Cells is an entry's printed row, in Columns' order.
func (e Entry) Cells() []string {
	n := ""
	if e.ArrivalNumber > 0 {
		n = fmt.Sprintf("%02d", e.ArrivalNumber)
	}
	return []string{e.ArrivalDate, n, e.Issuer, e.NumberSymbol, e.Date, e.TypeSubject, e.Receiver, e.TransferredOn, e.Receipt, e.Note}
}

// IsIncoming reports whether a register is an incoming register, whose
// entries Entries reads.
func IsIncoming(r storage.Register) bool { return r.Kind == storage.RegisterIncoming }

// Entries lists an incoming register's entries of a year, for members of
// its organisation (who may read its registers).
func (s *Service) Entries(ctx context.Context, p accounts.Principal, reg storage.Register, year int) ([]Entry, error) {
	if !p.IsSuperadmin && !p.Member(reg.OrganizationID) {
		return nil, storage.ErrNotFound
	}
	rows, err := storage.IncomingEntries(ctx, s.DB.Pool, reg.ID, year)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(rows))
	for _, e := range rows {
		en := Entry{ArrivalDate: e.ArrivedAt.In(Vietnam).Format("02/01/2006"), ArrivalNumber: e.Number, Issuer: e.Issuer,
			NumberSymbol: e.NumberSymbol, TypeSubject: e.TypeName + " " + e.Subject, Receiver: e.Receiver, Note: e.Note,
			DocumentID: e.DocumentID, ArrivalID: e.ArrivalID, RegisteredAt: e.RegisteredAt.In(Vietnam)}
		if e.IssuedDate != nil {
			en.Date = e.IssuedDate.Format("02/01/2006")
		}
		if e.TransferredOn != nil {
			en.TransferredOn = e.TransferredOn.Format("02/01/2006")
		}
		out = append(out, en)
	}
	return out, nil
}
