package web

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
)

// fieldLimit bounds a text field of a multipart upload.
const fieldLimit = 8 << 10

// multipartOverhead is what a multipart body may carry besides the file.
const multipartOverhead = 1 << 20

// readUpload reads a document upload: its text fields into meta, its file
// straight into the blob store. The file is refused before it is read when
// the fields sent ahead of it are already wrong.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, wantMeta bool) (documents.Meta, documents.StoredFile, error) {
	ctx := r.Context()
	p := principalFrom(ctx)
	var stored documents.StoredFile
	meta, err := s.readMultipart(w, r, func(m *documents.Meta, seen map[string]bool) (err error) {
		if wantMeta && seen["type"] && seen["subject"] {
			*m, err = s.Docs.CheckMeta(ctx, p, *m)
		}
		return err
	}, func(part *multipart.Part) (err error) {
		stored, err = s.Docs.StoreFile(ctx, part, part.FileName())
		return err
	})
	if err == nil && wantMeta {
		meta, err = s.Docs.CheckMeta(ctx, p, meta)
	}
	if err != nil {
		s.Docs.Discard(ctx, stored)
		return meta, documents.StoredFile{}, err
	}
	return meta, stored, nil
}

// readMultipart walks a multipart/form-data body part by part: the text
// fields of a document into its Meta, the one part named file to file.
// beforeFile sees the fields sent ahead of the file, so a request can be
// refused before its file is read.
func (s *Server) readMultipart(w http.ResponseWriter, r *http.Request, beforeFile func(*documents.Meta, map[string]bool) error, file func(*multipart.Part) error) (documents.Meta, error) {
	var meta documents.Meta
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return meta, &documents.InputError{Kind: documents.ErrMissingFile, Detail: "send the document as multipart/form-data with a part named file"}
	}
	// The multipart reader pulls a few KB at a time; a large buffer keeps
	// network reads few.
	body := bufio.NewReaderSize(http.MaxBytesReader(w, r.Body, s.Docs.MaxUpload+multipartOverhead), 1<<20)
	mr := multipart.NewReader(body, params["boundary"])
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if err = bodyError(err, s.Docs.MaxUpload); !errors.Is(err, documents.ErrTooLarge) && !errors.Is(err, documents.ErrMalformedBody) && !errors.Is(err, errBodyTooSlow) {
				// Whatever NextPart refuses is the client's multipart.
				err = &documents.InputError{Kind: documents.ErrMalformedBody, Detail: "the multipart body is malformed: " + err.Error()}
			}
			return meta, err
		}
		name := part.FormName()
		switch name {
		case "file":
			if seen[name] {
				return meta, &documents.InputError{Kind: documents.ErrInvalidField, Detail: "more than one file part; send one file per request"}
			}
			seen[name] = true
			if err := beforeFile(&meta, seen); err != nil {
				return meta, err
			}
			if err := file(part); err != nil {
				return meta, bodyError(err, s.Docs.MaxUpload)
			}
		case "type", "subject", "urgency", "confidentiality", "unit", "replaces", "corrects":
			b, err := io.ReadAll(io.LimitReader(part, fieldLimit+1))
			if err != nil {
				return meta, bodyError(err, s.Docs.MaxUpload)
			}
			if len(b) > fieldLimit {
				return meta, &documents.InputError{Kind: documents.ErrInvalidField, Detail: name + " is too long"}
			}
			seen[name] = true
			v := string(b)
			switch name {
			case "type":
				meta.Type = v
			case "subject":
				meta.Subject = v
			case "urgency":
				meta.Urgency = v
			case "confidentiality":
				meta.Confidentiality = v
			case "unit":
				meta.Unit = v
			case "replaces":
				meta.Replaces = v
			case "corrects":
				meta.Corrects = v
			}
		default:
			if _, err := io.Copy(io.Discard, io.LimitReader(part, fieldLimit)); err != nil {
				return meta, bodyError(err, s.Docs.MaxUpload)
			}
		}
	}
	if !seen["file"] {
		return meta, &documents.InputError{Kind: documents.ErrMissingFile, Detail: "the upload has no part named file"}
	}
	return meta, nil
}

// bodyError turns a body-size overflow into the too-large problem and a body
// that ends mid-part into the malformed-body problem; other errors (the blob
// store failing) stay server errors.
func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &documents.InputError{Kind: documents.ErrTooLarge, Detail: fmt.Sprintf("the upload is larger than the limit of %d bytes", limit)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &documents.InputError{Kind: documents.ErrMalformedBody, Detail: "the body ended before the multipart upload was complete"}
	}
	return err
}

