package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/docsign"
)

// chainRoutes are the approval chains (templates, submission, actions,
// history), each person's inbox and the working calendar. The chain
// service authorizes every call (documents' visibility, then whose turn it
// is); the calendar service the administrator's rights.
func (s *Server) chainRoutes(r chi.Router) {
	if s.Chain == nil {
		s.Chain = &chain.Service{DB: s.DB, Docs: s.Docs}
	}
	if s.Calendar == nil {
		s.Calendar = &calendar.Service{DB: s.DB}
	}
	r.Post("/chain-templates", s.createChainTemplate)
	r.Get("/chain-templates", s.listChainTemplates)
	r.Post("/documents/{id}/submit", s.submitDocument)
	r.Get("/documents/{id}/chain", s.getChain)
	r.Post("/documents/{id}/actions", s.chainAction)
	r.Get("/documents/{id}/history", s.documentHistory)
	r.Get("/inbox", s.inbox)
	r.Get("/calendar/{year}", s.getCalendar)
	r.Put("/calendar/{year}", s.putCalendar)
}

// conflictProblem is a 409 that carries the chain as it now stands, so
// the loser of a race sees what won.
type conflictProblem struct {
	problem
	State *chain.View `json:"state,omitempty"`
}

// chainError answers the chain's and the calendar's errors, and the rest
// as writeError does.
func (s *Server) chainError(w http.ResponseWriter, r *http.Request, err error) {
	r = withReason(r, err)
	switch {
	case errors.Is(err, chain.ErrConflict):
		body := conflictProblem{problem: problem{Type: "/problems/chain-conflict", Title: "The chain's state does not allow this action",
			Status: http.StatusConflict, Detail: strings.TrimPrefix(err.Error(), chain.ErrConflict.Error()+": "), Instance: r.URL.Path, Reason: reasonOf(r)}}
		if id := chi.URLParam(r, "id"); id != "" {
			if v, verr := s.Chain.Chain(r.Context(), principalFrom(r.Context()), id); verr == nil {
				body.State = &v
			}
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusConflict)
		_ = json.NewEncoder(w).Encode(body)
	case errors.Is(err, chain.ErrIdempotencyKeyReused):
		writeProblem(w, r, http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency-Key used for another request", err.Error())
	case errors.Is(err, chain.ErrInvalid):
		writeProblem(w, r, http.StatusUnprocessableEntity, "invalid-chain-request", "The request cannot be carried out as given",
			strings.TrimPrefix(err.Error(), chain.ErrInvalid.Error()+": "))
	case errors.Is(err, calendar.ErrInvalid):
		writeProblem(w, r, http.StatusUnprocessableEntity, "invalid-calendar", "The calendar is invalid",
			strings.TrimPrefix(err.Error(), calendar.ErrInvalid.Error()+": "))
	default:
		writeError(w, r, err)
	}
}

// signError answers the refusals of signing; one because the chain gives
// the signer no turn now (another signature won, the stage is not
// signing) is a 409 that carries the chain as it now stands, as the
// chain's other actions answer, so the loser of two signatures sees what
// won.
func (s *Server) signError(w http.ResponseWriter, r *http.Request, err error) {
	r = withReason(r, err)
	if !errors.Is(err, docsign.ErrNotYourTurn) || s.Turns != nil || s.Chain == nil {
		writeError(w, r, err)
		return
	}
	body := conflictProblem{problem: problem{Type: "/problems/not-your-turn", Title: "Not your turn to sign",
		Status: http.StatusConflict, Detail: err.Error(), Instance: r.URL.Path, Reason: reasonOf(r)}}
	if v, verr := s.Chain.Chain(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id")); verr == nil {
		body.State = &v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusConflict)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) createChainTemplate(w http.ResponseWriter, r *http.Request) {
	var req chain.TemplateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	t, err := s.Chain.CreateTemplate(r.Context(), principalFrom(r.Context()), req)
	if err != nil {
		s.chainError(w, r, err)
		return
	}
	created(w, "/api/v1/chain-templates/"+t.ID, t)
}

func (s *Server) listChainTemplates(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := s.Chain.Templates(r.Context(), principalFrom(r.Context()), q.Get("document_type"), q.Get("unit_id"))
	if err != nil {
		s.chainError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": list})
}

func (s *Server) submitDocument(w http.ResponseWriter, r *http.Request) {
	var req chain.SubmitRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			writeError(w, r, err)
			return
		}
	}
	v, err := s.Chain.Submit(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		s.chainError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) getChain(w http.ResponseWriter, r *http.Request) {
	v, err := s.Chain.Chain(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		s.chainError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) chainAction(w http.ResponseWriter, r *http.Request) {
	var req chain.ActionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	v, err := s.Chain.Act(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		s.chainError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) documentHistory(w http.ResponseWriter, r *http.Request) {
	h, err := s.Chain.History(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		s.chainError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"history": h})
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := chain.InboxRequest{View: q.Get("view"), Source: q.Get("source"), Task: q.Get("expected_action"), DocumentType: q.Get("type"), Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			writeProblem(w, r, http.StatusBadRequest, "invalid-field", "A field is missing or invalid", "limit must be a number from 1 to 200")
			return
		}
		req.Limit = n
	}
	page, err := s.Chain.Inbox(r.Context(), principalFrom(r.Context()), req)
	if errors.Is(err, chain.ErrInvalid) {
		// A bad view or cursor is a bad query string.
		writeProblem(w, r, http.StatusBadRequest, "invalid-field", "A field is missing or invalid", strings.TrimPrefix(err.Error(), chain.ErrInvalid.Error()+": "))
		return
	}
	if err != nil {
		s.chainError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// calendarYear is a year of the calendar as the API shows it.
type calendarYear struct {
	Number int  `json:"year"`
	Set    bool `json:"set"` // false: nobody set it, and it is the default
	calendar.Year
}

func yearParam(w http.ResponseWriter, r *http.Request) (int, bool) {
	y, err := strconv.Atoi(chi.URLParam(r, "year"))
	if err != nil || y < 1970 || y > 9999 {
		writeProblem(w, r, http.StatusNotFound, "not-found", "Not found", "the calendar is kept per year: /calendar/2026")
		return 0, false
	}
	return y, true
}

func (s *Server) getCalendar(w http.ResponseWriter, r *http.Request) {
	year, ok := yearParam(w, r)
	if !ok {
		return
	}
	y, set, err := s.Calendar.Year(r.Context(), principalFrom(r.Context()), year)
	if err != nil {
		s.chainError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, calendarYear{Number: year, Set: set, Year: y})
}

func (s *Server) putCalendar(w http.ResponseWriter, r *http.Request) {
	year, ok := yearParam(w, r)
	if !ok {
		return
	}
	var req calendar.Year
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	y, err := s.Calendar.SetYear(r.Context(), principalFrom(r.Context()), year, req)
	if err != nil {
		s.chainError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, calendarYear{Number: year, Set: true, Year: y})
}
