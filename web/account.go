package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
)

// accountRoutes are what a person does about their own account (their
// password, their signature image) and what an administrator does about
// the accounts of their organisation's people; accounts and docsign
// authorize each call.
func (s *Server) accountRoutes(r chi.Router) {
	r.Post("/session/password", s.changePassword)
	r.Put("/users/{id}/password", s.setUserPassword)
	r.Get("/users/{id}/signature-image", s.getSignatureImage)
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword is POST /api/v1/session/password: the caller's own
// password, given the current one. 204 on success, with the caller's
// other sessions ended; 403 wrong-password (counted like a failed login);
// 429 while the login limits are locked; 422 a new password the rules
// refuse.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var req passwordChange
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	err := s.Accounts.ChangePassword(r.Context(), principalFrom(r.Context()), req.CurrentPassword, req.NewPassword, s.clientAddress(r))
	var locked *accounts.LockedError
	switch {
	case errors.Is(err, accounts.ErrWrongPassword):
		writeProblem(w, withReason(r, err), http.StatusForbidden, "wrong-password", "The current password is wrong", err.Error())
	case errors.As(err, &locked):
		wait := math.Ceil(time.Until(locked.Until).Seconds())
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(wait))))
		writeProblem(w, r, http.StatusTooManyRequests, "locked-out", "Too many failed logins", locked.Error())
	case err != nil:
		writeError(w, r, err)
	default:
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}

type passwordSet struct {
	NewPassword string `json:"new_password"`
}

// setUserPassword is PUT /api/v1/users/{id}/password: an administrator of
// the person's organisation gives them a new password, ending their
// sessions. 200 with the user.
func (s *Server) setUserPassword(w http.ResponseWriter, r *http.Request) {
	var req passwordSet
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	u, err := s.Accounts.SetPassword(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req.NewPassword)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, u)
}

// getSignatureImage is GET /api/v1/users/{id}/signature-image: the PNG, to
// the person and to an administrator of their organisation (who may set
// it); 404 when there is none yet. It is never cached: it is replaced in
// place, and it is the person's.
func (s *Server) getSignatureImage(w http.ResponseWriter, r *http.Request) {
	si, err := s.signer().SignatureImage(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(si.PNG)))
	h.Set("ETag", `"`+si.SHA256+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(si.PNG)
	}
}
