package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/storage"
)

// statsSection: the on-time statistics as pictures — the rates of each
// unit month by month and the period's figures per unit as charts
// (Chart.js, loaded on this page only), the tables of the organisation,
// units and people beside them, incoming and outgoing, with the API's
// XLSX and PDF exports. handling.Service decides who reads what (the
// whole organisation, or a unit head's own unit).
var statsSection = section{
	routes: func(u *UI, r chi.Router) {
		r.With(u.signedIn).Get("/statistics", u.statisticsPage)
	},
	nav: []navEntry{{Path: "/statistics", Key: "nav.statistics", show: may(accounts.StatisticsRead)}},
}

var _ = addMessages(map[string][2]string{
	"nav.statistics":       {"Thống kê", "Statistics"},
	"stats.title":          {"Thống kê giải quyết văn bản", "On-time statistics"},
	"stats.from":           {"Từ ngày", "From"},
	"stats.to":             {"Đến ngày", "To"},
	"stats.unit":           {"Đơn vị", "Unit"},
	"stats.unit.all":       {"Toàn cơ quan", "Whole organisation"},
	"stats.show":           {"Xem", "Show"},
	"stats.export":         {"Xuất báo cáo", "Export"},
	"stats.xlsx":           {"Tải XLSX", "Download XLSX"},
	"stats.pdf":            {"Tải PDF", "Download PDF"},
	"stats.asof":           {"Số liệu tính đến %s.", "Figures as of %s."},
	"stats.incoming":       {"Văn bản đến", "Incoming documents"},
	"stats.outgoing":       {"Văn bản đi (ký đến ban hành đúng hạn)", "Outgoing documents (signed to issued in time)"},
	"stats.outgoing.hint":  {"Văn bản phát hành trong ngày ký, chậm nhất ngày làm việc tiếp theo, là đúng hạn.", "Issued on the day it was signed, at the latest the next working day, is on time."},
	"stats.chart.monthly":  {"Tỷ lệ giải quyết đúng hạn theo tháng", "On-time rate by month"},
	"stats.chart.units":    {"Kết quả giải quyết theo đơn vị", "Handling by unit"},
	"stats.chart.outgoing": {"Tỷ lệ ban hành đúng hạn theo tháng", "Issued on time by month"},
	"stats.chart.alt":      {"Biểu đồ; số liệu đầy đủ ở bảng bên cạnh.", "Chart; the full figures are in the table beside it."},
	"stats.level":          {"Cấp", "Level"},
	"stats.level.org":      {"Cơ quan", "Organisation"},
	"stats.level.units":    {"Đơn vị", "Units"},
	"stats.level.people":   {"Cá nhân", "People"},
	"stats.name":           {"Tên", "Name"},
	"stats.received":       {"Tiếp nhận", "Received"},
	"stats.ontime":         {"Hoàn thành đúng hạn", "Completed on time"},
	"stats.late":           {"Hoàn thành quá hạn", "Completed late"},
	"stats.inprogress":     {"Đang giải quyết trong hạn", "In progress"},
	"stats.overdue":        {"Quá hạn", "Overdue"},
	"stats.rate":           {"Tỷ lệ đúng hạn", "On-time rate"},
	"stats.issued":         {"Đã ban hành", "Issued"},
	"stats.issued.ontime":  {"Đúng hạn", "On time"},
	"stats.issued.late":    {"Chậm", "Late"},
	"stats.empty":          {"Không có văn bản nào trong kỳ này.", "Nothing in this period."},
	"stats.month":          {"T%d/%d", "%s %d"},
})

// The certified copies of citizens' originals, month by month.
var _ = addMessages(map[string][2]string{
	"stats.cert":         {"Chứng thực bản sao điện tử từ bản chính", "Certified copies of citizens' originals"},
	"stats.cert.hint":    {"Trả kết quả trong ngày, hoặc ngày làm việc tiếp theo nếu tiếp nhận sau 15 giờ, là đúng hạn.", "Done the day received, or the next working day when received after 15:00, is on time."},
	"stats.cert.month":   {"Tháng tiếp nhận", "Month received"},
	"stats.cert.refused": {"Từ chối", "Refused"},
})

// maxChartMonths bounds the months charted one by one (the service
// accepts periods of up to two years).
const maxChartMonths = 24

type statsData struct {
	From, To, Unit string
	Units          []storage.Unit
	Stats          handling.Statistics
	// Rows are the incoming table's rows: the organisation, then units,
	// then people.
	Rows []statsRow
	// Monthly, Bars and Outgoing are the charts' data (JSON for
	// static/js/stats.js); Outgoing is empty without issued documents.
	Monthly, Bars, OutgoingChart string
	XLSX, PDF                    string
}

type statsRow struct {
	Level string
	handling.Counts
}

// chartData is what stats.js draws: one chart's labels and series.
type chartData struct {
	Type     string        `json:"type"`
	Labels   []string      `json:"labels"`
	Datasets []chartSeries `json:"datasets"`
	Percent  bool          `json:"percent,omitempty"`
	Stacked  bool          `json:"stacked,omitempty"`
}

type chartSeries struct {
	Label string     `json:"label"`
	Data  []*float64 `json:"data"`
}

