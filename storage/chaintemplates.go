package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChainTemplate is one version of an organisation's chain template
// (luồng trình ký). Empty DocumentTypes or UnitIDs mean every type or unit.
type ChainTemplate struct {
	ID             string          `json:"id"`
	OrganizationID string          `json:"organization_id"`
	Name           string          `json:"name"`
	Version        int             `json:"version"`
	DocumentTypes  []string        `json:"document_types"`
	UnitIDs        []string        `json:"unit_ids"`
	Definition     json.RawMessage `json:"-"`
	CreatedBy      string          `json:"created_by,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
}

const chainTemplateColumns = `t.id, t.organization_id, t.name, v.version, v.document_types,
	(SELECT coalesce(array_agg(u::text), '{}') FROM unnest(v.unit_ids) u), v.definition, coalesce(v.created_by::text, ''), v.created_at`

func scanChainTemplate(row pgx.Row) (ChainTemplate, error) {
	var t ChainTemplate
	err := row.Scan(&t.ID, &t.OrganizationID, &t.Name, &t.Version, &t.DocumentTypes, &t.UnitIDs, &t.Definition, &t.CreatedBy, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// AddChainTemplateVersion stores t as the next version of the
// organisation's template of that name (version 1 of a new one).
func AddChainTemplateVersion(ctx context.Context, tx pgx.Tx, t ChainTemplate) (ChainTemplate, error) {
	if t.DocumentTypes == nil {
		t.DocumentTypes = []string{}
	}
	if t.UnitIDs == nil {
		t.UnitIDs = []string{}
	}
	var id string
	// The upsert locks the template's row, so concurrent versions are numbered in turn.
	err := tx.QueryRow(ctx, `
		INSERT INTO chain_templates (organization_id, name) VALUES ($1, $2)
		ON CONFLICT (organization_id, name) DO UPDATE SET name = excluded.name RETURNING id`, t.OrganizationID, t.Name).Scan(&id)
	if err != nil {
		return ChainTemplate{}, fmt.Errorf("chain template %s: %w", t.Name, err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO chain_template_versions (template_id, version, document_types, unit_ids, definition, created_by)
		VALUES ($1, (SELECT coalesce(max(version), 0) + 1 FROM chain_template_versions WHERE template_id = $1), $2, $3::uuid[], $4, $5)`,
		id, t.DocumentTypes, t.UnitIDs, []byte(t.Definition), nullable(t.CreatedBy))
	if err != nil {
		return ChainTemplate{}, fmt.Errorf("chain template %s: %w", t.Name, err)
	}
	return GetChainTemplate(ctx, tx, id, 0)
}

// GetChainTemplate reads one version of a template (0: the latest).
func GetChainTemplate(ctx context.Context, q Querier, id string, version int) (ChainTemplate, error) {
	if !isUUID(id) {
		return ChainTemplate{}, ErrNotFound
	}
	return scanChainTemplate(q.QueryRow(ctx, "SELECT "+chainTemplateColumns+`
		FROM chain_templates t JOIN chain_template_versions v ON v.template_id = t.id
		WHERE t.id = $1 AND ($2 = 0 OR v.version = $2) ORDER BY v.version DESC LIMIT 1`, id, version))
}

// ChainTemplates lists the latest version of each of an organisation's
// templates, by name.
func ChainTemplates(ctx context.Context, q Querier, organizationID string) ([]ChainTemplate, error) {
	if !isUUID(organizationID) {
		return []ChainTemplate{}, nil
	}
	rows, err := q.Query(ctx, "SELECT "+chainTemplateColumns+`
		FROM chain_templates t JOIN LATERAL (SELECT * FROM chain_template_versions v WHERE v.template_id = t.id ORDER BY version DESC LIMIT 1) v ON true
		WHERE t.organization_id = $1 ORDER BY t.name`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("chain templates: %w", err)
	}
	return collect(rows, scanChainTemplate)
}
