package storage

import (
	"context"
	"fmt"
)

// ListCertifications lists an organisation's certification requests whose
// status is one of statuses (none: every status), the newest received
// first, at most limit of them.
func ListCertifications(ctx context.Context, q Querier, orgID string, statuses []string, limit int) ([]Certification, error) {
	if !isUUID(orgID) {
		return nil, ErrNotFound
	}
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	rows, err := q.Query(ctx, "SELECT "+certificationColumns+` FROM certifications
		WHERE organization_id = $1 AND (coalesce(cardinality($2::text[]), 0) = 0 OR status = ANY($2))
		ORDER BY received_at DESC, created_at DESC LIMIT $3`, orgID, statuses, limit)
	if err != nil {
		return nil, fmt.Errorf("list certifications: %w", err)
	}
	defer rows.Close()
	var out []Certification
	for rows.Next() {
		c, err := scanCertification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