func (u *UI) statisticsPage(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	if u.cfg.Handling == nil {
		u.failErr(w, r, storage.ErrNotFound)
		return
	}
	if err := accounts.Authorize(p, accounts.StatisticsRead, accounts.Target{OrgID: p.OrganizationID}); err != nil {
		u.failErr(w, r, err)
		return
	}
	q := r.URL.Query()
	today := nowFunc().In(calendar.Vietnam)
	d := &statsData{From: q.Get("from"), To: q.Get("to"), Unit: q.Get("unit")}
	if d.From == "" {
		d.From = time.Date(today.Year(), 1, 1, 0, 0, 0, 0, calendar.Vietnam).Format(time.DateOnly)
	}
	if d.To == "" {
		d.To = today.Format(time.DateOnly)
	}
	units, err := u.cfg.Accounts.Units(r.Context(), p, p.OrganizationID)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Units = units
	req := handling.StatisticsRequest{From: d.From, To: d.To, UnitID: d.Unit}
	st, err := u.cfg.Handling.Statistics(r.Context(), p, req)
	if errors.Is(err, accounts.ErrForbidden) && d.Unit == "" && len(p.UnitIDs) > 0 {
		// A unit head reads their own unit: show the first one.
		http.Redirect(w, r, "/statistics?"+url.Values{"from": {d.From}, "to": {d.To}, "unit": {p.UnitIDs[0]}}.Encode(), http.StatusSeeOther)
		return
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Stats = st
	if st.Organization != nil {
		d.Rows = append(d.Rows, statsRow{"org", *st.Organization})
	}
	for _, c := range st.Units {
		d.Rows = append(d.Rows, statsRow{"unit", c})
	}
	for _, c := range st.People {
		d.Rows = append(d.Rows, statsRow{"person", c})
	}
	if err := u.statsCharts(r, p, req, d); err != nil {
		u.failErr(w, r, err)
		return
	}
	export := url.Values{"from": {d.From}, "to": {d.To}}
	if d.Unit != "" {
		export.Set("unit_id", d.Unit)
	}
	export.Set("format", "xlsx")
	d.XLSX = "/api/v1/statistics?" + export.Encode()
	export.Set("format", "pdf")
	d.PDF = "/api/v1/statistics?" + export.Encode()
	u.render(w, r, http.StatusOK, "statistics", "stats.title", d)
}

// statsCharts has the service compute each month of the period (up to
// maxChartMonths, in one call) with the same filter, and draws the charts'
// data.
func (u *UI) statsCharts(r *http.Request, p accounts.Principal, req handling.StatisticsRequest, d *statsData) error {
	var labels []string
	unitRates := map[string][]*float64{}
	var orgRates, outRates []*float64
	anyOut := false
	months, err := u.cfg.Handling.Monthly(r.Context(), p, req, maxChartMonths)
	if err != nil {
		return err
	}
	for _, ms := range months {
		m, _ := time.ParseInLocation(time.DateOnly, ms.From, calendar.Vietnam)
		i := len(labels)
		if u.lang(r) == "en" {
			labels = append(labels, u.tr(r, "stats.month", m.Month().String()[:3], m.Year()))
		} else {
			labels = append(labels, u.tr(r, "stats.month", int(m.Month()), m.Year()))
		}
		if ms.Organization != nil {
			orgRates = append(orgRates, percent(ms.Organization.OnTimeRate))
		}
		for _, c := range ms.Units {
			if unitRates[c.ID] == nil {
				unitRates[c.ID] = make([]*float64, maxChartMonths)
			}
			unitRates[c.ID][i] = percent(c.OnTimeRate)
		}
		var out *float64
		for _, o := range ms.Outgoing {
			if (req.UnitID == "" && o.Level == "organization") || (req.UnitID != "" && o.ID == req.UnitID) {
				out = percent(o.OnTimeRate)
				anyOut = anyOut || o.Issued > 0
			}
		}
		outRates = append(outRates, out)
	}
	monthly := chartData{Type: "line", Labels: labels, Percent: true}
	if d.Stats.Organization != nil {
		monthly.Datasets = append(monthly.Datasets, chartSeries{d.Stats.Organization.Name, orgRates})
	}
	bars := chartData{Type: "bar", Stacked: true}
	var onTime, late, inProgress, overdue []*float64
	for _, un := range d.Units {
		rates, ok := unitRates[un.ID]
		if ok {
			monthly.Datasets = append(monthly.Datasets, chartSeries{un.Name, rates[:len(labels)]})
		}
	}
	for _, c := range d.Stats.Units {
		bars.Labels = append(bars.Labels, c.Name)
		onTime, late = append(onTime, count(c.CompletedOnTime)), append(late, count(c.CompletedLate))
		inProgress, overdue = append(inProgress, count(c.InProgress)), append(overdue, count(c.Overdue))
	}
	bars.Datasets = []chartSeries{{u.tr(r, "stats.ontime"), onTime}, {u.tr(r, "stats.late"), late},
		{u.tr(r, "stats.inprogress"), inProgress}, {u.tr(r, "stats.overdue"), overdue}}
	if d.Monthly, err = chartJSON(monthly); err != nil {
		return err
	}
	if len(bars.Labels) > 0 {
		if d.Bars, err = chartJSON(bars); err != nil {
			return err
		}
	}
	if anyOut {
		d.OutgoingChart, err = chartJSON(chartData{Type: "bar", Labels: labels, Percent: true,
			Datasets: []chartSeries{{u.tr(r, "stats.rate"), outRates}}})
	}
	return err
}

func chartJSON(c chartData) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("chart data: %w", err)
	}
	return string(b), nil
}

// percent is a rate in percent, rounded to one decimal; nil stays nil
// (nothing judged: a gap in the line, not a zero).
func percent(r *float64) *float64 {
	if r == nil {
		return nil
	}
	v := float64(int(*r*1000+0.5)) / 10
	return &v
}

func count(n int) *float64 {
	v := float64(n)
	return &v
}

// Rate shows an on-time rate as a percentage: 87,5 % in Vietnamese.
func (p *Page) Rate(r *float64) string {
	if r == nil {
		return "—"
	}
	s := fmt.Sprintf("%.1f %%", *r*100)
	if p.Lang == "vi" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
