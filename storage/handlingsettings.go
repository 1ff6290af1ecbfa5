package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// HandlingSettings are an organisation's rules for handling incoming
// documents (handling_settings); the zero value is the default.
type HandlingSettings struct {
	OrganizationID string `json:"organization_id"`
	// ClerkSendsToUnit lets the văn thư send an incoming document straight
	// to its lead unit instead of presenting it to a leader.
	ClerkSendsToUnit bool       `json:"clerk_sends_to_unit"`
	UpdatedAt        *time.Time `json:"updated_at,omitempty"`
	UpdatedBy        string     `json:"updated_by,omitempty"`
}

// GetHandlingSettings reads an organisation's handling rules (the defaults
// when it never set them).
func GetHandlingSettings(ctx context.Context, q Querier, orgID string) (HandlingSettings, error) {
	s := HandlingSettings{OrganizationID: orgID}
	err := q.QueryRow(ctx, `SELECT clerk_sends_to_unit, updated_at, coalesce(updated_by::text, '') FROM handling_settings
		WHERE organization_id = $1`, orgID).Scan(&s.ClerkSendsToUnit, &s.UpdatedAt, &s.UpdatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("handling settings of %s: %w", orgID, err)
	}
	return s, nil
}

// PutHandlingSettings stores an organisation's handling rules.
func PutHandlingSettings(ctx context.Context, q Querier, s HandlingSettings) (HandlingSettings, error) {
	err := q.QueryRow(ctx, `INSERT INTO handling_settings (organization_id, clerk_sends_to_unit, updated_at, updated_by)
		VALUES ($1, $2, now(), nullif($3, '')::uuid)
		ON CONFLICT (organization_id) DO UPDATE SET clerk_sends_to_unit = excluded.clerk_sends_to_unit,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by
		RETURNING updated_at`, s.OrganizationID, s.ClerkSendsToUnit, s.UpdatedBy).Scan(&s.UpdatedAt)
	if err != nil {
		return s, fmt.Errorf("store handling settings of %s: %w", s.OrganizationID, err)
	}
	return s, nil
}
