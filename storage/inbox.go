package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// InboxItem is something that waits for one person about one document: a
// participant's turn in an approval chain (Source "chain", StageID set),
// or a part in handling a document (Source "handling", AssignmentID set;
// State "info" for what is only for information).
type InboxItem struct {
	ID             string
	OrganizationID string
	UserID         string
	DocumentID     string
	Source         string
	StageID        string
	Round          int
	Label          string
	Task           string
	Role           string
	TurnOf         string
	Counts         bool
	State          string // open, done, forwarded, closed, info
	AssignmentID   string
	Outcome        string
	Since          time.Time
	DueAt          *time.Time
	DoneAt         *time.Time
}

const inboxColumns = `i.id, i.organization_id, i.user_id, i.document_id, i.source, coalesce(i.stage_id::text, ''), i.round, i.label, i.task, i.role,
	coalesce(i.turn_of::text, ''), i.counts, i.state, i.outcome, i.since, i.due_at, i.done_at,
	coalesce(i.assignment_id::text, '')`

func scanInboxItem(row pgx.Row) (InboxItem, error) {
	var it InboxItem
	err := row.Scan(&it.ID, &it.OrganizationID, &it.UserID, &it.DocumentID, &it.Source, &it.StageID, &it.Round, &it.Label, &it.Task, &it.Role,
		&it.TurnOf, &it.Counts, &it.State, &it.Outcome, &it.Since, &it.DueAt, &it.DoneAt, &it.AssignmentID)
	return it, err
}

