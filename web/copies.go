package web

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/copies"
)

// copies is the service of the organisation's copies (SAO Y, TRÍCH SAO,
// SAO LỤC), signing with the issuing service's seal keys and level.
func (s *Server) copies() *copies.Service {
	return &copies.Service{DB: s.DB, Docs: s.Docs, Register: s.registers(), PublicURL: s.publicURL(),
		TempDir: s.Signing.TempDir, Now: s.Issuing.Now, CheckScan: s.CheckScan}
}

func (s *Server) copyRoutes(r chi.Router) {
	r.Post("/documents/{id}/copies", s.makeCopy)
	r.Post("/copies", s.copyFromScan)
}

func (s *Server) makeCopy(w http.ResponseWriter, r *http.Request) {
	var req copies.Request
	if err := decodeJSON(w, r, &req); err != nil {
		writeRegisterError(w, r, err)
		return
	}
	c, err := s.copies().Make(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	if err != nil {
		writeCopyError(w, r, err)
		return
	}
	created(w, fmt.Sprintf("/api/v1/documents/%s", c.ID), c)
}

func writeCopyError(w http.ResponseWriter, r *http.Request, err error) {
	r = withReason(r, err)
	switch {
	case errors.Is(err, copies.ErrNotCopyable):
		writeProblem(w, r, http.StatusConflict, "not-copyable", "The document cannot be copied in this form", err.Error())
	case errors.Is(err, copies.ErrScanRefused):
		writeProblem(w, r, http.StatusUnprocessableEntity, "scan-refused", "The scan is refused", err.Error())
	case errors.Is(err, copies.ErrNoScanCheck):
		writeProblem(w, r, http.StatusServiceUnavailable, "no-scan-check", "Copies of paper originals are not available", err.Error())
	case errors.Is(err, copies.ErrBusy):
		w.Header().Set("Retry-After", "60")
		writeProblem(w, r, http.StatusServiceUnavailable, "copy-busy", "Copying is busy", err.Error())
	case errors.Is(err, copies.ErrExtract):
		writeProblem(w, r, http.StatusUnprocessableEntity, "copy-refused", "The original's pages cannot be copied", err.Error())
	default:
		writeRegisterError(w, r, err)
	}
}

// copyFromScan makes a copy of a paper original from its scan: multipart
// fields form (SY, TrS, SL), pages (TrS: "1,3"), original (a description
// of the paper original), subject, confidentiality, and the scan as file.
// The scan is read once and checked before anything is signed.
func (s *Server) copyFromScan(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := principalFrom(ctx)
	svc := s.copies()
	if err := s.Docs.CanCreate(p); err != nil {
		writeError(w, r, err)
		return
	}
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		writeError(w, r, &documents.InputError{Kind: documents.ErrMissingFile, Detail: "send the scan as multipart/form-data with a part named file, after the fields form, original and subject"})
		return
	}
	body := bufio.NewReaderSize(http.MaxBytesReader(w, r.Body, s.Docs.MaxUpload+multipartOverhead), 1<<20)
	mr := multipart.NewReader(body, params["boundary"])
	var req copies.ScanRequest
	var out copies.Copy
	made := false
	for !made {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			writeError(w, r, &documents.InputError{Kind: documents.ErrMalformedBody, Detail: "the multipart body is malformed: " + err.Error()})
			return
		}
		name := part.FormName()
		if name == "file" {
			out, err = svc.MakeFromScan(ctx, p, req, part)
			if err != nil {
				writeCopyError(w, r, bodyError(err, s.Docs.MaxUpload))
				return
			}
			made = true
			break
		}
		b, err := io.ReadAll(io.LimitReader(part, fieldLimit+1))
		if err != nil {
			writeError(w, r, bodyError(err, s.Docs.MaxUpload))
			return
		}
		if len(b) > fieldLimit {
			writeError(w, r, &documents.InputError{Kind: documents.ErrInvalidField, Detail: name + " is too long"})
			return
		}
		v := string(b)
		switch name {
		case "form":
			req.Form = v
		case "original":
			req.Original = v
		case "subject":
			req.Subject = v
		case "confidentiality":
			req.Confidentiality = v
		case "pages":
			for _, f := range strings.Split(v, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil {
					writeError(w, r, &documents.InputError{Kind: documents.ErrInvalidField, Detail: "pages are page numbers separated by commas, such as 1,3"})
					return
				}
				req.Pages = append(req.Pages, n)
			}
		}
	}
	if !made {
		writeError(w, r, &documents.InputError{Kind: documents.ErrMissingFile, Detail: "no part named file: send the scan"})
		return
	}
	created(w, fmt.Sprintf("/api/v1/documents/%s", out.ID), out)
}
