package documents

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
)

// Service applies the office's rules to documents and their versions.
type Service struct {
	DB    *storage.DB
	Blobs blob.Store
	// MaxUpload is the largest file accepted, in bytes.
	MaxUpload int64
	// Retention is how long a signed version's bytes are locked against
	// deletion and overwriting.
	Retention time.Duration
}

// Document and Version are the storage rows, shared with the API.
type (
	Document = storage.Document
	Version  = storage.Version
	User     = storage.User
)

// Meta is what a drafter says about a new document.
type Meta struct {
	Type            string
	Subject         string
	Urgency         string
	Confidentiality string
	// Unit is a unit code of the drafter's organisation; CheckMeta
	// resolves it to UnitID.
	Unit   string
	UnitID string
	// Replaces or Corrects names an issued document of the drafter's
	// organisation this one replaces (a content error: a document of the
	// same type) or corrects (a form error: a công văn); at most one.
	Replaces, Corrects string
}

// CheckMeta validates and normalises the fields of a new document by p, so
// a bad request is refused before its file is read.
func (s *Service) CheckMeta(ctx context.Context, p Principal, m Meta) (Meta, error) {
	if err := checkTexts("type", m.Type, "subject", m.Subject, "urgency", m.Urgency, "confidentiality", m.Confidentiality, "unit", m.Unit); err != nil {
		return m, err
	}
	m.Type = strings.TrimSpace(norm.NFC.String(m.Type))
	m.Subject = strings.TrimSpace(norm.NFC.String(m.Subject))
	m.Unit = strings.TrimSpace(norm.NFC.String(m.Unit))
	if m.Type == "" {
		return m, refusal.Because(rTypeRequired, inputError(ErrInvalidField, "type is required: a Decree 30 abbreviation such as QĐ, or CV for công văn"))
	}
	types, err := storage.ReferenceCodes(ctx, s.DB.Pool, "document_types")
	if err != nil {
		return m, err
	}
	if _, ok := types[m.Type]; !ok {
		return m, refusal.Because(rTypeUnknown, inputError(ErrInvalidField, fmt.Sprintf("unknown document type %q: use a Decree 30 abbreviation such as QĐ, TB, KH, or CV for công văn", m.Type)), m.Type)
	}
	if m.Subject == "" {
		return m, refusal.Because(rSubjectRequired, inputError(ErrInvalidField, "subject (trích yếu) is required"))
	}
	if utf8.RuneCountInString(m.Subject) > 1000 {
		return m, refusal.Because(rSubjectLong, inputError(ErrInvalidField, "subject (trích yếu) is longer than 1000 characters"))
	}
	if m.Urgency, err = s.level(ctx, "urgency_levels", "urgency", m.Urgency, "thường, khẩn, thượng khẩn, hỏa tốc"); err != nil {
		return m, err
	}
	if m.Confidentiality, err = s.level(ctx, "confidentiality_levels", "confidentiality", m.Confidentiality, "thường, mật, tối mật, tuyệt mật"); err != nil {
		return m, err
	}
	unit, err := s.unitOf(ctx, p, m.Unit)
	if err != nil {
		return m, err
	}
	m.Unit, m.UnitID = unit.Code, unit.ID
	if err := s.checkSupersedes(ctx, p, &m); err != nil {
		return m, err
	}
	return m, nil
}

// checkSupersedes checks what a new document replaces or corrects: an
// issued (or since recalled) document of p's organisation; a replacing
// document is of the original's type (Decree 30: the same form), a
// correcting one a công văn.
func (s *Service) checkSupersedes(ctx context.Context, p Principal, m *Meta) error {
	if err := checkTexts("replaces", m.Replaces, "corrects", m.Corrects); err != nil {
		return err
	}
	m.Replaces, m.Corrects = strings.TrimSpace(m.Replaces), strings.TrimSpace(m.Corrects)
	field, id := "replaces", m.Replaces
	switch {
	case m.Replaces != "" && m.Corrects != "":
		return inputError(ErrInvalidField, "give replaces or corrects, not both")
	case m.Corrects != "":
		field, id = "corrects", m.Corrects
	case m.Replaces == "":
		return nil
	}
	orig, err := storage.GetDocument(ctx, s.DB.Pool, id)
	if errors.Is(err, storage.ErrNotFound) || err == nil && (orig.OrganizationID == "" || orig.OrganizationID != p.OrganizationID) {
		return inputError(ErrInvalidField, field+" names no issued document of your organisation")
	}
	if err != nil {
		return err
	}
	if orig.Status != StatusIssued && orig.Status != StatusRecalled {
		return inputError(ErrInvalidField, fmt.Sprintf("%s: the document is %s; only an issued document is replaced or corrected", field, orig.Status))
	}
	if field == "replaces" && m.Type != orig.Type {
		return inputError(ErrInvalidField, fmt.Sprintf("replaces: a replacing document is of the original's type %s, not %s", orig.Type, m.Type))
	}
	if field == "corrects" && m.Type != "CV" {
		return inputError(ErrInvalidField, "corrects: a form error is corrected by a công văn (type CV)")
	}
	return nil
}

