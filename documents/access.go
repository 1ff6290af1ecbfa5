package documents

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/storage"
)

// Principal is the user a request acts for; every method that serves a
// user takes one and decides through accounts.Authorize and the viewer.
type Principal = accounts.Principal

// CanCreate says whether p may create documents at all, so an upload can be
// refused before its file is read.
func (s *Service) CanCreate(p Principal) error {
	return accounts.Authorize(p, accounts.DocumentCreate, accounts.Target{OrgID: p.OrganizationID})
}

// visible reads a document p may see through the same filter listings use;
// anything else is ErrNotFound, whether or not it exists.
func (s *Service) visible(ctx context.Context, q storage.Querier, p Principal, id string) (Document, error) {
	if err := MayRead(p); err != nil {
		return Document{}, err
	}
	d, err := storage.VisibleDocument(ctx, q, id, p.Viewer())
	if errors.Is(err, storage.ErrNotFound) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("document %s: %w", id, err)
	}
	return d, nil
}

// Changeable returns a document p may see and change (a new version, and
// the workflow to come): not visible is ErrNotFound, visible but not
// changeable (an auditor, a read-only token) accounts.ErrForbidden.
func (s *Service) Changeable(ctx context.Context, p Principal, id string) (Document, error) {
	return s.changeable(ctx, s.DB.Pool, p, id)
}

func (s *Service) changeable(ctx context.Context, q storage.Querier, p Principal, id string) (Document, error) {
	d, err := s.visible(ctx, q, p, id)
	if err != nil {
		return d, err
	}
	if err := MayChange(p, d); err != nil {
		return Document{}, err
	}
	return d, nil
}

// MayRead is what p must be allowed before any document is read for them
// (through the Viewer filter, storage.Viewer); ErrNotFound or
// accounts.ErrForbidden otherwise.
func MayRead(p Principal) error {
	if err := accounts.Authorize(p, accounts.DocumentRead, accounts.Target{}); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return ErrNotFound
		}
		return err
	}
	return nil
}

// MayChange is Changeable's rule for a document read through p's Viewer
// filter: a caller that reads the document its own way (a chain action
// reads it with its locks, in one round trip) applies MayRead before and
// MayChange after.
func MayChange(p Principal, d Document) error {
	return accounts.Authorize(p, accounts.DocumentChange, accounts.Target{OrgID: d.OrganizationID})
}

// ActionReadConfidential is the audit action of a read of a document whose
// confidentiality is above thường.
const ActionReadConfidential = "document.read_confidential"

// recordRead appends a read of a confidential document to the audit log
// before it is served; a read that cannot be recorded is not served.
func (s *Service) recordRead(ctx context.Context, p Principal, d Document, what string, version int) error {
	return s.recordReads(ctx, p, []Document{d}, what, version)
}

// recordReads records, in one transaction, the reads of those of docs that
// are confidential: one entry each, so an auditor following one document
// finds its listings too.
func (s *Service) recordReads(ctx context.Context, p Principal, docs []Document, what string, version int) error {
	var events []audit.Event
	for _, d := range docs {
		if !Confidential(d) {
			continue
		}
		details := map[string]any{"read": what, "confidentiality": d.Confidentiality}
		if version > 0 {
			details["version"] = version
		}
		events = append(events, p.Event(ActionReadConfidential, "document:"+d.ID, details))
	}
	if len(events) == 0 {
		return nil
	}
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		for _, e := range events {
			if err := audit.Append(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %s of %d confidential documents: %w", what, len(events), err)
	}
	return nil
}

// unitOf resolves the unit a new document is drafted in: a unit code of
// p's organisation, or, with none given, p's unit when they have exactly
// one.
func (s *Service) unitOf(ctx context.Context, p Principal, code string) (storage.Unit, error) {
	if p.OrganizationID == "" {
		return storage.Unit{}, nil
	}
	if code == "" {
		if len(p.UnitIDs) != 1 {
			return storage.Unit{}, nil
		}
		units, err := storage.ListUnits(ctx, s.DB.Pool, p.OrganizationID)
		if err != nil {
			return storage.Unit{}, fmt.Errorf("units: %w", err)
		}
		if i := slices.IndexFunc(units, func(u storage.Unit) bool { return u.ID == p.UnitIDs[0] }); i >= 0 {
			return units[i], nil
		}
		return storage.Unit{}, nil
	}
	u, err := storage.UnitByCode(ctx, s.DB.Pool, p.OrganizationID, code)
	if errors.Is(err, storage.ErrNotFound) {
		return u, inputError(ErrUnknownUnit, fmt.Sprintf("unit %q is not a unit code of your organisation", code))
	}
	if err != nil {
		return u, fmt.Errorf("unit %s: %w", code, err)
	}
	return u, nil
}
