package register

import (
	"context"
	"fmt"
	"image"
	"image/draw"

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
// when the organisation does not draw the QR code (or the service knows no
// public address to point it at).
func (s *Service) verifyQR(ctx context.Context, q storage.Querier, orgID string) (*issueQR, error) {
	if s.PublicURL == "" {
		return nil, nil
	}
	set, err := storage.GetIssuingSettings(ctx, q, orgID)
	if err != nil || !set.VerifyQR {
		return nil, err
	}
	code := publicverify.NewCode()
	return &issueQR{code: code, url: publicverify.URL(s.PublicURL, code)}, nil
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
// grows leftwards by the code's square and the gap, its image is the code
// then the seal (img, the seal or its text-only appearance).
func (qr *issueQR) draw(vis *signing.Visible, seal image.Image) error {
	sb := seal.Bounds()
	sealW := vis.Rect[2] - vis.Rect[0]
	if sb.Dx() < 1 || sb.Dy() < 1 || sealW <= 0 {
		return fmt.Errorf("%w: an empty seal image", ErrSeal)
	}
	perPt := float64(sb.Dx()) / sealW
	qrPx := int(QRSidePt*perPt + 0.5)
	offPx := int((QRSidePt+QRGapPt)*perPt + 0.5)
	canvas := image.NewNRGBA(image.Rect(0, 0, offPx+sb.Dx(), sb.Dy()))
	top := (sb.Dy() - qrPx) / 2
	if top < 0 {
		return fmt.Errorf("%w: the seal is lower than the QR code", ErrSeal)
	}
	if err := publicverify.DrawQR(canvas, image.Rect(0, top, qrPx, top+qrPx), qr.url); err != nil {
		return err
	}
	placeSeal(canvas, image.Pt(offPx, 0), seal)
	vis.Rect[0] = max(0, vis.Rect[0]-QRSidePt-QRGapPt)
	vis.Image, vis.Encoded = canvas, nil
	return nil
}

// record indexes the sealed version for public verification with the code
// drawn into it, in the issuing transaction; nil records nothing here (the
// register entry's trigger records the file with a fresh code).
func (qr *issueQR) record(ctx context.Context, tx pgx.Tx, doc documents.Document, v documents.Version) error {
	if qr == nil {
		return nil
	}
	_, err := publicverify.Record(ctx, tx, publicverify.Rec{SHA256: v.SHA256, Code: qr.code, Kind: publicverify.KindIssued,
		DocumentID: doc.ID, Version: v.Number, OrganizationID: doc.OrganizationID})
	return err
}

// placeSeal draws seal on the canvas at, where the canvas is still
// transparent: an *image.NRGBA seal (a decoded PNG, a drawn appearance)
// is copied row by row, which image/draw would do pixel by pixel through
// colour conversions.
func placeSeal(canvas *image.NRGBA, at image.Point, seal image.Image) {
	sb := seal.Bounds()
	src, ok := seal.(*image.NRGBA)
	if !ok {
		draw.Draw(canvas, sb.Sub(sb.Min).Add(at), seal, sb.Min, draw.Over)
		return
	}
	row := 4 * sb.Dx()
	for y := 0; y < sb.Dy(); y++ {
		from := src.PixOffset(sb.Min.X, sb.Min.Y+y)
		to := canvas.PixOffset(at.X, at.Y+y)
		copy(canvas.Pix[to:to+row], src.Pix[from:from+row])
	}
}