// InsertInboxItem adds an item, open unless it.State is "info", and
// returns it with its id.
func InsertInboxItem(ctx context.Context, q Querier, it InboxItem) (InboxItem, error) {
	if it.Source == "" {
		it.Source = "chain"
	}
	if it.State != "info" {
		it.State = "open"
	}
	err := q.QueryRow(ctx, `
		INSERT INTO inbox_items (organization_id, user_id, document_id, source, stage_id, round, label, task, role, turn_of, counts, since, due_at, state, assignment_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		it.OrganizationID, it.UserID, it.DocumentID, it.Source, nullable(it.StageID), it.Round, it.Label, it.Task, it.Role,
		nullable(it.TurnOf), it.Counts, it.Since, it.DueAt, it.State, nullable(it.AssignmentID)).Scan(&it.ID)
	if err != nil {
		return it, fmt.Errorf("inbox item for %s: %w", it.UserID, err)
	}
	return it, nil
}

const endInboxItemSQL = "UPDATE inbox_items SET state = $2, outcome = $3, done_at = $4 WHERE id = $1 AND state = 'open'"

// EndInboxItem ends an open item as done, forwarded or closed, with the
// action that ended it.
func EndInboxItem(ctx context.Context, q Querier, id, state, outcome string, at time.Time) error {
	_, err := q.Exec(ctx, endInboxItemSQL, id, state, outcome, at)
	if err != nil {
		return fmt.Errorf("end inbox item %s: %w", id, err)
	}
	return nil
}

// DocumentInboxItems lists the chain items of a document from round
// onwards, oldest first.
func DocumentInboxItems(ctx context.Context, q Querier, documentID string, fromRound int) ([]InboxItem, error) {
	rows, err := q.Query(ctx, "SELECT "+inboxColumns+` FROM inbox_items i
		WHERE i.document_id = $1 AND i.source = 'chain' AND i.round >= $2 ORDER BY i.since, i.id`, documentID, fromRound)
	if err != nil {
		return nil, fmt.Errorf("items of %s: %w", documentID, err)
	}
	return collect(rows, scanInboxItem)
}

// HadChainItem reports whether a user ever held an item in a document's chain.
func HadChainItem(ctx context.Context, q Querier, documentID, userID string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM inbox_items WHERE document_id = $1 AND user_id = $2)", documentID, userID).Scan(&ok)
	return ok, err
}

// InboxEntry is an item with what the inbox shows of its document.
type InboxEntry struct {
	InboxItem
	DocumentUnitID  string
	DocumentType    string
	Subject         string
	DocumentStatus  string
	Urgency         string
	Confidentiality string
	Number          *string
}

// InboxFilter selects a page of one person's inbox.
type InboxFilter struct {
	UserID string
	// View: open (chờ xử lý), due_soon (open, due before SoonLimit),
	// overdue (open, past due at Now), handled (đã xử lý) or
	// for_information (nhận để biết).
	View         string
	Now          time.Time
	SoonLimit    time.Time
	Task         string
	DocumentType string
	Source       string
	Limit        int
	After        *InboxCursor
	// Delegated adds, to the views of what waits (open, due soon,
	// overdue), the open approval-chain turns of people who delegated to
	// UserID, within each delegation's scope.
	Delegated []InboxDelegation
}

// InboxDelegation is the scope in which a delegate sees a delegator's
// turns: documents of these types and units (empty: every one).
type InboxDelegation struct {
	FromUser      string
	DocumentTypes []string
	UnitIDs       []string
}

// delegatedItems is the condition (items i, documents d) for the turns
// the delegations bring, numbering its arguments after args; "" for none.
func delegatedItems(ds []InboxDelegation, args *[]any) string {
	var or []string
	for _, dl := range ds {
		types, units := dl.DocumentTypes, dl.UnitIDs
		if types == nil {
			types = []string{}
		}
		if units == nil {
			units = []string{}
		}
		*args = append(*args, dl.FromUser, types, units)
		n := len(*args)
		or = append(or, fmt.Sprintf("(i.user_id = $%d AND (cardinality($%d::text[]) = 0 OR d.type_code = ANY ($%d::text[]))"+
			" AND (cardinality($%d::uuid[]) = 0 OR d.unit_id = ANY ($%d::uuid[])))", n-2, n-1, n-1, n, n))
	}
	if len(or) == 0 {
		return ""
	}
	return "(i.source = 'chain' AND i.state = 'open' AND (" + strings.Join(or, " OR ") + "))"
}

// InboxCursor is the keyset position after the last item of a page: its
// since (open views) or done_at (handled) and id.
type InboxCursor struct {
	At time.Time
	ID string
}

// ListInbox returns one page of an inbox: open items newest first, handled
// ones most recently handled first.
func ListInbox(ctx context.Context, q Querier, f InboxFilter) ([]InboxEntry, error) {
	sql, args := inboxQuery(f)
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	return collect(rows, scanInboxEntry)
}

// QueueInbox queues ListInbox's query on b, its page going to out when
// the batch is read: an inbox is read in as few round trips as its
// questions allow.
func QueueInbox(b *pgx.Batch, f InboxFilter, out *[]InboxEntry) {
	sql, args := inboxQuery(f)
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		got, err := collect(rows, scanInboxEntry)
		if err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
		*out = got
		return nil
	})
}

func inboxQuery(f InboxFilter) (string, []any) {
	var where []string
	args := []any{f.UserID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	order := "i.since"
	switch f.View {
	case "handled", "for_information":
		where = append(where, "i.user_id = $1")
	default:
		if others := delegatedItems(f.Delegated, &args); others != "" {
			where = append(where, "(i.user_id = $1 OR "+others+")")
		} else {
			where = append(where, "i.user_id = $1")
		}
	}
	switch f.View {
	case "handled":
		where = append(where, "i.state IN ('done', 'forwarded')")
		order = "i.done_at"
	case "overdue":
		where = append(where, "i.state = 'open'")
		add("i.due_at < ?", f.Now)
	case "due_soon":
		where = append(where, "i.state = 'open'")
		add("i.due_at >= ?", f.Now)
		add("i.due_at < ?", f.SoonLimit)
	case "for_information":
		where = append(where, "i.state = 'info'")
	default:
		where = append(where, "i.state = 'open'")
	}
	if f.Task != "" {
		add("i.task = ?", f.Task)
	}
	if f.Source != "" {
		add("i.source = ?", f.Source)
	}
	if f.DocumentType != "" {
		add("d.type_code = ?", f.DocumentType)
	}
	if f.After != nil {
		args = append(args, f.After.At, f.After.ID)
		where = append(where, fmt.Sprintf("(%s, i.id) < ($%d, $%d)", order, len(args)-1, len(args)))
	}
	args = append(args, f.Limit)
	sql := "SELECT " + inboxColumns + `, coalesce(d.unit_id::text, ''), d.type_code, d.subject, d.status, d.urgency, d.confidentiality, d.number
		FROM inbox_items i JOIN documents d ON d.id = i.document_id
		WHERE ` + strings.Join(where, " AND ") + fmt.Sprintf(" ORDER BY %s DESC, i.id DESC LIMIT $%d", order, len(args))
	return sql, args
}

func scanInboxEntry(row pgx.Row) (InboxEntry, error) {
	var e InboxEntry
	it := &e.InboxItem
	err := row.Scan(&it.ID, &it.OrganizationID, &it.UserID, &it.DocumentID, &it.Source, &it.StageID, &it.Round, &it.Label, &it.Task, &it.Role,
		&it.TurnOf, &it.Counts, &it.State, &it.Outcome, &it.Since, &it.DueAt, &it.DoneAt, &it.AssignmentID,
		&e.DocumentUnitID, &e.DocumentType, &e.Subject, &e.DocumentStatus, &e.Urgency, &e.Confidentiality, &e.Number)
	return e, err
}

// InboxCounts are the figures at the top of an inbox.
type InboxCounts struct {
	Open    int `json:"open"`     // chờ xử lý
	DueSoon int `json:"due_soon"` // sắp đến hạn
	Overdue int `json:"overdue"`  // quá hạn
	Handled int `json:"handled"`  // đã xử lý
	// ForInformation counts what was sent for information (nhận để biết).
	ForInformation int `json:"for_information"`
}

// CountInbox counts one person's inbox at now, due soon meaning before
// soon; what waits includes the turns delegated brings (InboxFilter).
func CountInbox(ctx context.Context, q Querier, userID string, now, soon time.Time, delegated ...InboxDelegation) (InboxCounts, error) {
	var c InboxCounts
	if err := q.QueryRow(ctx, ownCountsSQL, userID, now, soon).Scan(&c.Open, &c.DueSoon, &c.Overdue, &c.Handled, &c.ForInformation); err != nil {
		return c, fmt.Errorf("inbox counts: %w", err)
	}
	sql, args := delegatedCountsQuery(userID, now, soon, delegated)
	if sql == "" {
		return c, nil
	}
	var d InboxCounts
	if err := q.QueryRow(ctx, sql, args...).Scan(&d.Open, &d.DueSoon, &d.Overdue); err != nil {
		return c, fmt.Errorf("inbox counts of delegated turns: %w", err)
	}
	c.Open, c.DueSoon, c.Overdue = c.Open+d.Open, c.DueSoon+d.DueSoon, c.Overdue+d.Overdue
	return c, nil
}

// QueueInboxCounts queues CountInbox's queries on b, the counts going to
// out when the batch is read.
func QueueInboxCounts(b *pgx.Batch, userID string, now, soon time.Time, delegated []InboxDelegation, out *InboxCounts) {
	b.Queue(ownCountsSQL, userID, now, soon).QueryRow(func(row pgx.Row) error {
		var c InboxCounts
		if err := row.Scan(&c.Open, &c.DueSoon, &c.Overdue, &c.Handled, &c.ForInformation); err != nil {
			return fmt.Errorf("inbox counts: %w", err)
		}
		out.Open, out.DueSoon, out.Overdue = out.Open+c.Open, out.DueSoon+c.DueSoon, out.Overdue+c.Overdue
		out.Handled, out.ForInformation = c.Handled, c.ForInformation
		return nil
	})
	sql, args := delegatedCountsQuery(userID, now, soon, delegated)
	if sql == "" {
		return
	}
	b.Queue(sql, args...).QueryRow(func(row pgx.Row) error {
		var open, dueSoon, overdue int
		if err := row.Scan(&open, &dueSoon, &overdue); err != nil {
			return fmt.Errorf("inbox counts of delegated turns: %w", err)
		}
		out.Open, out.DueSoon, out.Overdue = out.Open+open, out.DueSoon+dueSoon, out.Overdue+overdue
		return nil
	})
}

// ownCountsSQL counts a person's own items: an index-only scan of
// inbox_counts (user_id, state, due_at), whatever the inbox's size.
const ownCountsSQL = `
	SELECT count(*) FILTER (WHERE state = 'open'),
		count(*) FILTER (WHERE state = 'open' AND due_at >= $2 AND due_at < $3),
		count(*) FILTER (WHERE state = 'open' AND due_at < $2),
		count(*) FILTER (WHERE state IN ('done', 'forwarded')),
		count(*) FILTER (WHERE state = 'info')
	FROM inbox_items WHERE user_id = $1`

// delegatedCountsQuery counts the turns delegations bring: open, due soon,
// overdue; "" without delegations.
func delegatedCountsQuery(userID string, now, soon time.Time, delegated []InboxDelegation) (string, []any) {
	args := []any{userID, now, soon}
	others := delegatedItems(delegated, &args)
	if others == "" {
		return "", nil
	}
	return `SELECT count(*), count(*) FILTER (WHERE i.due_at >= $2 AND i.due_at < $3), count(*) FILTER (WHERE i.due_at < $2)
		FROM inbox_items i JOIN documents d ON d.id = i.document_id
		WHERE i.user_id <> $1 AND ` + others, args
}