func (s *Service) level(ctx context.Context, table, field, value, choices string) (string, error) {
	if strings.TrimSpace(value) == "" {
		return "thuong", nil
	}
	c := code(value)
	codes, err := storage.ReferenceCodes(ctx, s.DB.Pool, table)
	if err != nil {
		return "", err
	}
	if _, ok := codes[c]; !ok {
		return "", inputError(ErrInvalidField, fmt.Sprintf("unknown %s %q: use one of %s", field, value, choices))
	}
	return c, nil
}

// StoredFile is an uploaded file in the blob store, not yet referenced by any row.
type StoredFile struct {
	Key      string
	Size     int64
	FileName string
	Signed   bool
	// Warnings are what the upload check forgave (see inspectPDF); they
	// go into the audit entry of the version.
	Warnings []string
	// hold keeps the blob from deletion by others until this file is
	// committed or discarded.
	hold string
}

// StoreFile streams an upload into the blob store. The PDF checks run on the
// complete, hashed bytes before the store makes them an object, so a rejected
// file is never stored at all.
func (s *Service) StoreFile(ctx context.Context, r io.Reader, fileName string) (StoredFile, error) {
	sig := &signatureSpotter{r: r}
	var warnings []string
	var hold, heldKey string
	info, err := s.Blobs.Put(ctx, sig, blob.PutOptions{Max: s.MaxUpload, Check: func(ra io.ReaderAt, size int64) (err error) {
		warnings, err = inspectPDF(ra, size)
		return err
	}, BeforeStore: func(ctx context.Context, key string) (err error) {
		// Claimed before the store decides the object exists, so another
		// request's Discard of the same bytes cannot delete it under us.
		hold, err = s.DB.HoldBlob(ctx, key)
		heldKey = key
		return err
	}})
	if err != nil && hold != "" {
		s.Discard(ctx, StoredFile{Key: heldKey, hold: hold})
	}
	var in *InputError
	switch {
	case errors.As(err, &in):
		return StoredFile{}, err
	case errors.Is(err, blob.ErrTooLarge):
		return StoredFile{}, inputError(ErrTooLarge, fmt.Sprintf("the file is larger than the limit of %d bytes", s.MaxUpload))
	case err != nil:
		return StoredFile{}, fmt.Errorf("store upload: %w", err)
	}
	for _, w := range warnings {
		slog.WarnContext(ctx, "upload accepted with a warning", "blob", info.Key, "warning", w)
	}
	return StoredFile{Key: info.Key, Size: info.Size, FileName: CleanFileName(fileName), Signed: sig.found, Warnings: warnings, hold: hold}, nil
}

// Discard releases a stored file that will not be committed: its hold goes,
// and its blob too unless a row references it or another request holds it
// (the same bytes, uploaded by someone else, about to be committed).
func (s *Service) Discard(ctx context.Context, f StoredFile) {
	if f.Key == "" {
		return
	}
	if err := s.deleteUnreferenced(context.WithoutCancel(ctx), f.Key, f.hold); err != nil && !errors.Is(err, errReferenced) {
		slog.Warn("discarding rejected upload failed; the sweeper will retry", "blob", f.Key, "err", err)
	}
}

var errReferenced = errors.New("blob is referenced by a document version or held by an upload")

