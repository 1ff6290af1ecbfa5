package ui

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// adminDirectorySection: the rest of the directory's administration —
// the organisations (the system administrator adds them; an
// organisation's administrator sees their own) and API tokens of the
// organisation's people (issue with the secret shown once, revoke).
// accounts.Service authorizes every call.
var adminDirectorySection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Get("/admin/organizations", u.organizationsPage)
			r.Post("/admin/organizations", u.createOrganization)
			r.Get("/admin/tokens", u.tokensPage)
			r.Post("/admin/tokens", u.issueToken)
			r.Post("/admin/tokens/{id}/revoke", u.revokeToken)
		})
	},
}

var _ = addMessages(map[string][2]string{
	"admin.organizations":   {"Cơ quan", "Organisations"},
	"admin.tokens":          {"Mã truy cập API", "API tokens"},
	"org.parent":            {"Cơ quan cấp trên", "Parent organisation"},
	"org.parent.none":       {"(không có)", "(none)"},
	"org.create":            {"Thêm cơ quan", "Add an organisation"},
	"org.created":           {"Đã thêm cơ quan %s.", "Organisation %s added."},
	"org.readonly":          {"Chỉ quản trị hệ thống thêm cơ quan.", "Only the system administrator adds organisations."},
	"tok.user":              {"Người dùng", "User"},
	"tok.name":              {"Tên mã (để nhận biết)", "Name (to recognise it)"},
	"tok.scopes":            {"Phạm vi", "Scopes"},
	"tok.expires":           {"Hết hạn (để trống: không hết hạn)", "Expires (empty: never)"},
	"tok.expires.col":       {"Hết hạn", "Expires"},
	"tok.created":           {"Ngày tạo", "Created"},
	"tok.by":                {"Người tạo", "Made by"},
	"tok.issue":             {"Cấp mã truy cập", "Issue a token"},
	"tok.issued":            {"Đã cấp mã %s. Mã chỉ hiện một lần này: hãy lưu lại ngay.", "Token %s issued. It is shown this once: keep it now."},
	"tok.secret":            {"Mã truy cập", "Token"},
	"tok.revoke":            {"Thu hồi", "Revoke"},
	"tok.revoke.label":      {"Thu hồi mã %s", "Revoke the token %s"},
	"tok.revoked":           {"Đã thu hồi mã truy cập.", "The token was revoked."},
	"tok.none":              {"Người này chưa có mã truy cập nào.", "This user has no token."},
	"tok.show":              {"Xem", "Show"},
	"tok.error.expires":     {"Ngày hết hạn phải có dạng YYYY-MM-DD.", "The expiry must be a date YYYY-MM-DD."},
	"tok.scope.all":         {"tất cả", "all"},
	"tok.error.nouser":      {"Hãy chọn người dùng.", "Choose a user."},
	"org.error.codeandname": {"Cần mã và tên cơ quan.", "Give the organisation's code and name."},
})

type directoryData struct {
	adminData
	CanCreate bool
	UserID    string
	Tokens    []storage.Token
	Secret    string
	Scopes    []string
}

func (u *UI) organizationsPage(w http.ResponseWriter, r *http.Request) {
	u.showOrganizations(w, r, http.StatusOK, "", "", nil)
}

func (u *UI) showOrganizations(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string, form map[string]string) {
	p, _ := principal(r.Context())
	d := &directoryData{adminData: adminData{Tab: "organizations", Notice: notice, Form: form}}
	if err := u.adminOrg(r, p, &d.adminData); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := accounts.Authorize(p, accounts.UnitCreate, accounts.Target{OrgID: d.OrgID}); err != nil {
		u.failErr(w, r, err)
		return
	}
	d.CanCreate = accounts.Authorize(p, accounts.OrganizationCreate, accounts.Target{}) == nil
	u.renderErr(w, r, status, "admin_organizations", "admin.organizations", errMsg, d)
}

func (u *UI) createOrganization(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 16<<10) {
		return
	}
	p, _ := principal(r.Context())
	f := r.PostForm
	o := storage.Organization{Code: strings.TrimSpace(f.Get("code")), Name: strings.TrimSpace(f.Get("name")), ParentID: f.Get("parent")}
	form := map[string]string{"code": o.Code, "name": o.Name}
	if err := accounts.Authorize(p, accounts.OrganizationCreate, accounts.Target{}); err != nil {
		u.failErr(w, r, err)
		return
	}
	if o.Code == "" || o.Name == "" {
		u.showOrganizations(w, r, http.StatusUnprocessableEntity, u.tr(r, "org.error.codeandname"), "", form)
		return
	}
	created, err := u.cfg.Accounts.CreateOrganization(r.Context(), p, o)
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			u.showOrganizations(w, r, status, msg, "", form)
		}, http.StatusNotFound)
		return
	}
	u.showOrganizations(w, r, http.StatusCreated, "", u.tr(r, "org.created", created.Code), nil)
}

