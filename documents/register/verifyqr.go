package register

import (
	"context"
	"fmt"
	"image"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/storage"
)

// This file owns the QR code an organisation may have drawn into its
// signature on the documents it issues (its issuing settings): the code
// is made before signing, drawn beside the seal, and recorded for public
// verification with the sealed file's hash in the issuing transaction, so
// a failure before commit leaves neither the number nor the record.

// IssuingSettingsRequest changes an organisation's issuing rules.
type IssuingSettingsRequest struct {
	VerifyQR *bool `json:"verify_qr"`
}

// IssuingSettings reads an organisation's issuing rules, for its members
// and the superadmin.
func (s *Service) IssuingSettings(ctx context.Context, p accounts.Principal, orgID string) (storage.IssuingSettings, error) {
	if !storage.IsUUID(orgID) {
		return storage.IssuingSettings{}, storage.ErrNotFound
	}
	if err := accounts.Authorize(p, accounts.OrganizationRead, accounts.Target{OrgID: orgID}); err != nil {
		return storage.IssuingSettings{}, err
	}
	if _, err := storage.GetOrganization(ctx, s.DB.Pool, orgID); err != nil {
		return storage.IssuingSettings{}, err
	}
	return storage.GetIssuingSettings(ctx, s.DB.Pool, orgID)
}

// SetIssuingSettings changes an organisation's issuing rules (its
// administrators, or the superadmin), with the audit entry naming the
// change, in one transaction.
func (s *Service) SetIssuingSettings(ctx context.Context, p accounts.Principal, orgID string, req IssuingSettingsRequest) (storage.IssuingSettings, error) {
	if !storage.IsUUID(orgID) {
		return storage.IssuingSettings{}, storage.ErrNotFound
	}
	if err := accounts.Authorize(p, accounts.IssuingSettingsManage, accounts.Target{OrgID: orgID}); err != nil {
		return storage.IssuingSettings{}, err
	}
	if req.VerifyQR == nil {
		return storage.IssuingSettings{}, invalid("verify_qr (true or false) is required")
	}
	var out storage.IssuingSettings
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := storage.GetOrganization(ctx, tx, orgID); err != nil {
			return err
		}
		// One change at a time per organisation, so the audit entry's
		// "from" is what the change replaced.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "issuing-settings:"+orgID); err != nil {
			return fmt.Errorf("issuing settings lock: %w", err)
		}
		before, err := storage.GetIssuingSettings(ctx, tx, orgID)
		if err != nil {
			return err
		}
		out, err = storage.PutIssuingSettings(ctx, tx, storage.IssuingSettings{OrganizationID: orgID, VerifyQR: *req.VerifyQR, UpdatedBy: p.ID})
		if err != nil {
			return err
		}
		e := p.Event("organization.issuing_settings", "organization:"+orgID, map[string]any{
			"verify_qr": map[string]bool{"from": before.VerifyQR, "to": out.VerifyQR}})
		e.OrgID = orgID
		return audit.Append(ctx, tx, e)
	})
	if err != nil {
		return storage.IssuingSettings{}, err
	}
	return out, nil
}

// issueQR is the verification code of a document being issued, when its
// organisation draws the QR code into its signature.
type issueQR struct {
	code, url string
}

// verifyQR is the code for a document the organisation issues now, nil
// when the organisation does not draw the QR code (draws, read with the
// issue's begin) or the service knows no public address to point it at.
func (s *Service) verifyQR(draws bool) *issueQR {
	if s.PublicURL == "" || !draws {
		return nil
	}
	code := publicverify.NewCode()
	return &issueQR{code: code, url: publicverify.URL(s.PublicURL, code)}
}

// Where the QR code goes: a square of QRSidePt points left of the seal,
// QRGapPt apart, centred on the seal's height (clear of the signer's name,
// which the seal leaves free, and of the signer's signature it covers a
// third of).
const (
	QRSidePt = 72 // about 25 mm: readable by a phone from a printed page
	QRGapPt  = 4
)

// draw puts the QR code into the organisation's signature: the widget
// grows leftwards by the code's square and the gap; the seal (img, the
// seal or its text-only appearance, already in vis) keeps its place and
// its encoding, kept between issues, and the code, which is new at every
// issue, is an image of its own beside it at the seal's pixel density.
func (qr *issueQR) draw(vis *signing.Visible, seal image.Image) error {
	sb := seal.Bounds()
	sealW, sealH := vis.Rect[2]-vis.Rect[0], vis.Rect[3]-vis.Rect[1]
	if sb.Dx() < 1 || sb.Dy() < 1 || sealW <= 0 || sealH <= 0 {
		return fmt.Errorf("%w: an empty seal image", ErrSeal)
	}
	if sealH < QRSidePt {
		return fmt.Errorf("%w: the seal is lower than the QR code", ErrSeal)
	}
	x1 := max(0, vis.Rect[0]-QRSidePt-QRGapPt)
	grown := vis.Rect[0] - x1 // the code's square and the gap, unless at the page's edge
	side := min(QRSidePt, grown-QRGapPt)
	if side < QRSidePt/2 {
		return fmt.Errorf("%w: no room left of the seal for the QR code", ErrSeal)
	}
	px := int(side*float64(sb.Dx())/sealW + 0.5)
	code := image.NewNRGBA(image.Rect(0, 0, px, px))
	if err := publicverify.DrawQR(code, code.Bounds(), qr.url); err != nil {
		return err
	}
	vis.Rect[0] = x1
	vis.ImageBox = [4]float64{grown, 0, grown + sealW, sealH}
	y := (sealH - side) / 2
	vis.Marks = append(vis.Marks, signing.Mark{Box: [4]float64{grown - QRGapPt - side, y, grown - QRGapPt, y + side}, Image: code})
	return nil
}

// queue queues, in b, the record of the issued version v for public
// verification with the code drawn into it (none: nothing).
func (qr *issueQR) queue(b *pgx.Batch, doc documents.Document, v documents.Version) error {
	if qr == nil {
		return nil
	}
	return publicverify.Queue(b, publicverify.Rec{SHA256: v.SHA256, Code: qr.code, Kind: publicverify.KindIssued,
		DocumentID: doc.ID, Version: v.Number, OrganizationID: doc.OrganizationID})
}
