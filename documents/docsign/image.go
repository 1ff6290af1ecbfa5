package docsign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/storage"
)

// Limits of a handwritten-signature image: small enough to keep in the
// database and decode on every signature, large enough for a scan at
// 300 dpi of a signature a few centimetres wide.
const (
	MaxImageBytes  = 256 << 10
	MaxImageWidth  = 2000
	MaxImageHeight = 1000
)

// ErrBadImage is an upload that is not a usable signature image.
var ErrBadImage = errors.New("not a usable signature image")

// ErrImageTooLarge is an upload over MaxImageBytes.
var ErrImageTooLarge = errors.New("signature image too large")

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// decodeSignaturePNG checks that b is a PNG within the limits whose
// background is transparent (some pixel not opaque), and decodes it.
func decodeSignaturePNG(b []byte) (image.Image, error) {
	if len(b) > MaxImageBytes {
		return nil, because(rImageTooLarge, fmt.Errorf("%w: more than the %d bytes allowed", ErrImageTooLarge, MaxImageBytes), MaxImageBytes)
	}
	if !bytes.HasPrefix(b, pngMagic) {
		return nil, because(rImageNotPng, fmt.Errorf("%w: not a PNG file", ErrBadImage))
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: the PNG does not decode: %v", ErrBadImage, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxImageWidth || cfg.Height > MaxImageHeight {
		return nil, because(rImageSize, fmt.Errorf("%w: %d×%d pixels; at most %d×%d", ErrBadImage, cfg.Width, cfg.Height, MaxImageWidth, MaxImageHeight), MaxImageWidth, MaxImageHeight)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: the PNG does not decode: %v", ErrBadImage, err)
	}
	if !transparent(img) {
		return nil, because(rImageOpaque, fmt.Errorf("%w: it has no transparency; the signature is drawn over the page, so its background must be transparent (a PNG with an alpha channel)", ErrBadImage))
	}
	return img, nil
}

// transparent reports whether some pixel is not fully opaque.
func transparent(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return !o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return true
			}
		}
	}
	return false
}

// PutSignatureImage stores the handwritten-signature image of user userID,
// read from r (at most MaxImageBytes). Only the user themselves or an
// administrator of their organisation may.
func (s *Service) PutSignatureImage(ctx context.Context, p documents.Principal, userID string, r io.Reader) (storage.SignatureImage, error) {
	u, err := s.Accounts.User(ctx, p, userID)
	if err != nil {
		return storage.SignatureImage{}, err
	}
	// Binding a key and setting the signature drawn with it are the same
	// right: the holder's or an administrator's.
	if err := accounts.Authorize(p, accounts.KeyBind, accounts.Target{OrgID: u.OrganizationID, UserID: u.ID}); err != nil {
		return storage.SignatureImage{}, err
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxImageBytes+1))
	if err != nil {
		return storage.SignatureImage{}, fmt.Errorf("read signature image: %w", err)
	}
	img, err := decodeSignaturePNG(b)
	if err != nil {
		return storage.SignatureImage{}, err
	}
	sum := sha256.Sum256(b)
	si := storage.SignatureImage{UserID: u.ID, PNG: b, SHA256: hex.EncodeToString(sum[:]), Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), UpdatedBy: p.ID}
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if si, err = storage.PutSignatureImage(ctx, tx, si); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Event{Actor: p.ID, ActorName: p.Username, OrgID: u.OrganizationID, Action: "user.signature_image",
			Object: "user:" + u.ID, Details: map[string]any{"sha256": si.SHA256, "width": si.Width, "height": si.Height, "bytes": len(b)}})
	})
	return si, err
}

// SignatureImage reads the handwritten-signature image of user userID
// (storage.ErrNotFound: none yet), with the right that sets it: the user
// themselves or an administrator of their organisation.
func (s *Service) SignatureImage(ctx context.Context, p documents.Principal, userID string) (storage.SignatureImage, error) {
	u, err := s.Accounts.User(ctx, p, userID)
	if err != nil {
		return storage.SignatureImage{}, err
	}
	if err := accounts.Authorize(p, accounts.KeyBind, accounts.Target{OrgID: u.OrganizationID, UserID: u.ID}); err != nil {
		return storage.SignatureImage{}, err
	}
	return storage.GetSignatureImage(ctx, s.DB.Pool, u.ID)
}
