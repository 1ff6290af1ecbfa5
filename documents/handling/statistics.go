package handling

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/register/book"
	"github.com/vanthu/vanthu/storage"
)

// StatisticsRequest selects a period (dates in Vietnam, both included) and
// optionally one unit.
type StatisticsRequest struct {
	From, To string // YYYY-MM-DD
	UnitID   string
}

// Counts are the on-time figures of one organisation, unit or person.
//
// A part (or, for the organisation, a document) received in the period is,
// as of the period's end (or now, if earlier): completed on time (by its
// deadline, or with none), completed late, in progress within its deadline
// (or with none), or overdue. OnTimeRate is completed on time over
// everything already judged (completed, or overdue); nil when nothing is.
type Counts struct {
	ID              string   `json:"id,omitempty"`
	Name            string   `json:"name"`
	Received        int      `json:"received"`
	CompletedOnTime int      `json:"completed_on_time"`
	CompletedLate   int      `json:"completed_late"`
	InProgress      int      `json:"in_progress"`
	Overdue         int      `json:"overdue"`
	OnTimeRate      *float64 `json:"on_time_rate"`
}

// Outgoing are the figures of documents issued in the period: Decree 30
// has them issued the day they are signed, at the latest the next working
// day. Documents whose signing time is unknown count only as issued.
type Outgoing struct {
	Level      string   `json:"level"` // organization or unit
	ID         string   `json:"id,omitempty"`
	Name       string   `json:"name"`
	Issued     int      `json:"issued"`
	OnTime     int      `json:"issued_on_time"`
	Late       int      `json:"issued_late"`
	OnTimeRate *float64 `json:"on_time_rate"`
}

// Certifications are the figures of the certified copies of citizens'
// originals received in one month (YYYY-MM): the deadline is the day of
// receipt, or the next working day when received after 15:00
// (documents/certify.Deadline). As of the period's end (or now): certified
// by the deadline or after it, refused, open within the deadline, or
// overdue. OnTimeRate is certified on time over everything judged
// (certified, or overdue); nil when nothing is.
type Certifications struct {
	Month           string   `json:"month"`
	Received        int      `json:"received"`
	CertifiedOnTime int      `json:"certified_on_time"`
	CertifiedLate   int      `json:"certified_late"`
	Refused         int      `json:"refused"`
	InProgress      int      `json:"in_progress"`
	Overdue         int      `json:"overdue"`
	OnTimeRate      *float64 `json:"on_time_rate"`
}

// Statistics are the figures of a period.
type Statistics struct {
	From         string     `json:"from"`
	To           string     `json:"to"`
	AsOf         time.Time  `json:"as_of"`
	Organization *Counts    `json:"organization,omitempty"`
	Units        []Counts   `json:"units"`
	People       []Counts   `json:"people"`
	Outgoing     []Outgoing `json:"outgoing"` // the organisation's first (without a unit filter), then per unit
	// Certifications are the organisation's certified copies month by
	// month (without a unit filter: the one-stop desk certifies for the
	// whole organisation).
	Certifications []Certifications `json:"certifications"`
}

// maxPeriod bounds a period: statistics are asked for a year or less.
const maxPeriodDays = 2 * 366

// Statistics computes the figures of p's organisation for a period. Its
// leaders, clerks, auditors and administrators read the whole
// organisation; a unit head only their own units (unit_id required).
func (s *Service) Statistics(ctx context.Context, p accounts.Principal, req StatisticsRequest) (Statistics, error) {
	sc, err := s.statsScope(ctx, p, req)
	if err != nil {
		return Statistics{}, err
	}
	return s.periodStatistics(ctx, sc, sc.from, sc.end)
}

