package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/storage"
)

// HandlingDeadlines reminds whoever must act on an open part of the
// handling of an incoming document (package documents/handling decides
// who: the person assigned, or the unit's heads while the unit has no
// handler) and escalates to the head of the responsible unit.
type HandlingDeadlines struct{}

// handlingPage is how many assignments one read of the handling's
// deadlines covers (and one statement of subjects).
const handlingPage = 1000

// handlingRoleLabel names a part's role as the reminder says it.
var handlingRoleLabel = map[string]string{
	handling.RoleLead:       "chủ trì xử lý",
	handling.RoleCoordinate: "phối hợp xử lý",
}

// Due lists, for each open part due by the end of until's day (the
// handling package's rule of what is due by a day), one item per person
// who must act on it.
func (HandlingDeadlines) Due(ctx context.Context, q storage.Querier, cal *calendar.Calendar, until time.Time) ([]DeadlineItem, error) {
	var out []DeadlineItem
	var after *handling.Cursor
	for {
		page, next, err := handling.DeadlinesPage(ctx, q, cal, until, 0, after, handlingPage)
		if err != nil {
			return nil, fmt.Errorf("handling deadlines: %w", err)
		}
		subjects, err := documentSubjects(ctx, q, page)
		if err != nil {
			return nil, err
		}
		for _, d := range page {
			label := subjects[d.DocumentID]
			if r := handlingRoleLabel[d.Role]; r != "" {
				label += " — " + r
			}
			for _, who := range d.Assignees {
				head := ""
				for _, h := range d.UnitHeads {
					if h != who {
						head = h
						break
					}
				}
				out = append(out, DeadlineItem{Key: "assignment:" + d.AssignmentID + ":" + who, OrganizationID: d.OrganizationID,
					DocumentID: d.DocumentID, Label: label, AssigneeID: who, UnitHeadID: head, Due: d.Due})
			}
		}
		if next == nil {
			return out, nil
		}
		after = next
	}
}

// documentSubjects reads the subjects of a page's documents in one
// statement.
func documentSubjects(ctx context.Context, q storage.Querier, page []handling.Deadline) (map[string]string, error) {
	out := make(map[string]string, len(page))
	if len(page) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(page))
	for _, d := range page {
		if _, ok := out[d.DocumentID]; !ok {
			out[d.DocumentID] = ""
			ids = append(ids, d.DocumentID)
		}
	}
	rows, err := q.Query(ctx, "SELECT id::text, subject FROM documents WHERE id = ANY($1::uuid[])", ids)
	if err != nil {
		return nil, fmt.Errorf("handling deadlines: subjects: %w", err)
	}
	var id, subject string
	if _, err := pgx.ForEachRow(rows, []any{&id, &subject}, func() error {
		out[id] = subject
		return nil
	}); err != nil {
		return nil, fmt.Errorf("handling deadlines: subjects: %w", err)
	}
	return out, nil
}
