package reception

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/register/book"
	"github.com/vanthu/vanthu/storage"
)

// FollowUpEntry is one line of the follow-up register (sổ theo dõi giải
// quyết văn bản đến, Decree 30 Appendix IV): a registered incoming
// document and how its handling goes, in FollowUpColumns' order, then
// what links it.
type FollowUpEntry struct {
	ArrivalNumber int    `json:"so_den"`                     // Số đến
	Document      string `json:"ten_loai_so_ky_hieu"`        // Tên loại, số, ký hiệu, ngày tháng, cơ quan ban hành
	Receiver      string `json:"don_vi_nguoi_nhan"`          // Đơn vị hoặc người nhận
	Deadline      string `json:"thoi_han_giai_quyet"`        // Thời hạn giải quyết
	Progress      string `json:"tien_do_giai_quyet"`         // Tiến độ giải quyết
	Reply         string `json:"so_ky_hieu_van_ban_tra_loi"` // Số, ký hiệu văn bản trả lời
	Note          string `json:"ghi_chu"`                    // Ghi chú

	ArrivalDate     string     `json:"arrival_date"` // YYYY-MM-DD, Vietnam
	DocumentID      string     `json:"document_id"`
	Status          string     `json:"status"` // registered, presented, assigned, completed, recalled
	Due             *time.Time `json:"due,omitempty"`
	CompletedAt     *time.Time `json:"completed_at,omitempty"`
	Overdue         bool       `json:"overdue"`
	ReplyDocumentID string     `json:"reply_document_id,omitempty"`
}

// FollowUpColumns names FollowUpEntry's Appendix IV columns in order.
var FollowUpColumns = book.FollowUpColumns

// Cells is an entry's printed row, in FollowUpColumns' order.
func (e FollowUpEntry) Cells() []string {
	return []string{fmt.Sprintf("%02d", e.ArrivalNumber), e.Document, e.Receiver, e.Deadline, e.Progress, e.Reply, e.Note}
}

// Period bounds the follow-up register by arrival date (ngày đến), both
// days included; a zero bound is open.
type Period struct {
	From, To time.Time // dates in Vietnam
}

// String is the period as the book's cover prints it ("" when unbounded).
func (p Period) String() string {
	const d = "02/01/2006"
	switch {
	case !p.From.IsZero() && !p.To.IsZero():
		return "Từ ngày " + p.From.Format(d) + " đến ngày " + p.To.Format(d)
	case !p.From.IsZero():
		return "Từ ngày " + p.From.Format(d)
	case !p.To.IsZero():
		return "Đến ngày " + p.To.Format(d)
	}
	return ""
}

// ParsePeriod reads from and to (YYYY-MM-DD, either may be empty) as
// dates in Vietnam; to before from is refused.
func ParsePeriod(from, to string) (Period, error) {
	var p Period
	for _, f := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", from, &p.From}, {"to", to, &p.To}} {
		if f.v == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, f.v, Vietnam)
		if err != nil || t.Year() < 1900 || t.Year() > 9999 {
			return Period{}, because(rPeriodFormat, invalid("%s must be a date YYYY-MM-DD", f.name))
		}
		*f.dst = t
	}
	if !p.From.IsZero() && !p.To.IsZero() && p.To.Before(p.From) {
		return Period{}, because(rPeriodReversed, invalid("to must not be before from"))
	}
	return p, nil
}

// FollowUp lists the follow-up register of an incoming register for a
// year, narrowed to the arrivals of a period, for members of its
// organisation (who may read its registers): one line per registered
// incoming document, built from the register entry and the document's
// handling (lead and coordinating receivers, deadline, progress,
// completion and reply).
func (s *Service) FollowUp(ctx context.Context, p accounts.Principal, reg storage.Register, year int, period Period) ([]FollowUpEntry, error) {
	if !p.IsSuperadmin && !p.Member(reg.OrganizationID) {
		return nil, storage.ErrNotFound
	}
	if !IsIncoming(reg) {
		return nil, invalid("the follow-up register is kept for an incoming register")
	}
	var from, to time.Time
	if !period.From.IsZero() {
		from = period.From
	}
	if !period.To.IsZero() {
		to = period.To.AddDate(0, 0, 1)
	}
	rows, err := storage.FollowUpEntries(ctx, s.DB.Pool, reg.ID, year, from, to)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]FollowUpEntry, 0, len(rows))
	for _, r := range rows {
		out = append(out, followUpLine(r, now))
	}
	return out, nil
}