// Monthly computes the figures of each calendar month the period meets
// (the first and the last cut to the period), at most max months, as
// Statistics computes a period's: one call for a chart of the months. The
// authorization, the organisation and its units, the working calendar and
// the fold of the tallies are done once for the whole period.
func (s *Service) Monthly(ctx context.Context, p accounts.Principal, req StatisticsRequest, max int) ([]Statistics, error) {
	sc, err := s.statsScope(ctx, p, req)
	if err != nil {
		return nil, err
	}
	if err := storage.FoldHandlingTallies(ctx, s.DB.Pool, sc.org.ID, sc.from, sc.end); err != nil {
		return nil, err
	}
	cal, err := calendar.Load(ctx, s.DB.Pool)
	if err != nil {
		return nil, err
	}
	var out []Statistics
	for m := time.Date(sc.from.Year(), sc.from.Month(), 1, 0, 0, 0, 0, calendar.Vietnam); m.Before(sc.end) && len(out) < max; m = m.AddDate(0, 1, 0) {
		start, end := m, m.AddDate(0, 1, 0)
		if start.Before(sc.from) {
			start = sc.from
		}
		if end.After(sc.end) {
			end = sc.end
		}
		st, err := s.count(ctx, sc, cal, start, end)
		if err != nil {
			return nil, fmt.Errorf("statistics of %s: %w", m.Format("2006-01"), err)
		}
		out = append(out, st)
	}
	return out, nil
}

// statsScope is what a statistics request reads: the organisation, its
// units' names, the unit asked for ("" for all) and the period [from, end).
type statsScope struct {
	org       storage.Organization
	unitName  map[string]string
	unitID    string
	from, end time.Time
}

// statsScope authorizes a statistics request and reads its scope.
func (s *Service) statsScope(ctx context.Context, p accounts.Principal, req StatisticsRequest) (statsScope, error) {
	if err := accounts.Authorize(p, accounts.StatisticsRead, accounts.Target{OrgID: p.OrganizationID}); err != nil {
		return statsScope{}, err
	}
	from, err1 := time.ParseInLocation(time.DateOnly, req.From, calendar.Vietnam)
	to, err2 := time.ParseInLocation(time.DateOnly, req.To, calendar.Vietnam)
	if err1 != nil || err2 != nil {
		return statsScope{}, because(rPeriodFormat, invalid("from and to must be dates YYYY-MM-DD"))
	}
	end := to.AddDate(0, 0, 1)
	if !end.After(from) || end.Sub(from) > maxPeriodDays*24*time.Hour {
		return statsScope{}, because(rPeriodRange, invalid("the period must run forwards and last at most two years"))
	}
	org, err := storage.GetOrganization(ctx, s.DB.Pool, p.OrganizationID)
	if err != nil {
		return statsScope{}, err
	}
	units, err := storage.ListUnits(ctx, s.DB.Pool, org.ID)
	if err != nil {
		return statsScope{}, err
	}
	whole := p.Has(storage.RoleSigner) || p.Has(storage.RoleClerk) || p.Has(storage.RoleAuditor) || p.Has(storage.RoleAdmin)
	if req.UnitID != "" {
		if !slices.ContainsFunc(units, func(u storage.Unit) bool { return u.ID == req.UnitID }) {
			return statsScope{}, storage.ErrNotFound
		}
		if !whole && !p.InUnit(req.UnitID) {
			return statsScope{}, forbidden("a unit head reads the statistics of their own unit")
		}
	} else if !whole {
		return statsScope{}, forbidden("a unit head reads the statistics of their own unit: give unit_id")
	}
	sc := statsScope{org: org, unitName: map[string]string{}, unitID: req.UnitID, from: from, end: end}
	for _, u := range units {
		sc.unitName[u.ID] = u.Name
	}
	return sc, nil
}

// periodStatistics folds the tallies of [from, end) and counts them.
func (s *Service) periodStatistics(ctx context.Context, sc statsScope, from, end time.Time) (Statistics, error) {
	if err := storage.FoldHandlingTallies(ctx, s.DB.Pool, sc.org.ID, from, end); err != nil {
		return Statistics{}, err
	}
	cal, err := calendar.Load(ctx, s.DB.Pool)
	if err != nil {
		return Statistics{}, err
	}
	return s.count(ctx, sc, cal, from, end)
}

