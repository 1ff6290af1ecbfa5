package storage

import (
	"context"
	"fmt"
)

// SetUserRoles replaces the roles a user holds with roles.
func SetUserRoles(ctx context.Context, q Querier, userID string, roles []string) error {
	if _, err := q.Exec(ctx, "DELETE FROM user_roles WHERE user_id = $1 AND NOT (role = ANY($2::text[]))", userID, roles); err != nil {
		return fmt.Errorf("set user roles: %w", err)
	}
	for _, r := range roles {
		if _, err := q.Exec(ctx, "INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING", userID, r); err != nil {
			return fmt.Errorf("set user roles: %w", err)
		}
	}
	return nil
}

// CountEnabledAdmins counts the organisation's administrators whose
// accounts are not disabled.
func CountEnabledAdmins(ctx context.Context, q Querier, organizationID string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM users u JOIN user_roles r ON r.user_id = u.id
		WHERE u.organization_id = $1 AND r.role = $2 AND u.disabled_at IS NULL`, organizationID, RoleAdmin).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count administrators: %w", err)
	}
	return n, nil
}
