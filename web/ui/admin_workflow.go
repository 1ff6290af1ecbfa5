package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/storage"
)

// adminWorkflowSection: the administration of the workflows — chain
// templates (stages: kind, participants, rule, deadline), registers and
// their number series, the working calendar of each year (holidays and
// compensating working days), and each organisation's PAdES signing level.
// The services decide who may change what (chain templates: the
// organisation's administrators; registers: its administrators; the
// calendar and signing levels: the system administrator); the pages show
// the forms only to those who may use them.
var adminWorkflowSection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Get("/admin/templates", u.templatesPage)
			r.Post("/admin/templates", u.createTemplate)
			r.Get("/admin/registers", u.adminRegistersPage)
			r.Post("/admin/registers", u.createRegister)
			r.Get("/admin/calendar", u.calendarPage)
			r.Post("/admin/calendar", u.saveCalendar)
			r.Get("/admin/signing", u.signingLevelPage)
			r.Post("/admin/signing", u.saveSigningLevel)
			r.Post("/admin/signing/qr", u.saveIssuingQR)
		})
	},
}

var _ = addMessages(map[string][2]string{
	"admin.templates":          {"Luồng trình ký", "Chain templates"},
	"admin.registers":          {"Sổ và số", "Registers and series"},
	"admin.calendar":           {"Lịch làm việc", "Working calendar"},
	"admin.signing":            {"Mức ký số", "Signing level"},
	"tpl.none":                 {"Cơ quan chưa có luồng trình ký nào.", "The organisation has no chain template."},
	"tpl.version":              {"phiên bản %d", "version %d"},
	"tpl.stages":               {"Các bước", "Stages"},
	"tpl.appliesto":            {"Áp dụng cho", "Applies to"},
	"tpl.create":               {"Thêm luồng trình ký", "Add a chain template"},
	"tpl.create.hint":          {"Trùng tên với luồng đã có thì tạo phiên bản mới; văn bản đang trình giữ phiên bản cũ.", "The name of an existing template makes its next version; chains in flight keep theirs."},
	"tpl.name":                 {"Tên luồng", "Name"},
	"tpl.types":                {"Loại văn bản (để trống: mọi loại)", "Document types (none: every type)"},
	"tpl.units":                {"Đơn vị soạn thảo (để trống: mọi đơn vị)", "Drafting units (none: every unit)"},
	"tpl.stage":                {"Bước %d", "Stage %d"},
	"tpl.stage.hint":           {"Bước để trống hoàn toàn thì bỏ qua. Sau bước ký chỉ có thể là bước ký.", "A stage left empty is left out. Only signing stages may follow a signing stage."},
	"tpl.stage.name":           {"Tên bước", "Stage name"},
	"tpl.stage.kind":           {"Loại bước", "Kind"},
	"tpl.stage.participants":   {"Người tham gia", "Participants"},
	"tpl.stage.rule":           {"Quy tắc", "Rule"},
	"tpl.stage.k":              {"Số người (quy tắc k)", "How many (rule k)"},
	"tpl.stage.days":           {"Hạn (ngày làm việc)", "Deadline (working days)"},
	"tpl.stage.hours":          {"Hạn (giờ làm việc)", "Deadline (working hours)"},
	"tpl.stage.blocking":       {"Chờ ý kiến mới sang bước sau (bước xin ý kiến)", "Wait for the comments (consultation)"},
	"tpl.more":                 {"Thêm một bước", "One more stage"},
	"tpl.allow.consultees":     {"Cho phép người xử lý thêm người cho ý kiến", "Handlers may add consultees"},
	"tpl.allow.signers":        {"Cho phép thêm người ký", "Signers may be added"},
	"tpl.rule.all":             {"Tất cả", "All"},
	"tpl.rule.any":             {"Một người bất kỳ", "Any one"},
	"tpl.rule.k":               {"k người", "k of them"},
	"tpl.p.user":               {"Người cụ thể", "Named people"},
	"tpl.p.role":               {"Theo vai trò trong cơ quan", "By role, whole organisation"},
	"tpl.p.drafterunit":        {"Theo vai trò trong đơn vị soạn thảo", "By role, the drafter's unit"},
	"tpl.p.roleof":             {"%s (cả cơ quan)", "%s (whole organisation)"},
	"tpl.p.roleofunit":         {"%s của đơn vị soạn thảo", "%s of the drafter's unit"},
	"tpl.created":              {"Đã lưu luồng %s, phiên bản %d.", "Template %s saved as version %d."},
	"tpl.error.stage":          {"Bước %d: %s", "Stage %d: %s"},
	"tpl.error.number":         {"phải là số", "must be a number"},
	"tpl.error.noname":         {"cần tên bước (để trống cả bước thì bước được bỏ qua)", "needs a name (a stage left empty altogether is left out)"},
	"reg.create":               {"Thêm sổ, hệ thống số", "Add a register or series"},
	"reg.create.hint":          {"Sổ riêng cho một loại văn bản quy phạm, văn bản mật hoặc hội đồng tư vấn có hệ thống số riêng.", "A series of its own: for a type of legal document, confidential documents, or an advisory body."},
	"reg.created":              {"Đã thêm sổ %s.", "Register %s added."},
	"cal.year":                 {"Năm", "Year"},
	"cal.show":                 {"Xem", "Show"},
	"cal.notset":               {"Năm %d chưa được thiết lập: nghỉ thứ Bảy, Chủ nhật, không có ngày lễ.", "%d is not set: Saturdays and Sundays off, no holidays."},
	"cal.weekend":              {"Ngày nghỉ hằng tuần", "Weekly days off"},
	"cal.hours":                {"Giờ làm việc", "Working hours"},
	"cal.holidays":             {"Ngày nghỉ lễ, nghỉ bù", "Holidays and compensating days off"},
	"cal.workingdays":          {"Ngày làm bù (cuối tuần đi làm)", "Compensating working days (weekend days worked)"},
	"cal.lines.hint":           {"Mỗi dòng một ngày: YYYY-MM-DD Tên, ví dụ: 2027-04-30 Ngày Giải phóng miền Nam", "One day a line: YYYY-MM-DD Name, e.g. 2027-04-30 Reunification Day"},
	"cal.save":                 {"Lưu lịch năm %d", "Save the calendar of %d"},
	"cal.saved":                {"Đã lưu lịch làm việc năm %d.", "The calendar of %d was saved."},
	"cal.readonly":             {"Lịch làm việc dùng chung cho mọi cơ quan; chỉ quản trị hệ thống sửa được.", "The calendar is shared by every organisation; only the system administrator changes it."},
	"cal.error.line":           {"Dòng %d: cần YYYY-MM-DD và tên.", "Line %d: give YYYY-MM-DD and a name."},
	"day.monday":               {"Thứ Hai", "Monday"},
	"day.tuesday":              {"Thứ Ba", "Tuesday"},
	"day.wednesday":            {"Thứ Tư", "Wednesday"},
	"day.thursday":             {"Thứ Năm", "Thursday"},
	"day.friday":               {"Thứ Sáu", "Friday"},
	"day.saturday":             {"Thứ Bảy", "Saturday"},
	"day.sunday":               {"Chủ nhật", "Sunday"},
	"sl.intro":                 {"Mức PAdES mà chữ ký của cơ quan và người ký được tạo ra (B-T có dấu thời gian; B-LT thêm thông tin kiểm tra; B-LTA thêm dấu thời gian lưu trữ).", "The PAdES level signatures are made at (B-T: timestamped; B-LT: with validation data; B-LTA: with an archive timestamp)."},
	"sl.level":                 {"Mức ký", "Level"},
	"sl.save":                  {"Lưu", "Save"},
	"sl.saved":                 {"Đã đặt mức ký của %s là %s.", "%s now signs at %s."},
	"sl.readonly":              {"Chỉ quản trị hệ thống đặt mức ký.", "Only the system administrator sets the level."},
	"error.calendar":           {"Lịch không hợp lệ", "The calendar is invalid"},
	"error.register.kindtypes": {"Loại văn bản và văn bản mật chỉ dùng cho sổ văn bản đi hoặc sổ bản sao", "Types and confidentiality make a series of outgoing documents or copies"},
})