func (s *Server) createDocument(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	// Refused before a byte of the file is read.
	if err := s.Docs.CanCreate(p); err != nil {
		writeError(w, r, err)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if d, err := s.replayedUpload(w, r, p, key); err != nil || d != nil {
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeCreated(w, *d)
		return
	}
	meta, stored, err := s.readUpload(w, r, true)
	if err != nil {
		writeError(w, r, err)
		return
	}
	doc, _, err := s.Docs.Create(r.Context(), p, meta, stored, key)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeCreated(w, doc)
}

// replayedUpload is the document an earlier upload with key made (nil:
// none, or no key), once the replay's file is found to be the same
// (sameUpload).
func (s *Server) replayedUpload(w http.ResponseWriter, r *http.Request, p accounts.Principal, key string) (*documents.Document, error) {
	d, err := s.Docs.Idempotent(r.Context(), p, key)
	if err == nil && d != nil {
		err = s.sameUpload(w, r, *d)
	}
	return d, err
}

// sameUpload reads a replayed upload's file only to hash it, and checks it
// is the file the first request made d from: the replay is answered with d
// only then.
func (s *Server) sameUpload(w http.ResponseWriter, r *http.Request, d documents.Document) error {
	h := sha256.New()
	_, err := s.readMultipart(w, r, func(*documents.Meta, map[string]bool) error { return nil }, func(part *multipart.Part) error {
		_, err := io.Copy(h, part)
		return err
	})
	if err != nil {
		return err
	}
	return s.Docs.SameRequest(r.Context(), d, hex.EncodeToString(h.Sum(nil)))
}

// writeCreated answers a creation, and its idempotent replay, the same way.
func writeCreated(w http.ResponseWriter, d documents.Document) {
	w.Header().Set("Location", "/api/v1/documents/"+d.ID)
	writeJSON(w, http.StatusCreated, d)
}

func (s *Server) addVersion(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	p := principalFrom(r.Context())
	// A document the caller may not change is refused before the file is read.
	if _, err := s.Docs.Changeable(r.Context(), p, id); err != nil {
		writeError(w, r, err)
		return
	}
	_, stored, err := s.readUpload(w, r, false)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v, err := s.Docs.AddVersion(r.Context(), p, id, stored)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/documents/%s/versions/%d", id, v.Number))
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := documents.Filter{Type: q.Get("type"), Status: q.Get("status"), Unit: q.Get("unit"), Query: q.Get("q"), Cursor: q.Get("cursor")}
	var err error
	if f.From, err = parseDate(q.Get("from"), false); err == nil {
		f.To, err = parseDate(q.Get("to"), true)
	}
	if err == nil && q.Get("limit") != "" {
		if f.Limit, err = strconv.Atoi(q.Get("limit")); err != nil || f.Limit < 1 || f.Limit > 200 {
			err = &documents.InputError{Kind: documents.ErrInvalidField, Detail: "limit must be a number from 1 to 200"}
		}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	docs, next, err := s.Docs.List(r.Context(), principalFrom(r.Context()), f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": docs, "next_cursor": next})
}

// parseDate reads a date (YYYY-MM-DD, Vietnam time) or an RFC 3339 time; an
// end date includes its whole day.
func parseDate(s string, end bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, vietnam)
	if err != nil {
		return nil, &documents.InputError{Kind: documents.ErrInvalidField, Detail: fmt.Sprintf("date %q: use YYYY-MM-DD or RFC 3339", s)}
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return &t, nil
}

var vietnam = time.FixedZone("ICT", 7*3600)

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) {
	d, err := s.Docs.Get(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.Docs.Versions(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

// versionOf finds the version a route's {id} and {n} name, if the caller
// may see its document: the one lookup behind every read of a version's
// bytes (download, verification).
func (s *Server) versionOf(r *http.Request) (documents.Version, error) {
	n, err := versionParam(r)
	if err != nil {
		return documents.Version{}, err
	}
	return s.Docs.Version(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), n)
}

// versionParam reads the route's version number. Version numbers are
// PostgreSQL integers: a larger one, like a malformed one, names nothing.
func versionParam(r *http.Request) (int, error) {
	n, err := strconv.ParseInt(chi.URLParam(r, "n"), 10, 32)
	if err != nil || n < 1 {
		return 0, documents.ErrNotFound
	}
	return int(n), nil
}

// downloadVersion serves a version's bytes (GET and HEAD, with ranges).
// They are the caller's to keep, never a shared cache's (private), and a
// confidential document's are not kept by any cache at all (no-store); a
// browser never guesses another type than PDF (nosniff).
func (s *Server) downloadVersion(w http.ResponseWriter, r *http.Request) {
	n, err := versionParam(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	d, v, err := s.Docs.DocumentVersion(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), n)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", `"`+v.SHA256+`"`)
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", contentDisposition(v.FileName))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if documents.Confidential(d) {
		w.Header().Set("Cache-Control", "private, no-store")
	} else {
		w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	}
	rs := &blobSeeker{ctx: r.Context(), size: v.Size, open: func(ctx context.Context, off int64) (io.ReadCloser, error) {
		return s.Docs.Open(ctx, v, off, -1)
	}}
	defer rs.Close()
	http.ServeContent(&serveContentProblems{ResponseWriter: w, r: r}, r, "", v.CreatedAt, rs)
}

// serveContentProblems turns the plain-text errors of http.ServeContent (a
// Range no byte of the file satisfies: 416) into problems like every other
// answer of the API, with a detail of ours rather than the standard
// library's text.
type serveContentProblems struct {
	http.ResponseWriter
	r       *http.Request
	refused bool
}

func (p *serveContentProblems) WriteHeader(status int) {
	if status < http.StatusBadRequest {
		p.ResponseWriter.WriteHeader(status)
		return
	}
	p.refused = true
	h := p.Header()
	for _, k := range []string{"Content-Disposition", "ETag", "Content-Length", "X-Content-Type-Options"} {
		h.Del(k)
	}
	switch status {
	case http.StatusRequestedRangeNotSatisfiable:
		writeProblem(p.ResponseWriter, p.r, status, "range-not-satisfiable", "Range not satisfiable", "")
	case http.StatusPreconditionFailed:
		writeProblem(p.ResponseWriter, p.r, status, "precondition-failed", "Precondition failed", "the file's ETag does not match If-Match")
	default:
		slog.Error("serving a version failed", "path", p.r.URL.Path, "status", status)
		writeProblem(p.ResponseWriter, p.r, status, "internal", "Internal error", "")
	}
}

func (p *serveContentProblems) Write(b []byte) (int, error) {
	if p.refused {
		return len(b), nil // the standard library's text; the problem is written
	}
	return p.ResponseWriter.Write(b)
}

func (p *serveContentProblems) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// blobSeeker gives http.ServeContent the seekable view it needs for ranges,
// opening the blob at the wanted offset only when it is read.
type blobSeeker struct {
	ctx  context.Context
	open func(ctx context.Context, off int64) (io.ReadCloser, error)
	size int64
	off  int64
	rc   io.ReadCloser
}

func (b *blobSeeker) Read(p []byte) (int, error) {
	if b.off >= b.size {
		return 0, io.EOF
	}
	if b.rc == nil {
		rc, err := b.open(b.ctx, b.off)
		if err != nil {
			return 0, err
		}
		b.rc = rc
	}
	n, err := b.rc.Read(p)
	b.off += int64(n)
	return n, err
}

func (b *blobSeeker) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = b.off + offset
	case io.SeekEnd:
		abs = b.size + offset
	}
	if abs < 0 {
		return 0, errors.New("seek before start")
	}
	if abs != b.off {
		b.Close()
		b.off = abs
	}
	return abs, nil
}

func (b *blobSeeker) Close() error {
	if b.rc == nil {
		return nil
	}
	err := b.rc.Close()
	b.rc = nil
	return err
}

// contentDisposition names the download: an ASCII filename without diacritics
// for old clients, and the exact Vietnamese name as RFC 5987 filename* for
// the rest (RFC 6266 says filename* wins when both are present).
func contentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\' || r < 0x20 || r >= 0x7f:
			return '_'
		}
		return r
	}, documents.Fold(name))
	v := "attachment; filename=\"" + ascii + "\""
	if ascii != name {
		v += "; filename*=UTF-8''" + rfc5987(name)
	}
	return v
}

// rfc5987 percent-encodes everything but RFC 5987's attr-char.
func rfc5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("!#$&+-.^_`|~", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
