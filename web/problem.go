package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/refusal"
)

// problem is an RFC 9457 problem details object.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Reason is an extension member: the stable name of a refusal the
	// caller can correct (package refusal), so that clients word it in
	// their reader's language; Detail stays the English explanation.
	Reason string `json:"reason,omitempty"`
}

// reasonKey carries the reason of the error being answered to
// writeProblem, whichever of the problem mappers writes the answer.
type reasonKey struct{}

// withReason is r carrying err's reason, if it names one; each error
// answerer (writeError, chainError, ...) calls it first.
func withReason(r *http.Request, err error) *http.Request {
	if reason, _ := refusal.Of(err); reason != (refusal.Reason{}) {
		return r.WithContext(context.WithValue(r.Context(), reasonKey{}, reason.String()))
	}
	return r
}

// reasonOf is the reason withReason put on r, "" for none.
func reasonOf(r *http.Request) string {
	reason, _ := r.Context().Value(reasonKey{}).(string)
	return reason
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, slug, title, detail string) {
	if detail == "" {
		detail = defaultDetail(status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	reason := ""
	if status < http.StatusInternalServerError { // else nothing the caller corrects
		reason = reasonOf(r)
	}
	_ = json.NewEncoder(w).Encode(problem{Type: "/problems/" + slug, Title: title, Status: status, Detail: detail, Instance: r.URL.Path, Reason: reason})
}

// defaultDetail is the detail of a problem whose writer had nothing more
// to say: every problem tells the client what to do next, and a 404 says
// the same whether the thing is missing or hidden, so existence does not
// leak.
func defaultDetail(status int) string {
	switch status {
	case http.StatusNotFound:
		return "there is no such resource, or it is not visible to you; check the address and its identifiers"
	case http.StatusBadRequest:
		return "the request is malformed; check its body, parameters and headers"
	case http.StatusUnauthorized:
		return "log in or send an API token"
	case http.StatusForbidden:
		return "your roles or your token's scopes do not allow this"
	case http.StatusConflict:
		return "the resource is not in a state that allows this; read it again and retry"
	case http.StatusRequestedRangeNotSatisfiable:
		return "the Range header asks for bytes the file does not have; ask without it or for a range inside the file"
	}
	if status >= http.StatusInternalServerError {
		return "the request could not be completed; it has been logged"
	}
	return "the request was refused: " + strings.ToLower(http.StatusText(status))
}

// problemKinds maps the documents package's input errors to HTTP.
var problemKinds = []struct {
	kind   error
	status int
	slug   string
	title  string
}{
	{documents.ErrEmptyFile, http.StatusBadRequest, "empty-file", "The uploaded file is empty"},
	{documents.ErrNotPDF, http.StatusUnsupportedMediaType, "not-a-pdf", "The uploaded file is not a PDF"},
	{documents.ErrEncryptedPDF, http.StatusUnprocessableEntity, "encrypted-pdf", "The PDF is encrypted"},
	{documents.ErrTruncatedPDF, http.StatusUnprocessableEntity, "truncated-pdf", "The PDF is truncated"},
	{documents.ErrUnparsablePDF, http.StatusUnprocessableEntity, "unparsable-pdf", "The PDF cannot be parsed"},
	{documents.ErrTooLarge, http.StatusRequestEntityTooLarge, "too-large", "The upload is too large"},
	{documents.ErrMissingFile, http.StatusBadRequest, "missing-file", "No file in the upload"},
	{documents.ErrMalformedBody, http.StatusBadRequest, "malformed-body", "The multipart body is malformed or incomplete"},
	{documents.ErrInvalidField, http.StatusBadRequest, "invalid-field", "A field is missing or invalid"},
	{documents.ErrInvalidCursor, http.StatusBadRequest, "invalid-cursor", "Invalid pagination cursor"},
	{documents.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{documents.ErrIdempotencyUsed, http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency-Key reused for a different file"},
	{documents.ErrUnknownUnit, http.StatusUnprocessableEntity, "unknown-unit", "Unknown unit"},
	{documents.ErrVersionRefused, http.StatusConflict, "version-refused", "No version may be added now"},
}

// writeError answers with the problem that matches err; anything unexpected is
// logged and reported as a 500 without internals.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	r = withReason(r, err)
	for _, k := range problemKinds {
		if errors.Is(err, k.kind) {
			detail := ""
			var in *documents.InputError
			if errors.As(err, &in) {
				detail = in.Detail
			}
			writeProblem(w, r, k.status, k.slug, k.title, detail)
			return
		}
	}
	if signingProblem(w, r, err) {
		return
	}
	if accountsProblem(w, r, err) {
		return
	}
	// Before the context check: a body read that timed out cancels the
	// request's context, but the client is there to read why.
	if resourceProblem(w, r, err) {
		return
	}
	if r.Context().Err() != nil {
		return // the client went away; nobody reads the answer
	}
	slog.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeProblem(w, r, http.StatusInternalServerError, "internal", "Internal error", "the request could not be completed; it has been logged")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
