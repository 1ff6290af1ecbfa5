package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// KeyBinding ties a signing key to a user, or the seal key to an
// organisation. SealedKey is the keystore PKCS#12 sealed under the
// keystore key; it never leaves the storage and accounts packages.
type KeyBinding struct {
	ID             string     `json:"id"`
	UserID         string     `json:"user_id,omitempty"`
	OrganizationID string     `json:"organization_id,omitempty"`
	Kind           string     `json:"kind"`
	URI            string     `json:"uri,omitempty"`
	SealedKey      []byte     `json:"-"`
	Certificate    []byte     `json:"certificate"`
	Chain          [][]byte   `json:"chain,omitempty"`
	Fingerprint    string     `json:"fingerprint"`
	Subject        string     `json:"subject"`
	NotBefore      time.Time  `json:"not_before"`
	NotAfter       time.Time  `json:"not_after"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
}

// Key binding kinds.
const (
	KeyPKCS11   = "pkcs11"
	KeyPKCS12   = "pkcs12"
	KeyExternal = "external"
)

const keyColumns = `id, coalesce(user_id::text, ''), coalesce(organization_id::text, ''), kind, uri, sealed_key,
	certificate, chain, fingerprint, subject, not_before, not_after, coalesce(created_by::text, ''), created_at, revoked_at`

func scanKeyBinding(row pgx.Row) (KeyBinding, error) {
	var k KeyBinding
	err := row.Scan(&k.ID, &k.UserID, &k.OrganizationID, &k.Kind, &k.URI, &k.SealedKey,
		&k.Certificate, &k.Chain, &k.Fingerprint, &k.Subject, &k.NotBefore, &k.NotAfter, &k.CreatedBy, &k.CreatedAt, &k.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, ErrNotFound
	}
	return k, err
}

// CreateKeyBinding inserts a key binding.
func CreateKeyBinding(ctx context.Context, q Querier, k KeyBinding) (KeyBinding, error) {
	if k.Chain == nil {
		k.Chain = [][]byte{}
	}
	got, err := scanKeyBinding(q.QueryRow(ctx, `
		INSERT INTO key_bindings (user_id, organization_id, kind, uri, sealed_key, certificate, chain, fingerprint, subject, not_before, not_after, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+keyColumns,
		nullable(k.UserID), nullable(k.OrganizationID), k.Kind, k.URI, k.SealedKey, k.Certificate, k.Chain, k.Fingerprint, k.Subject, k.NotBefore, k.NotAfter, nullable(k.CreatedBy)))
	if err != nil {
		return KeyBinding{}, fmt.Errorf("create key binding: %w", err)
	}
	return got, nil
}

// ListKeyBindings lists the keys bound to a user (or, with orgID, to an
// organisation), newest first.
func ListKeyBindings(ctx context.Context, q Querier, userID, orgID string) ([]KeyBinding, error) {
	sql, arg := listKeyBindingsSQL(userID, orgID)
	rows, err := q.Query(ctx, sql, arg)
	if err != nil {
		return nil, fmt.Errorf("list key bindings: %w", err)
	}
	return collect(rows, scanKeyBinding)
}

// listKeyBindingsSQL reads a user's keys (orgID "") or an organisation's,
// newest first.
func listKeyBindingsSQL(userID, orgID string) (string, string) {
	if orgID != "" {
		return "SELECT " + keyColumns + " FROM key_bindings WHERE organization_id = $1 ORDER BY created_at DESC, id", orgID
	}
	return "SELECT " + keyColumns + " FROM key_bindings WHERE user_id = $1 ORDER BY created_at DESC, id", userID
}

// GetKeyBinding reads one key binding.
func GetKeyBinding(ctx context.Context, q Querier, id string) (KeyBinding, error) {
	if !isUUID(id) {
		return KeyBinding{}, ErrNotFound
	}
	return scanKeyBinding(q.QueryRow(ctx, "SELECT "+keyColumns+" FROM key_bindings WHERE id = $1", id))
}

// RevokeKeyBinding stops a key from being used from now on.
func RevokeKeyBinding(ctx context.Context, q Querier, id string) error {
	if !isUUID(id) {
		return ErrNotFound
	}
	tag, err := q.Exec(ctx, "UPDATE key_bindings SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("revoke key binding: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// KeyBoundOutside reports whether a live (unrevoked) binding of the
// certificate with this fingerprint belongs to another organisation than
// orgID: a user of it, or its seal. Callers hold LockKeyFingerprint in the
// same transaction so two concurrent bindings cannot both pass.
func KeyBoundOutside(ctx context.Context, q Querier, fingerprint, orgID string) (bool, error) {
	var found bool
	err := q.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM key_bindings kb LEFT JOIN users u ON u.id = kb.user_id
		WHERE kb.fingerprint = $1 AND kb.revoked_at IS NULL
		  AND coalesce(kb.organization_id, u.organization_id) IS DISTINCT FROM $2::uuid)`, fingerprint, orgID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("key bindings of %s: %w", fingerprint, err)
	}
	return found, nil
}

// LockKeyFingerprint serialises, until the transaction ends, bindings of
// the certificate with this fingerprint.
func LockKeyFingerprint(ctx context.Context, tx pgx.Tx, fingerprint string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('key:' || $1, 0))`, fingerprint); err != nil {
		return fmt.Errorf("lock key %s: %w", fingerprint, err)
	}
	return nil
}
