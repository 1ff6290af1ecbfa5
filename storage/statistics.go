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

// PartHandlingCounts counts the parts (not for information) given in
// [from, to): per unit for the parts given to units, per person for those
// given to people (directly or as a unit's handler). A part names a unit
// or a person, never both, so one scan grouped by the pair gives both.
// With unitID, only that unit and its members.
func PartHandlingCounts(ctx context.Context, q Querier, orgID, unitID string, from, to, asOf time.Time) (units, people []HandlingCounts, err error) {
	// The unit's condition is written only when asked for: a cached
	// statement's generic plan cannot drop "$5 IS NULL OR …" and would
	// test membership on every row of the year.
	args := []any{orgID, from, to, asOf}
	only := ""
	if unitID != "" {
		args = append(args, unitID)
		only = ` AND (a.unit_id = $5 OR EXISTS (SELECT 1 FROM user_units m WHERE m.user_id = a.user_id AND m.unit_id = $5))`
	}
	rows, err := q.Query(ctx, `SELECT unit_id::text, user_id::text, `+fmt.Sprintf(countsSQL, "$4")+`
		FROM assignments a WHERE organization_id = $1 AND assigned_at >= $2 AND assigned_at < $3 AND role <> 'inform'`+only+`
		GROUP BY unit_id, user_id`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("part statistics: %w", err)
	}
	type pair struct {
		unit   bool
		counts HandlingCounts
	}
	all, err := collect(rows, func(row pgx.Row) (pair, error) {
		var p pair
		var unit, user *string
		c := &p.counts
		err := row.Scan(&unit, &user, &c.Received, &c.CompletedOnTime, &c.CompletedLate, &c.InProgress, &c.Overdue)
		if unit != nil {
			p.unit, c.Key = true, *unit
		} else if user != nil {
			c.Key = *user
		}
		return p, err
	})
	if err != nil {
		return nil, nil, err
	}
	for _, p := range all {
		if p.unit {
			units = append(units, p.counts)
		} else {
			people = append(people, p.counts)
		}
	}
	return units, people, nil
}

// UserNames maps user ids to full names.
func UserNames(ctx context.Context, q Querier, ids []string) (map[string]string, error) {
	rows, err := q.Query(ctx, "SELECT id::text, full_name FROM users WHERE id = ANY($1::uuid[])", ids)
	if err != nil {
		return nil, fmt.Errorf("user names: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
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
			AND d.unit_id IS NOT DISTINCT FROM coalesce($4::uuid, d.unit_id)`, orgID, from, to, nullable(unitID))
	if err != nil {
		return nil, fmt.Errorf("issued documents: %w", err)
	}
	return collect(rows, func(row pgx.Row) (IssuedDocument, error) {
		var d IssuedDocument
		err := row.Scan(&d.ID, &d.UnitID, &d.Urgency, &d.IssuedAt, &d.SignedAt)
		return d, err
	})
}
