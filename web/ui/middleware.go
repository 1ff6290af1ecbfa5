package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/vanthu/vanthu/accounts"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	langKey
)

// contentSecurityPolicy allows scripts, styles, fonts and workers only from
// this site, no inline code of any kind, and no framing. pdf.js draws on
// canvases and may hand images over as data: or blob: URLs.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// crossOriginCheck is Go's CSRF protection, as the API applies it to
// cookie-authenticated requests: a form posted from another site is
// refused (Sec-Fetch-Site, else Origin against Host).
var crossOriginCheck = http.NewCrossOriginProtection()

func (u *UI) crossOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := crossOriginCheck.Check(r); err != nil {
			u.fail(w, r, http.StatusForbidden, u.tr(r, "error.crossorigin"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// session finds the signed-in user, if any, and the language of the page:
// the user's stored choice, else the language cookie, else Vietnamese.
func (u *UI) session(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		lang := ""
		if secret := u.cfg.Sessions.Secret(r); secret != "" && !strings.HasPrefix(r.URL.Path, "/static/") {
			p, err := u.cfg.Accounts.AuthenticateSession(ctx, secret)
			switch {
			case errors.Is(err, accounts.ErrUnauthenticated):
				u.cfg.Sessions.End(w, r)
			case err != nil:
				ctx = context.WithValue(ctx, langKey, langFromCookie(r))
				u.failErr(w, r.WithContext(ctx), err)
				return
			default:
				ctx = context.WithValue(ctx, principalKey, p)
				if lang, err = u.cfg.Accounts.Language(ctx, p); err != nil {
					slog.Warn("read language preference", "user", p.ID, "err", err)
				}
			}
		}
		if lang == "" {
			lang = langFromCookie(r)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, langKey, lang)))
	})
}

// langCookie remembers the language chosen before logging in.
const langCookie = "vanthu_lang"

func langFromCookie(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && slices.Contains(accounts.Languages, c.Value) {
		return c.Value
	}
	return accounts.Languages[0]
}

func (u *UI) lang(r *http.Request) string {
	if l, ok := r.Context().Value(langKey).(string); ok && l != "" {
		return l
	}
	return langFromCookie(r)
}

func principal(ctx context.Context) (accounts.Principal, bool) {
	p, ok := ctx.Value(principalKey).(accounts.Principal)
	return p, ok
}

// signedIn sends a visitor without a session to the login page, and comes
// back afterwards to what they asked for.
func (u *UI) signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := principal(r.Context()); ok {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			u.fail(w, r, http.StatusUnauthorized, u.tr(r, "error.signedout"))
			return
		}
		http.Redirect(w, r, "/login?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
	})
}

// allowedTo refuses a page before its handler runs unless the caller may do
// a about their own organisation (or, for the superadmin, every one).
func (u *UI) allowedTo(a accounts.Action) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := principal(r.Context())
			if err := accounts.Authorize(p, a, accounts.Target{OrgID: p.OrganizationID}); err != nil {
				u.failErr(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// may reports whether p may do a about their own organisation: what the
// navigation shows.
func may(a accounts.Action) func(p accounts.Principal) bool {
	return func(p accounts.Principal) bool {
		return accounts.Authorize(p, a, accounts.Target{OrgID: p.OrganizationID}) == nil
	}
}

// localPath keeps a redirect target on this site: a path, never a URL to
// another host ("//evil", "/\evil"). Browsers drop tabs and newlines
// anywhere in a URL before reading it, so "/<TAB>/evil" is "//evil" to them:
// a target with any control character is refused whole.
func localPath(s string) string {
	if s == "" || s[0] != '/' || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") ||
		strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	return s
}
