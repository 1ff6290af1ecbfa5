package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Handling is a document of an organisation in handling (document_handling).
type Handling struct {
	DocumentID      string
	OrganizationID  string
	Status          string // registered, presented, assigned, completed
	ReceivedAt      time.Time
	Direction       string
	AssignedBy      string
	AssignedAt      *time.Time
	DueAt           *time.Time
	CompletedAt     *time.Time
	CompletedBy     string
	ReplyDocumentID string
}

const handlingColumns = `document_id, organization_id, status, received_at, direction, coalesce(assigned_by::text, ''), assigned_at, due_at,
	completed_at, coalesce(completed_by::text, ''), coalesce(reply_document_id::text, '')`

func scanHandling(row pgx.Row) (Handling, error) {
	var h Handling
	err := row.Scan(&h.DocumentID, &h.OrganizationID, &h.Status, &h.ReceivedAt, &h.Direction, &h.AssignedBy, &h.AssignedAt, &h.DueAt,
		&h.CompletedAt, &h.CompletedBy, &h.ReplyDocumentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, ErrNotFound
	}
	return h, err
}

// InsertHandling puts a document into handling; a document already in
// handling is ErrConflict.
func InsertHandling(ctx context.Context, q Querier, h Handling) error {
	_, err := q.Exec(ctx, `INSERT INTO document_handling (document_id, organization_id, received_at) VALUES ($1, $2, $3)`,
		h.DocumentID, h.OrganizationID, h.ReceivedAt)
	if isUniqueViolation(err) {
		return fmt.Errorf("handling of %s: %w", h.DocumentID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("handling of %s: %w", h.DocumentID, err)
	}
	return nil
}

// GetHandling reads a document's handling (ErrNotFound: not in handling).
func GetHandling(ctx context.Context, q Querier, documentID string) (Handling, error) {
	if !isUUID(documentID) {
		return Handling{}, ErrNotFound
	}
	return scanHandling(q.QueryRow(ctx, "SELECT "+handlingColumns+" FROM document_handling WHERE document_id = $1", documentID))
}

// LockHandling reads a document's handling for update.
func LockHandling(ctx context.Context, tx pgx.Tx, documentID string) (Handling, error) {
	if !isUUID(documentID) {
		return Handling{}, ErrNotFound
	}
	return scanHandling(tx.QueryRow(ctx, "SELECT "+handlingColumns+" FROM document_handling WHERE document_id = $1 FOR UPDATE", documentID))
}

// UpdateHandling writes a handling's changeable fields.
func UpdateHandling(ctx context.Context, q Querier, h Handling) error {
	_, err := q.Exec(ctx, `UPDATE document_handling SET status = $2, direction = $3, assigned_by = $4, assigned_at = $5, due_at = $6,
		completed_at = $7, completed_by = $8, reply_document_id = $9 WHERE document_id = $1`,
		h.DocumentID, h.Status, h.Direction, nullable(h.AssignedBy), h.AssignedAt, h.DueAt, h.CompletedAt, nullable(h.CompletedBy), nullable(h.ReplyDocumentID))
	if err != nil {
		return fmt.Errorf("update handling of %s: %w", h.DocumentID, err)
	}
	return nil
}

// Assignment is one unit's or person's part in handling a document.
type Assignment struct {
	ID              string     `json:"id"`
	OrganizationID  string     `json:"-"`
	DocumentID      string     `json:"document_id"`
	ParentID        string     `json:"parent_id,omitempty"`
	UnitID          string     `json:"unit_id,omitempty"`
	UserID          string     `json:"user_id,omitempty"`
	Role            string     `json:"role"`
	State           string     `json:"state"`
	AssignedBy      string     `json:"assigned_by"`
	AssignedAt      time.Time  `json:"assigned_at"`
	DueAt           *time.Time `json:"due_at,omitempty"`
	CompletedAt     *time.Time `json:"completed_at,omitempty"`
	CompletedBy     string     `json:"completed_by,omitempty"`
	Note            string     `json:"note,omitempty"`
	ReplyDocumentID string     `json:"reply_document_id,omitempty"`
}

const assignmentColumns = `id, organization_id, document_id, coalesce(parent_id::text, ''), coalesce(unit_id::text, ''), coalesce(user_id::text, ''),
	role, state, assigned_by, assigned_at, due_at, completed_at, coalesce(completed_by::text, ''), note, coalesce(reply_document_id::text, '')`

func scanAssignment(row pgx.Row) (Assignment, error) {
	var a Assignment
	err := row.Scan(&a.ID, &a.OrganizationID, &a.DocumentID, &a.ParentID, &a.UnitID, &a.UserID, &a.Role, &a.State, &a.AssignedBy, &a.AssignedAt,
		&a.DueAt, &a.CompletedAt, &a.CompletedBy, &a.Note, &a.ReplyDocumentID)
	return a, err
}

// InsertAssignment adds an open assignment and returns it with its id.
func InsertAssignment(ctx context.Context, q Querier, a Assignment) (Assignment, error) {
	err := q.QueryRow(ctx, `INSERT INTO assignments (organization_id, document_id, parent_id, unit_id, user_id, role, assigned_by, assigned_at, due_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		a.OrganizationID, a.DocumentID, nullable(a.ParentID), nullable(a.UnitID), nullable(a.UserID), a.Role, a.AssignedBy, a.AssignedAt, a.DueAt).Scan(&a.ID)
	if isUniqueViolation(err) {
		return a, fmt.Errorf("assignment of %s: %w", a.DocumentID, ErrConflict)
	}
	if err != nil {
		return a, fmt.Errorf("assignment of %s: %w", a.DocumentID, err)
	}
	a.State = "open"
	return a, nil
}

// EndAssignment ends an open assignment as done or closed.
func EndAssignment(ctx context.Context, q Querier, a Assignment) error {
	tag, err := q.Exec(ctx, `UPDATE assignments SET state = $2, completed_at = $3, completed_by = $4, note = $5, reply_document_id = $6
		WHERE id = $1 AND state = 'open'`, a.ID, a.State, a.CompletedAt, nullable(a.CompletedBy), a.Note, nullable(a.ReplyDocumentID))
	if err != nil {
		return fmt.Errorf("end assignment %s: %w", a.ID, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("end assignment %s: %w", a.ID, ErrNotFound)
	}
	return nil
}

// DocumentAssignments lists a document's assignments in the order given.
func DocumentAssignments(ctx context.Context, q Querier, documentID string) ([]Assignment, error) {
	rows, err := q.Query(ctx, "SELECT "+assignmentColumns+" FROM assignments WHERE document_id = $1 ORDER BY seq", documentID)
	if err != nil {
		return nil, fmt.Errorf("assignments of %s: %w", documentID, err)
	}
	return collect(rows, scanAssignment)
}

// HandlingAction is one step in a document's handling.
type HandlingAction struct {
	ID           int64     `json:"id"`
	AssignmentID string    `json:"assignment_id,omitempty"`
	Action       string    `json:"action"`
	Actor        string    `json:"actor"`
	ActorName    string    `json:"actor_name"`
	Note         string    `json:"note,omitempty"`
	At           time.Time `json:"at"`
}

// InsertHandlingAction appends a step to a document's handling history.
func InsertHandlingAction(ctx context.Context, q Querier, orgID, documentID string, a HandlingAction) error {
	_, err := q.Exec(ctx, `INSERT INTO handling_actions (document_id, organization_id, assignment_id, action, actor, note, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, documentID, orgID, nullable(a.AssignmentID), a.Action, a.Actor, a.Note, a.At)
	if err != nil {
		return fmt.Errorf("handling action %s on %s: %w", a.Action, documentID, err)
	}
	return nil
}

// HandlingActions lists a document's handling history, oldest first.
func HandlingActions(ctx context.Context, q Querier, documentID string) ([]HandlingAction, error) {
	rows, err := q.Query(ctx, `SELECT a.id, coalesce(a.assignment_id::text, ''), a.action, a.actor, u.full_name, a.note, a.at
		FROM handling_actions a JOIN users u ON u.id = a.actor WHERE a.document_id = $1 ORDER BY a.id`, documentID)
	if err != nil {
		return nil, fmt.Errorf("handling history of %s: %w", documentID, err)
	}
	return collect(rows, func(row pgx.Row) (HandlingAction, error) {
		var a HandlingAction
		err := row.Scan(&a.ID, &a.AssignmentID, &a.Action, &a.Actor, &a.ActorName, &a.Note, &a.At)
		return a, err
	})
}

// UnitHeads lists the active unit heads (lãnh đạo phòng: the reviewer
// role) of a unit of an organisation.
func UnitHeads(ctx context.Context, q Querier, orgID, unitID string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT u.id::text FROM users u JOIN user_units m ON m.user_id = u.id JOIN user_roles r ON r.user_id = u.id
		WHERE m.organization_id = $1 AND m.unit_id = $2 AND r.role = 'reviewer' AND u.disabled_at IS NULL ORDER BY u.id`, orgID, unitID)
	if err != nil {
		return nil, fmt.Errorf("heads of unit %s: %w", unitID, err)
	}
	return collect(rows, func(row pgx.Row) (string, error) {
		var s string
		return s, row.Scan(&s)
	})
}

// GetUnit reads a unit of an organisation (ErrNotFound: not one of its units).
func GetUnit(ctx context.Context, q Querier, orgID, unitID string) (Unit, error) {
	if !isUUID(unitID) || !isUUID(orgID) {
		return Unit{}, ErrNotFound
	}
	var u Unit
	err := q.QueryRow(ctx, "SELECT id, organization_id, code, name, created_at FROM units WHERE organization_id = $1 AND id = $2", orgID, unitID).
		Scan(&u.ID, &u.OrganizationID, &u.Code, &u.Name, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// AssignmentInboxItems lists the inbox items that stand for assignments.
func AssignmentInboxItems(ctx context.Context, q Querier, assignmentIDs []string) ([]InboxItem, error) {
	rows, err := q.Query(ctx, "SELECT "+inboxColumns+" FROM inbox_items i WHERE i.assignment_id = ANY($1::uuid[]) ORDER BY i.since, i.id", assignmentIDs)
	if err != nil {
		return nil, fmt.Errorf("assignment items: %w", err)
	}
	return collect(rows, scanInboxItem)
}

// PresentedItems lists a document's open presenting items (handling items
// that wait for a leader's assignment and stand for no assignment yet).
func PresentedItems(ctx context.Context, q Querier, documentID string) ([]InboxItem, error) {
	rows, err := q.Query(ctx, "SELECT "+inboxColumns+` FROM inbox_items i WHERE i.document_id = $1 AND i.source = 'handling'
		AND i.assignment_id IS NULL AND i.state = 'open' ORDER BY i.since, i.id`, documentID)
	if err != nil {
		return nil, fmt.Errorf("presented items of %s: %w", documentID, err)
	}
	return collect(rows, scanInboxItem)
}

// DueAssignment is an open assignment with a deadline, with whom it
// concerns, for reminders.
type DueAssignment struct {
	Assignment
	// UnitID of the unit responsible: the assignment's, or its parent's
	// for a handler within a unit.
	ResponsibleUnitID string
}

// DueAssignments lists open assignments (not for information) due before
// by until (included), in deadline order after the keyset (afterDue, afterID) when given.
func DueAssignments(ctx context.Context, q Querier, until time.Time, afterDue *time.Time, afterID string, limit int) ([]DueAssignment, error) {
	args := []any{until, limit}
	keyset := ""
	if afterDue != nil && isUUID(afterID) {
		args = append(args, *afterDue, afterID)
		keyset = " AND (a.due_at, a.id) > ($3, $4)"
	}
	rows, err := q.Query(ctx, `SELECT a.id, a.organization_id, a.document_id, coalesce(a.parent_id::text, ''), coalesce(a.unit_id::text, ''),
		coalesce(a.user_id::text, ''), a.role, a.state, a.assigned_by, a.assigned_at, a.due_at, a.completed_at, coalesce(a.completed_by::text, ''),
		a.note, coalesce(a.reply_document_id::text, ''), coalesce(a.unit_id, p.unit_id)::text
		FROM assignments a LEFT JOIN assignments p ON p.id = a.parent_id
		WHERE a.state = 'open' AND a.role <> 'inform' AND a.due_at <= $1`+keyset+` ORDER BY a.due_at, a.id LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("due assignments: %w", err)
	}
	return collect(rows, func(row pgx.Row) (DueAssignment, error) {
		var d DueAssignment
		a := &d.Assignment
		var unit *string
		err := row.Scan(&a.ID, &a.OrganizationID, &a.DocumentID, &a.ParentID, &a.UnitID, &a.UserID, &a.Role, &a.State, &a.AssignedBy, &a.AssignedAt,
			&a.DueAt, &a.CompletedAt, &a.CompletedBy, &a.Note, &a.ReplyDocumentID, &unit)
		if unit != nil {
			d.ResponsibleUnitID = *unit
		}
		return d, err
	})
}
