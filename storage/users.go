package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// User is an account of the service. OrganizationID is empty only for the
// superadmin, who manages organisations and belongs to none.
type User struct {
	ID             string     `json:"id"`
	Username       string     `json:"username"`
	FullName       string     `json:"full_name"`
	Title          string     `json:"title"`
	OrganizationID string     `json:"organization_id,omitempty"`
	IsSuperadmin   bool       `json:"is_superadmin,omitempty"`
	Roles          []string   `json:"roles"`
	UnitIDs        []string   `json:"unit_ids"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

// Roles a user may hold.
const (
	RoleDrafter   = "drafter"
	RoleReviewer  = "reviewer"
	RoleSigner    = "signer"
	RoleClerk     = "clerk"
	RoleCertifier = "certifier"
	RoleDesk      = "desk" // the one-stop desk (bộ phận một cửa) that receives requests
	RoleAuditor   = "auditor"
	RoleAdmin     = "admin"
)

// AllRoles lists the roles in the order they are shown.
var AllRoles = []string{RoleDrafter, RoleReviewer, RoleSigner, RoleClerk, RoleCertifier, RoleDesk, RoleAuditor, RoleAdmin}

const userColumns = `u.id, u.username, u.full_name, u.title, coalesce(u.organization_id::text, ''), u.is_superadmin,
	coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '{}'),
	coalesce((SELECT array_agg(m.unit_id::text ORDER BY m.unit_id) FROM user_units m WHERE m.user_id = u.id), '{}'),
	u.disabled_at, u.created_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Username, &u.FullName, &u.Title, &u.OrganizationID, &u.IsSuperadmin,
		&u.Roles, &u.UnitIDs, &u.DisabledAt, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	return u, err
}

// CountUsers is used at start to tell a first start from a restart.
func CountUsers(ctx context.Context, q Querier) (int, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, err
}

// ErrConflict is returned when a unique name is already taken.
var ErrConflict = errors.New("already exists")

// CreateUser inserts a user with their roles and units; passwordHash may be
// empty (no password login).
func CreateUser(ctx context.Context, q Querier, u User, passwordHash string) (User, error) {
	org, hash := nullable(u.OrganizationID), nullable(passwordHash)
	err := q.QueryRow(ctx, `
		INSERT INTO users (username, full_name, title, organization_id, is_superadmin, password_hash)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		u.Username, u.FullName, u.Title, org, u.IsSuperadmin, hash).Scan(&u.ID)
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("user %s: %w", u.Username, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", u.Username, err)
	}
	for _, r := range u.Roles {
		if _, err := q.Exec(ctx, "INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING", u.ID, r); err != nil {
			return User{}, fmt.Errorf("create user %s: role %s: %w", u.Username, r, err)
		}
	}
	for _, unit := range u.UnitIDs {
		if _, err := q.Exec(ctx, "INSERT INTO user_units (user_id, organization_id, unit_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			u.ID, org, unit); err != nil {
			return User{}, fmt.Errorf("create user %s: unit %s: %w", u.Username, unit, err)
		}
	}
	return GetUser(ctx, q, u.ID)
}

// GetUser reads one user.
func GetUser(ctx context.Context, q Querier, id string) (User, error) {
	if !isUUID(id) {
		return User{}, ErrNotFound
	}
	return scanUser(q.QueryRow(ctx, "SELECT "+userColumns+" FROM users u WHERE u.id = $1", id))
}

// UserCredentials is what a password login needs.
type UserCredentials struct {
	User
	PasswordHash string
}

// UserByUsername reads a user and their password hash for a login.
func UserByUsername(ctx context.Context, q Querier, username string) (UserCredentials, error) {
	var c UserCredentials
	var hash *string
	err := q.QueryRow(ctx, "SELECT u.password_hash, u.id FROM users u WHERE u.username = $1", username).Scan(&hash, &c.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	if hash != nil {
		c.PasswordHash = *hash
	}
	c.User, err = GetUser(ctx, q, c.ID)
	return c, err
}

// ListUsers lists the users of one organisation, or every user when
// organizationID is empty, by username.
func ListUsers(ctx context.Context, q Querier, organizationID string) ([]User, error) {
	sql := "SELECT " + userColumns + " FROM users u"
	var args []any
	if organizationID != "" {
		sql += " WHERE u.organization_id = $1"
		args = append(args, organizationID)
	}
	rows, err := q.Query(ctx, sql+" ORDER BY u.username", args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return collect(rows, scanUser)
}

// SetPassword replaces a user's password hash and, in the same statement,
// ends the user's sessions: a session opened with the old password (maybe
// by whoever learnt it) must not outlive it.
func SetPassword(ctx context.Context, q Querier, userID, hash string) error {
	tag, err := q.Exec(ctx, `WITH ended AS (DELETE FROM sessions WHERE user_id = $1)
		UPDATE users SET password_hash = $2 WHERE id = $1`, userID, hash)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SetPasswordKeepingSession replaces a user's password hash and ends every
// session of theirs but keepSessionID (the one the change was made in; ""
// keeps none), returning how many ended.
func SetPasswordKeepingSession(ctx context.Context, q Querier, userID, hash, keepSessionID string) (int, error) {
	var ended, updated int
	err := q.QueryRow(ctx, `WITH ended AS (DELETE FROM sessions WHERE user_id = $1 AND ($3 = '' OR id::text <> $3) RETURNING 1),
		updated AS (UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING 1)
		SELECT (SELECT count(*) FROM ended), (SELECT count(*) FROM updated)`, userID, hash, keepSessionID).Scan(&ended, &updated)
	if err != nil {
		return 0, fmt.Errorf("set password: %w", err)
	}
	if updated == 0 {
		return 0, ErrNotFound
	}
	return ended, nil
}

// SetUserDisabled disables a user from now (keeping an earlier date) or
// enables them again.
func SetUserDisabled(ctx context.Context, q Querier, userID string, disabled bool) error {
	tag, err := q.Exec(ctx, "UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END WHERE id = $1", userID, disabled)
	if err != nil {
		return fmt.Errorf("set user disabled: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// collect scans every row with scan, closing rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
