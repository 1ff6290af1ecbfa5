package handling_test

import (
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/handling"
)

// Certifications count in the statistics month by month against their
// deadline (the day of receipt, or the next working day when received
// after 15:00), as of the clock: across a weekend, across Tết, and on
// either side of 15:00.
func TestStatisticsCountCertifications(t *testing.T) {
	w := newWorld(t)
	cal, err := calendar.Load(w.ctx, w.db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	var register string
	if err := w.db.Pool.QueryRow(w.ctx, "SELECT id FROM registers WHERE organization_id = $1 AND kind = 'certified-copies' AND is_default",
		w.org.ID).Scan(&register); err != nil {
		t.Fatal(err)
	}
	number := 0
	// open writes a request received at received (Vietnam time) with its
	// deadline, certified or refused at the given time ("" for neither).
	open := func(received, certified, refused string) time.Time {
		t.Helper()
		at := vn(received)
		due := certify.Deadline(cal, at)
		var certAt, refAt, reg, num, scan any
		reasons := []string{}
		status := "received"
		if certified != "" {
			number++
			status, certAt, reg, num, scan = "certified", vn(certified), register, number, "0000000000000000000000000000000000000000000000000000000000000000"
		}
		if refused != "" {
			status, refAt, reasons = "refused", vn(refused), []string{"unreadable"}
		}
		_, err := w.db.Pool.Exec(w.ctx, `INSERT INTO certifications (organization_id, status, requester_name, requester_id_number, original_name,
			page_count, copies, fee, received_at, due_at, opened_by, scan_blob_key, register_id, year, number, certified_at, refusal_reasons, refused_at)
			VALUES ($1, $2, 'Nguyễn Văn Dân', '001099000001', 'Bằng tốt nghiệp', 1, 1, 2000, $3, $4, $5, $6, $7, 2027, $8, $9, $10, $11)`,
			w.org.ID, status, at, due, w.p("clerk").ID, scan, reg, num, certAt, reasons, refAt)
		if err != nil {
			t.Fatal(err)
		}
		return due
	}
	day := func(t time.Time) string { return t.In(calendar.Vietnam).Format(time.DateOnly) }
	// Friday 5 March 2027.
	if due := open("2027-03-05 14:00", "2027-03-05 16:00", ""); day(due) != "2027-03-05" { // A: on time
		t.Fatalf("received 14:00 Friday, due %s", due)
	}
	if due := open("2027-03-05 15:30", "2027-03-08 10:00", ""); day(due) != "2027-03-08" { // B: after 15:00, due Monday
		t.Fatalf("received 15:30 Friday, due %s", due)
	}
	if due := open("2027-03-05 14:59", "2027-03-08 09:00", ""); day(due) != "2027-03-05" { // C: before 15:00, late on Monday
		t.Fatalf("received 14:59 Friday, due %s", due)
	}
	open("2027-03-05 15:01", "", "")                 // D: due Monday, never certified
	open("2027-03-10 09:00", "", "2027-03-10 10:00") // E: refused
	// F: Wednesday 3 February after 15:00: the next working day is after Tết.
	if due := open("2027-02-03 16:00", "2027-02-15 10:00", ""); day(due) != "2027-02-15" {
		t.Fatalf("received before Tết after 15:00, due %s", due)
	}
	type fig struct {
		month                                                string
		received, onTime, late, refused, inProgress, overdue int
		rate                                                 float64
	}
	stats := func() []fig {
		t.Helper()
		st, err := w.svc.Statistics(w.ctx, w.p("leader"), handling.StatisticsRequest{From: "2027-02-01", To: "2027-03-31"})
		if err != nil {
			t.Fatal(err)
		}
		var out []fig
		for _, c := range st.Certifications {
			out = append(out, fig{c.Month, c.Received, c.CertifiedOnTime, c.CertifiedLate, c.Refused, c.InProgress, c.Overdue, ratio(c.OnTimeRate)})
		}
		return out
	}
	check := func(when string, want []fig) {
		t.Helper()
		got := stats()
		if len(got) != len(want) {
			t.Fatalf("%s: %+v, want %+v", when, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %+v, want %+v", when, got[i], want[i])
			}
		}
	}
	// Saturday noon: A done; B and D still within Monday's deadline; C's
	// deadline passed on Friday; E not yet received.
	w.set(vn("2027-03-06 12:00"))
	check("Saturday", []fig{{"2027-02", 1, 1, 0, 0, 0, 0, 1}, {"2027-03", 4, 1, 0, 0, 2, 1, 0.5}})
	// Tuesday after: B on time over the weekend, C late, D overdue, E
	// refused (not judged).
	w.set(vn("2027-03-16 09:00"))
	check("Tuesday", []fig{{"2027-02", 1, 1, 0, 0, 0, 0, 1}, {"2027-03", 5, 2, 1, 1, 0, 1, 0.5}})

	// A unit head's statistics (one unit) carry none: the desk certifies
	// for the whole organisation.
	st, err := w.svc.Statistics(w.ctx, w.p("headTP"), handling.StatisticsRequest{From: "2027-02-01", To: "2027-03-31", UnitID: w.units["TP"].ID})
	if err != nil || len(st.Certifications) != 0 {
		t.Fatalf("a unit's statistics: %+v %v", st.Certifications, err)
	}
	// The exported table (XLSX, PDF) has a row a month.
	st, err = w.svc.Statistics(w.ctx, w.p("leader"), handling.StatisticsRequest{From: "2027-02-01", To: "2027-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, r := range st.Table("x").Rows {
		if r[0] == "Chứng thực bản sao" {
			rows++
			if r[1] == "Tháng 2027-03" && (r[2] != "5" || r[3] != "2" || r[4] != "1" || r[6] != "1" || r[7] != "50.0 %") {
				t.Errorf("March's row %q", r)
			}
		}
	}
	if rows != 2 {
		t.Fatalf("%d rows of certifications in the table, want 2", rows)
	}
}
