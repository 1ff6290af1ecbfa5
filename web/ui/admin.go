package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// adminSection: the organisation's directory for its administrators
// (users, units) and the signing authority they and auditors review (key
// bindings, delegations). The superadmin picks the organisation.
var adminSection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Get("/admin/users", u.usersPage)
			r.Post("/admin/users", u.createUser)
			r.Get("/admin/units", u.unitsPage)
			r.Post("/admin/units", u.createUnit)
			r.Get("/admin/keys", u.keysPage)
			r.Get("/admin/delegations", u.delegationsPage)
		})
	},
	nav: []navEntry{{Path: "/admin/users", Prefix: "/admin/", Key: "nav.admin", show: func(p accounts.Principal) bool {
		return p.IsSuperadmin || may(accounts.UserCreate)(p)
	}}},
}

var _ = addMessages(map[string][2]string{
	"nav.admin":           {"Quản trị", "Administration"},
	"admin.users":         {"Người dùng", "Users"},
	"admin.units":         {"Đơn vị", "Units"},
	"admin.keys":          {"Khóa ký số", "Signing keys"},
	"admin.delegations":   {"Ủy quyền", "Delegations"},
	"admin.sections":      {"Các mục quản trị", "Administration sections"},
	"admin.org":           {"Cơ quan", "Organisation"},
	"admin.org.choose":    {"Chọn cơ quan", "Choose"},
	"admin.username":      {"Tên đăng nhập", "Username"},
	"admin.fullname":      {"Họ và tên", "Full name"},
	"admin.jobtitle":      {"Chức vụ", "Title"},
	"admin.roles":         {"Vai trò", "Roles"},
	"admin.units.of":      {"Thuộc đơn vị", "Units"},
	"admin.password":      {"Mật khẩu ban đầu", "Initial password"},
	"admin.password.hint": {"Để trống nếu người này chỉ đăng nhập qua hệ thống định danh.", "Leave empty for someone who logs in only through the identity provider."},
	"admin.state":         {"Trạng thái", "State"},
	"admin.active":        {"Đang hoạt động", "Active"},
	"admin.disabled":      {"Đã khóa", "Disabled"},
	"admin.create.user":   {"Thêm người dùng", "Add a user"},
	"admin.created.user":  {"Đã thêm người dùng %s.", "User %s added."},
	"admin.code":          {"Mã", "Code"},
	"admin.name":          {"Tên", "Name"},
	"admin.create.unit":   {"Thêm đơn vị", "Add a unit"},
	"admin.created.unit":  {"Đã thêm đơn vị %s.", "Unit %s added."},
	"admin.holder":        {"Người giữ khóa", "Holder"},
	"admin.kind":          {"Loại", "Kind"},
	"key.pkcs11":          {"Thiết bị ký số (HSM, token)", "Signing device (HSM, token)"},
	"key.pkcs12":          {"Khóa do hệ thống giữ (PKCS#12)", "Key held by the service (PKCS#12)"},
	"key.external":        {"Token của người ký (ký hai bước)", "Signer's own token (two-step signing)"},
	"admin.subject":       {"Chủ thể chứng thư", "Certificate subject"},
	"admin.valid":         {"Hiệu lực", "Valid"},
	"admin.revoked":       {"Đã thu hồi", "Revoked"},
	"admin.from":          {"Người ủy quyền", "From"},
	"admin.to":            {"Người được ủy quyền", "To"},
	"admin.form":          {"Hình thức", "Form"},
	"admin.period":        {"Thời hạn", "Period"},
	"admin.basis":         {"Căn cứ", "Basis"},
	"admin.doctypes":      {"Loại văn bản", "Document types"},
	"admin.all":           {"tất cả", "all"},
	"role.drafter":        {"Chuyên viên soạn thảo", "Drafter"},
	"role.reviewer":       {"Lãnh đạo phòng (kiểm tra)", "Reviewer"},
	"role.signer":         {"Người ký", "Signer"},
	"role.clerk":          {"Văn thư", "Clerk"},
	"role.certifier":      {"Người thực hiện chứng thực", "Certifying official"},
	"role.desk":           {"Bộ phận một cửa", "One-stop desk"},
	"role.auditor":        {"Kiểm tra, thanh tra", "Auditor"},
	"role.admin":          {"Quản trị", "Administrator"},
})

type adminData struct {
	Tab    string
	Orgs   []storage.Organization
	OrgID  string
	Units  []storage.Unit
	Users  []storage.User
	Roles  []string
	Keys   []storage.KeyBinding
	Delegs []storage.Delegation
	Names  map[string]string // user id -> full name
	UnitOf map[string]string // unit id -> code
	Notice string
	Form   map[string]string
	Chosen map[string]bool
}

