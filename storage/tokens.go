package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Token is an API token's record; the token itself is shown once and only
// its SHA-256 is stored.
type Token struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// CreatedBy is the user who minted the token ("" for the operator or
	// the bootstrap), CreatedByName their name then ("operator:<account>"
	// for the command line).
	CreatedBy     string `json:"created_by,omitempty"`
	CreatedByName string `json:"created_by_name,omitempty"`
}

// CreateToken stores the hash of an API token for a user. No scopes means
// every right the user has.
func CreateToken(ctx context.Context, q Querier, userID, name, token string, scopes []string, expires *time.Time) (Token, error) {
	return MintToken(ctx, q, Token{UserID: userID, Name: name, Scopes: scopes, ExpiresAt: expires}, token)
}

// MintToken stores the hash of an API token described by t (its user,
// name, scopes, expiry and who minted it) and returns the stored record.
func MintToken(ctx context.Context, q Querier, t Token, token string) (Token, error) {
	if len(t.Scopes) == 0 {
		t.Scopes = []string{"*"}
	}
	sum := sha256.Sum256([]byte(token))
	err := q.QueryRow(ctx, `
		INSERT INTO api_tokens (user_id, name, token_hash, scopes, expires_at, created_by, created_by_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
		t.UserID, t.Name, sum[:], t.Scopes, t.ExpiresAt, nullable(t.CreatedBy), t.CreatedByName).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return Token{}, fmt.Errorf("create token: %w", err)
	}
	return t, nil
}

// TokenOwner is a valid token together with its user.
type TokenOwner struct {
	Token Token
	User  User
}

// UserByToken finds the user of a valid (unexpired, unrevoked) API token,
// in one statement: every API request asks it before anything else.
func UserByToken(ctx context.Context, q Querier, token string) (TokenOwner, error) {
	sum := sha256.Sum256([]byte(token))
	var o TokenOwner
	u := &o.User
	err := q.QueryRow(ctx, `
		SELECT t.id, t.user_id, t.name, t.scopes, t.created_at, t.expires_at, coalesce(t.created_by::text, ''), t.created_by_name,
			`+userColumns+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
		sum[:]).Scan(&o.Token.ID, &o.Token.UserID, &o.Token.Name, &o.Token.Scopes, &o.Token.CreatedAt, &o.Token.ExpiresAt,
		&o.Token.CreatedBy, &o.Token.CreatedByName,
		&u.ID, &u.Username, &u.FullName, &u.Title, &u.OrganizationID, &u.IsSuperadmin, &u.Roles, &u.UnitIDs, &u.DisabledAt, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNotFound
	}
	return o, err
}

func scanToken(row pgx.Row) (Token, error) {
	var t Token
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Scopes, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.CreatedBy, &t.CreatedByName)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

const tokenColumns = "id, user_id, name, scopes, created_at, expires_at, revoked_at, coalesce(created_by::text, ''), created_by_name"

// GetToken reads a token's record.
func GetToken(ctx context.Context, q Querier, id string) (Token, error) {
	if !isUUID(id) {
		return Token{}, ErrNotFound
	}
	return scanToken(q.QueryRow(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE id = $1", id))
}

// ListTokens lists a user's tokens, newest first.
func ListTokens(ctx context.Context, q Querier, userID string) ([]Token, error) {
	rows, err := q.Query(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC", userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return collect(rows, scanToken)
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

// AuthChangedChannel is the channel PostgreSQL notifies at the commit of
// any change to a table a token's principal is read from (api_tokens,
// users, user_roles, user_units: migration 00027), whoever makes it.
const AuthChangedChannel = "vanthu_auth_changed"
