package storage

import (
	"context"
	"fmt"
	"time"
)

// CertificationMonth counts an organisation's certification requests
// received in one month (Vietnam time) by where each stands as of a
// moment: certified by its deadline or after it, refused, still open
// within its deadline, or open past it.
type CertificationMonth struct {
	Month           string // YYYY-MM
	Received        int
	CertifiedOnTime int
	CertifiedLate   int
	Refused         int
	Open            int
	Overdue         int
}

// CertificationMonths counts the requests received in [from, end) by asOf, month
// by month, as of asOf (what happened after it is not yet known).
func CertificationMonths(ctx context.Context, q Querier, orgID string, from, end, asOf time.Time) ([]CertificationMonth, error) {
	rows, err := q.Query(ctx, `
		SELECT to_char((received_at AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM') AS month, count(*),
			count(*) FILTER (WHERE certified_at <= $4 AND certified_at <= due_at),
			count(*) FILTER (WHERE certified_at <= $4 AND certified_at > due_at),
			count(*) FILTER (WHERE refused_at <= $4),
			count(*) FILTER (WHERE (certified_at IS NULL OR certified_at > $4) AND (refused_at IS NULL OR refused_at > $4) AND due_at >= $4),
			count(*) FILTER (WHERE (certified_at IS NULL OR certified_at > $4) AND (refused_at IS NULL OR refused_at > $4) AND due_at < $4)
		FROM certifications
		WHERE organization_id = $1 AND received_at >= $2 AND received_at < $3 AND received_at <= $4
		GROUP BY 1 ORDER BY 1`, orgID, from, end, asOf)
	if err != nil {
		return nil, fmt.Errorf("certifications by month of %s: %w", orgID, err)
	}
	defer rows.Close()
	var out []CertificationMonth
	for rows.Next() {
		var m CertificationMonth
		if err := rows.Scan(&m.Month, &m.Received, &m.CertifiedOnTime, &m.CertifiedLate, &m.Refused, &m.Open, &m.Overdue); err != nil {
			return nil, fmt.Errorf("certifications by month of %s: %w", orgID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("certifications by month of %s: %w", orgID, err)
	}
	return out, nil
}
