package handling

import (
	"context"
	"fmt"
	"time"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/storage"
)

// Deadline is an open part of handling due by the day asked about: what
// the reminders engine (package notify) needs to remind and escalate.
type Deadline struct {
	AssignmentID   string
	DocumentID     string
	OrganizationID string
	Role           string // lead or coordinate
	// Assignees are who must act: the person assigned, or the heads of
	// the unit assigned while it has no handler.
	Assignees []string
	// UnitHeads are whom an overdue part escalates to: the heads of the
	// responsible unit (the assignment's, or for a handler its unit's).
	UnitHeads []string
	Due       time.Time
	// WorkingDaysOverdue is how many working days have ended since the
	// deadline's day, as of the day asked about: 0 due that day, negative
	// still ahead (-1: due the next working day).
	WorkingDaysOverdue int
}

// Cursor is the keyset position after the last assignment a page read.
type Cursor struct {
	Due time.Time
	ID  string
}

// DeadlinesPage lists open assignments due by the end of the working day
// that lies ahead working days after day (ahead 0: day itself, so every
// part due that day and every overdue one; on a day off, only the overdue
// ones), in deadline order, reading at
// most limit assignments after the cursor (nil: from the start). next is
// where the following page starts, nil after the last. A unit's part that
// has a handler is represented by the handler's part only.
func DeadlinesPage(ctx context.Context, q storage.Querier, cal *calendar.Calendar, day time.Time, ahead int, after *Cursor, limit int) (out []Deadline, next *Cursor, err error) {
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	// The end of day's working hours; on a day off nothing falls due, so
	// only what fell due before it.
	until := midnight(day)
	switch {
	case ahead > 0:
		until = cal.AddDays(until, ahead)
	case cal.IsWorkingDay(day):
		until = cal.AddDays(until, 0)
	}
	var afterDue *time.Time
	afterID := ""
	if after != nil {
		afterDue, afterID = &after.Due, after.ID
	}
	rows, err := storage.DueAssignments(ctx, q, until, afterDue, afterID, limit)
	if err != nil {
		return nil, nil, err
	}
	if len(rows) == limit {
		last := rows[len(rows)-1]
		next = &Cursor{Due: *last.DueAt, ID: last.ID}
	}
	heads := map[[2]string][]string{}
	headsOf := func(org, unit string) ([]string, error) {
		if unit == "" {
			return nil, nil
		}
		k := [2]string{org, unit}
		if h, ok := heads[k]; ok {
			return h, nil
		}
		h, err := storage.UnitHeads(ctx, q, org, unit)
		if err != nil {
			return nil, err
		}
		heads[k] = h
		return h, nil
	}
	var parents []string
	for _, r := range rows {
		if r.ParentID == "" && r.UnitID != "" {
			parents = append(parents, r.ID)
		}
	}
	handled, err := withHandler(ctx, q, parents)
	if err != nil {
		return nil, nil, err
	}
	overdue := map[string]int{}
	out = make([]Deadline, 0, len(rows))
	for _, r := range rows {
		if handled[r.ID] {
			continue
		}
		d := Deadline{AssignmentID: r.ID, DocumentID: r.DocumentID, OrganizationID: r.OrganizationID, Role: r.Role, Due: r.DueAt.UTC()}
		if d.UnitHeads, err = headsOf(r.OrganizationID, r.ResponsibleUnitID); err != nil {
			return nil, nil, err
		}
		if r.UserID != "" {
			d.Assignees = []string{r.UserID}
		} else {
			d.Assignees = d.UnitHeads
		}
		key := d.Due.In(calendar.Vietnam).Format(time.DateOnly)
		n, ok := overdue[key]
		if !ok {
			n = workingDaysBetween(cal, d.Due, day)
			overdue[key] = n
		}
		d.WorkingDaysOverdue = n
		out = append(out, d)
	}
	return out, next, nil
}

// Deadlines lists every open part due by the end of the working day ahead
// working days after day; see DeadlinesPage.
func Deadlines(ctx context.Context, q storage.Querier, cal *calendar.Calendar, day time.Time, ahead int) ([]Deadline, error) {
	var all []Deadline
	var after *Cursor
	for {
		page, next, err := DeadlinesPage(ctx, q, cal, day, ahead, after, 5000)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == nil {
			return all, nil
		}
		after = next
	}
}

func withHandler(ctx context.Context, q storage.Querier, parents []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(parents) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, "SELECT parent_id::text FROM assignments WHERE parent_id = ANY($1::uuid[])", parents)
	if err != nil {
		return nil, fmt.Errorf("handlers of unit parts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// workingDaysBetween counts the working days after due's day up to and
// including day (negative when day comes first).
func workingDaysBetween(cal *calendar.Calendar, due, day time.Time) int {
	a, b := midnight(due), midnight(day)
	sign := 1
	if b.Before(a) {
		a, b, sign = b, a, -1
	}
	n := 0
	for d := a.AddDate(0, 0, 1); !d.After(b) && n < 3660; d = d.AddDate(0, 0, 1) {
		if cal.IsWorkingDay(d) {
			n++
		}
	}
	return sign * n
}

func midnight(t time.Time) time.Time {
	t = t.In(calendar.Vietnam)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, calendar.Vietnam)
}
