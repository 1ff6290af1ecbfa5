package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/storage"
)

// followUpRegister answers the follow-up register (sổ theo dõi giải quyết
// văn bản đến) of an incoming register: GET
// /registers/{id}/follow-up?year=&from=&to=&format=json|xlsx|pdf, beside
// the register's entries and read by the same callers (the organisation's
// members). from and to (YYYY-MM-DD) narrow it to the arrivals of a period.
func (s *Server) followUpRegister(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "xlsx" && format != "pdf" {
		writeProblem(w, r, http.StatusUnprocessableEntity, "invalid-input", "A field is missing or invalid", "format must be json, xlsx or pdf")
		return
	}
	period, err := reception.ParsePeriod(q.Get("from"), q.Get("to"))
	if err != nil {
		writeReceptionError(w, r, err)
		return
	}
	now := time.Now
	if s.Reception.Now != nil {
		now = s.Reception.Now
	}
	year := now().In(reception.Vietnam).Year()
	if !period.From.IsZero() {
		year = period.From.Year()
	}
	if y := q.Get("year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < 1900 || n > 9999 {
			writeProblem(w, r, http.StatusUnprocessableEntity, "invalid-input", "A field is missing or invalid", "year must be a year such as 2026")
			return
		}
		year = n
	}
	reg, err := storage.GetRegister(r.Context(), s.DB.Pool, chi.URLParam(r, "id"))
	if err != nil {
		writeRegisterError(w, r, err)
		return
	}
	es, err := s.reception().FollowUp(r.Context(), principalFrom(r.Context()), reg, year, period)
	if err != nil {
		writeReceptionError(w, r, err)
		return
	}
	if format == "xlsx" || format == "pdf" {
		org, err := storage.GetOrganization(r.Context(), s.DB.Pool, reg.OrganizationID)
		if err != nil {
			writeRegisterError(w, r, fmt.Errorf("follow-up register: %w", err))
			return
		}
		book := reception.FollowUpBook(org.Name, reg, year, period, es)
		reg.Code = "theo-doi-" + codeOr(reg)
		s.writeBook(w, r, reg, year, book, format)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"register": reg, "year": year, "from": dateOrEmpty(period.From), "to": dateOrEmpty(period.To),
		"columns": reception.FollowUpColumns, "entries": es})
}

func codeOr(reg storage.Register) string {
	if reg.Code != "" {
		return reg.Code
	}
	return reg.Kind
}

func dateOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}
