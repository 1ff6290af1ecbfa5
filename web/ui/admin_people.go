package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// adminPeopleSection: what an administrator changes about people — a
// user's roles — and the delegations of signing authority (ủy quyền),
// which a signer makes for themselves and an administrator for any signer
// of the organisation. accounts.Service decides who may; the pages only
// choose what to offer.
var adminPeopleSection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Get("/admin/users/{id}/roles", u.rolesPage)
			r.Post("/admin/users/{id}/roles", u.saveRoles)
			r.Post("/admin/users/{id}/access", u.saveAccess)
			r.Get("/admin/delegations/new", u.newDelegationPage)
			r.Post("/admin/delegations", u.createDelegation)
			r.Post("/admin/delegations/{id}/end", u.endDelegation)
		})
	},
	// A signer who is no administrator reaches their delegations here; an
	// administrator through the administration's tabs.
	nav: []navEntry{{Path: "/admin/delegations", Key: "deleg.nav", show: func(p accounts.Principal) bool {
		return p.Has(storage.RoleSigner) && !p.Has(storage.RoleAdmin)
	}}},
}

var _ = addMessages(map[string][2]string{
	"roles.title":          {"Vai trò của %s", "Roles of %s"},
	"roles.edit":           {"Đổi vai trò", "Change roles"},
	"roles.save":           {"Lưu vai trò", "Save the roles"},
	"roles.saved":          {"Đã cập nhật vai trò của %s.", "The roles of %s were updated."},
	"roles.hint":           {"Thay đổi có hiệu lực ngay ở lần thao tác sau của người dùng. Cơ quan luôn giữ ít nhất một người quản trị.", "The change applies from the user's next request. The organisation always keeps at least one administrator."},
	"roles.back":           {"Về danh sách người dùng", "Back to the users"},
	"access.disable":       {"Khóa tài khoản", "Disable the account"},
	"access.enable":        {"Mở khóa tài khoản", "Enable the account"},
	"access.hint":          {"Tài khoản bị khóa không đăng nhập được; các phiên đang mở kết thúc ngay. Cơ quan luôn giữ ít nhất một người quản trị còn hoạt động.", "A disabled account cannot log in; its open sessions end now. The organisation always keeps one enabled administrator."},
	"access.disabled.hint": {"Tài khoản này đang bị khóa.", "This account is disabled."},
	"access.disabled":      {"Đã khóa tài khoản của %s.", "The account of %s was disabled."},
	"access.enabled":       {"Đã mở khóa tài khoản của %s.", "The account of %s was enabled."},
	"deleg.nav":            {"Ủy quyền", "Delegations"},
	"deleg.new":            {"Thêm ủy quyền", "Add a delegation"},
	"deleg.new.title":      {"Ủy quyền ký", "Delegate signing authority"},
	"deleg.from":           {"Người ủy quyền", "Delegating signer"},
	"deleg.to":             {"Người được ủy quyền", "Delegate"},
	"deleg.form":           {"Hình thức ký", "Authority form"},
	"deleg.types":          {"Loại văn bản (để trống: mọi loại)", "Document types (none: every type)"},
	"deleg.units":          {"Đơn vị (để trống: mọi đơn vị)", "Units (none: every unit)"},
	"deleg.starts":         {"Từ ngày", "From"},
	"deleg.ends":           {"Đến hết ngày", "Until the end of"},
	"deleg.basis":          {"Căn cứ (bắt buộc với TUQ.: văn bản ủy quyền)", "Basis (required for TUQ.: the written authorisation)"},
	"deleg.create":         {"Ủy quyền", "Delegate"},
	"deleg.created":        {"Đã ủy quyền cho %s.", "Delegated to %s."},
	"deleg.end":            {"Chấm dứt", "End"},
	"deleg.end.label":      {"Chấm dứt ủy quyền cho %s", "End the delegation to %s"},
	"deleg.ended":          {"Đã chấm dứt ủy quyền.", "The delegation was ended."},
	"deleg.nosigner":       {"Cơ quan chưa có người ký nào khác để nhận ủy quyền.", "The organisation has no other signer to delegate to."},
	"deleg.bad.date":       {"Ngày phải có dạng năm-tháng-ngày.", "Dates are year-month-day."},
	"form.TM":              {"TM. (thay mặt tập thể)", "TM. (on behalf of a collective)"},
	"form.KT":              {"KT. (ký thay người đứng đầu)", "KT. (deputy for the head)"},
	"form.Q":               {"Q. (quyền)", "Q. (acting)"},
	"form.TL":              {"TL. (thừa lệnh)", "TL. (by order)"},
	"form.TUQ":             {"TUQ. (thừa ủy quyền)", "TUQ. (by written authorisation)"},
	"inbox.behalf":         {"thay mặt %s", "on behalf of %s"},
	"inbox.behalf.form":    {"thay mặt %s (%s.)", "on behalf of %s (%s.)"},
	"error.ratelimited":    {"Bạn đã tra cứu quá nhiều lần trong thời gian ngắn; hãy thử lại sau %d giây.", "Too many verifications from your address in a short time; try again in %d seconds."},
})