// workflowAdmin is the administration pages' data: the tabs' and the
// organisation's (adminData) and each page's own.
type workflowAdmin struct {
	adminData
	Templates []chain.Template
	Stages    []stageForm
	Types     []option
	Options   []participantOption
	Kinds     []string
	Registers []storage.Register
	RegKinds  []string
	Year      int
	// YearTyped is the year asked for when it was refused (the box shows
	// it again, above the current year's calendar).
	YearTyped string
	Calendar  calendar.Year
	CalSet    bool
	Holidays  string
	Working   string
	CanEdit   bool
	Levels    []orgLevel
	AllLevels []string
	Chosen    map[string]bool
	More      int
	// QR and QREdit: each organisation's verification QR code on issued
	// documents, and whether the viewer may change it (admin_issuingqr.go).
	QR, QREdit map[string]bool
}

// stageForm is one stage's fields in the template form.
type stageForm struct {
	N                int
	Name, Kind, Rule string
	K, Days, Hours   string
	Blocking         bool
	Chosen           map[string]bool
}

// participantOption is a choice of the participants list: a named user
// ("user:ID"), a role in the organisation ("role:R"), or a role in the
// drafter's unit ("unit:R").
type participantOption struct{ Value, Label, Group string }

type orgLevel struct {
	Org   storage.Organization
	Level string
}

