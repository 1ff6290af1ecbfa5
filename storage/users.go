package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// User is an account of the service.
type User struct {
	ID           string
	Username     string
	FullName     string
	IsSuperadmin bool
}

// CountUsers is used at start to tell a first start from a restart.
func CountUsers(ctx context.Context, q Querier) (int, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, err
}

// CreateUser inserts a user.
func CreateUser(ctx context.Context, q Querier, u User) (User, error) {
	err := q.QueryRow(ctx,
		"INSERT INTO users (username, full_name, is_superadmin) VALUES ($1, $2, $3) RETURNING id",
		u.Username, u.FullName, u.IsSuperadmin).Scan(&u.ID)
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", u.Username, err)
	}
	return u, nil
}

// CreateToken stores the hash of an API token for a user.
func CreateToken(ctx context.Context, q Querier, userID, name, token string, expires *time.Time) (string, error) {
	sum := sha256.Sum256([]byte(token))
	var id string
	err := q.QueryRow(ctx,
		"INSERT INTO api_tokens (user_id, name, token_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING id",
		userID, name, sum[:], expires).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return id, nil
}

// UserByToken finds the user of a valid (unexpired, unrevoked) API token.
func UserByToken(ctx context.Context, q Querier, token string) (User, error) {
	sum := sha256.Sum256([]byte(token))
	var u User
	err := q.QueryRow(ctx, `
		SELECT u.id, u.username, u.full_name, u.is_superadmin
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
		sum[:]).Scan(&u.ID, &u.Username, &u.FullName, &u.IsSuperadmin)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	return u, err
}

// RevokeToken ends a token's validity now; revoking twice keeps the first time.
func RevokeToken(ctx context.Context, q Querier, id string) error {
	if !isUUID(id) {
		return ErrNotFound
	}
	tag, err := q.Exec(ctx, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
