package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/storage"
)

// TemplateRequest is a new template, or a new version of the
// organisation's template of the same name.
type TemplateRequest struct {
	Name          string   `json:"name"`
	DocumentTypes []string `json:"document_types"`
	UnitIDs       []string `json:"unit_ids"`
	Definition
}

// Template is one version of a chain template.
type Template struct {
	storage.ChainTemplate
	Definition
}

// CreateTemplate stores a template as version 1, or as the next version
// when the organisation already has one of that name: chains in flight
// keep the version they started with.
func (s *Service) CreateTemplate(ctx context.Context, p accounts.Principal, req TemplateRequest) (Template, error) {
	if err := accounts.Authorize(p, accounts.ChainTemplateManage, accounts.Target{OrgID: p.OrganizationID}); err != nil {
		return Template{}, err
	}
	req.Name = strings.TrimSpace(norm.NFC.String(req.Name))
	if req.Name == "" || len([]rune(req.Name)) > maxNameRunes {
		return Template{}, because(rTemplateName, invalid("name is required (at most %d characters)", maxNameRunes), maxNameRunes)
	}
	if err := req.Definition.normalize(); err != nil {
		return Template{}, err
	}
	types, err := storage.ReferenceCodes(ctx, s.DB.Pool, "document_types")
	if err != nil {
		return Template{}, err
	}
	for i, t := range req.DocumentTypes {
		req.DocumentTypes[i] = strings.TrimSpace(norm.NFC.String(t))
		if _, ok := types[req.DocumentTypes[i]]; !ok {
			return Template{}, because(rTemplateDocType, invalid("unknown document type %q: use a Decree 30 abbreviation such as QĐ, or CV", t), t)
		}
	}
	for _, u := range req.UnitIDs {
		if err := unitOf(ctx, s.DB.Pool, p.OrganizationID, u); err != nil {
			return Template{}, because(rTemplateUnit, invalid("unit_ids: %v", err))
		}
	}
	if err := checkPeople(ctx, s.DB.Pool, p.OrganizationID, req.Definition); err != nil {
		return Template{}, err
	}
	def, err := json.Marshal(req.Definition)
	if err != nil {
		return Template{}, err
	}
	var t storage.ChainTemplate
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		t, err = storage.AddChainTemplateVersion(ctx, tx, storage.ChainTemplate{OrganizationID: p.OrganizationID, Name: req.Name,
			DocumentTypes: req.DocumentTypes, UnitIDs: req.UnitIDs, Definition: def, CreatedBy: p.ID})
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.Event("chain_template.create", "chain_template:"+t.ID,
			map[string]any{"name": t.Name, "version": t.Version, "stages": len(req.Stages)}))
	})
	if err != nil {
		return Template{}, fmt.Errorf("create chain template: %w", err)
	}
	return toTemplate(t)
}

func toTemplate(t storage.ChainTemplate) (Template, error) {
	out := Template{ChainTemplate: t}
	if err := json.Unmarshal(t.Definition, &out.Definition); err != nil {
		return out, fmt.Errorf("chain template %s: stored definition: %w", t.ID, err)
	}
	return out, nil
}

// Templates lists the latest version of each of p's organisation's
// templates; with docType or unitID set, only those that apply to such a
// document.
func (s *Service) Templates(ctx context.Context, p accounts.Principal, docType, unitID string) ([]Template, error) {
	err := accounts.Authorize(p, accounts.ChainTemplateRead, accounts.Target{OrgID: p.OrganizationID})
	if errors.Is(err, storage.ErrNotFound) {
		return []Template{}, nil // someone of no organisation has none
	}
	if err != nil {
		return nil, err
	}
	list, err := storage.ChainTemplates(ctx, s.DB.Pool, p.OrganizationID)
	if err != nil {
		return nil, err
	}
	out := []Template{}
	for _, t := range list {
		if !applies(t, norm.NFC.String(docType), unitID) {
			continue
		}
		tt, err := toTemplate(t)
		if err != nil {
			return nil, err
		}
		out = append(out, tt)
	}
	return out, nil
}

// applies reports whether a template is for documents of this type and
// unit ("" matches anything).
func applies(t storage.ChainTemplate, docType, unitID string) bool {
	return (docType == "" || len(t.DocumentTypes) == 0 || slices.Contains(t.DocumentTypes, docType)) &&
		(unitID == "" || len(t.UnitIDs) == 0 || slices.Contains(t.UnitIDs, unitID))
}
