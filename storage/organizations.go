package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Organization is a state body (cơ quan); Code is its part of document
// symbols, such as UBND in 05/QĐ-UBND.
type Organization struct {
	ID        string    `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	ParentID  string    `json:"parent_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Unit is a department (phòng ban) inside an organisation.
type Unit struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Code           string    `json:"code"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"created_at"`
}

const orgColumns = "id, code, name, coalesce(parent_id::text, ''), created_at"

func scanOrganization(row pgx.Row) (Organization, error) {
	var o Organization
	err := row.Scan(&o.ID, &o.Code, &o.Name, &o.ParentID, &o.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNotFound
	}
	return o, err
}

// CreateOrganization inserts an organisation.
func CreateOrganization(ctx context.Context, q Querier, o Organization) (Organization, error) {
	err := q.QueryRow(ctx, "INSERT INTO organizations (code, name, parent_id) VALUES ($1, $2, $3) RETURNING "+orgColumns,
		o.Code, o.Name, nullable(o.ParentID)).Scan(&o.ID, &o.Code, &o.Name, &o.ParentID, &o.CreatedAt)
	if isUniqueViolation(err) {
		return Organization{}, fmt.Errorf("organization %s: %w", o.Code, ErrConflict)
	}
	if err != nil {
		return Organization{}, fmt.Errorf("create organization %s: %w", o.Code, err)
	}
	return o, nil
}

// GetOrganization reads one organisation.
func GetOrganization(ctx context.Context, q Querier, id string) (Organization, error) {
	if !isUUID(id) {
		return Organization{}, ErrNotFound
	}
	return scanOrganization(q.QueryRow(ctx, getOrganizationSQL, id))
}

const getOrganizationSQL = "SELECT " + orgColumns + " FROM organizations WHERE id = $1"

// OrganizationByCode reads an organisation by its symbol code.
func OrganizationByCode(ctx context.Context, q Querier, code string) (Organization, error) {
	return scanOrganization(q.QueryRow(ctx, "SELECT "+orgColumns+" FROM organizations WHERE code = $1", code))
}

// ListOrganizations lists organisations by code; with onlyID set, just that one.
func ListOrganizations(ctx context.Context, q Querier, onlyID string) ([]Organization, error) {
	sql := "SELECT " + orgColumns + " FROM organizations"
	var args []any
	if onlyID != "" {
		sql += " WHERE id = $1"
		args = append(args, onlyID)
	}
	rows, err := q.Query(ctx, sql+" ORDER BY code", args...)
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	return collect(rows, scanOrganization)
}

const unitColumns = "id, organization_id, code, name, created_at"

func scanUnit(row pgx.Row) (Unit, error) {
	var u Unit
	err := row.Scan(&u.ID, &u.OrganizationID, &u.Code, &u.Name, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// CreateUnit inserts a unit into an organisation.
func CreateUnit(ctx context.Context, q Querier, u Unit) (Unit, error) {
	got, err := scanUnit(q.QueryRow(ctx, "INSERT INTO units (organization_id, code, name) VALUES ($1, $2, $3) RETURNING "+unitColumns,
		u.OrganizationID, u.Code, u.Name))
	if isUniqueViolation(err) {
		return Unit{}, fmt.Errorf("unit %s: %w", u.Code, ErrConflict)
	}
	if err != nil {
		return Unit{}, fmt.Errorf("create unit %s: %w", u.Code, err)
	}
	return got, nil
}

// ListUnits lists an organisation's units by code.
func ListUnits(ctx context.Context, q Querier, organizationID string) ([]Unit, error) {
	if !isUUID(organizationID) {
		return nil, ErrNotFound
	}
	rows, err := q.Query(ctx, "SELECT "+unitColumns+" FROM units WHERE organization_id = $1 ORDER BY code", organizationID)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	return collect(rows, scanUnit)
}

// UnitByCode finds a unit of an organisation by its code.
func UnitByCode(ctx context.Context, q Querier, organizationID, code string) (Unit, error) {
	return scanUnit(q.QueryRow(ctx, "SELECT "+unitColumns+" FROM units WHERE organization_id = $1 AND code = $2", organizationID, code))
}
