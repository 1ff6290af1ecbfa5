package web

import (
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
)

// sessionRoutes are the browser login and logout. They sit outside
// /api/v1's authenticated group: logging in is what an unauthenticated
// caller does; logging out authenticates like every other route.
func (s *Server) sessionRoutes(r chi.Router) {
	r.Post("/api/v1/session", s.login)
	r.With(s.authenticate).Delete("/api/v1/session", s.logout)
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login checks a password and opens a session: 200 with the user and the
// session cookie; 401 with one message whether the user is unknown, the
// password wrong or the account disabled; 429 while locked out.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := crossOrigin.Check(r); err != nil {
		writeProblem(w, r, http.StatusForbidden, "cross-origin", "Cross-origin request refused", "log in from this site's own pages")
		return
	}
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	secret, p, err := s.Accounts.Login(r.Context(), req.Username, req.Password, s.clientAddress(r))
	var locked *accounts.LockedError
	switch {
	case errors.As(err, &locked):
		wait := math.Ceil(time.Until(locked.Until).Seconds())
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(wait))))
		writeProblem(w, r, http.StatusTooManyRequests, "locked-out", "Too many failed logins", locked.Error())
		return
	case errors.Is(err, accounts.ErrBadCredentials):
		writeProblem(w, r, http.StatusUnauthorized, "bad-credentials", "Login failed", accounts.ErrBadCredentials.Error())
		return
	case err != nil:
		writeError(w, r, err)
		return
	}
	s.setSessionCookie(w, r, secret)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, p.User)
}

// logout ends the session of the cookie sent, if any, and clears it.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.Accounts.Logout(r.Context(), c.Value); err != nil {
			writeError(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// clientAddress is the address logins are throttled by and the audit log
// records: the peer's, unless the peer is one of the TrustedProxies. Then
// X-Forwarded-For is read from the right, past every trusted proxy, to the
// first address no trusted proxy vouches for: anything left of it may be
// forged by the client.
func (s *Server) clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(addr) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: stop at the last address we can vouch for
		}
		addr = hop.Unmap()
		if !s.trusted(addr) {
			break
		}
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
