package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/metrics"
	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage/blob"
)

// Verification holds the PDFs being verified in memory up to these sizes
// (all of them together, one of them) and in temporary files beyond.
const (
	verifyMemoryTotal  = 64 << 20
	verifyMemoryPerPDF = 32 << 20
)

// VerifyTempPattern names the temporary files of PDFs being verified (in
// Server.TempDir), so a restart can remove what a killed process left.
const VerifyTempPattern = "vanthu-verify-*"

func (s *Server) verifyRoutes(r chi.Router) {
	// Refused before a byte of the upload is read.
	r.With(require(accounts.Verify)).Post("/verify", s.verifyUpload)
	r.With(require(accounts.Verify)).Get("/documents/{id}/versions/{n}/verification", s.verifyVersion)
}

// verifyQuery is what a verification request asks for, from its query
// string: the report's format and language, the validation time, whether
// to stay offline, and (uploads only) whether to keep the file as a new
// document.
type verifyQuery struct {
	opts   verify.Options
	format string
	lang   verify.Lang
	store  bool
}

func (s *Server) parseVerifyQuery(r *http.Request) (verifyQuery, error) {
	q := r.URL.Query()
	vq := verifyQuery{opts: s.Verify, format: "json", lang: verify.Vietnamese}
	bad := func(detail string) (verifyQuery, error) {
		return vq, &documents.InputError{Kind: documents.ErrInvalidField, Detail: detail}
	}
	switch f := q.Get("format"); f {
	case "", "json":
	case "text", "pdf":
		vq.format = f
	default:
		return bad(fmt.Sprintf("format must be json, text or pdf, not %q", f))
	}
	switch l := q.Get("lang"); l {
	case "", "vi":
	case "en":
		vq.lang = verify.English
	default:
		return bad(fmt.Sprintf("lang must be vi or en, not %q", l))
	}
	if at := q.Get("at"); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return bad(fmt.Sprintf("at must be an RFC 3339 time such as 2026-01-31T09:00:00+07:00, not %q", at))
		}
		vq.opts.At = t
	}
	for name, dst := range map[string]*bool{"offline": &vq.opts.Offline, "store": &vq.store} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return bad(fmt.Sprintf("%s must be true or false, not %q", name, v))
		}
		// A deployment that verifies offline stays offline.
		*dst = *dst || b
	}
	return vq, nil
}

