package copies

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
)

// Forms of copy (Decree 30 art. 25) and the words their copy block shows.
const (
	FormSY  = "SY"  // SAO Y: the whole original
	FormTrS = "TrS" // TRÍCH SAO: chosen pages
	FormSL  = "SL"  // SAO LỤC: the whole of a bản sao y
)

var formTitles = map[string]string{FormSY: "SAO Y", FormTrS: "TRÍCH SAO", FormSL: "SAO LỤC"}

// Refusals, wrapped with the reason.
var (
	// ErrNotCopyable: the document cannot be copied in this form (not
	// signed, or a SAO LỤC of what is not a bản sao y).
	ErrNotCopyable = errors.New("the document cannot be copied in this form")
)

// EventCopied is published when a copy is made.
const EventCopied events.Kind = "document.copied"

// Service makes copies.
type Service struct {
	DB       *storage.DB
	Docs     *documents.Service
	Register *register.Service
	Events   events.Publisher
	// PublicURL is the deployment's address as the public reaches it; the
	// QR code of a copy carries PublicURL/v/{code}.
	PublicURL string
	// TempDir holds the files being copied ("" is the system's).
	TempDir string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// CheckScan checks scans of paper originals (nil: none are copied).
	CheckScan ScanCheck
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Request is what the clerk asks for: the form, and for TRÍCH SAO the
// pages (1-based, in the copy's order).
type Request struct {
	Form  string `json:"form"`
	Pages []int  `json:"pages"`
}

// Copy is a made copy: the new document with its number, and what it
// copies.
type Copy struct {
	documents.Document
	Form            string    `json:"form"`
	Symbol          string    `json:"symbol"`
	RegisterNumber  int       `json:"register_number"`
	RegisterID      string    `json:"register_id"`
	Year            int       `json:"year"`
	Version         int       `json:"version"`
	SHA256          string    `json:"sha256"`
	IssuedAt        time.Time `json:"issued_at"`
	OriginalID      string    `json:"original_id,omitempty"`
	OriginalVersion int       `json:"original_version,omitempty"`
	CopiedPages     []int     `json:"pages,omitempty"`
	// VerifyURL is what the QR code in the copy block carries.
	VerifyURL string `json:"verify_url"`
}

func invalid(format string, a ...any) error {
	return &documents.InputError{Kind: documents.ErrInvalidField, Detail: fmt.Sprintf(format, a...)}
}

const maxPages = 2000

func checkRequest(req Request) (Request, error) {
	req.Form = strings.TrimSpace(req.Form)
	if _, ok := formTitles[req.Form]; !ok {
		return req, because(rForm, invalid("form must be SY (sao y), TrS (trích sao) or SL (sao lục), not %q", req.Form))
	}
	if req.Form != FormTrS && len(req.Pages) > 0 {
		return req, because(rPagesNotTrs, invalid("pages are chosen for a TRÍCH SAO (form TrS) only; SAO Y and SAO LỤC copy every page"))
	}
	if req.Form == FormTrS {
		if len(req.Pages) == 0 {
			return req, because(rPagesRequired, invalid("a TRÍCH SAO names the pages it copies (pages: [1, 3])"))
		}
		if len(req.Pages) > maxPages {
			return req, because(rPagesMax, invalid("at most %d pages", maxPages), maxPages)
		}
		seen := map[int]bool{}
		for _, p := range req.Pages {
			if p < 1 {
				return req, because(rPageNumber, invalid("pages are numbered from 1, not %d", p), p)
			}
			if seen[p] {
				return req, because(rPageTwice, invalid("page %d is named twice", p), p)
			}
			seen[p] = true
		}
	}
	return req, nil
}

// copyable decides whether the original may be copied in the form: its
// latest version is signed, a SAO LỤC copies a bản sao y, a SAO Y copies
// an original (not a copy), a TRÍCH SAO an original or a bản sao y.
func copyable(orig documents.Document, last documents.Version, form string) error {
	if !last.Signed {
		return because(rUnsigned, fmt.Errorf("%w: its latest version %d carries no signature; only a signed (issued or received) document is copied", ErrNotCopyable, last.Number))
	}
	switch {
	case form == FormSL && orig.Type != FormSY:
		return because(rSlSource, fmt.Errorf("%w: a SAO LỤC is made from a bản sao y (SY), and this document is %s", ErrNotCopyable, orig.Type))
	case form == FormSY && formTitles[orig.Type] != "":
		return because(rSySource, fmt.Errorf("%w: a SAO Y is made from the original; from a bản sao y make a SAO LỤC", ErrNotCopyable))
	case form == FormTrS && (orig.Type == FormTrS || orig.Type == FormSL):
		return because(rTrsSource, fmt.Errorf("%w: a TRÍCH SAO is made from the original or a bản sao y, not from a %s", ErrNotCopyable, orig.Type))
	}
	return nil
}

// Make copies a document of the system: a clerk of the organisation that
// holds it (issued it, or received it) makes a SAO Y, TRÍCH SAO or SAO LỤC.
// The copy is numbered, signed, stored, registered, recorded for public
// verification and linked to its original in one transaction: a failure
// anywhere leaves no number taken and nothing stored.
func (s *Service) Make(ctx context.Context, p accounts.Principal, originalID string, req Request) (Copy, error) {
	orig, err := s.Docs.Get(ctx, p, originalID)
	if err != nil {
		return Copy{}, err
	}
	if err := s.Docs.CanCreate(p); err != nil {
		return Copy{}, err
	}
	if !p.Has(storage.RoleClerk) || p.OrganizationID == "" {
		return Copy{}, fmt.Errorf("%w: only an organisation's clerks (văn thư) make copies", accounts.ErrForbidden)
	}
	if req, err = checkRequest(req); err != nil {
		return Copy{}, err
	}
	last, err := storage.GetVersion(ctx, s.DB.Pool, orig.ID, orig.Versions)
	if err != nil {
		return Copy{}, fmt.Errorf("latest version of %s: %w", orig.ID, err)
	}
	if err := copyable(orig, last, req.Form); err != nil {
		return Copy{}, err
	}
	src, done, err := s.readVersion(ctx, last)
	if err != nil {
		return Copy{}, err
	}
	defer done()
	pages, err := os.CreateTemp(s.TempDir, "vanthu-copy-pages-*.pdf")
	if err != nil {
		return Copy{}, fmt.Errorf("copy: temporary file: %w", err)
	}
	defer func() { pages.Close(); os.Remove(pages.Name()) }()
	ex, err := ExtractPages(ctx, src, req.Pages, pages)
	var pe *PageError
	if errors.As(err, &pe) {
		return Copy{}, invalid("%s", pe.Error())
	}
	if err != nil {
		return Copy{}, err
	}
	unit := ""
	if orig.OrganizationID == p.OrganizationID {
		unit = orig.Unit
	}
	mk := making{form: req.Form, pages: req.Pages, ex: ex, file: pages, meta: documents.Document{
		Type: req.Form, Subject: orig.Subject, Urgency: orig.Urgency, Confidentiality: orig.Confidentiality,
		Unit: unit, UnitID: unitID(orig, p), OrganizationID: p.OrganizationID, CreatedBy: p.ID},
		originalID: orig.ID, originalVersion: last.Number}
	return s.make(ctx, p, mk)
}

func unitID(orig documents.Document, p accounts.Principal) string {
	if orig.OrganizationID == p.OrganizationID {
		return orig.UnitID
	}
	return ""
}

// making is a copy on its way: its pages in a file, what it will be.
type making struct {
	form            string
	pages           []int
	ex              Extracted
	file            *os.File
	meta            documents.Document
	originalID      string
	originalVersion int
	originalText    string // a paper original
}

func (s *Service) make(ctx context.Context, p accounts.Principal, mk making) (Copy, error) {
	at := s.now()
	org, err := storage.GetOrganization(ctx, s.DB.Pool, p.OrganizationID)
	if err != nil {
		return Copy{}, err
	}
	level, err := s.Register.SigningLevel(ctx, s.DB.Pool, org.ID)
	if err != nil {
		return Copy{}, err
	}
	key, binding, closeKey, err := s.Register.OrganizationKey(ctx, p, org.ID, at)
	if err != nil {
		return Copy{}, err
	}
	defer closeKey()
	var out Copy
	var blobKey string
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		out = Copy{}
		doc, err := storage.InsertDocument(ctx, tx, mk.meta)
		if err != nil {
			return err
		}
		typ, err := storage.GetDocumentType(ctx, tx, mk.form)
		if err != nil {
			return fmt.Errorf("document type %s: %w", mk.form, err)
		}
		reg, err := s.Register.Series(ctx, tx, doc, typ, "")
		if err != nil {
			return err
		}
		year := register.Year(at)
		number, err := storage.NextRegisterNumber(ctx, tx, reg.ID, year)
		if err != nil {
			return err
		}
		symbol := register.Symbol(number, typ, org.Code, "")
		code := publicverify.NewCode()
		url := publicverify.URL(s.PublicURL, code)
		sha, size, err := s.sign(ctx, mk, org, symbol, url, key, level, at, &blobKey)
		if err != nil {
			return err
		}
		if err := storage.LockBlob(ctx, tx, sha); err != nil {
			return err
		}
		v, err := storage.InsertVersion(ctx, tx, documents.Version{DocumentID: doc.ID, SHA256: sha, Size: size,
			FileName: copyFileName(symbol), Signed: true, CreatedBy: p.ID})
		if err != nil {
			return err
		}
		if _, err := publicverify.Record(ctx, tx, publicverify.Rec{SHA256: sha, Code: code, Kind: publicverify.KindCopy,
			DocumentID: doc.ID, Version: v.Number, OrganizationID: org.ID}); err != nil {
			return err
		}
		entry := storage.RegisterEntry{RegisterID: reg.ID, OrganizationID: org.ID, Year: year, Number: number, Symbol: symbol,
			DocumentID: doc.ID, Version: v.Number, IssuedAt: at, IssuedBy: p.ID, Type: mk.form, Subject: doc.Subject,
			SignerName: org.Name, CopiesKept: "", Copies: 1, Note: copyNote(mk)}
		if err := storage.InsertRegisterEntry(ctx, tx, entry); err != nil {
			return err
		}
		if err := storage.MarkIssued(ctx, tx, doc.ID, symbol, documents.SearchText(doc.Subject, &symbol), at); err != nil {
			return err
		}
		if err := insertCopy(ctx, tx, doc.ID, mk); err != nil {
			return err
		}
		details := map[string]any{"form": mk.form, "register": reg.ID, "year": year, "number": number, "symbol": symbol,
			"version": v.Number, "sha256": sha, "key_binding": binding.ID, "fingerprint": binding.Fingerprint, "level": string(level),
			"issued_at": at.In(register.Vietnam).Format(time.RFC3339)}
		if mk.originalID != "" {
			details["original"], details["original_version"] = mk.originalID, mk.originalVersion
		}
		if len(mk.pages) > 0 {
			details["pages"] = mk.pages
		}
		e := p.Event("document.copy", "document:"+doc.ID, details)
		e.OrgID = org.ID
		if err := audit.Append(ctx, tx, e); err != nil {
			return err
		}
		if err := events.Publish(ctx, s.Events, tx, events.Event{Kind: EventCopied, OrganizationID: org.ID, DocumentID: doc.ID, ActorID: p.ID,
			Summary: fmt.Sprintf("%s %s: %s", formTitles[mk.form], symbol, doc.Subject),
			Data:    map[string]any{"form": mk.form, "symbol": symbol, "original_id": mk.originalID}}); err != nil {
			return err
		}
		// Retained last, once nothing else can refuse the copy.
		if s.Docs.Retention > 0 {
			if err := s.Docs.Blobs.Retain(ctx, sha, s.now().Add(s.Docs.Retention)); err != nil {
				return fmt.Errorf("retain copy: %w", err)
			}
		}
		doc.Status, doc.Number, doc.Versions = documents.StatusIssued, &symbol, 1
		out = Copy{Document: doc, Form: mk.form, Symbol: symbol, RegisterNumber: number, RegisterID: reg.ID, Year: year,
			Version: v.Number, SHA256: sha, IssuedAt: at, OriginalID: mk.originalID, OriginalVersion: mk.originalVersion,
			CopiedPages: mk.pages, VerifyURL: url}
		return nil
	})
	if err != nil {
		if blobKey != "" {
			s.Docs.Discard(ctx, documents.StoredFile{Key: blobKey})
		}
		return Copy{}, err
	}
	slog.InfoContext(ctx, "copy made", "document", out.ID, "symbol", out.Symbol, "original", mk.originalID, "clerk", p.Username)
	return out, nil
}