// authorityForms are the forms a delegation may carry, in the order shown.
var authorityForms = []string{accounts.FormDeputy, accounts.FormByOrder, accounts.FormAuthorised, accounts.FormActing, accounts.FormCollective}

type rolesData struct {
	adminData
	Target storage.User
	Held   map[string]bool
	// Person is the signature image and password forms (account.go).
	Person personAccount
}

// rolesPage shows a user's roles as checkboxes to an administrator of
// their organisation (or the superadmin).
func (u *UI) rolesPage(w http.ResponseWriter, r *http.Request) {
	u.showRoles(w, r, http.StatusOK, "", "")
}

func (u *UI) showRoles(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string) {
	p, _ := principal(r.Context())
	target, err := u.cfg.Accounts.User(r.Context(), p, chi.URLParam(r, "id"))
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	// The same check SetRoles makes: only those who may change roles see
	// the form (others: the page the API's answer would be).
	if err := accounts.Authorize(p, accounts.UserCreate, accounts.Target{OrgID: target.OrganizationID}); err != nil || target.OrganizationID == "" {
		if err == nil {
			err = accounts.ErrForbidden
		}
		u.failErr(w, r, err)
		return
	}
	d := rolesData{adminData: adminData{Tab: "users", Roles: storage.AllRoles, Notice: notice}, Target: target, Held: map[string]bool{}}
	q := r.URL.Query()
	q.Set("org", target.OrganizationID)
	r.URL.RawQuery = q.Encode()
	if err := u.adminOrg(r, p, &d.adminData); err != nil {
		u.failErr(w, r, err)
		return
	}
	if d.Person, err = u.personAccountOf(r, p, target); err != nil {
		u.failErr(w, r, err)
		return
	}
	held := target.Roles
	if r.Method == http.MethodPost && errMsg != "" {
		held = r.PostForm["roles"]
	}
	for _, x := range held {
		d.Held[x] = true
	}
	pg := u.page(r, "admin.users")
	pg.Title = pg.T("roles.title", target.FullName)
	pg.Error, pg.Data = errMsg, d
	u.write(w, r, status, "admin_roles", pg)
}

func (u *UI) saveRoles(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 16<<10) {
		return
	}
	p, _ := principal(r.Context())
	updated, err := u.cfg.Accounts.SetRoles(r.Context(), p, chi.URLParam(r, "id"), r.PostForm["roles"])
	if err != nil {
		status, msg := u.explain(r, err)
		if status == http.StatusInternalServerError || status == http.StatusNotFound {
			u.failErr(w, r, err)
			return
		}
		u.showRoles(w, r, status, msg, "")
		return
	}
	r.Method = http.MethodGet
	u.showRoles(w, r, http.StatusOK, "", u.tr(r, "roles.saved", updated.FullName))
}

// saveAccess disables or enables a user's account from their roles page
// (disabled: "true" or "false"); accounts.SetDisabled decides who may, and
// keeps the organisation's last enabled administrator.
func (u *UI) saveAccess(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 4<<10) {
		return
	}
	var disabled bool
	switch r.PostForm.Get("disabled") {
	case "true":
		disabled = true
	case "false":
	default:
		u.fail(w, r, http.StatusBadRequest, u.tr(r, "error.badform"))
		return
	}
	p, _ := principal(r.Context())
	updated, err := u.cfg.Accounts.SetDisabled(r.Context(), p, chi.URLParam(r, "id"), disabled)
	if err != nil {
		r.Method = http.MethodGet // the page shows the account as it stays
		u.formRefused(w, r, err, func(status int, msg string) { u.showRoles(w, r, status, msg, "") }, http.StatusForbidden)
		return
	}
	r.Method = http.MethodGet
	key := "access.enabled"
	if disabled {
		key = "access.disabled"
	}
	u.showRoles(w, r, http.StatusOK, "", u.tr(r, key, updated.FullName))
}

type delegationForm struct {
	adminData
	// Signers are those who may delegate (an administrator's choice; a
	// signer delegates only their own authority) and receive.
	Signers []storage.User
	Admin   bool
	Self    string
	Types   []option
	Forms   []string
}