// adminShow loads the tabs and the organisation of an administration page.
func (u *UI) adminShow(w http.ResponseWriter, r *http.Request, tab string, d *workflowAdmin) bool {
	p, _ := principal(r.Context())
	d.Tab = tab
	if err := u.adminOrg(r, p, &d.adminData); err != nil {
		u.failErr(w, r, err)
		return false
	}
	return true
}

func (u *UI) templatesPage(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("stages"))
	u.showTemplates(w, r, http.StatusOK, "", "", nil, max(3, min(n, 12)))
}

func (u *UI) showTemplates(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string, form *workflowAdmin, rows int) {
	p, _ := principal(r.Context())
	d := &workflowAdmin{}
	if form != nil {
		d = form
	}
	if !u.adminShow(w, r, "templates", d) {
		return
	}
	d.Notice = notice
	if err := accounts.Authorize(p, accounts.ChainTemplateManage, accounts.Target{OrgID: d.OrgID}); err != nil || u.cfg.Chain == nil {
		if err == nil {
			err = storage.ErrNotFound
		}
		u.failErr(w, r, err)
		return
	}
	var err error
	if d.Templates, err = u.cfg.Chain.Templates(r.Context(), p, "", ""); err != nil {
		u.failErr(w, r, err)
		return
	}
	if err := u.loadUsers(r, p, &d.adminData); err != nil {
		u.failErr(w, r, err)
		return
	}
	if d.Types, err = u.options(r, "document_types"); err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Kinds = []string{chain.KindReview, chain.KindConsult, chain.KindFormatCheck, chain.KindSign}
	for _, x := range d.Users {
		if x.DisabledAt == nil {
			d.Options = append(d.Options, participantOption{"user:" + x.ID, x.FullName + " (" + x.Username + ")", "tpl.p.user"})
		}
	}
	for _, role := range []string{storage.RoleReviewer, storage.RoleSigner, storage.RoleClerk} {
		name := u.tr(r, "role."+role)
		d.Options = append(d.Options, participantOption{"role:" + role, u.tr(r, "tpl.p.roleof", name), "tpl.p.role"},
			participantOption{"unit:" + role, u.tr(r, "tpl.p.roleofunit", name), "tpl.p.drafterunit"})
	}
	for len(d.Stages) < rows {
		d.Stages = append(d.Stages, stageForm{Rule: "all", Chosen: map[string]bool{}})
	}
	for i := range d.Stages {
		d.Stages[i].N = i + 1
	}
	d.More = len(d.Stages) + 1
	if d.Chosen == nil {
		d.Chosen = map[string]bool{}
	}
	u.renderErr(w, r, status, "admin_templates", "admin.templates", errMsg, d)
}

