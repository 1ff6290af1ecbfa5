package copies

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/storage"
)

// ScanCheck checks a scanned paper original before anything is signed
// over it: PDF 1.4 or later, colour, at least 200 dpi at 100 % scale on
// every page; its error names the page and the dpi found.
// documents/scancheck's Check is the one: wire it as
//
//	func(b []byte) error { _, err := scancheck.Check(b); return err }
type ScanCheck func(pdf []byte) error

var (
	// ErrScanRefused: the scan failed the scan check; nothing was signed.
	ErrScanRefused = errors.New("the scan is refused")
	// ErrNoScanCheck: the service has no scan check, so it copies no
	// paper original (nothing unchecked is ever signed).
	ErrNoScanCheck = errors.New("copies of paper originals are not available: no scan check is configured")
)

// ScanRequest is the clerk's description of a paper original and the copy
// to make of its scan.
type ScanRequest struct {
	Form  string
	Pages []int
	// Original describes the paper original (its type, number, date,
	// issuer), for the register and the link a copy keeps.
	Original string
	// Subject is its trích yếu; Confidentiality its mark (default thường).
	Subject         string
	Confidentiality string
}

// MakeFromScan makes a copy of a paper original from its scan: the scan is
// checked, its pages (all, or the chosen ones for a TRÍCH SAO) go into a
// new PDF, and the copy is numbered, signed, registered and recorded as
// Make does, linked to the original's description.
func (s *Service) MakeFromScan(ctx context.Context, p accounts.Principal, req ScanRequest, scan io.Reader) (Copy, error) {
	if err := s.Docs.CanCreate(p); err != nil {
		return Copy{}, err
	}
	if !p.Has(storage.RoleClerk) || p.OrganizationID == "" {
		return Copy{}, fmt.Errorf("%w: only an organisation's clerks (văn thư) make copies", accounts.ErrForbidden)
	}
	r, err := checkRequest(Request{Form: req.Form, Pages: req.Pages})
	if err != nil {
		return Copy{}, err
	}
	orig := strings.TrimSpace(norm.NFC.String(req.Original))
	if orig == "" || utf8.RuneCountInString(orig) > 500 || !utf8.ValidString(req.Original) {
		return Copy{}, because(rOriginalDescription, invalid("original describes the paper original (type, number, date, issuer), at most 500 characters"))
	}
	meta, err := s.Docs.CheckMeta(ctx, p, documents.Meta{Type: r.Form, Subject: req.Subject, Confidentiality: req.Confidentiality})
	if err != nil {
		return Copy{}, err
	}
	if s.CheckScan == nil {
		return Copy{}, ErrNoScanCheck
	}
	data, err := readLimited(scan, s.Docs.MaxUpload)
	if err != nil {
		return Copy{}, err
	}
	if err := s.CheckScan(data); err != nil {
		return Copy{}, fmt.Errorf("%w: %w", ErrScanRefused, err) // the check's problems stay readable (errors.As)
	}
	pages, err := os.CreateTemp(s.TempDir, "vanthu-copy-pages-*.pdf")
	if err != nil {
		return Copy{}, fmt.Errorf("copy: temporary file: %w", err)
	}
	defer func() { pages.Close(); os.Remove(pages.Name()) }()
	ex, err := ExtractPages(ctx, bytes.NewReader(data), r.Pages, pages)
	var pe *PageError
	if errors.As(err, &pe) {
		return Copy{}, invalid("%s", pe.Error())
	}
	if err != nil {
		return Copy{}, err
	}
	data = nil
	return s.make(ctx, p, making{form: r.Form, pages: r.Pages, ex: ex, file: pages, originalText: orig,
		meta: documents.Document{Type: r.Form, Subject: meta.Subject, Urgency: meta.Urgency, Confidentiality: meta.Confidentiality,
			Unit: meta.Unit, UnitID: meta.UnitID, OrganizationID: p.OrganizationID, CreatedBy: p.ID}})
}

// readLimited reads a whole scan, refusing one over max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = 200 << 20
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read scan: %w", err)
	}
	if int64(len(data)) > max {
		return nil, &documents.InputError{Kind: documents.ErrTooLarge, Detail: fmt.Sprintf("the scan is larger than the limit of %d bytes", max)}
	}
	if len(data) == 0 {
		return nil, &documents.InputError{Kind: documents.ErrEmptyFile, Detail: "the scan is empty"}
	}
	return data, nil
}