func (u *UI) tokensPage(w http.ResponseWriter, r *http.Request) {
	u.showTokens(w, r, http.StatusOK, "", "", "")
}

// showTokens lists the chosen user's tokens (?user=, or the form's user).
func (u *UI) showTokens(w http.ResponseWriter, r *http.Request, status int, errMsg, notice, secret string) {
	p, _ := principal(r.Context())
	d := &directoryData{adminData: adminData{Tab: "tokens", Notice: notice}, Secret: secret, Scopes: accounts.AllScopes}
	if err := u.adminOrg(r, p, &d.adminData); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := accounts.Authorize(p, accounts.UserCreate, accounts.Target{OrgID: d.OrgID}); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := u.loadUsers(r, p, &d.adminData); err != nil {
		u.failErr(w, r, err)
		return
	}
	d.UserID = r.URL.Query().Get("user")
	if r.Method == http.MethodPost {
		d.UserID = r.PostForm.Get("user")
		if errMsg != "" {
			// The refused form as typed (a token issued shows its secret
			// with an empty form).
			d.Form = map[string]string{"name": r.PostForm.Get("name"), "expires": r.PostForm.Get("expires")}
			d.Chosen = map[string]bool{}
			for _, s := range r.PostForm["scopes"] {
				d.Chosen[s] = true
			}
		}
	}
	if d.UserID == "" && len(d.Users) > 0 {
		d.UserID = d.Users[0].ID
	}
	if _, ok := d.Names[d.UserID]; d.UserID != "" && !ok {
		u.failErr(w, r, storage.ErrNotFound)
		return
	}
	if d.UserID != "" {
		ts, err := u.cfg.Accounts.Tokens(r.Context(), p, d.UserID)
		if err != nil {
			u.failErr(w, r, err)
			return
		}
		d.Tokens = ts
	}
	u.renderErr(w, r, status, "admin_tokens", "admin.tokens", errMsg, d)
}

func (u *UI) issueToken(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 8<<10) {
		return
	}
	p, _ := principal(r.Context())
	f := r.PostForm
	if f.Get("user") == "" {
		u.showTokens(w, r, http.StatusUnprocessableEntity, u.tr(r, "tok.error.nouser"), "", "")
		return
	}
	var expires *time.Time
	if s := strings.TrimSpace(f.Get("expires")); s != "" {
		t, err := time.ParseInLocation(time.DateOnly, s, vietnam)
		if err != nil {
			refuseField(r, "expires")
			u.showTokens(w, r, http.StatusUnprocessableEntity, u.tr(r, "tok.error.expires"), "", "")
			return
		}
		t = t.AddDate(0, 0, 1) // valid through that day
		expires = &t
	}
	// The user must be one of the organisation's the page lists.
	var d adminData
	if err := u.adminOrg(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := u.loadUsers(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	// This page is the administrators' (one's own tokens are the API's).
	if err := accounts.Authorize(p, accounts.UserCreate, accounts.Target{OrgID: d.OrgID}); err != nil {
		u.failErr(w, r, err)
		return
	}
	if _, ok := d.Names[f.Get("user")]; !ok {
		u.failErr(w, r, storage.ErrNotFound)
		return
	}
	secret, tok, err := u.cfg.Accounts.IssueToken(r.Context(), p, f.Get("user"), strings.TrimSpace(f.Get("name")), f["scopes"], expires)
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			u.showTokens(w, r, status, msg, "", "")
		})
		return
	}
	u.showTokens(w, r, http.StatusCreated, "", u.tr(r, "tok.issued", tok.Name), secret)
}

func (u *UI) revokeToken(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 4<<10) {
		return
	}
	p, _ := principal(r.Context())
	var d adminData
	if err := u.adminOrg(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := accounts.Authorize(p, accounts.UserCreate, accounts.Target{OrgID: d.OrgID}); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := u.cfg.Accounts.RevokeToken(r.Context(), p, chi.URLParam(r, "id")); err != nil {
		u.failErr(w, r, err)
		return
	}
	u.showTokens(w, r, http.StatusOK, "", u.tr(r, "tok.revoked"), "")
}
