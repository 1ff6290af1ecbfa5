package web

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/storage"
)

// handlingRoutes are the handling of incoming documents after registration
// (presenting, assigning, progress, completion, the handling's state) and
// the on-time statistics. The handling service authorizes every call.
func (s *Server) handlingRoutes(r chi.Router) {
	if s.Handling == nil {
		s.Handling = &handling.Service{DB: s.DB}
	}
	r.Post("/documents/{id}/present", s.presentDocument)
	r.Post("/documents/{id}/assign", s.assignDocument)
	r.Post("/documents/{id}/progress", s.documentProgress)
	r.Post("/documents/{id}/complete", s.completeDocument)
	r.Get("/documents/{id}/handling", s.getHandling)
	r.Get("/statistics", s.statistics)
	r.Get("/organizations/{id}/handling-settings", s.handlingSettings)
	r.Put("/organizations/{id}/handling-settings", s.setHandlingSettings)
}

// handlingSettings answers an organisation's rules for handling incoming
// documents (whether the văn thư may send one straight to its lead unit).
func (s *Server) handlingSettings(w http.ResponseWriter, r *http.Request) {
	out, err := s.Handling.Settings(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		handlingError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// setHandlingSettings changes them: {"clerk_sends_to_unit": true|false}.
func (s *Server) setHandlingSettings(w http.ResponseWriter, r *http.Request) {
	var req handling.SettingsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.Handling.SetSettings(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	if err != nil {
		handlingError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handlingError answers the handling's errors: a state that does not allow
// the action 409, a request that cannot be carried out 422, the rest as
// writeError does (403, 404 for what the caller may not see).
func handlingError(w http.ResponseWriter, r *http.Request, err error) {
	r = withReason(r, err)
	switch {
	case errors.Is(err, handling.ErrConflict):
		writeProblem(w, r, http.StatusConflict, "handling-conflict", "The handling's state does not allow this action",
			strings.TrimPrefix(err.Error(), handling.ErrConflict.Error()+": "))
	case errors.Is(err, handling.ErrInvalid):
		writeProblem(w, r, http.StatusUnprocessableEntity, "invalid-input", "A field is missing or invalid",
			strings.TrimPrefix(err.Error(), handling.ErrInvalid.Error()+": "))
	default:
		writeError(w, r, err)
	}
}

// handlingAction decodes a request body into req and runs do.
func handlingAction[T any](s *Server, w http.ResponseWriter, r *http.Request, do func(req T) (handling.View, error)) {
	var req T
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	v, err := do(req)
	if err != nil {
		handlingError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) presentDocument(w http.ResponseWriter, r *http.Request) {
	handlingAction(s, w, r, func(req handling.PresentRequest) (handling.View, error) {
		return s.Handling.Present(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	})
}

func (s *Server) assignDocument(w http.ResponseWriter, r *http.Request) {
	handlingAction(s, w, r, func(req handling.AssignRequest) (handling.View, error) {
		return s.Handling.Assign(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	})
}

func (s *Server) documentProgress(w http.ResponseWriter, r *http.Request) {
	handlingAction(s, w, r, func(req handling.ProgressRequest) (handling.View, error) {
		return s.Handling.Progress(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	})
}

func (s *Server) completeDocument(w http.ResponseWriter, r *http.Request) {
	handlingAction(s, w, r, func(req handling.CompleteRequest) (handling.View, error) {
		return s.Handling.Complete(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	})
}

func (s *Server) getHandling(w http.ResponseWriter, r *http.Request) {
	v, err := s.Handling.View(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		handlingError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// statistics answers GET /statistics?from=&to=&unit_id=&format=json|xlsx|pdf.
func (s *Server) statistics(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "xlsx" && format != "pdf" {
		writeProblem(w, r, http.StatusBadRequest, "invalid-field", "A field is missing or invalid", "format must be json, xlsx or pdf")
		return
	}
	p := principalFrom(r.Context())
	st, err := s.Handling.Statistics(r.Context(), p, handling.StatisticsRequest{From: q.Get("from"), To: q.Get("to"), UnitID: q.Get("unit_id")})
	if err != nil {
		handlingError(w, r, err)
		return
	}
	if format == "json" {
		writeJSON(w, http.StatusOK, st)
		return
	}
	org, err := storage.GetOrganization(r.Context(), s.DB.Pool, p.OrganizationID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	contentType := "application/pdf"
	if format == "xlsx" {
		contentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		err = st.WriteXLSX(&buf, org.Name)
	} else {
		err = st.WritePDF(&buf, org.Name)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "thong-ke-" + st.From + "-" + st.To + "." + format}))
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}