// count computes the figures of [from, end), its tallies folded.
func (s *Service) count(ctx context.Context, sc statsScope, cal *calendar.Calendar, from, end time.Time) (Statistics, error) {
	asOf := s.now()
	if end.Before(asOf) {
		asOf = end.UTC()
	}
	st := Statistics{From: from.Format(time.DateOnly), To: end.AddDate(0, 0, -1).Format(time.DateOnly), AsOf: asOf,
		Units: []Counts{}, People: []Counts{}, Outgoing: []Outgoing{}, Certifications: []Certifications{}}
	if sc.unitID == "" {
		c, err := storage.OrganizationHandlingCounts(ctx, s.DB.Pool, sc.org.ID, from, end, asOf)
		if err != nil {
			return st, err
		}
		oc := counts(c, sc.org.Name)
		oc.ID = sc.org.ID
		st.Organization = &oc
	}
	uc, pc, err := storage.PartHandlingCounts(ctx, s.DB.Pool, sc.org.ID, sc.unitID, from, end, asOf)
	if err != nil {
		return st, err
	}
	for _, c := range uc {
		st.Units = append(st.Units, counts(c, sc.unitName[c.Key]))
	}
	ids := make([]string, 0, len(pc))
	for _, c := range pc {
		ids = append(ids, c.Key)
	}
	userName, err := storage.UserNames(ctx, s.DB.Pool, ids)
	if err != nil {
		return st, err
	}
	for _, c := range pc {
		st.People = append(st.People, counts(c, userName[c.Key]))
	}
	slices.SortFunc(st.Units, func(a, b Counts) int { return cmpName(a.Name, b.Name, a.ID, b.ID) })
	slices.SortFunc(st.People, func(a, b Counts) int { return cmpName(a.Name, b.Name, a.ID, b.ID) })
	if st.Outgoing, err = s.outgoing(ctx, sc.org, sc.unitID, sc.unitName, cal, from, end); err != nil {
		return st, err
	}
	if sc.unitID == "" {
		if st.Certifications, err = certifications(ctx, s.DB.Pool, sc.org.ID, from, end, asOf); err != nil {
			return st, err
		}
	}
	return st, nil
}

func cmpName(a, b, ida, idb string) int {
	if a != b {
		if a < b {
			return -1
		}
		return 1
	}
	if ida < idb {
		return -1
	} else if ida > idb {
		return 1
	}
	return 0
}

func counts(c storage.HandlingCounts, name string) Counts {
	out := Counts{ID: c.Key, Name: name, Received: c.Received, CompletedOnTime: c.CompletedOnTime, CompletedLate: c.CompletedLate,
		InProgress: c.InProgress, Overdue: c.Overdue}
	out.OnTimeRate = rate(c.CompletedOnTime, c.CompletedOnTime+c.CompletedLate+c.Overdue)
	return out
}

func rate(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	r := float64(n) / float64(of)
	return &r
}

// outgoing judges each issued document: on time when issued by the end of
// the working day after the one it was signed on.
func (s *Service) outgoing(ctx context.Context, org storage.Organization, unitID string, unitName map[string]string, cal *calendar.Calendar, from, end time.Time) ([]Outgoing, error) {
	docs, err := storage.IssuedDocuments(ctx, s.DB.Pool, org.ID, unitID, from, end)
	if err != nil {
		return nil, err
	}
	all := Outgoing{Level: "organization", ID: org.ID, Name: org.Name}
	per := map[string]*Outgoing{}
	limit := map[string]time.Time{} // by signing date
	for _, d := range docs {
		o := per[d.UnitID]
		if o == nil {
			o = &Outgoing{Level: "unit", ID: d.UnitID, Name: unitName[d.UnitID]}
			per[d.UnitID] = o
		}
		for _, x := range []*Outgoing{&all, o} {
			x.Issued++
		}
		if d.SignedAt == nil {
			continue
		}
		day := d.SignedAt.In(calendar.Vietnam).Format(time.DateOnly)
		lim, ok := limit[day]
		if !ok {
			// The next working day after the signing day, to its end.
			lim = cal.AddDays(midnight(*d.SignedAt), 1)
			limit[day] = lim
		}
		for _, x := range []*Outgoing{&all, o} {
			if d.IssuedAt.After(lim) {
				x.Late++
			} else {
				x.OnTime++
			}
		}
	}
	var out []Outgoing
	if unitID == "" {
		all.OnTimeRate = rate(all.OnTime, all.OnTime+all.Late)
		out = append(out, all)
	}
	var units []Outgoing
	for _, o := range per {
		o.OnTimeRate = rate(o.OnTime, o.OnTime+o.Late)
		units = append(units, *o)
	}
	slices.SortFunc(units, func(a, b Outgoing) int { return cmpName(a.Name, b.Name, a.ID, b.ID) })
	return append(out, units...), nil
}

