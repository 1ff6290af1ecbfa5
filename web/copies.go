package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents/copies"
)

// copies is the service of the organisation's copies (SAO Y, TRÍCH SAO,
// SAO LỤC), signing with the issuing service's seal keys and level.
func (s *Server) copies() *copies.Service {
	return &copies.Service{DB: s.DB, Docs: s.Docs, Register: s.registers(), PublicURL: s.publicURL(),
		TempDir: s.Signing.TempDir, Now: s.Issuing.Now}
}

func (s *Server) copyRoutes(r chi.Router) {
	r.Post("/documents/{id}/copies", s.makeCopy)
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
	switch {
	case errors.Is(err, copies.ErrNotCopyable):
		writeProblem(w, r, http.StatusConflict, "not-copyable", "The document cannot be copied in this form", err.Error())
	case errors.Is(err, copies.ErrExtract):
		writeProblem(w, r, http.StatusUnprocessableEntity, "copy-refused", "The original's pages cannot be copied", err.Error())
	default:
		writeRegisterError(w, r, err)
	}
}
