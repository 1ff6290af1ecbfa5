package handling_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/internal/testharness"
)

// statsFixture writes, by hand, a month of handling in March 2027 whose
// figures are worked out below; the clock stands on 10 April, so the
// period's figures are as of the end of 31 March.
func statsFixture(w *world) (docs map[string]string) {
	t := w.t
	docs = map[string]string{}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := w.db.Pool.Exec(w.ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	ts := func(s string) any {
		if s == "" {
			return nil
		}
		return vn(s)
	}
	// document: received, the lead's due, completed.
	for _, d := range []struct{ name, received, due, completed string }{
		{"D1", "2027-03-02 09:00", "2027-03-10 17:00", "2027-03-09 15:00"}, // on time
		{"D2", "2027-03-03 09:00", "2027-03-05 17:00", "2027-03-08 10:00"}, // late
		{"D3", "2027-03-04 09:00", "2027-03-20 17:00", ""},                 // overdue
		{"D4", "2027-03-05 09:00", "2027-04-15 17:00", ""},                 // in progress
		{"D5", "2027-03-06 09:00", "2027-03-25 17:00", "2027-04-05 10:00"}, // completed after the period: overdue in it
		{"D6", "2027-02-20 09:00", "2027-03-02 17:00", ""},                 // received before the period
		{"D7", "2027-03-07 09:00", "", "2027-03-20 10:00"},                 // no deadline, completed: on time
	} {
		w.set(vn(d.received))
		doc := w.incoming()
		docs[d.name] = doc.ID
		status := "assigned"
		if d.completed != "" {
			status = "completed"
		}
		exec(`UPDATE document_handling SET status = $2, due_at = $3, completed_at = $4 WHERE document_id = $1`, doc.ID, status, ts(d.due), ts(d.completed))
	}
	leader := w.id("leader")
	insert := func(doc, parent, unit, user, role, assigned, due, completed string) string {
		t.Helper()
		state := "open"
		if completed != "" {
			state = "done"
		}
		var id string
		var u, us, p any
		if unit != "" {
			u = w.units[unit].ID
		}
		if user != "" {
			us = w.id(user)
		}
		if parent != "" {
			p = parent
		}
		if err := w.db.Pool.QueryRow(w.ctx, `INSERT INTO assignments (organization_id, document_id, parent_id, unit_id, user_id, role, state,
			assigned_by, assigned_at, due_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			w.org.ID, docs[doc], p, u, us, role, state, leader, ts(assigned), ts(due), ts(completed)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	d1tp := insert("D1", "", "TP", "", "lead", "2027-03-02 10:00", "2027-03-10 17:00", "2027-03-09 15:00")
	insert("D1", d1tp, "", "handlerTP", "lead", "2027-03-02 11:00", "2027-03-09 17:00", "2027-03-09 15:00") // on time
	insert("D1", "", "KT", "", "inform", "2027-03-02 10:00", "", "")                                        // never counted
	insert("D2", "", "", "handlerTP", "lead", "2027-03-03 10:00", "2027-03-05 17:00", "2027-03-08 10:00")   // late
	insert("D2", "", "TP", "", "coordinate", "2027-03-03 10:00", "2027-03-05 17:00", "2027-03-04 10:00")    // on time
	insert("D3", "", "KT", "", "lead", "2027-03-04 10:00", "2027-03-20 17:00", "")                          // overdue
	insert("D3", "", "", "staffKT", "coordinate", "2027-03-04 10:00", "2027-03-10 17:00", "2027-03-12 09:00")
	insert("D4", "", "TP", "", "lead", "2027-03-05 10:00", "2027-04-15 17:00", "") // in progress
	insert("D4", "", "", "staffKT", "inform", "2027-03-05 10:00", "", "")
	insert("D5", "", "TP", "", "lead", "2027-03-06 10:00", "2027-03-25 17:00", "2027-04-05 10:00") // overdue as of 31 March
	insert("D6", "", "TP", "", "lead", "2027-02-20 10:00", "2027-03-02 17:00", "")                 // before the period
	insert("D7", "", "KT", "", "lead", "2027-03-07 10:00", "", "2027-03-20 10:00")                 // on time

	// Outgoing documents of unit VP: signed (the chain's last signature)
	// and issued.
	for _, o := range []struct{ signed, issued string }{
		{"2027-03-05 16:00", "2027-03-08 10:00"}, // Friday → Monday: the next working day, on time
		{"2027-03-08 10:00", "2027-03-10 09:00"}, // two working days later: late
		{"2027-03-09 10:00", "2027-03-09 11:00"}, // the same day
		{"", "2027-03-15 09:00"},                 // signing time unknown: counted as issued only
		{"2027-02-26 10:00", "2027-02-26 11:00"}, // issued before the period
	} {
		d := w.document("drafter", "VP")
		exec(`UPDATE documents SET status = 'issued', issued_at = $2 WHERE id = $1`, d.ID, ts(o.issued))
		if o.signed != "" {
			exec(`INSERT INTO chain_actions (document_id, organization_id, round, action, actor, at) VALUES ($1, $2, 1, 'sign', $3, $4)`,
				d.ID, w.org.ID, leader, ts(o.signed))
		}
	}
	w.set(vn("2027-04-10 09:00"))
	return docs
}

func ratio(r *float64) float64 {
	if r == nil {
		return -1
	}
	return *r
}

// TestStatistics checks the figures against the hand-computed fixture.
func TestStatistics(t *testing.T) {
	w := newWorld(t)
	statsFixture(w)
	march := handling.StatisticsRequest{From: "2027-03-01", To: "2027-03-31"}
	st, err := w.svc.Statistics(w.ctx, w.p("leader"), march)
	if err != nil {
		t.Fatal(err)
	}
	type fig struct {
		received, onTime, late, inProgress, overdue int
		rate                                        float64
	}
	got := func(c handling.Counts) fig {
		return fig{c.Received, c.CompletedOnTime, c.CompletedLate, c.InProgress, c.Overdue, ratio(c.OnTimeRate)}
	}
	// Organisation: D1 and D7 on time, D2 late, D3 and D5 overdue, D4 in
	// progress; D6 lies before the period. Rate 2 / (2 + 1 + 2).
	if g, want := got(*st.Organization), (fig{6, 2, 1, 1, 2, 0.4}); g != want {
		t.Errorf("organisation %+v, want %+v", g, want)
	}
	wantUnits := map[string]fig{
		"Phòng TP": {4, 2, 0, 1, 1, 2.0 / 3}, // D1 lead, D2 coordinate on time; D4 in progress; D5 overdue
		"Phòng KT": {2, 1, 0, 0, 1, 0.5},     // D7 on time, D3 overdue; D1 only informed
	}
	if len(st.Units) != len(wantUnits) {
		t.Errorf("units %+v", st.Units)
	}
	for _, u := range st.Units {
		if g := got(u); g != wantUnits[u.Name] {
			t.Errorf("unit %s %+v, want %+v", u.Name, g, wantUnits[u.Name])
		}
	}
	wantPeople := map[string]fig{
		"Ông handlerTP": {2, 1, 1, 0, 0, 0.5}, // D1 as TP's handler on time, D2 late
		"Ông staffKT":   {1, 0, 1, 0, 0, 0},   // D3 late; D4 only informed
	}
	if len(st.People) != len(wantPeople) {
		t.Errorf("people %+v", st.People)
	}
	for _, p := range st.People {
		if g := got(p); g != wantPeople[p.Name] {
			t.Errorf("person %s %+v, want %+v", p.Name, g, wantPeople[p.Name])
		}
	}
	// Outgoing: four issued in March, two on time, one late, one unknown.
	if len(st.Outgoing) != 2 {
		t.Fatalf("outgoing %+v", st.Outgoing)
	}
	for _, o := range st.Outgoing {
		if o.Issued != 4 || o.OnTime != 2 || o.Late != 1 || ratio(o.OnTimeRate) != 2.0/3 {
			t.Errorf("outgoing %s: %+v", o.Name, o)
		}
	}

	// A unit head reads their own unit only; the unit's people are its members.
	tp := march
	tp.UnitID = w.units["TP"].ID
	st, err = w.svc.Statistics(w.ctx, w.p("headTP"), tp)
	if err != nil {
		t.Fatal(err)
	}
	if st.Organization != nil || len(st.Units) != 1 || got(st.Units[0]) != wantUnits["Phòng TP"] || len(st.People) != 1 || st.People[0].Name != "Ông handlerTP" {
		t.Fatalf("TP's statistics: %+v", st)
	}
	kt := march
	kt.UnitID = w.units["KT"].ID
	for _, c := range []struct {
		who  string
		req  handling.StatisticsRequest
		want func(error) bool
	}{
		{"headTP", march, isForbidden},
		{"headTP", kt, isForbidden},
		{"drafter", march, isForbidden},
		{"otherLeader", tp, isNotFound},
		{"leader", handling.StatisticsRequest{From: "2027-03-31", To: "2027-03-01"}, isInvalid},
		{"leader", handling.StatisticsRequest{From: "2020-01-01", To: "2027-03-01"}, isInvalid},
		{"leader", handling.StatisticsRequest{From: "1 March", To: "2027-03-01"}, isInvalid},
	} {
		if _, err := w.svc.Statistics(w.ctx, w.p(c.who), c.req); !c.want(err) {
			t.Errorf("%s %+v: %v", c.who, c.req, err)
		}
	}

	// The printed forms carry the same rows.
	st, err = w.svc.Statistics(w.ctx, w.p("auditor"), march)
	if err != nil {
		t.Fatal(err)
	}
	var x bytes.Buffer
	if err := st.WriteXLSX(&x, w.org.Name); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&x)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Thống kê")
	if err != nil {
		t.Fatal(err)
	}
	// Title, header, organisation, 2 units, 2 people, 2 outgoing.
	if len(rows) != 9 || rows[2][1] != w.org.Name || rows[2][2] != "6" || rows[2][7] != "40.0 %" {
		t.Fatalf("workbook rows %q", rows)
	}
	var p bytes.Buffer
	if err := st.WritePDF(&p, w.org.Name); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.pdf")
	if err := os.WriteFile(path, p.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testharness.Tool(t, "pdftotext", "poppler-utils"), "-raw", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
	for _, want := range []string{"THỐNG KÊ TÌNH HÌNH GIẢI QUYẾT VĂN BẢN", "Từ 2027-03-01 đến 2027-03-31", "Phòng TP", "Ông handlerTP", "66.7 %"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the PDF lacks %q:\n%s", want, out)
		}
	}
	_ = time.Second
}

// TestStatisticsTalliesMatchTheRows: whatever the period (whole months
// read from the tallies, partial ones from the rows, or both) and the
// moment it is taken as of, the figures are those counted straight from
// the rows; folding the tallies changes nothing.
func TestStatisticsTalliesMatchTheRows(t *testing.T) {
	w := newWorld(t)
	statsFixture(w)
	// Deadlines moved and parts completed after the fixture, so the
	// tallies hold several rows per key and month.
	if _, err := w.db.Pool.Exec(w.ctx, `UPDATE assignments SET due_at = due_at + interval '20 days' WHERE role = 'lead' AND unit_id IS NOT NULL AND state = 'open'`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Pool.Exec(w.ctx, `UPDATE assignments SET state = 'done', completed_at = timestamptz '2027-03-28 10:00+07'
		WHERE state = 'open' AND role = 'coordinate'`); err != nil {
		t.Fatal(err)
	}
	type fig struct{ received, onTime, late, inProgress, overdue int }
	// The rows' own answer, as the statistics were counted before tallies.
	oracle := func(from, end, asOf time.Time) map[string]fig {
		out := map[string]fig{}
		for _, q := range []string{
			`SELECT 'org', received_at AS at, due_at, completed_at FROM document_handling WHERE organization_id = $1`,
			`SELECT coalesce(unit_id, user_id)::text, assigned_at, due_at, completed_at FROM assignments WHERE organization_id = $1 AND role <> 'inform'`,
		} {
			rows, err := w.db.Pool.Query(w.ctx, `SELECT k, count(*),
				count(*) FILTER (WHERE completed_at < $4 AND (due_at IS NULL OR completed_at <= due_at)),
				count(*) FILTER (WHERE completed_at < $4 AND due_at IS NOT NULL AND completed_at > due_at),
				count(*) FILTER (WHERE (completed_at IS NULL OR completed_at >= $4) AND (due_at IS NULL OR due_at >= $4)),
				count(*) FILTER (WHERE (completed_at IS NULL OR completed_at >= $4) AND due_at < $4)
				FROM (`+q+`) x (k, at, due_at, completed_at) WHERE at >= $2 AND at < $3 GROUP BY k`, w.org.ID, from, end, asOf)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k string
				var f fig
				if err := rows.Scan(&k, &f.received, &f.onTime, &f.late, &f.inProgress, &f.overdue); err != nil {
					t.Fatal(err)
				}
				out[k] = f
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	for _, c := range []struct{ from, to, now string }{
		{"2027-03-01", "2027-03-31", "2027-04-10 09:00"}, // one whole month, closed
		{"2027-03-01", "2027-03-31", "2027-03-15 09:00"}, // one whole month, running
		{"2027-02-15", "2027-04-09", "2027-04-10 09:00"}, // partial months at both ends
		{"2027-03-05", "2027-03-20", "2027-04-10 09:00"}, // inside one month
		{"2027-02-01", "2027-04-30", "2027-03-05 12:00"}, // whole months, taken as of inside them
		{"2027-01-01", "2027-12-31", "2027-03-09 16:00"}, // a year, as of the day some parts were completed
		{"2027-03-02", "2027-04-30", "2027-03-30 09:00"}, // a partial month, then a whole one
	} {
		w.set(vn(c.now))
		from, end := vn(c.from+" 00:00"), vn(c.to+" 00:00").AddDate(0, 0, 1)
		asOf := w.now()
		if end.Before(asOf) {
			asOf = end
		}
		want := oracle(from, end, asOf)
		for round := 0; round < 2; round++ { // the second after folding
			st, err := w.svc.Statistics(w.ctx, w.p("leader"), handling.StatisticsRequest{From: c.from, To: c.to})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]fig{}
			add := func(k string, x handling.Counts) {
				got[k] = fig{x.Received, x.CompletedOnTime, x.CompletedLate, x.InProgress, x.Overdue}
			}
			if st.Organization.Received > 0 {
				add("org", *st.Organization)
			}
			for _, u := range st.Units {
				add(u.ID, u)
			}
			for _, p := range st.People {
				add(p.ID, p)
			}
			if len(got) != len(want) {
				t.Errorf("%s–%s as of %s: %d groups, want %d:\n got %+v\nwant %+v", c.from, c.to, c.now, len(got), len(want), got, want)
			}
			for k, f := range want {
				if got[k] != f {
					t.Errorf("%s–%s as of %s (round %d): %s %+v, want %+v", c.from, c.to, c.now, round, k, got[k], f)
				}
			}
		}
	}
	var several int
	if err := w.db.Pool.QueryRow(w.ctx, `SELECT count(*) FROM (SELECT 1 FROM handling_tallies
		WHERE month >= '2027-02-01' AND month < '2027-05-01' GROUP BY organization_id, kind, key, month HAVING count(*) > 1) x`).Scan(&several); err != nil {
		t.Fatal(err)
	}
	if several != 0 {
		t.Errorf("%d keys still hold several tally rows for a folded month", several)
	}
}

// TestMonthly: one call gives each month the period meets, cut to the
// period, with the figures Statistics gives for that month alone; at most
// the months asked for; refused as Statistics refuses.
func TestMonthly(t *testing.T) {
	w := newWorld(t)
	statsFixture(w)
	req := handling.StatisticsRequest{From: "2027-02-15", To: "2027-04-10"}
	months, err := w.svc.Monthly(w.ctx, w.p("leader"), req, 24)
	if err != nil {
		t.Fatal(err)
	}
	periods := [][2]string{{"2027-02-15", "2027-02-28"}, {"2027-03-01", "2027-03-31"}, {"2027-04-01", "2027-04-10"}}
	if len(months) != len(periods) {
		t.Fatalf("%d months, want %d", len(months), len(periods))
	}
	for i, pr := range periods {
		one, err := w.svc.Statistics(w.ctx, w.p("leader"), handling.StatisticsRequest{From: pr[0], To: pr[1]})
		if err != nil {
			t.Fatal(err)
		}
		m := months[i]
		m.AsOf, one.AsOf = time.Time{}, time.Time{}
		if !reflect.DeepEqual(m, one) {
			t.Fatalf("month %d:\n%+v\nwant\n%+v", i, m, one)
		}
	}
	if months, err := w.svc.Monthly(w.ctx, w.p("leader"), req, 2); err != nil || len(months) != 2 {
		t.Fatalf("at most 2 months: %d %v", len(months), err)
	}
	if _, err := w.svc.Monthly(w.ctx, w.p("leader"), handling.StatisticsRequest{From: "2027-04-10", To: "2027-02-15"}, 24); !errors.Is(err, handling.ErrInvalid) {
		t.Fatalf("a backwards period: %v", err)
	}
}