// createTemplate reads the template form: the stages with a name, each
// with its participants, rule and deadline; a stage filled in without a
// name is refused.
func (u *UI) createTemplate(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 256<<10) {
		return
	}
	p, _ := principal(r.Context())
	f := r.PostForm
	d := &workflowAdmin{Chosen: map[string]bool{}}
	d.Form = map[string]string{"name": f.Get("name")}
	req := chain.TemplateRequest{Name: f.Get("name"), DocumentTypes: f["types"], UnitIDs: f["units"]}
	for _, v := range append(f["types"], f["units"]...) {
		d.Chosen[v] = true
	}
	req.AllowAddedConsultees, req.AllowAddedSigners = f.Get("allow_consultees") != "", f.Get("allow_signers") != ""
	d.Chosen["allow_consultees"], d.Chosen["allow_signers"] = req.AllowAddedConsultees, req.AllowAddedSigners
	rows, _ := strconv.Atoi(f.Get("rows"))
	rows = max(1, min(rows, 12))
	var problem string
	for i := 1; i <= rows; i++ {
		k := func(name string) string { return strings.TrimSpace(f.Get(fmt.Sprintf("s%d_%s", i, name))) }
		sf := stageForm{Name: k("name"), Kind: k("kind"), Rule: k("rule"), K: k("k"), Days: k("days"), Hours: k("hours"),
			Blocking: k("blocking") != "", Chosen: map[string]bool{}}
		parts := f[fmt.Sprintf("s%d_participants", i)]
		for _, v := range parts {
			sf.Chosen[v] = true
		}
		d.Stages = append(d.Stages, sf)
		if sf.Name == "" {
			// An empty row is left out; a row filled in but for its
			// name is a stage forgotten, not one left out.
			if (len(parts) > 0 || sf.K != "" || sf.Days != "" || sf.Hours != "") && problem == "" {
				problem = u.tr(r, "tpl.error.stage", i, u.tr(r, "tpl.error.noname"))
				refuseField(r, fmt.Sprintf("s%d_name", i))
			}
			continue
		}
		spec, bad, field := stageSpec(sf, parts)
		if bad != "" && problem == "" {
			problem = u.tr(r, "tpl.error.stage", i, u.tr(r, bad))
			refuseField(r, fmt.Sprintf("s%d_%s", i, field))
		}
		req.Stages = append(req.Stages, spec)
	}
	if problem != "" {
		u.showTemplates(w, r, http.StatusUnprocessableEntity, problem, "", d, rows)
		return
	}
	if u.cfg.Chain == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	t, err := u.cfg.Chain.CreateTemplate(r.Context(), p, req)
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			u.showTemplates(w, r, status, msg, "", d, rows)
		})
		return
	}
	r.Method = http.MethodGet
	u.showTemplates(w, r, http.StatusCreated, "", u.tr(r, "tpl.created", t.Name, t.Version), nil, 3)
}