// adminOrg is the organisation an admin page is about: one's own, or for
// the superadmin the one chosen (else the first).
func (u *UI) adminOrg(r *http.Request, p accounts.Principal, d *adminData) error {
	orgs, err := u.cfg.Accounts.Organizations(r.Context(), p)
	if err != nil {
		return err
	}
	d.Orgs = orgs
	d.OrgID = p.OrganizationID
	if p.IsSuperadmin {
		want := r.URL.Query().Get("org")
		if r.Method == http.MethodPost {
			want = r.PostForm.Get("org")
		}
		d.OrgID = ""
		for _, o := range orgs {
			if o.ID == want || d.OrgID == "" {
				d.OrgID = o.ID
			}
		}
	}
	if d.OrgID == "" {
		return storage.ErrNotFound
	}
	units, err := u.cfg.Accounts.Units(r.Context(), p, d.OrgID)
	if err != nil {
		return err
	}
	d.Units, d.UnitOf = units, map[string]string{}
	for _, un := range units {
		d.UnitOf[un.ID] = un.Code
	}
	return nil
}

func (u *UI) loadUsers(r *http.Request, p accounts.Principal, d *adminData) error {
	users, err := u.cfg.Accounts.Users(r.Context(), p, d.OrgID)
	if err != nil {
		return err
	}
	d.Users, d.Names = users, map[string]string{}
	for _, x := range users {
		d.Names[x.ID] = x.FullName
	}
	return nil
}

func (u *UI) usersPage(w http.ResponseWriter, r *http.Request) {
	u.showUsers(w, r, http.StatusOK, "", "", nil)
}

func (u *UI) showUsers(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string, form map[string]string) {
	p, _ := principal(r.Context())
	d := adminData{Tab: "users", Roles: storage.AllRoles, Notice: notice, Form: form, Chosen: map[string]bool{}}
	if err := u.adminOrg(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := accounts.Authorize(p, accounts.UserCreate, accounts.Target{OrgID: d.OrgID}); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := u.loadUsers(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	if r.Method == http.MethodPost && errMsg != "" {
		for _, v := range append(r.PostForm["roles"], r.PostForm["units"]...) {
			d.Chosen[v] = true
		}
	}
	u.renderErr(w, r, status, "admin_users", "admin.users", errMsg, d)
}

func (u *UI) createUser(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 64<<10) {
		return
	}
	p, _ := principal(r.Context())
	var d adminData
	if err := u.adminOrg(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	f := r.PostForm
	n := accounts.NewUser{Username: f.Get("username"), FullName: f.Get("full_name"), Title: f.Get("title"), OrganizationID: d.OrgID,
		UnitIDs: f["units"], Roles: f["roles"], Password: f.Get("password")}
	created, err := u.cfg.Accounts.CreateUser(r.Context(), p, n)
	form := map[string]string{"username": n.Username, "full_name": n.FullName, "title": n.Title}
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			u.showUsers(w, r, status, msg, "", form)
		})
		return
	}
	r.Method = http.MethodGet // the form starts empty again
	u.showUsers(w, r, http.StatusCreated, "", u.tr(r, "admin.created.user", created.Username), nil)
}

func (u *UI) unitsPage(w http.ResponseWriter, r *http.Request) {
	u.showUnits(w, r, http.StatusOK, "", "", nil)
}

func (u *UI) showUnits(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string, form map[string]string) {
	p, _ := principal(r.Context())
	d := adminData{Tab: "units", Notice: notice, Form: form}
	if err := u.adminOrg(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := accounts.Authorize(p, accounts.UnitCreate, accounts.Target{OrgID: d.OrgID}); err != nil {
		u.failErr(w, r, err)
		return
	}
	u.renderErr(w, r, status, "admin_units", "admin.units", errMsg, d)
}

func (u *UI) createUnit(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 16<<10) {
		return
	}
	p, _ := principal(r.Context())
	var d adminData
	if err := u.adminOrg(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	un, err := u.cfg.Accounts.CreateUnit(r.Context(), p, storage.Unit{OrganizationID: d.OrgID, Code: r.PostForm.Get("code"), Name: r.PostForm.Get("name")})
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			u.showUnits(w, r, status, msg, "", map[string]string{"code": r.PostForm.Get("code"), "name": r.PostForm.Get("name")})
		})
		return
	}
	u.showUnits(w, r, http.StatusCreated, "", u.tr(r, "admin.created.unit", un.Code), nil)
}

// keysPage lists the key bindings of the organisation's people, as
// accounts.Keys lets the viewer see them (administrators and auditors).
func (u *UI) keysPage(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	d := adminData{Tab: "keys"}
	if err := u.adminOrg(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := accounts.Authorize(p, accounts.KeyRead, accounts.Target{OrgID: d.OrgID}); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := u.loadUsers(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	for _, x := range d.Users {
		ks, err := u.cfg.Accounts.Keys(r.Context(), p, x.ID)
		if err != nil {
			u.failErr(w, r, err)
			return
		}
		d.Keys = append(d.Keys, ks...)
	}
	slices.SortFunc(d.Keys, func(a, b storage.KeyBinding) int { return strings.Compare(d.Names[a.UserID], d.Names[b.UserID]) })
	u.render(w, r, http.StatusOK, "admin_keys", "admin.keys", d)
}

func (u *UI) delegationsPage(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	d := adminData{Tab: "delegations"}
	if err := u.adminOrg(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := u.loadUsers(r, p, &d); err != nil {
		u.failErr(w, r, err)
		return
	}
	ds, err := u.cfg.Accounts.Delegations(r.Context(), p, d.OrgID, "")
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Delegs = ds
	u.render(w, r, http.StatusOK, "admin_delegations", "admin.delegations", d)
}