const vnDate = "02/01/2006"

// followUpLine writes one register entry and its handling as the
// follow-up register prints it, at now.
func followUpLine(r storage.FollowUpEntry, now time.Time) FollowUpEntry {
	e := FollowUpEntry{ArrivalNumber: r.Number, Note: r.Note, ArrivalDate: r.ArrivedAt.In(Vietnam).Format(time.DateOnly),
		DocumentID: r.DocumentID, Status: r.HandlingStatus, Due: r.DueAt, CompletedAt: r.CompletedAt,
		Reply: r.ReplySymbol, ReplyDocumentID: r.ReplyID}
	// Tên loại, số, ký hiệu, ngày tháng, cơ quan ban hành — and the
	// subject, which says what is to be resolved.
	var d strings.Builder
	d.WriteString(r.TypeName)
	if r.NumberSymbol != "" {
		d.WriteString(" số " + r.NumberSymbol)
	}
	if r.IssuedDate != nil {
		d.WriteString(" ngày " + r.IssuedDate.Format(vnDate))
	}
	d.WriteString(" của " + r.Issuer)
	if r.Subject != "" {
		d.WriteString(": " + r.Subject)
	}
	e.Document = d.String()

	e.Receiver = r.Receiver
	if r.Lead != "" {
		e.Receiver = "Chủ trì: " + r.Lead
		if len(r.Coordinating) > 0 {
			e.Receiver += "; phối hợp: " + strings.Join(r.Coordinating, ", ")
		}
	}
	if r.DueAt != nil {
		e.Deadline = r.DueAt.In(Vietnam).Format(vnDate)
	}
	var progress string
	switch {
	case r.DocumentStatus == documents.StatusRecalled:
		e.Status, progress = documents.StatusRecalled, "Nơi gửi đã thu hồi văn bản"
	case r.CompletedAt != nil:
		progress = "Đã giải quyết ngày " + r.CompletedAt.In(Vietnam).Format(vnDate)
		if r.DueAt != nil {
			if r.CompletedAt.After(*r.DueAt) {
				progress += " (quá hạn)"
			} else {
				progress += " (đúng hạn)"
			}
		}
	case r.HandlingStatus == "assigned":
		progress = "Đang giải quyết"
		if r.DueAt != nil && now.After(*r.DueAt) {
			e.Overdue = true
			progress = "Quá hạn, đang giải quyết"
		}
	case r.HandlingStatus == "presented":
		progress = "Đã trình lãnh đạo, chờ giao xử lý"
	default:
		progress = "Chờ trình, giao xử lý"
	}
	if r.LastNote != "" && e.Status != documents.StatusRecalled {
		progress += " — " + r.LastNote
	}
	e.Progress = progress
	return e
}

// FollowUpBook is the follow-up register of a year (and period) ready to
// print with documents/register/book.
func FollowUpBook(orgName string, reg storage.Register, year int, period Period, es []FollowUpEntry) book.Book {
	b := book.Book{Organization: orgName, Register: "Sổ theo dõi giải quyết văn bản đến — " + reg.Name, Code: reg.Code, Year: year, Columns: FollowUpColumns,
		Widths: book.FollowUpWidths, Heading: book.FollowUpHeading, Sheet: "Sổ theo dõi giải quyết", Rows: make([][]string, 0, len(es))}
	if p := period.String(); p != "" {
		b.Period = fmt.Sprintf("%s, năm %d", p, year)
	}
	for i, e := range es {
		if i == 0 {
			b.FromNumber = e.ArrivalNumber
		}
		b.ToNumber = e.ArrivalNumber
		b.Rows = append(b.Rows, e.Cells())
	}
	return b
}
