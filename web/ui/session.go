package ui

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
)

// sessionSection: logging in and out, and the language switch.
var sessionSection = section{routes: func(u *UI, r chi.Router) {
	r.Get("/login", u.loginPage)
	r.Post("/login", u.login)
	r.Post("/logout", u.logout)
	r.Post("/language", u.setLanguage)
}}

var _ = addMessages(map[string][2]string{
	"login.title":    {"Đăng nhập", "Log in"},
	"login.intro":    {"Đăng nhập để làm việc với văn bản của cơ quan.", "Log in to work with your office's documents."},
	"login.username": {"Tên đăng nhập", "Username"},
	"login.password": {"Mật khẩu", "Password"},
	"login.submit":   {"Đăng nhập", "Log in"},
	"login.oidc":     {"Đăng nhập bằng tài khoản định danh của cơ quan", "Log in with the office's identity provider"},
	"login.or":       {"hoặc", "or"},
	"login.failed":   {"Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa.", "The username or password is wrong, or the account is disabled."},
	"login.locked":   {"Đăng nhập sai quá nhiều lần. Thử lại sau %d giây.", "Too many failed logins. Try again in %d seconds."},
})

type loginData struct {
	Username, Next, OIDC string
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if _, ok := principal(r.Context()); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	u.render(w, r, http.StatusOK, "login", "login.title", loginData{Next: next, OIDC: u.cfg.OIDCLogin})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 16<<10) {
		return
	}
	d := loginData{Username: r.PostForm.Get("username"), Next: localPath(r.PostForm.Get("next")), OIDC: u.cfg.OIDCLogin}
	secret, _, err := u.cfg.Accounts.Login(r.Context(), d.Username, r.PostForm.Get("password"), u.cfg.ClientAddress(r))
	var locked *accounts.LockedError
	switch {
	case errors.As(err, &locked):
		wait := int(time.Until(locked.Until).Seconds()) + 1
		u.renderErr(w, r, http.StatusTooManyRequests, "login", "login.title", u.tr(r, "login.locked", max(1, wait)), d)
		return
	case errors.Is(err, accounts.ErrBadCredentials):
		u.renderErr(w, r, http.StatusUnauthorized, "login", "login.title", u.tr(r, "login.failed"), d)
		return
	case err != nil:
		u.failErr(w, r, err)
		return
	}
	u.cfg.Sessions.Start(w, r, secret)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if secret := u.cfg.Sessions.Secret(r); secret != "" {
		if err := u.cfg.Accounts.Logout(r.Context(), secret); err != nil {
			u.failErr(w, r, err)
			return
		}
	}
	u.cfg.Sessions.End(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLanguage remembers the language in a cookie and, for a signed-in
// user, in their account, then goes back to the page the switch was on.
func (u *UI) setLanguage(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 16<<10) {
		return
	}
	lang := r.PostForm.Get("lang")
	if !slices.Contains(accounts.Languages, lang) {
		u.fail(w, r, http.StatusBadRequest, u.tr(r, "error.badform"))
		return
	}
	if p, ok := principal(r.Context()); ok {
		if err := u.cfg.Accounts.SetLanguage(r.Context(), p, lang); err != nil {
			u.failErr(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || u.cfg.SecureCookies})
	http.Redirect(w, r, localPath(r.PostForm.Get("back")), http.StatusSeeOther)
}

var _ = addMessages(map[string][2]string{
	"error.badform": {"Biểu mẫu gửi lên không hợp lệ.", "The form sent is not valid."},
})