// stageSpec turns a stage's fields into the chain's stage; a field that
// is not a number gives the key of the reader's message and the field's
// name in the stage (k, days, hours).
func stageSpec(sf stageForm, parts []string) (chain.StageSpec, string, string) {
	s := chain.StageSpec{Name: sf.Name, Kind: sf.Kind, Rule: chain.Rule{Kind: sf.Rule}}
	num := func(v string) (int, bool) {
		if v == "" {
			return 0, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	var days, hours int
	for _, f := range []struct {
		typed, field string
		n            *int
	}{{sf.K, "k", &s.Rule.K}, {sf.Days, "days", &days}, {sf.Hours, "hours", &hours}} {
		n, ok := num(f.typed)
		if !ok {
			return s, "tpl.error.number", f.field
		}
		*f.n = n
	}
	if s.Rule.Kind != "k" {
		s.Rule.K = 0
	}
	if days > 0 || hours > 0 {
		s.Due = &chain.Due{Days: days, Hours: hours}
	}
	if sf.Kind == chain.KindConsult {
		b := sf.Blocking
		s.Blocking = &b
	}
	for _, v := range parts {
		kind, val, _ := strings.Cut(v, ":")
		switch kind {
		case "user":
			s.Participants = append(s.Participants, chain.Participant{UserID: val})
		case "role":
			s.Participants = append(s.Participants, chain.Participant{Role: val})
		case "unit":
			s.Participants = append(s.Participants, chain.Participant{Role: val, UnitID: chain.DrafterUnit})
		}
	}
	return s, "", ""
}

func (u *UI) adminRegistersPage(w http.ResponseWriter, r *http.Request) {
	u.showAdminRegisters(w, r, http.StatusOK, "", "", nil)
}

func (u *UI) showAdminRegisters(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string, form *workflowAdmin) {
	p, _ := principal(r.Context())
	d := &workflowAdmin{Chosen: map[string]bool{}}
	if form != nil {
		d = form
	}
	if !u.adminShow(w, r, "registers", d) {
		return
	}
	d.Notice = notice
	if !p.IsSuperadmin && !p.Has(storage.RoleAdmin) {
		u.fail(w, r, http.StatusForbidden, u.tr(r, "error.forbidden"))
		return
	}
	var err error
	if d.Registers, err = u.registerList(r, p, d.OrgID); err != nil {
		u.failErr(w, r, err)
		return
	}
	if d.Types, err = u.options(r, "document_types"); err != nil {
		u.failErr(w, r, err)
		return
	}
	d.RegKinds = register.Kinds
	u.renderErr(w, r, status, "admin_registers", "admin.registers", errMsg, d)
}

func (u *UI) createRegister(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 64<<10) {
		return
	}
	p, _ := principal(r.Context())
	f := r.PostForm
	d := &workflowAdmin{Chosen: map[string]bool{}}
	if !u.adminShow(w, r, "registers", d) {
		return
	}
	if u.cfg.Registers == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	n := register.NewRegister{Kind: f.Get("kind"), Name: f.Get("name"), Code: f.Get("code"), DocumentTypes: f["types"], Confidential: f.Get("confidential") != ""}
	reg, err := u.cfg.Registers.Create(r.Context(), p, d.OrgID, n)
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			d.Form = map[string]string{"kind": n.Kind, "name": n.Name, "code": n.Code}
			for _, t := range n.DocumentTypes {
				d.Chosen[t] = true
			}
			d.Chosen["confidential"] = n.Confidential
			u.showAdminRegisters(w, r, status, msg, "", d)
		})
		return
	}
	r.Method = http.MethodGet
	u.showAdminRegisters(w, r, http.StatusCreated, "", u.tr(r, "reg.created", reg.Name), nil)
}

func (u *UI) calendarPage(w http.ResponseWriter, r *http.Request) {
	notice := ""
	if y, err := strconv.Atoi(r.URL.Query().Get("year")); err == nil && r.URL.Query().Get("saved") != "" {
		notice = u.tr(r, "cal.saved", y)
	}
	u.showCalendar(w, r, http.StatusOK, "", notice, nil)
}

