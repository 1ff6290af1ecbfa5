package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/vanthu/vanthu/accounts"
)

type ctxKey int

const principalKey ctxKey = 0

// sessionCookie holds a browser session's secret; only its hash is stored.
const sessionCookie = "vanthu_session"

// authenticate admits requests that carry a valid API token (Authorization:
// Bearer) or a live session cookie, and puts the accounts.Principal in the
// context. A cookie is sent by the browser on its own, so an unsafe request
// authenticated by one must also come from this site's own pages (Go's
// cross-origin protection); a token is sent deliberately and needs no such
// check.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.credential(w, r)
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}

// credential finds the principal of r, or answers the request itself and
// returns false.
func (s *Server) credential(w http.ResponseWriter, r *http.Request) (accounts.Principal, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := bearerToken(h)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vanthu"`)
			writeProblem(w, r, http.StatusUnauthorized, "unauthenticated", "Authentication required", "send an API token as Authorization: Bearer <token>")
			return accounts.Principal{}, false
		}
		p, err := s.Accounts.AuthenticateToken(r.Context(), token)
		if errors.Is(err, accounts.ErrUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vanthu", error="invalid_token"`)
			writeProblem(w, r, http.StatusUnauthorized, "invalid-token", "Invalid token", "the API token is unknown, expired or revoked")
			return p, false
		}
		if err != nil {
			writeError(w, r, err)
			return p, false
		}
		return p, true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vanthu"`)
		writeProblem(w, r, http.StatusUnauthorized, "unauthenticated", "Authentication required",
			"log in with POST /api/v1/session, or send an API token as Authorization: Bearer <token>")
		return accounts.Principal{}, false
	}
	if err := crossOrigin.Check(r); err != nil {
		writeProblem(w, r, http.StatusForbidden, "cross-origin", "Cross-origin request refused",
			"a request that changes something must come from this site's own pages")
		return accounts.Principal{}, false
	}
	p, err := s.Accounts.AuthenticateSession(r.Context(), c.Value)
	if errors.Is(err, accounts.ErrUnauthenticated) {
		s.clearSessionCookie(w, r)
		writeProblem(w, r, http.StatusUnauthorized, "session-expired", "Session expired", "the session ended; log in again")
		return p, false
	}
	if err != nil {
		writeError(w, r, err)
		return p, false
	}
	return p, true
}

// bearerToken reads "Bearer <token>" from an Authorization header. The
// scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" are
// the same scheme.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// crossOrigin is the CSRF check for cookie-authenticated requests and the
// login form: safe methods pass, unsafe ones must not be cross-site
// (Sec-Fetch-Site, else Origin against Host). Clients that send neither
// header (curl, integrations) are not browsers and pass.
var crossOrigin = http.NewCrossOriginProtection()

// principalFrom returns the authenticated caller.
func principalFrom(ctx context.Context) accounts.Principal {
	p, _ := ctx.Value(principalKey).(accounts.Principal)
	return p
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.SecureCookies})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.SecureCookies})
}

// require refuses a request before its handler runs unless the caller may
// do a, an action about no particular organisation's thing (Verify: a PDF
// uploaded to be checked). Routes about a document find it through the
// documents service instead (versionOf for a version's bytes), which
// applies the viewer and answers 404 for what the caller may not see.
func require(a accounts.Action) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := accounts.Authorize(principalFrom(r.Context()), a, accounts.Target{}); err != nil {
				writeError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
