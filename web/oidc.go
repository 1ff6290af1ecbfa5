package web

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/accounts/oidc"
)

// oidcCookie carries a login's state, nonce and PKCE verifier from its
// start to its callback, and only to those two routes.
const (
	oidcCookie     = "vanthu_oidc"
	oidcPath       = "/api/v1/session/oidc"
	oidcAfterLogin = "/"
)

// oidcRoutes are the OpenID Connect login, when the office has a provider:
// the start sends the browser there, the callback opens a session like a
// password login and sends the browser home.
func (s *Server) oidcRoutes(r chi.Router) {
	if s.OIDC == nil {
		return
	}
	r.Get(oidcPath, s.oidcStart)
	r.Get(oidcPath+"/callback", s.oidcCallback)
}

func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	authURL, flow := s.OIDC.Begin(time.Now())
	// SameSite=Lax: the callback is a top-level navigation from the
	// provider's site, which a Strict cookie would not follow.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: flow.Encode(), Path: oidcPath, MaxAge: int(oidc.FlowTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.SecureCookies})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
}

func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// A flow is used once, whatever comes of it.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: oidcPath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.SecureCookies})
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		// The provider's own error code (access_denied, login_required…);
		// its free-text description is not repeated.
		writeProblem(w, r, http.StatusUnauthorized, "oidc-denied", "Login refused by the identity provider", "the identity provider answered "+safeCode(e))
		return
	}
	var flow oidc.Flow
	c, err := r.Cookie(oidcCookie)
	if err == nil {
		flow, err = oidc.DecodeFlow(c.Value)
	}
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, "oidc-flow", "Login not started here", "start the login again from "+oidcPath)
		return
	}
	id, err := s.OIDC.Finish(r.Context(), flow, q.Get("state"), q.Get("code"), time.Now())
	switch {
	case errors.Is(err, oidc.ErrFlow):
		writeProblem(w, r, http.StatusBadRequest, "oidc-flow", "Login not started here", "the login does not match one started from this browser, or took too long; start again from "+oidcPath)
		return
	case errors.Is(err, oidc.ErrIdentity):
		slog.Warn("oidc login refused", "err", err, "address", s.clientAddress(r))
		writeProblem(w, r, http.StatusUnauthorized, "oidc-refused", "Login failed", "the identity provider's answer could not be verified")
		return
	case err != nil:
		writeError(w, r, err)
		return
	}
	secret, _, err := s.Accounts.LoginExternal(r.Context(), id.Username, s.clientAddress(r), "oidc")
	if errors.Is(err, accounts.ErrNoAccount) {
		writeProblem(w, r, http.StatusForbidden, "no-account", "No vanthu account", accounts.ErrNoAccount.Error())
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.setSessionCookie(w, r, secret)
	http.Redirect(w, r, oidcAfterLogin, http.StatusSeeOther)
}

// safeCode keeps an OAuth error code to its defined alphabet, so nothing a
// provider or an attacker puts in the URL is echoed.
func safeCode(s string) string {
	if len(s) > 64 {
		return "an error"
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c == '_') {
			return "an error"
		}
	}
	return s
}
