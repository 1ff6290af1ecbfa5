package handling

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/storage"
)

// SettingsRequest changes an organisation's rules for handling.
type SettingsRequest struct {
	ClerkSendsToUnit *bool `json:"clerk_sends_to_unit"`
}

// Settings reads an organisation's rules for handling, for its members
// and the superadmin.
func (s *Service) Settings(ctx context.Context, p accounts.Principal, orgID string) (storage.HandlingSettings, error) {
	if !storage.IsUUID(orgID) {
		return storage.HandlingSettings{}, storage.ErrNotFound
	}
	if err := accounts.Authorize(p, accounts.OrganizationRead, accounts.Target{OrgID: orgID}); err != nil {
		return storage.HandlingSettings{}, err
	}
	if _, err := storage.GetOrganization(ctx, s.DB.Pool, orgID); err != nil {
		return storage.HandlingSettings{}, err
	}
	return storage.GetHandlingSettings(ctx, s.DB.Pool, orgID)
}

// SetSettings changes an organisation's rules for handling (its
// administrators, or the superadmin), with the audit entry naming the
// change, in one transaction.
func (s *Service) SetSettings(ctx context.Context, p accounts.Principal, orgID string, req SettingsRequest) (storage.HandlingSettings, error) {
	if !storage.IsUUID(orgID) {
		return storage.HandlingSettings{}, storage.ErrNotFound
	}
	if err := accounts.Authorize(p, accounts.HandlingSettingsManage, accounts.Target{OrgID: orgID}); err != nil {
		return storage.HandlingSettings{}, err
	}
	if req.ClerkSendsToUnit == nil {
		return storage.HandlingSettings{}, invalid("clerk_sends_to_unit (true or false) is required")
	}
	var out storage.HandlingSettings
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := storage.GetOrganization(ctx, tx, orgID); err != nil {
			return err
		}
		// One change at a time per organisation, so the audit entry's
		// "from" is what the change replaced.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "handling-settings:"+orgID); err != nil {
			return fmt.Errorf("handling settings lock: %w", err)
		}
		before, err := storage.GetHandlingSettings(ctx, tx, orgID)
		if err != nil {
			return err
		}
		out, err = storage.PutHandlingSettings(ctx, tx, storage.HandlingSettings{OrganizationID: orgID,
			ClerkSendsToUnit: *req.ClerkSendsToUnit, UpdatedBy: p.ID})
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.Event("organization.handling_settings", "organization:"+orgID, map[string]any{
			"clerk_sends_to_unit": map[string]bool{"from": before.ClerkSendsToUnit, "to": out.ClerkSendsToUnit}}))
	})
	if err != nil {
		return storage.HandlingSettings{}, err
	}
	return out, nil
}

// SendRequest is the văn thư sending a document straight to its lead
// unit, where the organisation's rules allow it.
type SendRequest struct {
	UnitID string `json:"unit_id"`
	Due    *Due   `json:"due,omitempty"`
}

// ErrDirectSendingOff refuses sending straight to a unit in an
// organisation whose rules have the văn thư present to a leader (HTTP 403).
var ErrDirectSendingOff = fmt.Errorf("%w: the organisation's rules have the văn thư present incoming documents to a leader; "+
	"sending straight to a unit needs an administrator to allow it (clerk_sends_to_unit)", accounts.ErrForbidden)

// SendToUnit has the văn thư send a registered document straight to its
// lead unit (chủ trì) with a deadline, where the organisation's rules
// allow it: the same assignment a leader would give, with its inbox items
// for the unit's heads, audit entry and document.assigned event, in one
// transaction.
func (s *Service) SendToUnit(ctx context.Context, p accounts.Principal, documentID string, req SendRequest) (View, error) {
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		return s.SendToUnitTx(ctx, tx, p, documentID, req)
	})
	if err != nil {
		return View{}, err
	}
	return s.View(ctx, p, documentID)
}

// SendToUnitTx is SendToUnit inside the caller's transaction (reception's
// registration sends at once when asked).
func (s *Service) SendToUnitTx(ctx context.Context, tx pgx.Tx, p accounts.Principal, documentID string, req SendRequest) error {
	if req.UnitID == "" {
		return because(rSendUnit, invalid("unit_id must name the lead unit"))
	}
	o, err := s.begin(ctx, tx, p, documentID, accounts.HandlingPresent)
	if err != nil {
		return err
	}
	if o.h.Status != StatusRegistered && o.h.Status != StatusPresented {
		return because(rSendLate, conflict("the document is %s; it is sent to a unit before it is assigned", o.h.Status))
	}
	rules, err := storage.GetHandlingSettings(ctx, tx, o.doc.OrganizationID)
	if err != nil {
		return err
	}
	if !rules.ClerkSendsToUnit {
		return because(rDirectSendingOff, ErrDirectSendingOff)
	}
	o.direct = true
	return o.leaderAssign(AssignRequest{Assignments: []AssignmentRequest{{UnitID: req.UnitID, Role: RoleLead, Due: req.Due}}})
}