// certifications are the organisation's certification figures by month.
func certifications(ctx context.Context, q storage.Querier, orgID string, from, end, asOf time.Time) ([]Certifications, error) {
	ms, err := storage.CertificationMonths(ctx, q, orgID, from, end, asOf)
	if err != nil {
		return nil, err
	}
	out := make([]Certifications, 0, len(ms))
	for _, m := range ms {
		out = append(out, Certifications{Month: m.Month, Received: m.Received, CertifiedOnTime: m.CertifiedOnTime, CertifiedLate: m.CertifiedLate,
			Refused: m.Refused, InProgress: m.Open, Overdue: m.Overdue,
			OnTimeRate: rate(m.CertifiedOnTime, m.CertifiedOnTime+m.CertifiedLate+m.Overdue)})
	}
	return out, nil
}

// Table is the statistics as rows of text, for the XLSX and PDF forms.
func (st Statistics) Table(org string) book.Book {
	b := book.Book{Organization: org, Register: "Thống kê giải quyết văn bản đến và phát hành văn bản đi",
		Heading: "THỐNG KÊ TÌNH HÌNH GIẢI QUYẾT VĂN BẢN", Period: "Từ " + st.From + " đến " + st.To,
		Sheet:   "Thống kê",
		Columns: []string{"Cấp", "Tên", "Tiếp nhận", "Đúng hạn", "Quá hạn (đã xong)", "Đang xử lý (trong hạn)", "Quá hạn (chưa xong)", "Tỷ lệ đúng hạn"},
		Widths:  []float64{13, 48, 13, 13, 16, 16, 16, 13}}
	pct := func(r *float64) string {
		if r == nil {
			return "—"
		}
		return strconv.FormatFloat(*r*100, 'f', 1, 64) + " %"
	}
	row := func(level string, c Counts) {
		b.Rows = append(b.Rows, []string{level, c.Name, strconv.Itoa(c.Received), strconv.Itoa(c.CompletedOnTime), strconv.Itoa(c.CompletedLate),
			strconv.Itoa(c.InProgress), strconv.Itoa(c.Overdue), pct(c.OnTimeRate)})
	}
	if st.Organization != nil {
		row("Cơ quan", *st.Organization)
	}
	for _, c := range st.Units {
		row("Đơn vị", c)
	}
	for _, c := range st.People {
		row("Cá nhân", c)
	}
	for _, o := range st.Outgoing {
		level := "Văn bản đi — đơn vị"
		if o.Level == "organization" {
			level = "Văn bản đi — cơ quan"
		}
		b.Rows = append(b.Rows, []string{level, o.Name, strconv.Itoa(o.Issued), strconv.Itoa(o.OnTime), strconv.Itoa(o.Late), "", "", pct(o.OnTimeRate)})
	}
	for _, c := range st.Certifications {
		b.Rows = append(b.Rows, []string{"Chứng thực bản sao", "Tháng " + c.Month, strconv.Itoa(c.Received), strconv.Itoa(c.CertifiedOnTime),
			strconv.Itoa(c.CertifiedLate), strconv.Itoa(c.InProgress), strconv.Itoa(c.Overdue), pct(c.OnTimeRate)})
	}
	return b
}

// WriteXLSX and WritePDF print the statistics with the register book's writers.
func (st Statistics) WriteXLSX(w io.Writer, org string) error {
	return book.WriteXLSX(w, st.Table(org))
}

// WritePDF prints the statistics as a PDF table.
func (st Statistics) WritePDF(w io.Writer, org string) error {
	return book.WritePDF(w, st.Table(org))
}