func copyFileName(symbol string) string {
	return strings.NewReplacer("/", "-", " ", "_").Replace(symbol) + ".pdf"
}

func copyNote(mk making) string {
	if len(mk.pages) > 0 {
		ps := make([]string, len(mk.pages))
		for i, p := range mk.pages {
			ps[i] = fmt.Sprint(p)
		}
		return "Trích sao trang " + strings.Join(ps, ", ")
	}
	return ""
}

func insertCopy(ctx context.Context, tx pgx.Tx, docID string, mk making) error {
	var origID, origVersion any
	if mk.originalID != "" {
		origID, origVersion = mk.originalID, mk.originalVersion
	}
	pages := mk.pages
	if pages == nil {
		pages = []int{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO document_copies (document_id, form, original_id, original_version, pages, original_text)
		VALUES ($1, $2, $3, $4, $5, $6)`, docID, mk.form, origID, origVersion, pages, mk.originalText)
	if err != nil {
		return fmt.Errorf("record copy: %w", err)
	}
	return nil
}

// qrSidePt is the QR code's side in the copy block: readable by a phone
// from a printed page (about 25 mm).
const qrSidePt = 72

// blockRect is the copy block, top right of page 1: the text of Decree 30's
// copy signature and, to its right, the QR code.
func blockRect(pageW, pageH float64) appearance.Rect {
	r := appearance.CopyRect(pageW, pageH)
	r.X1 = max(0, r.X2-(r.W()+qrSidePt))
	r.Y1 = max(0, r.Y2-qrSidePt)
	return r
}

// blockDPI renders the copy block sharp enough to print.
const blockDPI = 300

// Block renders the copy block: form of copy, copying organisation, time
// (+07:00), the copy's number, and the QR code of url at the right.
func Block(form, organization, symbol, url string, at time.Time, w, h float64) (image.Image, error) {
	spec := appearance.Spec{Kind: appearance.Copy, Title: formTitles[form], Organization: organization, Time: at, Number: symbol}
	text, err := appearance.Render(spec, w-h, h, blockDPI)
	if err != nil {
		return nil, fmt.Errorf("copy block: %w", err)
	}
	wPx := int(w*blockDPI/72 + 0.5)
	canvas := image.NewNRGBA(image.Rect(0, 0, wPx, text.Bounds().Dy()))
	draw.Draw(canvas, text.Bounds(), text, image.Point{}, draw.Src)
	return publicverify.WithQR(canvas, url)
}

// sign signs the copy's pages with the organisation's copy block and
// stores the result; blobKey names it for the caller to discard.
func (s *Service) sign(ctx context.Context, mk making, org storage.Organization, symbol, url string, key keys.Key, level signing.Level, at time.Time, blobKey *string) (string, int64, error) {
	r := blockRect(mk.ex.PageW, mk.ex.PageH)
	img, err := Block(mk.form, org.Name, symbol, url, at, r.W(), r.H())
	if err != nil {
		return "", 0, err
	}
	st, err := mk.file.Stat()
	if err != nil {
		return "", 0, fmt.Errorf("copy pages: %w", err)
	}
	out, err := os.CreateTemp(s.TempDir, "vanthu-copy-out-*.pdf")
	if err != nil {
		return "", 0, fmt.Errorf("copy: temporary file: %w", err)
	}
	defer func() { out.Close(); os.Remove(out.Name()) }()
	opts := signing.Options{Level: level, TSAURL: s.Register.TSAURL, HTTPClient: s.Register.HTTPClient, Extender: s.Register.Extender,
		Time: at, Name: org.Name, Reason: formTitles[mk.form] + " " + symbol, Lock: true,
		Visible: &signing.Visible{Page: 1, Rect: [4]float64{r.X1, r.Y1, r.X2, r.Y2}, Image: img}}
	if err := signing.Sign(ctx, mk.file, st.Size(), out, key, opts); err != nil {
		return "", 0, register.SigningError(err)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("signed copy: %w", err)
	}
	info, err := s.Docs.Blobs.Put(ctx, out, blob.PutOptions{})
	if err != nil {
		return "", 0, fmt.Errorf("store copy: %w", err)
	}
	*blobKey = info.Key
	return info.Key, info.Size, nil
}

// readVersion copies a version's bytes into a temporary file.
func (s *Service) readVersion(ctx context.Context, v documents.Version) (*os.File, func(), error) {
	rc, err := s.Docs.Open(ctx, v, 0, -1)
	if err != nil {
		return nil, nil, fmt.Errorf("read version %d: %w", v.Number, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(s.TempDir, "vanthu-copy-in-*.pdf")
	if err != nil {
		return nil, nil, fmt.Errorf("copy: temporary file: %w", err)
	}
	done := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, rc)
	if err == nil && n != v.Size {
		err = fmt.Errorf("%d bytes, want %d", n, v.Size)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		done()
		return nil, nil, fmt.Errorf("read version %d: %w", v.Number, err)
	}
	return f, done, nil
}