// deleteUnreferenced releases the hold ownHold (if any) and deletes the blob
// only if no row points at it and no one else holds it, under the blob lock
// across the check and the delete, in one transaction, so that no commit
// and no new hold slips between.
func (s *Service) deleteUnreferenced(ctx context.Context, key, ownHold string) error {
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if err := storage.LockBlob(ctx, tx, key); err != nil {
			return err
		}
		if err := storage.ReleaseHold(ctx, tx, ownHold); err != nil {
			return err
		}
		ref, err := storage.BlobReferenced(ctx, tx, key)
		if err != nil {
			return err
		}
		held, err := storage.BlobHeld(ctx, tx, key)
		if err != nil {
			return err
		}
		if ref || held {
			return errReferenced
		}
		return s.Blobs.Delete(ctx, key)
	})
	if errors.Is(err, errReferenced) && ownHold != "" {
		// The rollback kept our hold: drop it on its own.
		if rerr := s.DB.InTx(ctx, func(tx pgx.Tx) error { return storage.ReleaseHold(ctx, tx, ownHold) }); rerr != nil {
			return rerr
		}
	}
	return err
}

// SweptBlobs is the blob store as the sweeper should see it: its Delete
// re-checks, under the blob lock, that no row references the object, so an
// upload of the same bytes committing while the sweeper works keeps them.
func (s *Service) SweptBlobs() blob.Store { return guardedStore{s.Blobs, s} }

type guardedStore struct {
	blob.Store
	s *Service
}

// Delete reports a referenced object as retained: a row keeps it, and the
// sweeper already knows to pass over retained objects.
func (g guardedStore) Delete(ctx context.Context, key string) error {
	err := g.s.deleteUnreferenced(ctx, key, "")
	if errors.Is(err, errReferenced) {
		return fmt.Errorf("delete blob %s: %w: %w", key, blob.ErrRetained, err)
	}
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// IsReferenced tells the sweeper whether a blob is in use; it takes the blob
// lock so it cannot race a commit.
func (s *Service) IsReferenced(ctx context.Context, key string) (bool, error) {
	var ref bool
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if err := storage.LockBlob(ctx, tx, key); err != nil {
			return err
		}
		var err error
		ref, err = storage.BlobReferenced(ctx, tx, key)
		return err
	})
	return ref, err
}

// Create records a new document of p's organisation whose first version is
// f; m comes from CheckMeta. With an idempotency key, a repeated request
// returns the first one's document and created=false.
func (s *Service) Create(ctx context.Context, p Principal, m Meta, f StoredFile, idemKey string) (doc Document, created bool, err error) {
	if err := s.CanCreate(p); err != nil {
		s.Discard(ctx, f)
		return Document{}, false, err
	}
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if err := s.lockBlobForCommit(ctx, tx, f); err != nil {
			return err
		}
		doc, err = storage.InsertDocument(ctx, tx, Document{
			Type: m.Type, Subject: m.Subject, Urgency: m.Urgency, Confidentiality: m.Confidentiality,
			Unit: m.Unit, UnitID: m.UnitID, OrganizationID: p.OrganizationID, CreatedBy: p.ID, SearchText: SearchText(m.Subject, nil),
			Replaces: m.Replaces, Corrects: m.Corrects,
		})
		if err != nil {
			return err
		}
		v, err := storage.InsertVersion(ctx, tx, Version{DocumentID: doc.ID, SHA256: f.Key, Size: f.Size, FileName: f.FileName, Signed: f.Signed, CreatedBy: p.ID})
		if err != nil {
			return err
		}
		if idemKey != "" {
			if err := storage.RecordIdempotencyKey(ctx, tx, p.ID, idemKey, doc.ID); err != nil {
				return err
			}
		}
		doc.Versions = 1
		return audit.Append(ctx, tx, versionEvent(p, "document.create", doc, v, f.Warnings))
	})
	if errors.Is(err, storage.ErrDuplicateKey) {
		// A concurrent request with the same key won the race.
		d, derr := s.Idempotent(ctx, p, idemKey)
		if derr == nil {
			derr = s.SameRequest(ctx, *d, f.Key)
		}
		s.Discard(ctx, f)
		if derr != nil {
			return Document{}, false, derr
		}
		return *d, false, nil
	}
	if err != nil {
		s.Discard(ctx, f)
		return Document{}, false, fmt.Errorf("create document: %w", err)
	}
	return doc, true, nil
}

