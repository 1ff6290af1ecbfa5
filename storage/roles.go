package storage

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// ServiceRole is the PostgreSQL role the service runs as when the migrating
// role could create it (see migration 00003): it reads and writes the
// application's tables but may only read and append the audit log.
const ServiceRole = "vanthu_service"

// RoleURL returns dbURL (a postgres:// URL) connecting as role instead, on
// the same server and database, without a password: for servers that trust
// local connections, such as the embedded one.
func RoleURL(dbURL, role string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("database: not a postgres:// URL")
	}
	u.User = url.User(role)
	return u.String(), nil
}

// RoleExists reports whether the cluster has a role of this name.
func RoleExists(ctx context.Context, q Querier, role string) (bool, error) {
	var ok bool
	if err := q.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", role).Scan(&ok); err != nil {
		return false, fmt.Errorf("database: role %s: %w", role, err)
	}
	return ok, nil
}

// URLUser returns the user a postgres:// URL connects as, or "" when the
// URL names none (or is not a URL). It is safe to log; the URL is not.
func URLUser(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.User == nil {
		return ""
	}
	return strings.TrimSpace(u.User.Username())
}