// verifyUpload validates an uploaded PDF and answers with its report. The
// file is kept only when asked (store=true), as a new document of the
// caller's organisation with the same fields as POST /documents.
func (s *Server) verifyUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := principalFrom(ctx)
	vq, err := s.parseVerifyQuery(r)
	if err == nil && vq.store {
		err = s.Docs.CanCreate(p)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	// A stored upload may be retried under an Idempotency-Key like POST
	// /documents: the replay verifies the document the first one made.
	key := ""
	if vq.store {
		key = r.Header.Get("Idempotency-Key")
		if doc, err := s.Docs.Idempotent(ctx, p, key); err != nil || doc != nil {
			if err == nil {
				err = s.sameUpload(w, r, *doc)
			}
			if err == nil {
				err = s.replayVerify(w, r, vq, doc)
			}
			if err != nil {
				writeError(w, r, err)
			}
			return
		}
	}
	var buf *blob.Buffered
	var fileName string
	meta, err := s.readMultipart(w, r, func(m *documents.Meta, seen map[string]bool) (err error) {
		if vq.store && seen["type"] && seen["subject"] {
			*m, err = s.Docs.CheckMeta(ctx, p, *m)
		}
		return err
	}, func(part *multipart.Part) (err error) {
		fileName = documents.CleanFileName(part.FileName())
		buf, err = s.buffer(ctx, part, s.Docs.MaxUpload)
		if errors.Is(err, blob.ErrTooLarge) {
			return &documents.InputError{Kind: documents.ErrTooLarge, Detail: fmt.Sprintf("the file is larger than the limit of %d bytes", s.Docs.MaxUpload)}
		}
		return err
	})
	if buf != nil {
		defer buf.Close()
	}
	if err == nil && vq.store {
		meta, err = s.Docs.CheckMeta(ctx, p, meta)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	// A file to keep is stored first, so one the document rules refuse
	// (encrypted, damaged) is refused before any verification work.
	var stored documents.StoredFile
	if vq.store {
		if stored, err = s.Docs.StoreFile(ctx, io.NewSectionReader(buf, 0, buf.Size), fileName); err != nil {
			writeError(w, r, err)
			return
		}
	}
	rep, err := s.runVerify(ctx, buf, vq.opts)
	if err != nil {
		s.Docs.Discard(ctx, stored)
		writeError(w, r, err)
		return
	}
	rep.File = fileName
	if !vq.store {
		writeReport(w, r, http.StatusOK, rep, vq, nil)
		return
	}
	doc, created, err := s.Docs.Create(ctx, p, meta, stored, key)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !created {
		// A concurrent request with the same key made the document first.
		if err := s.replayVerify(w, r, vq, &doc); err != nil {
			writeError(w, r, err)
		}
		return
	}
	w.Header().Set("Location", "/api/v1/documents/"+doc.ID)
	writeReport(w, r, http.StatusCreated, rep, vq, &doc)
}

// replayVerify answers a repeated store request with the report of the
// document the first one created, as that one was answered.
func (s *Server) replayVerify(w http.ResponseWriter, r *http.Request, vq verifyQuery, doc *documents.Document) error {
	v, err := s.Docs.Version(r.Context(), principalFrom(r.Context()), doc.ID, 1)
	if err != nil {
		return err
	}
	rep, err := s.verifyStored(r.Context(), v, vq.opts)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/documents/"+doc.ID)
	writeReport(w, r, http.StatusCreated, rep, vq, doc)
	return nil
}

// verifyVersion validates a stored version as it is now: the answer may
// change with time as certificates expire or are revoked.
func (s *Server) verifyVersion(w http.ResponseWriter, r *http.Request) {
	vq, err := s.parseVerifyQuery(r)
	if err == nil && vq.store {
		err = &documents.InputError{Kind: documents.ErrInvalidField, Detail: "store applies to uploads only; this version is stored already"}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	v, err := s.versionOf(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rep, err := s.verifyStored(r.Context(), v, vq.opts)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeReport(w, r, http.StatusOK, rep, vq, nil)
}

// verifyStored validates a stored version, after checking that its bytes
// still hash to their key: a changed object is a server fault, never a
// report.
func (s *Server) verifyStored(ctx context.Context, v documents.Version, opts verify.Options) (*verify.Report, error) {
	rc, err := s.Docs.Open(ctx, v, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("open version %d of %s: %w", v.Number, v.DocumentID, err)
	}
	buf, err := s.buffer(ctx, rc, v.Size)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("read version %d of %s: %w", v.Number, v.DocumentID, err)
	}
	defer buf.Close()
	if buf.Key != v.SHA256 {
		return nil, fmt.Errorf("version %d of %s: the stored bytes hash to %s, not to their key", v.Number, v.DocumentID, buf.Key)
	}
	rep, err := s.runVerify(ctx, buf, opts)
	if err != nil {
		return nil, err
	}
	rep.File = v.FileName
	return rep, nil
}

// buffer holds a PDF to verify where the verifier can read it at random:
// in memory while the budget allows, else in a temporary file.
func (s *Server) buffer(ctx context.Context, r io.Reader, max int64) (*blob.Buffered, error) {
	buf, err := blob.Buffer(ctx, r, blob.BufferOptions{
		PutOptions: blob.PutOptions{Max: max, Check: documents.CheckHead},
		Memory:     s.verifyMemory,
		Dir:        s.TempDir,
		Pattern:    VerifyTempPattern,
	})
	return buf, err
}

// DefaultVerifyBudgetTotal is the decoded stream data all verifications
// of the service hold at once, when the deployment does not say.
const DefaultVerifyBudgetTotal = 4 * pdf.DefaultBudget

// shareVerifyBudget makes every verification slot draw its decoding budget
// from one process-wide budget, so concurrent decompression bombs cost the
// service that much memory and no more.
func (s *Server) shareVerifyBudget() {
	if s.Verify.SharedBudget == nil {
		s.Verify.SharedBudget = pdf.NewBudget(DefaultVerifyBudgetTotal)
	}
}

// runVerify validates on one of a bounded number of slots: verification is
// CPU work, and a burst of requests should queue rather than thrash.
func (s *Server) runVerify(ctx context.Context, buf *blob.Buffered, opts verify.Options) (*verify.Report, error) {
	select {
	case s.verifySlots <- struct{}{}:
		defer func() { <-s.verifySlots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	start := time.Now()
	rep, err := verify.Verify(ctx, buf, buf.Size, opts)
	if err != nil {
		metrics.ObserveVerification("error", time.Since(start))
		return nil, fmt.Errorf("verify: %w", err)
	}
	metrics.ObserveVerification(string(rep.Verdict), time.Since(start))
	return rep, nil
}

// writeReport answers with the report in the format asked for. A report
// depends on the time it was made, so no one may cache it.
func writeReport(w http.ResponseWriter, r *http.Request, status int, rep *verify.Report, vq verifyQuery, doc *documents.Document) {
	var body bytes.Buffer
	var err error
	switch vq.format {
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		err = verify.WriteText(&body, rep, vq.lang)
	case "pdf":
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", contentDisposition("verification-"+rep.SHA256[:12]+".pdf"))
		err = verify.WritePDF(&body, []*verify.Report{rep}, vq.lang, time.Now())
	default:
		w.Header().Set("Content-Type", "application/json")
		// The same object as `vanthu verify --format json`, plus the
		// document the upload became, if it was stored.
		err = json.NewEncoder(&body).Encode(struct {
			*verify.Report
			Document *documents.Document `json:"document,omitempty"`
		}{rep, doc})
	}
	if err != nil {
		w.Header().Del("Content-Disposition")
		writeError(w, r, fmt.Errorf("render report: %w", err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body.Bytes())
}
