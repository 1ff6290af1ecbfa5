package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delegation passes signing authority from one user to another for a scope
// and a period (Decree 30 art. 13). Empty DocumentTypes or UnitIDs mean
// every type or unit.
type Delegation struct {
	ID             string     `json:"id"`
	OrganizationID string     `json:"organization_id"`
	FromUser       string     `json:"from_user"`
	ToUser         string     `json:"to_user"`
	Form           string     `json:"form"`
	DocumentTypes  []string   `json:"document_types"`
	UnitIDs        []string   `json:"unit_ids"`
	ParentID       string     `json:"parent_id,omitempty"`
	Basis          string     `json:"basis"`
	StartsAt       time.Time  `json:"starts_at"`
	EndsAt         time.Time  `json:"ends_at"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
}

const delegationColumns = `id, organization_id, from_user, to_user, form, document_types,
	(SELECT coalesce(array_agg(u::text), '{}') FROM unnest(unit_ids) u), coalesce(parent_id::text, ''),
	basis, starts_at, ends_at, coalesce(created_by::text, ''), created_at, revoked_at`

func scanDelegation(row pgx.Row) (Delegation, error) {
	var d Delegation
	err := row.Scan(&d.ID, &d.OrganizationID, &d.FromUser, &d.ToUser, &d.Form, &d.DocumentTypes, &d.UnitIDs,
		&d.ParentID, &d.Basis, &d.StartsAt, &d.EndsAt, &d.CreatedBy, &d.CreatedAt, &d.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	return d, err
}

// CreateDelegation inserts a delegation.
func CreateDelegation(ctx context.Context, q Querier, d Delegation) (Delegation, error) {
	if d.DocumentTypes == nil {
		d.DocumentTypes = []string{}
	}
	if d.UnitIDs == nil {
		d.UnitIDs = []string{}
	}
	got, err := scanDelegation(q.QueryRow(ctx, `
		INSERT INTO delegations (organization_id, from_user, to_user, form, document_types, unit_ids, parent_id, basis, starts_at, ends_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6::uuid[], $7, $8, $9, $10, $11) RETURNING `+delegationColumns,
		d.OrganizationID, d.FromUser, d.ToUser, d.Form, d.DocumentTypes, d.UnitIDs, nullable(d.ParentID), d.Basis, d.StartsAt, d.EndsAt, nullable(d.CreatedBy)))
	if err != nil {
		return Delegation{}, fmt.Errorf("create delegation: %w", err)
	}
	return got, nil
}

// GetDelegation reads one delegation.
func GetDelegation(ctx context.Context, q Querier, id string) (Delegation, error) {
	if !isUUID(id) {
		return Delegation{}, ErrNotFound
	}
	return scanDelegation(q.QueryRow(ctx, "SELECT "+delegationColumns+" FROM delegations WHERE id = $1", id))
}

// ListDelegations lists an organisation's delegations, newest first; with
// userID set, only those from or to that user.
func ListDelegations(ctx context.Context, q Querier, organizationID, userID string) ([]Delegation, error) {
	sql := "SELECT " + delegationColumns + " FROM delegations WHERE organization_id = $1"
	args := []any{organizationID}
	if userID != "" {
		sql += " AND (from_user = $2 OR to_user = $2)"
		args = append(args, userID)
	}
	rows, err := q.Query(ctx, sql+" ORDER BY created_at DESC, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list delegations: %w", err)
	}
	return collect(rows, scanDelegation)
}

const delegationsToSQL = "SELECT " + delegationColumns + " FROM delegations WHERE to_user = $1 AND revoked_at IS NULL ORDER BY starts_at"

// DelegationsTo lists the unrevoked delegations a user holds, whatever
// their period, for deciding whether they may sign for someone.
func DelegationsTo(ctx context.Context, q Querier, userID string) ([]Delegation, error) {
	rows, err := q.Query(ctx, delegationsToSQL, userID)
	if err != nil {
		return nil, fmt.Errorf("delegations to %s: %w", userID, err)
	}
	return collect(rows, scanDelegation)
}

// QueueDelegationsTo queues DelegationsTo's query on b, the delegations
// going to out when the batch is read.
func QueueDelegationsTo(b *pgx.Batch, userID string, out *[]Delegation) {
	b.Queue(delegationsToSQL, userID).Query(func(rows pgx.Rows) error {
		got, err := collect(rows, scanDelegation)
		if err != nil {
			return fmt.Errorf("delegations to %s: %w", userID, err)
		}
		*out = got
		return nil
	})
}

// CountDelegationChildren counts the delegations passed on from one.
func CountDelegationChildren(ctx context.Context, q Querier, id string) (int, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT count(*) FROM delegations WHERE parent_id = $1 AND revoked_at IS NULL", id).Scan(&n)
	return n, err
}

// RevokeDelegation ends a delegation now, and those passed on from it.
func RevokeDelegation(ctx context.Context, q Querier, id string) error {
	if !isUUID(id) {
		return ErrNotFound
	}
	tag, err := q.Exec(ctx, "UPDATE delegations SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 OR parent_id = $1", id)
	if err != nil {
		return fmt.Errorf("revoke delegation: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
