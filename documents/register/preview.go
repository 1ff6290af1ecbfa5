package register

import (
	"context"
	"fmt"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/storage"
)

// NumberPreview is what issuing a document now would give it: the series
// it is numbered in and the number and symbol the next issue of that series
// takes. It is read, never reserved: another issue into the same series
// before this one takes the number, and issuing then gives the next.
type NumberPreview struct {
	Register storage.Register `json:"register"`
	Year     int              `json:"year"`
	Number   int              `json:"number"`
	Symbol   string           `json:"symbol"`
}

// Preview shows the clerk the number and symbol issuing would assign the
// document in the register asked for ("" chooses it as Issue does). Only
// what Issue would accept is previewed: a clerk of the document's
// organisation, a signed document, a register that fits it.
func (s *Service) Preview(ctx context.Context, p accounts.Principal, documentID, registerID string) (NumberPreview, error) {
	doc, err := s.issuable(ctx, p, documentID)
	if err != nil {
		return NumberPreview{}, err
	}
	if doc.Status != documents.StatusSigned {
		return NumberPreview{}, because(rNotSigned, fmt.Errorf("%w: its status is %s", ErrNotSigned, doc.Status))
	}
	if registerID != "" && !storage.IsUUID(registerID) {
		return NumberPreview{}, because(rRegisterUnknown, invalid("register_id names no register of your organisation"))
	}
	typ, err := storage.GetDocumentType(ctx, s.DB.Pool, doc.Type)
	if err != nil {
		return NumberPreview{}, fmt.Errorf("document type %s: %w", doc.Type, err)
	}
	org, err := storage.GetOrganization(ctx, s.DB.Pool, doc.OrganizationID)
	if err != nil {
		return NumberPreview{}, err
	}
	reg, err := s.series(ctx, s.DB.Pool, doc, typ, registerID)
	if err != nil {
		return NumberPreview{}, err
	}
	year := Year(s.now())
	last, err := storage.LastRegisterNumber(ctx, s.DB.Pool, reg.ID, year)
	if err != nil {
		return NumberPreview{}, err
	}
	return NumberPreview{Register: reg, Year: year, Number: last + 1, Symbol: Symbol(last+1, typ, org.Code, doc.Unit)}, nil
}

// Destinations lists the organisations of the deployment a clerk of p's
// organisation may send an issued document to: every one but their own.
func (s *Service) Destinations(ctx context.Context, p accounts.Principal) ([]storage.Organization, error) {
	if p.OrganizationID == "" {
		return nil, storage.ErrNotFound
	}
	if !p.Has(storage.RoleClerk) {
		return nil, fmt.Errorf("%w: only the organisation's clerks (văn thư) issue documents", accounts.ErrForbidden)
	}
	all, err := storage.ListOrganizations(ctx, s.DB.Pool, "")
	if err != nil {
		return nil, err
	}
	out := make([]storage.Organization, 0, len(all))
	for _, o := range all {
		if o.ID != p.OrganizationID {
			out = append(out, o)
		}
	}
	return out, nil
}