func (u *UI) newDelegationPage(w http.ResponseWriter, r *http.Request) {
	u.showDelegationForm(w, r, http.StatusOK, "", nil)
}

func (u *UI) showDelegationForm(w http.ResponseWriter, r *http.Request, status int, errMsg string, form map[string]string) {
	p, _ := principal(r.Context())
	d := delegationForm{adminData: adminData{Tab: "delegations", Form: form, Chosen: map[string]bool{}}, Admin: p.Has(storage.RoleAdmin), Self: p.ID, Forms: authorityForms}
	if err := u.adminOrg(r, p, &d.adminData); err != nil {
		u.failErr(w, r, err)
		return
	}
	// Who may delegate at all: the organisation's administrators, and
	// signers for themselves; the service checks each request again.
	if err := accounts.Authorize(p, accounts.DelegationCreate, accounts.Target{OrgID: d.OrgID, UserID: p.ID}); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := u.loadUsers(r, p, &d.adminData); err != nil {
		u.failErr(w, r, err)
		return
	}
	for _, x := range d.Users {
		if x.DisabledAt == nil && slices.Contains(x.Roles, storage.RoleSigner) {
			d.Signers = append(d.Signers, x)
		}
	}
	var err error
	if d.Types, err = u.options(r, "document_types"); err != nil {
		u.failErr(w, r, err)
		return
	}
	if r.Method == http.MethodPost {
		for _, v := range append(r.PostForm["types"], r.PostForm["units"]...) {
			d.Chosen[v] = true
		}
	}
	if d.Form == nil {
		today := nowFunc().In(vietnam)
		d.Form = map[string]string{"starts": today.Format("2006-01-02"), "ends": today.AddDate(0, 0, 7).Format("2006-01-02"), "form": accounts.FormDeputy}
	}
	u.renderErr(w, r, status, "admin_delegation_new", "deleg.new.title", errMsg, d)
}

// dayStart reads a form's YYYY-MM-DD as the start of that day in Vietnam.
func dayStart(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), vietnam)
	return t, err == nil
}

func (u *UI) createDelegation(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 32<<10) {
		return
	}
	p, _ := principal(r.Context())
	f := r.PostForm
	form := map[string]string{"from": f.Get("from"), "to": f.Get("to"), "form": f.Get("form"), "starts": f.Get("starts"), "ends": f.Get("ends"), "basis": f.Get("basis")}
	starts, ok1 := dayStart(f.Get("starts"))
	ends, ok2 := dayStart(f.Get("ends"))
	if !ok1 || !ok2 {
		refuseField(r, "ends")
		if !ok1 {
			refuseField(r, "starts")
		}
		u.showDelegationForm(w, r, http.StatusUnprocessableEntity, u.tr(r, "deleg.bad.date"), form)
		return
	}
	from := f.Get("from")
	if !p.Has(storage.RoleAdmin) || from == "" {
		from = p.ID
	}
	if today := nowFunc().In(vietnam); starts.Format("2006-01-02") == today.Format("2006-01-02") {
		starts = nowFunc() // from now, not from a midnight already past
	}
	d, err := u.cfg.Accounts.CreateDelegation(r.Context(), p, storage.Delegation{FromUser: from, ToUser: f.Get("to"), Form: f.Get("form"),
		DocumentTypes: f["types"], UnitIDs: f["units"], Basis: f.Get("basis"), StartsAt: starts, EndsAt: ends.AddDate(0, 0, 1)})
	if err != nil {
		status, msg := u.explain(r, err)
		if status == http.StatusInternalServerError || status == http.StatusNotFound && f.Get("to") == "" {
			u.failErr(w, r, err)
			return
		}
		refuseField(r, fieldOf(err))
		u.showDelegationForm(w, r, status, msg, form)
		return
	}
	http.Redirect(w, r, "/admin/delegations?"+url.Values{"org": {d.OrganizationID}, "created": {d.ID}}.Encode(), http.StatusSeeOther)
}

func (u *UI) endDelegation(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 4<<10) {
		return
	}
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	d, err := storage.GetDelegation(r.Context(), u.cfg.DB.Pool, id)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	// What the reader may not see of another organisation is not found.
	if err := accounts.Authorize(p, accounts.DelegationRead, accounts.Target{OrgID: d.OrganizationID}); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := u.cfg.Accounts.RevokeDelegation(r.Context(), p, id); err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/delegations?"+url.Values{"org": {d.OrganizationID}, "ended": {d.ID}}.Encode(), http.StatusSeeOther)
}
