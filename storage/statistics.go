package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// HandlingCounts are the on-time figures of one group of handled parts
// (or documents) as of a moment.
type HandlingCounts struct {
	Key             string // unit or user id; "" for the organisation
	Received        int
	CompletedOnTime int
	CompletedLate   int
	InProgress      int
	Overdue         int
}

// countsSQL aggregates rows with completed_at and due_at columns as of $asOf.
const countsSQL = `count(*),
	count(*) FILTER (WHERE completed_at < %[1]s AND (due_at IS NULL OR completed_at <= due_at)),
	count(*) FILTER (WHERE completed_at < %[1]s AND due_at IS NOT NULL AND completed_at > due_at),
	count(*) FILTER (WHERE (completed_at IS NULL OR completed_at >= %[1]s) AND (due_at IS NULL OR due_at >= %[1]s)),
	count(*) FILTER (WHERE (completed_at IS NULL OR completed_at >= %[1]s) AND due_at < %[1]s)`

func scanCounts(rows pgx.Rows) ([]HandlingCounts, error) {
	return collect(rows, func(row pgx.Row) (HandlingCounts, error) {
		var c HandlingCounts
		var key *string
		err := row.Scan(&key, &c.Received, &c.CompletedOnTime, &c.CompletedLate, &c.InProgress, &c.Overdue)
		if key != nil {
			c.Key = *key
		}
		return c, err
	})
}

// OrganizationHandlingCounts counts the documents an organisation received
// in [from, to), each judged by its own (the lead's) deadline as of asOf.
func OrganizationHandlingCounts(ctx context.Context, q Querier, orgID string, from, to, asOf time.Time) (HandlingCounts, error) {
	rows, err := q.Query(ctx, `SELECT NULL::text, `+fmt.Sprintf(countsSQL, "$4")+`
		FROM document_handling WHERE organization_id = $1 AND received_at >= $2 AND received_at < $3`, orgID, from, to, asOf)
	if err != nil {
		return HandlingCounts{}, fmt.Errorf("organisation statistics: %w", err)
	}
	out, err := scanCounts(rows)
	if err != nil || len(out) == 0 {
		return HandlingCounts{}, err
	}
	return out[0], nil
}

// UnitHandlingCounts counts the parts given to units (not for
// information) in [from, to), per unit, optionally one unit only.
func UnitHandlingCounts(ctx context.Context, q Querier, orgID, unitID string, from, to, asOf time.Time) ([]HandlingCounts, error) {
	rows, err := q.Query(ctx, `SELECT unit_id::text, `+fmt.Sprintf(countsSQL, "$4")+`
		FROM assignments WHERE organization_id = $1 AND assigned_at >= $2 AND assigned_at < $3 AND role <> 'inform'
			AND unit_id IS NOT NULL AND ($5::uuid IS NULL OR unit_id = $5)
		GROUP BY unit_id`, orgID, from, to, asOf, nullable(unitID))
	if err != nil {
		return nil, fmt.Errorf("unit statistics: %w", err)
	}
	return scanCounts(rows)
}

// PersonHandlingCounts counts the parts given to people (directly or as a
// unit's handler) in [from, to), per person, optionally only the members
// of one unit.
func PersonHandlingCounts(ctx context.Context, q Querier, orgID, unitID string, from, to, asOf time.Time) ([]HandlingCounts, error) {
	rows, err := q.Query(ctx, `SELECT user_id::text, `+fmt.Sprintf(countsSQL, "$4")+`
		FROM assignments a WHERE organization_id = $1 AND assigned_at >= $2 AND assigned_at < $3 AND role <> 'inform'
			AND user_id IS NOT NULL
			AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM user_units m WHERE m.user_id = a.user_id AND m.unit_id = $5))
		GROUP BY user_id`, orgID, from, to, asOf, nullable(unitID))
	if err != nil {
		return nil, fmt.Errorf("person statistics: %w", err)
	}
	return scanCounts(rows)
}

// IssuedDocument is an outgoing document issued in a period, with when it
// was signed: the last signature of its approval chain, else the last
// signed version before the issued one.
type IssuedDocument struct {
	ID       string
	UnitID   string
	Urgency  string
	SignedAt *time.Time
	IssuedAt time.Time
}

// IssuedDocuments lists an organisation's documents issued in [from, to),
// optionally of one unit.
func IssuedDocuments(ctx context.Context, q Querier, orgID, unitID string, from, to time.Time) ([]IssuedDocument, error) {
	rows, err := q.Query(ctx, `SELECT d.id, coalesce(d.unit_id::text, ''), d.urgency, d.issued_at,
			coalesce((SELECT max(c.at) FROM chain_actions c WHERE c.document_id = d.id AND c.action = 'sign'),
				(SELECT max(v.created_at) FROM document_versions v WHERE v.document_id = d.id AND v.signed
					AND v.number < coalesce((SELECT e.version FROM register_entries e WHERE e.document_id = d.id), 2147483647)))
		FROM documents d WHERE d.organization_id = $1 AND d.issued_at >= $2 AND d.issued_at < $3
			AND ($4::uuid IS NULL OR d.unit_id = $4)`, orgID, from, to, nullable(unitID))
	if err != nil {
		return nil, fmt.Errorf("issued documents: %w", err)
	}
	return collect(rows, func(row pgx.Row) (IssuedDocument, error) {
		var d IssuedDocument
		err := row.Scan(&d.ID, &d.UnitID, &d.Urgency, &d.IssuedAt, &d.SignedAt)
		return d, err
	})
}
