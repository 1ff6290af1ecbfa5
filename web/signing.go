package web

import (
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/metrics"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
)

// SigningConfig is how the service makes signatures: the timestamp
// authority of B-T and up, and the LTV extender of B-LT and B-LTA (nil
// refuses those levels).
type SigningConfig struct {
	TSAURL     string
	HTTPClient *http.Client
	Extender   signing.Extender
	// TempDir holds files being signed ("" is the system's).
	TempDir string
}

func (s *Server) signer() *docsign.Service {
	turns := s.Turns
	if turns == nil && s.Chain != nil {
		turns = s.Chain
	}
	return &docsign.Service{DB: s.DB, Docs: s.Docs, Accounts: s.Accounts, Turns: turns,
		TSAURL: s.Signing.TSAURL, HTTPClient: s.Signing.HTTPClient, Extender: s.Signing.Extender, TempDir: s.Signing.TempDir}
}

func (s *Server) signingRoutes(r chi.Router) {
	r.Post("/documents/{id}/sign", s.signDocument)
	r.Post("/documents/{id}/sign/prepare", s.prepareSignature)
	r.Post("/documents/{id}/sign/complete", s.completeSignature)
	r.Put("/users/{id}/signature-image", s.putSignatureImage)
}

// signRequest is the body of sign and sign/prepare; all fields optional.
// rect is [x1, y1, x2, y2] in PDF points on page (default 1).
type signRequest struct {
	Level string    `json:"level"`
	Page  int       `json:"page"`
	Rect  []float64 `json:"rect"`
	KeyID string    `json:"key_id"`
}

func (s *Server) readSignRequest(w http.ResponseWriter, r *http.Request) (docsign.Request, error) {
	var req signRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			return docsign.Request{}, err
		}
	}
	out := docsign.Request{Level: req.Level, Page: req.Page, KeyID: req.KeyID}
	if req.Page < 0 || req.Page > 100000 {
		return out, signInput("page must be a page number from 1")
	}
	if req.Rect != nil {
		if len(req.Rect) != 4 {
			return out, signInput("rect must be [x1, y1, x2, y2] in points")
		}
		for _, v := range req.Rect {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e5 {
				return out, signInput("rect must hold four finite coordinates in points")
			}
		}
		rc := appearance.Rect{X1: req.Rect[0], Y1: req.Rect[1], X2: req.Rect[2], Y2: req.Rect[3]}.Canon()
		if rc.W() < 10 || rc.H() < 10 {
			return out, signInput("rect is smaller than 10×10 points")
		}
		out.Rect = &rc
	}
	return out, nil
}

type signInputError struct{ msg string }

func (e *signInputError) Error() string { return e.msg }

func signInput(msg string) error { return &signInputError{msg} }

func (s *Server) signDocument(w http.ResponseWriter, r *http.Request) {
	req, err := s.readSignRequest(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	start := time.Now()
	v, err := s.signer().Sign(r.Context(), principalFrom(r.Context()), id, req)
	observeSigning(start, err)
	if err != nil {
		s.signError(w, r, err)
		return
	}
	created(w, fmt.Sprintf("/api/v1/documents/%s/versions/%d/file", id, v.Number), v)
}

func (s *Server) prepareSignature(w http.ResponseWriter, r *http.Request) {
	req, err := s.readSignRequest(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.signer().Prepare(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

// completeRequest carries the signature value or the CMS, base64.
type completeRequest struct {
	SessionID string `json:"session_id"`
	Signature []byte `json:"signature"`
	CMS       []byte `json:"cms"`
}

func (s *Server) completeSignature(w http.ResponseWriter, r *http.Request) {
	var req completeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	start := time.Now()
	v, err := s.signer().Complete(r.Context(), principalFrom(r.Context()), id, docsign.Completion{SessionID: req.SessionID, Signature: req.Signature, CMS: req.CMS,
		IdempotencyKey: r.Header.Get("Idempotency-Key")})
	observeSigning(start, err)
	if err != nil {
		s.signError(w, r, err)
		return
	}
	created(w, fmt.Sprintf("/api/v1/documents/%s/versions/%d/file", id, v.Number), v)
}

// observeSigning counts a signature the service made, or failed to make.
func observeSigning(start time.Time, err error) {
	outcome := "signed"
	if err != nil {
		outcome = "error"
	}
	metrics.ObserveSigning(outcome, time.Since(start))
}

func (s *Server) putSignatureImage(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "image/png" {
		writeProblem(w, r, http.StatusUnsupportedMediaType, "not-png", "The signature image must be image/png", "send the PNG as the body with Content-Type: image/png")
		return
	}
	body := http.MaxBytesReader(w, r.Body, docsign.MaxImageBytes+1)
	si, err := s.signer().PutSignatureImage(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = fmt.Errorf("%w: more than %d bytes", docsign.ErrImageTooLarge, docsign.MaxImageBytes)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, si)
}

// signingProblems maps the refusals of signing to HTTP; the detail is the
// refusal's reason.
var signingProblems = []struct {
	kind   error
	status int
	slug   string
	title  string
}{
	{docsign.ErrNoChain, http.StatusConflict, "no-approval-chain", "No approval chain"},
	{docsign.ErrNotYourTurn, http.StatusConflict, "not-your-turn", "Not your turn to sign"},
	{docsign.ErrNoKey, http.StatusConflict, "no-signing-key", "No usable signing key"},
	{signing.ErrLocked, http.StatusConflict, "document-locked", "The document is locked by its signatures"},
	{docsign.ErrPlace, http.StatusUnprocessableEntity, "signature-place", "Give a page and a rectangle for the signature"},
	{docsign.ErrNoImage, http.StatusConflict, "no-signature-image", "No handwritten-signature image"},
	{docsign.ErrStale, http.StatusConflict, "prepared-signature-stale", "The prepared signature is out of date"},
	{docsign.ErrSessionExpired, http.StatusGone, "sign-session-expired", "The signing session has expired"},
	{docsign.ErrSessionUsed, http.StatusConflict, "sign-session-used", "The signing session was already completed"},
	{docsign.ErrRejected, http.StatusUnprocessableEntity, "signature-rejected", "The signature is not the one prepared"},
	{docsign.ErrUnavailable, http.StatusServiceUnavailable, "signing-unavailable", "Signing is unavailable"},
	{docsign.ErrImageTooLarge, http.StatusRequestEntityTooLarge, "too-large", "The signature image is too large"},
	{docsign.ErrBadImage, http.StatusUnprocessableEntity, "bad-signature-image", "Not a usable signature image"},
}

// signingProblem answers the refusals of signing; it reports whether err
// was one of them.
func signingProblem(w http.ResponseWriter, r *http.Request, err error) bool {
	var in *signInputError
	if errors.As(err, &in) {
		writeProblem(w, r, http.StatusUnprocessableEntity, "invalid-input", "A field is missing or invalid", in.msg)
		return true
	}
	for _, k := range signingProblems {
		if errors.Is(err, k.kind) {
			if k.status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", strconv.Itoa(30))
			}
			writeProblem(w, r, k.status, k.slug, k.title, err.Error())
			return true
		}
	}
	return false
}