// lockBlobForCommit makes sure the blob still exists and, for a signed PDF,
// is retained, before a row starts pointing at it, and releases the upload's
// hold in the same transaction.
func (s *Service) lockBlobForCommit(ctx context.Context, tx pgx.Tx, f StoredFile) error {
	if err := storage.LockBlob(ctx, tx, f.Key); err != nil {
		return err
	}
	// The row about to point at the blob takes over from the hold.
	if err := storage.ReleaseHold(ctx, tx, f.hold); err != nil {
		return err
	}
	if _, err := s.Blobs.Stat(ctx, f.Key); err != nil {
		return fmt.Errorf("stored file %s: %w", f.Key, err)
	}
	if f.Signed && s.Retention > 0 {
		if err := s.Blobs.Retain(ctx, f.Key, time.Now().Add(s.Retention)); err != nil {
			return err
		}
	}
	return nil
}

// CommitFile is lockBlobForCommit for another package's transaction that
// makes its own row point at a stored upload (a received document in
// documents/reception, a certification's scan in documents/certify): the
// blob must still exist, a signed one is retained, and the upload's hold
// passes to the row.
func (s *Service) CommitFile(ctx context.Context, tx pgx.Tx, f StoredFile) error {
	return s.lockBlobForCommit(ctx, tx, f)
}

// Idempotent returns the document an earlier request by p with this key
// created, or nil.
func (s *Service) Idempotent(ctx context.Context, p Principal, key string) (*Document, error) {
	if key == "" {
		return nil, nil
	}
	if len(key) > 200 {
		return nil, inputError(ErrInvalidField, "Idempotency-Key is longer than 200 characters")
	}
	if err := checkText("Idempotency-Key", key); err != nil {
		return nil, err
	}
	id, err := storage.IdempotentDocument(ctx, s.DB.Pool, p.ID, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d, err := s.visible(ctx, s.DB.Pool, p, id)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// SameRequest checks that a request replayed under an idempotency key sends
// the file (by its SHA-256) the first request made d from: a key reused for
// another file is refused (ErrIdempotencyUsed), never answered with the
// first document as if it were this one.
func (s *Service) SameRequest(ctx context.Context, d Document, sha256 string) error {
	v, err := storage.GetVersion(ctx, s.DB.Pool, d.ID, 1)
	if err != nil {
		return fmt.Errorf("idempotency key: %w", err)
	}
	if v.SHA256 != sha256 {
		return refusal.Because(rUploadReplayed, inputError(ErrIdempotencyUsed, "this Idempotency-Key was used for another file; send a new key for a new document"))
	}
	return nil
}

// AddVersion records f as the next version of a document p may change.
func (s *Service) AddVersion(ctx context.Context, p Principal, documentID string, f StoredFile) (Version, error) {
	var v Version
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		// Decided before the lock, so no one locks what they may not change.
		d, err := s.changeable(ctx, tx, p, documentID)
		if err != nil {
			return err
		}
		if err := storage.LockDocument(ctx, tx, documentID); err != nil {
			return err
		}
		guard, err := storage.VersionGuardOf(ctx, tx, documentID)
		if err != nil {
			return err
		}
		if err := checkNewVersion(guard, f.Signed, time.Now()); err != nil {
			return err
		}
		if err := s.lockBlobForCommit(ctx, tx, f); err != nil {
			return err
		}
		v, err = storage.InsertVersion(ctx, tx, Version{DocumentID: documentID, SHA256: f.Key, Size: f.Size, FileName: f.FileName, Signed: f.Signed, CreatedBy: p.ID})
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, versionEvent(p, "document.version", d, v, f.Warnings))
	})
	if err != nil {
		s.Discard(ctx, f)
		if errors.Is(err, storage.ErrNotFound) {
			return Version{}, ErrNotFound
		}
		var in *InputError
		if errors.As(err, &in) {
			return Version{}, err
		}
		return Version{}, fmt.Errorf("add version: %w", err)
	}
	return v, nil
}

func versionEvent(p Principal, action string, d Document, v Version, warnings []string) audit.Event {
	details := map[string]any{"version": v.Number, "sha256": v.SHA256, "size": v.Size, "file_name": v.FileName, "signed": v.Signed}
	if len(warnings) > 0 {
		details["warnings"] = warnings
	}
	e := p.Event(action, "document:"+d.ID, details)
	e.OrgID = d.OrganizationID
	return e
}

// Get returns one document p may see.
func (s *Service) Get(ctx context.Context, p Principal, id string) (Document, error) {
	d, err := s.visible(ctx, s.DB.Pool, p, id)
	if err != nil {
		return d, err
	}
	return d, s.recordRead(ctx, p, d, "metadata", 0)
}

