// Package publicverify owns public verification: the index of every file
// this deployment issued, copied or certified (by the SHA-256 of its exact
// bytes, with the unguessable code of its QR URL /v/{code}), the answer
// anyone gets about a file without logging in — which organisation, number,
// date and register entry, nothing the document itself does not show, and
// never anything about a confidential document — the per-address limit on
// asking, and the QR code drawn into copy blocks and organisation
// signatures.
package publicverify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/storage"
)

// Kinds of recorded file.
const (
	KindIssued        = "issued"         // an issued document's sealed version
	KindCopy          = "copy"           // SAO Y, TRÍCH SAO, SAO LỤC
	KindCertifiedCopy = "certified-copy" // a certified copy of a citizen's original
)

// Rec is one recorded file.
type Rec struct {
	SHA256 string // lowercase hex SHA-256 of the file (its blob key)
	// Code is the QR code's: the one drawn into the file, from NewCode;
	// empty makes one.
	Code string
	Kind string
	// DocumentID and Version name a document's version; a certified copy
	// of a citizen's original is not a document and names its
	// CertifiedCopyID instead.
	DocumentID      string
	Version         int
	CertifiedCopyID string
	OrganizationID  string
}

var (
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	codeChars = regexp.MustCompile(`^[A-Za-z0-9_-]{22,64}$`)
)

// NewCode returns a fresh verification code: 128 random bits, URL-safe.
// Callers that draw the QR code into a file make it before signing and
// give it to Record with the signed file's hash.
func NewCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidCode reports whether s has the shape of a code (and so is worth a
// look-up).
func ValidCode(s string) bool { return codeChars.MatchString(s) }

// Record indexes a file in the caller's transaction, where the file's
// version (and, for issuing and copies, its register entry) commits.
// Issuing calls it for the sealed version, copies for the copy, certified
// copies for each copy (by CertifiedCopyID). A register entry records its file by itself (a
// trigger) with a fresh code; recording a file again with the code drawn
// into it keeps that code.
func Record(ctx context.Context, q storage.Querier, r Rec) (code string, err error) {
	args, err := r.args()
	if err != nil {
		return "", err
	}
	if err := q.QueryRow(ctx, recordSQL, args...).Scan(&code); err != nil {
		return "", fmt.Errorf("public record of %s: %w", r.SHA256, err)
	}
	return code, nil
}

// Queue is Record queued in b, for a caller that sends its writes in one
// round trip (issuing: with the sealed version, before its register
// entry, whose trigger would record the file with a fresh code).
func Queue(b *pgx.Batch, r Rec) error {
	args, err := r.args()
	if err != nil {
		return err
	}
	b.Queue(recordSQL, args...).QueryRow(func(row pgx.Row) error {
		var code string
		if err := row.Scan(&code); err != nil {
			return fmt.Errorf("public record of %s: %w", r.SHA256, err)
		}
		return nil
	})
	return nil
}

// A code drawn into the file replaces one the trigger made; a fresh one
// never replaces a code already there.
const recordSQL = `
		INSERT INTO public_records (sha256, code, kind, document_id, version, certified_copy_id, organization_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (sha256) DO UPDATE SET code = CASE WHEN $8 THEN EXCLUDED.code ELSE public_records.code END, kind = EXCLUDED.kind
		RETURNING code`

// args checks r and gives recordSQL's arguments (with a fresh code when r
// has none).
func (r Rec) args() ([]any, error) {
	if !sha256Hex.MatchString(r.SHA256) {
		return nil, fmt.Errorf("public record: %q is not a hex SHA-256", r.SHA256)
	}
	switch r.Kind {
	case KindIssued, KindCopy, KindCertifiedCopy:
	default:
		return nil, fmt.Errorf("public record: unknown kind %q", r.Kind)
	}
	if (r.DocumentID == "") == (r.CertifiedCopyID == "") || (r.CertifiedCopyID != "" && r.Kind != KindCertifiedCopy) {
		return nil, errors.New("public record: a record names either a document version or a certified copy")
	}
	var docID, version, copyID any
	if r.DocumentID != "" {
		docID, version = r.DocumentID, r.Version
	} else {
		copyID = r.CertifiedCopyID
	}
	drawn := r.Code != ""
	if !drawn {
		r.Code = NewCode()
	} else if !ValidCode(r.Code) {
		return nil, errors.New("public record: malformed code")
	}
	return []any{r.SHA256, r.Code, r.Kind, docID, version, copyID, r.OrganizationID, drawn}, nil
}
