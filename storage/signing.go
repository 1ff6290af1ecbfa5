package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SignatureImage is a user's handwritten signature (a transparent PNG).
type SignatureImage struct {
	UserID    string    `json:"user_id"`
	PNG       []byte    `json:"-"`
	SHA256    string    `json:"sha256"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PutSignatureImage stores (or replaces) a user's signature image.
func PutSignatureImage(ctx context.Context, q Querier, img SignatureImage) (SignatureImage, error) {
	err := q.QueryRow(ctx, `
		INSERT INTO signature_images (user_id, png, sha256, width, height, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id) DO UPDATE SET png = EXCLUDED.png, sha256 = EXCLUDED.sha256, width = EXCLUDED.width,
			height = EXCLUDED.height, updated_by = EXCLUDED.updated_by, updated_at = now()
		RETURNING updated_at`,
		img.UserID, img.PNG, img.SHA256, img.Width, img.Height, nullable(img.UpdatedBy)).Scan(&img.UpdatedAt)
	if err != nil {
		return img, fmt.Errorf("store signature image: %w", err)
	}
	return img, nil
}

// GetSignatureImage reads a user's signature image (ErrNotFound: none).
func GetSignatureImage(ctx context.Context, q Querier, userID string) (SignatureImage, error) {
	if !isUUID(userID) {
		return SignatureImage{}, ErrNotFound
	}
	img, err := scanSignatureImage(userID, q.QueryRow(ctx, signatureImageSQL, userID, ""))
	if errors.Is(err, pgx.ErrNoRows) {
		return SignatureImage{}, ErrNotFound
	}
	return img, err
}

// signatureImageSQL reads a user's signature image, its PNG left out
// (NULL) when its SHA-256 is $2.
const signatureImageSQL = `SELECT CASE WHEN sha256 = $2 THEN NULL ELSE png END,
		sha256, width, height, coalesce(updated_by::text, ''), updated_at FROM signature_images WHERE user_id = $1`

func scanSignatureImage(userID string, row pgx.Row) (SignatureImage, error) {
	img := SignatureImage{UserID: userID}
	return img, row.Scan(&img.PNG, &img.SHA256, &img.Width, &img.Height, &img.UpdatedBy, &img.UpdatedAt)
}

// OrganizationSigningLevel is the PAdES level an organisation's signatures
// are made at (B-T unless configured).
func OrganizationSigningLevel(ctx context.Context, q Querier, orgID string) (string, error) {
	if !isUUID(orgID) {
		return "", ErrNotFound
	}
	var level string
	err := q.QueryRow(ctx, signingLevelSQL, orgID).Scan(&level)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return level, err
}

const signingLevelSQL = "SELECT signing_level FROM organizations WHERE id = $1"

// SetOrganizationSigningLevel configures an organisation's PAdES level.
func SetOrganizationSigningLevel(ctx context.Context, q Querier, orgID, level string) error {
	tag, err := q.Exec(ctx, "UPDATE organizations SET signing_level = $2 WHERE id = $1", orgID, level)
	if err != nil {
		return fmt.Errorf("set signing level: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SignSession is a prepared two-step signature.
type SignSession struct {
	ID               string
	DocumentID       string
	UserID           string
	KeyBindingID     string
	Version          int
	VersionSHA256    string
	Params           json.RawMessage
	Digest           []byte
	SignedAttributes []byte
	DigestAlgorithm  string
	CreatedAt        time.Time
	ExpiresAt        time.Time
	CompletedAt      *time.Time
	CompletedVersion *int
}

// InsertSignSession records a prepared signature and returns its id.
func InsertSignSession(ctx context.Context, q Querier, s SignSession) (SignSession, error) {
	err := q.QueryRow(ctx, `
		INSERT INTO sign_sessions (document_id, user_id, key_binding_id, version, version_sha256, params, digest, signed_attributes, digest_algorithm, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, created_at`,
		s.DocumentID, s.UserID, s.KeyBindingID, s.Version, s.VersionSHA256, s.Params, s.Digest, s.SignedAttributes, s.DigestAlgorithm, s.ExpiresAt).
		Scan(&s.ID, &s.CreatedAt)
	if err != nil {
		return s, fmt.Errorf("insert sign session: %w", err)
	}
	return s, nil
}

// LockSignSession reads a session and locks it for completion.
func LockSignSession(ctx context.Context, tx pgx.Tx, id string) (SignSession, error) {
	if !isUUID(id) {
		return SignSession{}, ErrNotFound
	}
	return scanSignSession(tx.QueryRow(ctx, lockSignSessionSQL, id))
}

const lockSignSessionSQL = `
		SELECT id, document_id, user_id, key_binding_id, version, version_sha256, params, digest, signed_attributes, digest_algorithm,
			created_at, expires_at, completed_at, completed_version
		FROM sign_sessions WHERE id = $1 FOR UPDATE`

func scanSignSession(row pgx.Row) (SignSession, error) {
	var s SignSession
	err := row.Scan(&s.ID, &s.DocumentID, &s.UserID, &s.KeyBindingID, &s.Version, &s.VersionSHA256, &s.Params, &s.Digest, &s.SignedAttributes,
		&s.DigestAlgorithm, &s.CreatedAt, &s.ExpiresAt, &s.CompletedAt, &s.CompletedVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return SignSession{}, ErrNotFound
	}
	return s, err
}

// CompleteSignSession marks a session used by the version it produced.
func CompleteSignSession(ctx context.Context, q Querier, id string, version int) error {
	_, err := q.Exec(ctx, completeSignSessionSQL, id, version)
	if err != nil {
		return fmt.Errorf("complete sign session: %w", err)
	}
	return nil
}

const completeSignSessionSQL = "UPDATE sign_sessions SET completed_at = now(), completed_version = $2 WHERE id = $1"