func (u *UI) showCalendar(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string, form *workflowAdmin) {
	p, _ := principal(r.Context())
	d := &workflowAdmin{}
	if form != nil {
		d = form
	}
	if !u.adminShow(w, r, "calendar", d) {
		return
	}
	d.Notice = notice
	if u.cfg.Calendar == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	thisYear := nowFunc().In(vietnam).Year()
	// A year asked for that is none (not a number, out of range) is
	// refused on the page, linked to its box, which keeps it; the
	// current year's calendar is shown under it.
	refuseYear := func(typed, msg string) {
		status, errMsg, d.Year, d.YearTyped = http.StatusBadRequest, msg, thisYear, typed
		refuseField(r, "year")
	}
	if d.Year == 0 {
		d.Year = thisYear
		if s := r.URL.Query().Get("year"); s != "" {
			if n, err := strconv.Atoi(s); err != nil {
				refuseYear(s, u.tr(r, "refusal.calendar.year", s))
			} else {
				d.Year = n
			}
		}
	}
	y, set, err := u.cfg.Calendar.Year(r.Context(), p, d.Year)
	if errors.Is(err, calendar.ErrInvalid) && form == nil {
		_, msg := u.explain(r, err)
		refuseYear(strconv.Itoa(d.Year), msg)
		y, set, err = u.cfg.Calendar.Year(r.Context(), p, d.Year)
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Calendar, d.CalSet = y, set
	d.CanEdit = accounts.Authorize(p, accounts.CalendarManage, accounts.Target{}) == nil
	if form == nil {
		d.Holidays, d.Working = dayLines(y.Holidays), dayLines(y.WorkingDays)
	}
	u.renderErr(w, r, status, "admin_calendar", "admin.calendar", errMsg, d)
}

// dayLines writes days one a line, as the calendar form reads them.
func dayLines(days []calendar.Day) string {
	var b strings.Builder
	for _, d := range days {
		b.WriteString(strings.TrimSpace(d.Date + " " + d.Name))
		b.WriteByte('\n')
	}
	return b.String()
}

// parseDays reads "YYYY-MM-DD Name" lines; the number of the first line
// that is not one is returned.
func parseDays(text string) ([]calendar.Day, int) {
	out := []calendar.Day{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		date, name, _ := strings.Cut(line, " ")
		if len(date) != len("2006-01-02") {
			return nil, i + 1
		}
		out = append(out, calendar.Day{Date: date, Name: strings.TrimSpace(name)})
	}
	return out, 0
}

// saveCalendar replaces a year's holidays and compensating working days,
// keeping its weekend and working hours.
func (u *UI) saveCalendar(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 64<<10) {
		return
	}
	p, _ := principal(r.Context())
	f := r.PostForm
	year, err := strconv.Atoi(f.Get("year"))
	if err != nil || u.cfg.Calendar == nil {
		u.fail(w, r, http.StatusBadRequest, u.tr(r, "error.badform"))
		return
	}
	d := &workflowAdmin{Year: year, Holidays: f.Get("holidays"), Working: f.Get("working_days")}
	y, _, err := u.cfg.Calendar.Year(r.Context(), p, year)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	var bad int
	refuseField(r, "holidays")
	if y.Holidays, bad = parseDays(d.Holidays); bad == 0 {
		refuseField(r, "working_days")
		y.WorkingDays, bad = parseDays(d.Working)
	}
	if bad > 0 {
		u.showCalendar(w, r, http.StatusUnprocessableEntity, u.tr(r, "cal.error.line", bad), "", d)
		return
	}
	if _, err := u.cfg.Calendar.SetYear(r.Context(), p, year, y); err != nil {
		u.formRefused(w, r, err, func(status int, msg string) { u.showCalendar(w, r, status, msg, "", d) })
		return
	}
	http.Redirect(w, r, "/admin/calendar?"+url.Values{"year": {strconv.Itoa(year)}, "saved": {"1"}}.Encode(), http.StatusSeeOther)
}

func (u *UI) signingLevelPage(w http.ResponseWriter, r *http.Request) {
	u.showSigningLevel(w, r, http.StatusOK, "", "")
}

func (u *UI) showSigningLevel(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string) {
	p, _ := principal(r.Context())
	d := &workflowAdmin{}
	if !u.adminShow(w, r, "signing", d) {
		return
	}
	d.Notice = notice
	d.CanEdit = accounts.Authorize(p, accounts.OrganizationCreate, accounts.Target{}) == nil
	if !d.CanEdit && !p.Has(storage.RoleAdmin) {
		u.fail(w, r, http.StatusForbidden, u.tr(r, "error.forbidden"))
		return
	}
	for _, o := range d.Orgs {
		l, err := storage.OrganizationSigningLevel(r.Context(), u.cfg.DB.Pool, o.ID)
		if err != nil {
			u.failErr(w, r, err)
			return
		}
		d.Levels = append(d.Levels, orgLevel{o, l})
	}
	if err := u.issuingQR(r, p, d); err != nil {
		u.failErr(w, r, err)
		return
	}
	d.AllLevels = []string{string(signing.LevelBT), string(signing.LevelBLT), string(signing.LevelBLTA)}
	u.renderErr(w, r, status, "admin_signing", "admin.signing", errMsg, d)
}

func (u *UI) saveSigningLevel(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 16<<10) {
		return
	}
	p, _ := principal(r.Context())
	org, level := r.PostForm.Get("org"), r.PostForm.Get("level")
	o, err := u.cfg.Accounts.Organization(r.Context(), p, org)
	if err == nil {
		err = docsign.SetOrganizationLevel(r.Context(), u.cfg.DB, p, o.ID, level)
	}
	var in *accounts.InputError
	if errors.As(err, &in) {
		u.showSigningLevel(w, r, http.StatusUnprocessableEntity, u.inputWords(r, err, in), "")
		return
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	r.Method = http.MethodGet
	u.showSigningLevel(w, r, http.StatusOK, "", u.tr(r, "sl.saved", o.Name, level))
}