// Versions lists the versions of a document p may see.
func (s *Service) Versions(ctx context.Context, p Principal, id string) ([]Version, error) {
	d, err := s.visible(ctx, s.DB.Pool, p, id)
	if err != nil {
		return nil, err
	}
	if err := s.recordRead(ctx, p, d, "versions", 0); err != nil {
		return nil, err
	}
	return storage.Versions(ctx, s.DB.Pool, id)
}

// Version returns version n of a document p may see, for reading its
// bytes (a download, a verification).
func (s *Service) Version(ctx context.Context, p Principal, id string, n int) (Version, error) {
	_, v, err := s.DocumentVersion(ctx, p, id, n)
	return v, err
}

// DocumentVersion is Version with the document it belongs to (whose
// confidentiality decides, for one, how a download may be cached).
func (s *Service) DocumentVersion(ctx context.Context, p Principal, id string, n int) (Document, Version, error) {
	d, err := s.visible(ctx, s.DB.Pool, p, id)
	if err != nil {
		return d, Version{}, err
	}
	v, err := storage.GetVersion(ctx, s.DB.Pool, id, n)
	if errors.Is(err, storage.ErrNotFound) {
		return d, v, ErrNotFound
	}
	if err != nil {
		return d, v, err
	}
	return d, v, s.recordRead(ctx, p, d, "file", n)
}

// Confidential reports whether d is classified (mật, tối mật, tuyệt mật):
// reads of it are audited and its bytes are never kept in caches.
func Confidential(d Document) bool {
	return d.Confidentiality != "" && d.Confidentiality != "thuong"
}

// Filter is a listing request as the API receives it.
type Filter struct {
	Type, Status, Unit, Query string
	From, To                  *time.Time
	Limit                     int
	Cursor                    string
}

// List returns one page of the documents p may see and the cursor of the
// next page ("" at the end).
func (s *Service) List(ctx context.Context, p Principal, f Filter) ([]Document, string, error) {
	// Someone of no organisation may list, and finds nothing.
	if err := accounts.Authorize(p, accounts.DocumentRead, accounts.Target{}); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, "", err
	}
	if err := checkFilter(f); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	sf := storage.DocumentFilter{Viewer: p.Viewer(), Type: norm.NFC.String(f.Type), Status: f.Status, Unit: norm.NFC.String(f.Unit), From: f.From, To: f.To, Limit: limit + 1}
	if q := Fold(f.Query); q != "" {
		sf.Words = strings.Fields(q)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		sf.After = &c
	}
	docs, err := storage.ListDocuments(ctx, s.DB.Pool, sf)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		last := docs[len(docs)-1]
		next = encodeCursor(storage.Cursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	if err := s.recordReads(ctx, p, docs, "listing", 0); err != nil {
		return nil, "", err
	}
	return docs, next, nil
}

func encodeCursor(c storage.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

func decodeCursor(s string) (storage.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return storage.Cursor{}, inputError(ErrInvalidCursor, "cursor is not one this service returned")
	}
	ts, id, ok := strings.Cut(string(b), "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || !storage.IsUUID(id) {
		return storage.Cursor{}, inputError(ErrInvalidCursor, "cursor is not one this service returned")
	}
	return storage.Cursor{CreatedAt: t, ID: id}, nil
}

// Open reads a version's bytes from offset for length bytes (-1: to the end).
func (s *Service) Open(ctx context.Context, v Version, offset, length int64) (io.ReadCloser, error) {
	return s.Blobs.Open(ctx, v.SHA256, offset, length)
}

// signatureSpotter notes whether "/ByteRange" passes through the stream: a
// signed PDF, whose bytes must be retained once stored.
type signatureSpotter struct {
	r     io.Reader
	carry []byte // the last len(byteRange)-1 bytes seen, for matches across reads
	found bool
}

var byteRange = []byte("/ByteRange")

func (s *signatureSpotter) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 && !s.found {
		chunk, k := p[:n], len(byteRange)-1
		joined := append(s.carry, chunk[:min(n, k)]...)
		s.found = bytes.Contains(joined, byteRange) || bytes.Contains(chunk, byteRange)
		if n >= k {
			s.carry = append(s.carry[:0], chunk[n-k:]...)
		} else {
			s.carry = append([]byte(nil), joined[max(0, len(joined)-k):]...)
		}
	}
	return n, err
}
