package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// IssuingSettings are an organisation's rules for issuing
// (issuing_settings); the zero value is the default.
type IssuingSettings struct {
	OrganizationID string `json:"organization_id"`
	// VerifyQR draws the QR code of an issued file's public verification
	// URL into the organisation's signature.
	VerifyQR  bool       `json:"verify_qr"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	UpdatedBy string     `json:"updated_by,omitempty"`
}

// GetIssuingSettings reads an organisation's issuing rules (the defaults
// when it never set them).
func GetIssuingSettings(ctx context.Context, q Querier, orgID string) (IssuingSettings, error) {
	s := IssuingSettings{OrganizationID: orgID}
	err := q.QueryRow(ctx, `SELECT verify_qr, updated_at, coalesce(updated_by::text, '') FROM issuing_settings
		WHERE organization_id = $1`, orgID).Scan(&s.VerifyQR, &s.UpdatedAt, &s.UpdatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("issuing settings of %s: %w", orgID, err)
	}
	return s, nil
}

// PutIssuingSettings stores an organisation's issuing rules.
func PutIssuingSettings(ctx context.Context, q Querier, s IssuingSettings) (IssuingSettings, error) {
	err := q.QueryRow(ctx, `INSERT INTO issuing_settings (organization_id, verify_qr, updated_at, updated_by)
		VALUES ($1, $2, now(), nullif($3, '')::uuid)
		ON CONFLICT (organization_id) DO UPDATE SET verify_qr = excluded.verify_qr,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by
		RETURNING updated_at`, s.OrganizationID, s.VerifyQR, s.UpdatedBy).Scan(&s.UpdatedAt)
	if err != nil {
		return s, fmt.Errorf("store issuing settings of %s: %w", s.OrganizationID, err)
	}
	return s, nil
}

// QueueDocumentDrawsVerifyQR queues, for a workflow that asks its
// questions in one round trip, whether the organisation of a document
// draws the QR code (IssuingSettings.VerifyQR; false when it never set
// its rules).
func QueueDocumentDrawsVerifyQR(b *pgx.Batch, documentID string, out *bool) {
	b.Queue(`SELECT coalesce((SELECT s.verify_qr FROM issuing_settings s JOIN documents d ON d.organization_id = s.organization_id
		WHERE d.id = $1), false)`, documentID).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(out); err != nil {
			return fmt.Errorf("issuing settings of document %s: %w", documentID, err)
		}
		return nil
	})
}
