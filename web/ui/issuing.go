package ui

import (
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/storage"
)

// issuingSection: the văn thư's issuing (phát hành) — the queue of signed
// documents awaiting a number, the issue form that shows first the number
// and symbol the system will assign, the deliveries of an issued document
// with their statuses — and the registers (sổ đăng ký) to read by year,
// filter, export and print. The register service authorizes every call
// (a clerk of the document's organisation issues; members read their
// organisation's registers); the pages check the clerk's role only to
// choose what to show.
var issuingSection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Get("/issuing", u.issuingQueue)
			r.Get("/documents/{id}/issue", u.issuePage)
			r.Post("/documents/{id}/issue", u.issueForm)
			r.Get("/documents/{id}/deliveries", u.deliveriesPage)
			r.Post("/documents/{id}/recall", u.recallForm)
			r.Get("/registers", u.registersPage)
			r.Get("/registers/{id}", u.registerPage)
		})
	},
	nav: []navEntry{
		{Path: "/issuing", Key: "nav.issuing", show: isClerk},
		{Path: "/registers", Prefix: "/registers/", Key: "nav.registers", show: func(p accounts.Principal) bool { return p.OrganizationID != "" || p.IsSuperadmin }},
	},
}

// isClerk: the văn thư's pages are shown to clerks (the register service
// decides what they may do).
func isClerk(p accounts.Principal) bool { return p.OrganizationID != "" && p.Has(storage.RoleClerk) }

var _ = addMessages(map[string][2]string{
	"nav.issuing":            {"Phát hành", "Issuing"},
	"nav.registers":          {"Sổ đăng ký", "Registers"},
	"status.issued":          {"Đã phát hành", "Issued"},
	"issuing.title":          {"Văn bản chờ phát hành", "Documents awaiting issuing"},
	"issuing.intro":          {"Các văn bản đã ký đủ, chờ văn thư cấp số, đóng dấu số của cơ quan và gửi đi.", "Signed documents waiting for the clerk to number, seal and send them."},
	"issuing.empty":          {"Không có văn bản nào chờ phát hành.", "No document is awaiting issuing."},
	"issuing.issue":          {"Phát hành", "Issue"},
	"issuing.recent":         {"Mới phát hành", "Recently issued"},
	"issue.title":            {"Phát hành văn bản", "Issue a document"},
	"issue.number":           {"Số sẽ cấp", "Number to be assigned"},
	"issue.number.note":      {"Số được cấp khi bấm Phát hành; nếu trong lúc đó có văn bản khác của cùng sổ được phát hành trước, văn bản này nhận số kế tiếp.", "The number is taken when you press Issue; if another document of the same register is issued first, this one takes the next number."},
	"issue.register":         {"Sổ đăng ký", "Register"},
	"issue.register.auto":    {"Tự chọn theo loại và độ mật", "Chosen by type and confidentiality"},
	"issue.register.show":    {"Xem số của sổ này", "Show this register's number"},
	"issue.year":             {"Năm", "Year"},
	"issue.recipients":       {"Nơi nhận", "Recipients"},
	"issue.orgs":             {"Cơ quan trong hệ thống", "Organisations of this service"},
	"issue.orgs.none":        {"Không có cơ quan nào khác trong hệ thống.", "There is no other organisation in this service."},
	"issue.emails":           {"Địa chỉ thư điện tử", "E-mail addresses"},
	"issue.emails.hint":      {"Mỗi dòng một nơi nhận: Tên <địa chỉ>, ví dụ: Công ty ABC <vanthu@abc.vn>", "One recipient a line: Name <address>, e.g. ABC Company <clerk@abc.vn>"},
	"issue.kept":             {"Nơi lưu", "Copies kept"},
	"issue.kept.hint":        {"Ví dụ: Lưu: VT, VP.", "E.g. Lưu: VT, VP."},
	"issue.submit":           {"Phát hành", "Issue"},
	"issue.sealnote":         {"Khi phát hành, hệ thống cấp số, ký số của cơ quan (con dấu) lên bản đã ký và gửi đến nơi nhận.", "Issuing numbers the document, applies the organisation's digital signature (seal) to the signed file and sends it."},
	"issue.done":             {"Đã phát hành văn bản số %s.", "Issued as %s."},
	"recall.title":           {"Thu hồi văn bản", "Recall the document"},
	"recall.reason":          {"Lý do thu hồi", "Reason for the recall"},
	"recall.hint":            {"Nơi nhận sẽ ngừng xử lý văn bản và xác nhận đã thu hồi. Không hoàn tác được.", "Each recipient stops handling the document and confirms the recall. This cannot be undone."},
	"recall.submit":          {"Thu hồi", "Recall"},
	"recall.done":            {"Đã thu hồi văn bản; nơi nhận được thông báo để ngừng xử lý và xác nhận.", "The document was recalled; its recipients are told to stop handling it and confirm."},
	"issue.already":          {"Văn bản đã được phát hành trước đó với số %s; không phát hành lại.", "The document was already issued as %s; it was not issued again."},
	"issue.warning":          {"Cảnh báo", "Warning"},
	"issue.warning.clash":    {"Số, ký hiệu %s đã được dùng trong năm nay ở một sổ khác của cơ quan; hãy kiểm tra hai văn bản.", "The number and symbol %s were already used this year in another series of the organisation; check both documents."},
	"issue.error.email":      {"Dòng %d: cần Tên <địa chỉ thư điện tử>.", "Line %d: give Name <e-mail address>."},
	"error.issue.notsigned":  {"Văn bản không ở trạng thái chờ phát hành", "The document is not awaiting issuing"},
	"error.issue.nosealkey":  {"Cơ quan chưa có khóa ký số (con dấu) dùng được", "The organisation has no usable seal key"},
	"error.issue.seal":       {"Không ký số của cơ quan được lên văn bản", "The organisation's signature cannot be applied"},
	"error.issue.down":       {"Dịch vụ ký tạm thời không dùng được; chưa có số nào bị cấp, hãy thử lại sau", "Signing is unavailable; no number was taken, try again later"},
	"error.issue.duplicate":  {"Số, ký hiệu này đã được dùng trong năm", "This number and symbol is already used this year"},
	"deliveries.title":       {"Nơi nhận và tình trạng gửi", "Deliveries"},
	"deliveries.none":        {"Văn bản chưa được gửi đến nơi nào.", "The document has not been sent anywhere."},
	"deliveries.recipient":   {"Nơi nhận", "Recipient"},
	"deliveries.channel":     {"Cách gửi", "Channel"},
	"deliveries.status":      {"Tình trạng", "Status"},
	"deliveries.at":          {"Cập nhật", "Updated"},
	"deliveries.reason":      {"Lý do", "Reason"},
	"deliveries.link":        {"Nơi nhận, tình trạng gửi", "Deliveries"},
	"channel.internal":       {"Liên thông trong hệ thống", "Within this service"},
	"channel.email":          {"Thư điện tử", "E-mail"},
	"delivery.sent":          {"Đã gửi", "Sent"},
	"delivery.arrived":       {"Đã đến", "Arrived"},
	"delivery.completed":     {"Đã xử lý xong", "Completed"},
	"delivery.registered":    {"Đã vào sổ", "Registered"},
	"delivery.returned":      {"Bị trả lại", "Returned"},
	"delivery.recalled":      {"Đã thu hồi", "Recalled"},
	"registers.title":        {"Sổ đăng ký", "Registers"},
	"registers.kind":         {"Loại sổ", "Kind"},
	"registers.name":         {"Tên sổ", "Name"},
	"registers.code":         {"Ký hiệu", "Code"},
	"registers.types":        {"Loại văn bản", "Document types"},
	"registers.default":      {"mặc định", "default"},
	"registers.confidential": {"văn bản mật", "confidential"},
	"registers.open":         {"Xem sổ", "Open"},
	"registers.empty":        {"Cơ quan chưa có sổ nào.", "The organisation has no register."},
	"registers.entries":      {"Các văn bản trong sổ năm %d", "Entries of %d"},
	"registers.noentries":    {"Không có văn bản nào khớp.", "No entry matches."},
	"registers.export":       {"Xuất sổ", "Export"},
	"registers.xlsx":         {"Tải về Excel (XLSX)", "Download Excel (XLSX)"},
	"registers.pdf":          {"Tải về PDF", "Download PDF"},
	"registers.print":        {"In sổ", "Print"},
	"registers.print.hint":   {"Trang này có kiểu in riêng: dùng lệnh In của trình duyệt (Ctrl+P) để in sổ.", "This page prints as a register: use the browser's Print (Ctrl+P)."},
	"registers.count":        {"%d văn bản", "%d entries"},
	"registers.q":            {"Tìm trong sổ", "Search the register"},
	"registers.q.hint":       {"Số, ký hiệu, trích yếu, người ký hoặc nơi nhận; có dấu hay không dấu", "Number, subject, signer or recipients; with or without diacritics"},
	"registers.month":        {"Tháng", "Month"},
	"kind.outgoing":          {"Sổ văn bản đi", "Outgoing documents"},
	"kind.incoming":          {"Sổ văn bản đến", "Incoming documents"},
	"kind.copies":            {"Sổ bản sao", "Copies"},
	"kind.certified-copies":  {"Sổ chứng thực bản sao", "Certified copies"},
	"col.number":             {"Số, ký hiệu văn bản", "Number and symbol"},
	"col.date":               {"Ngày tháng văn bản", "Date"},
	"col.subject":            {"Tên loại và trích yếu nội dung", "Type and subject"},
	"col.signer":             {"Người ký", "Signer"},
	"col.recipients":         {"Nơi nhận văn bản", "Recipients"},
	"col.kept":               {"Đơn vị, người nhận bản lưu", "Copies kept by"},
	"col.copies":             {"Số lượng bản", "Copies"},
	"col.note":               {"Ghi chú", "Note"},
})

type issuingData struct {
	Waiting, Issued []documents.Document
}

// issuingQueue lists the organisation's signed documents awaiting issuing
// (the clerk sees every document of the organisation), and the latest
// issued ones.
func (u *UI) issuingQueue(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	if !isClerk(p) {
		u.fail(w, r, http.StatusForbidden, u.tr(r, "error.forbidden"))
		return
	}
	var d issuingData
	var err error
	if d.Waiting, _, err = u.cfg.Docs.List(r.Context(), p, documents.Filter{Status: documents.StatusSigned, Limit: 100}); err == nil {
		d.Issued, _, err = u.cfg.Docs.List(r.Context(), p, documents.Filter{Status: documents.StatusIssued, Limit: 10})
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "issuing", "issuing.title", d)
}

type issueData struct {
	Doc       documents.Document
	Preview   register.NumberPreview
	Registers []storage.Register
	Register  string // the register chosen ("" automatic)
	// RegisterRefused: the register chosen was refused; its choice is
	// shown (and linked from the refusal) even with one register to pick.
	RegisterRefused bool
	Orgs            []storage.Organization
	Chosen          map[string]bool
	Emails          string
	Kept            string
}

func (u *UI) issuePage(w http.ResponseWriter, r *http.Request) {
	d := issueData{Register: r.URL.Query().Get("register"), Chosen: map[string]bool{}}
	u.showIssue(w, r, http.StatusOK, "", &d)
}

// showIssue writes the issue form with the number issuing would assign
// now. A register that does not fit the document is said above the form,
// which then previews the automatic choice.
func (u *UI) showIssue(w http.ResponseWriter, r *http.Request, status int, errMsg string, d *issueData) {
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if u.cfg.Registers == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	var err error
	if d.Doc, err = u.cfg.Docs.Get(r.Context(), p, id); err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Preview, err = u.cfg.Registers.Preview(r.Context(), p, id, d.Register)
	var in *accounts.InputError
	if errors.As(err, &in) && d.Register != "" {
		status, errMsg = http.StatusUnprocessableEntity, u.inputWords(r, err, in)
		d.Register, d.RegisterRefused = "", true
		d.Preview, err = u.cfg.Registers.Preview(r.Context(), p, id, "")
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	if d.Orgs, err = u.cfg.Registers.Destinations(r.Context(), p); err != nil {
		u.failErr(w, r, err)
		return
	}
	all, err := u.cfg.Registers.List(r.Context(), p, d.Doc.OrganizationID)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	for _, reg := range all {
		if reg.Kind == d.Preview.Register.Kind {
			d.Registers = append(d.Registers, reg)
		}
	}
	pg := u.page(r, "issue.title")
	pg.Data, pg.Error = d, errMsg
	if r.Method != http.MethodGet {
		pg.Path = "/documents/" + id + "/issue"
	}
	u.write(w, r, status, "issue", pg)
}

// parseRecipients reads the e-mail recipients, one "Name <address>" a
// line; the line number of the first that is not one is returned.
func parseRecipients(text string) ([]register.Recipient, int) {
	var out []register.Recipient
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		a, err := mail.ParseAddress(line)
		if err != nil || strings.TrimSpace(a.Name) == "" {
			return nil, i + 1
		}
		out = append(out, register.Recipient{Name: strings.TrimSpace(a.Name), Email: a.Address})
	}
	return out, 0
}

func (u *UI) issueForm(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 256<<10) {
		return
	}
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	f := r.PostForm
	d := issueData{Register: f.Get("register_id"), Chosen: map[string]bool{}, Emails: f.Get("emails"), Kept: f.Get("copies_kept")}
	req := register.IssueRequest{RegisterID: d.Register, CopiesKept: d.Kept}
	for _, org := range f["orgs"] {
		d.Chosen[org] = true
		req.Recipients = append(req.Recipients, register.Recipient{OrganizationID: org})
	}
	mails, bad := parseRecipients(d.Emails)
	if bad > 0 {
		refuseField(r, "emails")
		u.showIssue(w, r, http.StatusUnprocessableEntity, u.tr(r, "issue.error.email", bad), &d)
		return
	}
	req.Recipients = append(req.Recipients, mails...)
	if len(req.Recipients) == 0 {
		// The service's own reason, worded once; the page asks no
		// service for what it sees itself.
		refuseField(r, reasonFieldRecipients)
		u.showIssue(w, r, http.StatusUnprocessableEntity, u.tr(r, "refusal.issue.recipients-none"), &d)
		return
	}
	if u.cfg.Registers == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	out, err := u.cfg.Registers.Issue(r.Context(), p, id, req)
	if errors.Is(err, register.ErrNotSigned) {
		// The form posted again (a double click, the back button, a
		// colleague's page left open) finds the document issued: where
		// it went is the answer, not a refusal saying it is unsigned.
		if doc, gerr := u.cfg.Docs.Get(r.Context(), p, id); gerr == nil && doc.Status == documents.StatusIssued && doc.Number != nil {
			http.Redirect(w, r, "/documents/"+url.PathEscape(id)+"/deliveries?"+url.Values{"already": {*doc.Number}}.Encode(), http.StatusSeeOther)
			return
		}
	}
	var in *accounts.InputError
	if errors.As(err, &in) {
		u.showIssue(w, r, http.StatusUnprocessableEntity, u.inputWords(r, err, in), &d)
		return
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	q := url.Values{"issued": {out.Symbol}}
	if len(out.Warnings) > 0 {
		// The page words the warning itself: the service's text is the
		// API's, and a query's text is not the service's to show.
		q.Set("clash", "1")
	}
	http.Redirect(w, r, "/documents/"+url.PathEscape(id)+"/deliveries?"+q.Encode(), http.StatusSeeOther)
}

type deliveriesData struct {
	Doc        documents.Document
	Deliveries []register.Delivery
	Issued     string
	// Already: the issue form was posted again after the document was
	// issued (as this number); nothing was issued twice.
	Already  string
	Warnings []string
	// CanRecall: a clerk of the issuing organisation may recall the
	// issued document (thu hồi); RecallReason is what its field holds,
	// Recalled that it was just recalled.
	CanRecall    bool
	RecallReason string
	Recalled     bool
}

func (u *UI) deliveriesPage(w http.ResponseWriter, r *http.Request) {
	u.showDeliveries(w, r, http.StatusOK, "", "")
}

// recallForm recalls (thu hồi) the issued document with the reason
// typed, as POST /api/v1/documents/{id}/recall does; the service
// authorizes it (a clerk of the issuing organisation). A refused recall
// shows the deliveries again with the reason kept.
func (u *UI) recallForm(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 64<<10) {
		return
	}
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if u.cfg.Registers == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	reason := r.PostForm.Get("reason")
	if _, err := u.cfg.Registers.Recall(r.Context(), p, id, reason); err != nil {
		u.formRefused(w, r, err, func(status int, msg string) { u.showDeliveries(w, r, status, msg, reason) }, http.StatusConflict)
		return
	}
	http.Redirect(w, r, "/documents/"+url.PathEscape(id)+"/deliveries?recalled=1", http.StatusSeeOther)
}

// showDeliveries writes the deliveries page with status: errMsg is a
// refused recall's reason, reason what its field held.
func (u *UI) showDeliveries(w http.ResponseWriter, r *http.Request, status int, errMsg, reason string) {
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if u.cfg.Registers == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	d := deliveriesData{RecallReason: reason}
	var err error
	if d.Doc, err = u.cfg.Docs.Get(r.Context(), p, id); err != nil {
		u.failErr(w, r, err)
		return
	}
	if d.Deliveries, err = u.cfg.Registers.Deliveries(r.Context(), p, id); err != nil {
		u.failErr(w, r, err)
		return
	}
	// The flash after issuing shows only what the document holds.
	if s := r.URL.Query().Get("issued"); s != "" && d.Doc.Number != nil && *d.Doc.Number == s {
		d.Issued = s
		if r.URL.Query().Get("clash") != "" {
			d.Warnings = []string{u.tr(r, "issue.warning.clash", s)}
		}
	}
	if s := r.URL.Query().Get("already"); s != "" && d.Doc.Number != nil && *d.Doc.Number == s {
		d.Already = s
	}
	d.Recalled = r.Method == http.MethodGet && r.URL.Query().Get("recalled") != "" && d.Doc.Status == documents.StatusRecalled
	d.CanRecall = d.Doc.Status == documents.StatusIssued && isClerk(p) && p.Member(d.Doc.OrganizationID)
	u.renderErr(w, r, status, "deliveries", "deliveries.title", errMsg, d)
}

type registersData struct {
	adminData
	Registers []storage.Register
	Year      int
}

func (u *UI) registersPage(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	d := registersData{adminData: adminData{Tab: "registers"}, Year: register.Year(nowFunc())}
	if err := u.adminOrg(r, p, &d.adminData); err != nil {
		u.failErr(w, r, err)
		return
	}
	var err error
	if d.Registers, err = u.registerList(r, p, d.OrgID); err != nil {
		u.failErr(w, r, err)
		return
	}
	// A certified-copies register is listed to those who may open it.
	d.Registers = slices.DeleteFunc(d.Registers, func(reg storage.Register) bool {
		return reg.Kind == storage.RegisterCertifiedCopies && !mayReadCertified(p, reg.OrganizationID)
	})
	u.render(w, r, http.StatusOK, "registers", "registers.title", d)
}

func (u *UI) registerList(r *http.Request, p accounts.Principal, orgID string) ([]storage.Register, error) {
	if u.cfg.Registers == nil {
		return nil, storage.ErrNotFound
	}
	return u.cfg.Registers.List(r.Context(), p, orgID)
}

type registerData struct {
	Register          storage.Register
	Year              int
	Years             []int
	Q, Type, Month    string
	Types             []option
	Entries           []storage.RegisterEntry
	Total             int
	XLSXURL, PDFURL   string
	Months            []int
	PrintedAt         time.Time
	FilteredForExport bool
}

// registerPage shows a register's entries of a year in the columns of
// Decree 30 Appendix IV, filtered by text, type and month; the export
// links are the API's, whole year.
func (u *UI) registerPage(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	if u.cfg.Registers == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	q := r.URL.Query()
	year := 0
	if s := q.Get("year"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1900 || n > 9999 {
			u.fail(w, r, http.StatusBadRequest, u.tr(r, "error.badform"))
			return
		}
		year = n
	}
	reg, year, entries, err := u.cfg.Registers.Entries(r.Context(), p, chi.URLParam(r, "id"), year)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	if reception.IsIncoming(reg) && u.cfg.Reception != nil {
		u.incomingRegister(w, r, reg, year) // reception.go
		return
	}
	if reg.Kind == storage.RegisterCertifiedCopies {
		u.certifiedRegister(w, r, reg, year) // register_certified.go
		return
	}
	d := registerData{Register: reg, Year: year, Q: q.Get("q"), Type: q.Get("type"), Month: q.Get("month"), Total: len(entries), PrintedAt: nowFunc()}
	if d.Types, err = u.options(r, "document_types"); err != nil {
		u.failErr(w, r, err)
		return
	}
	for y := register.Year(nowFunc()); y >= register.Year(nowFunc())-5; y-- {
		d.Years = append(d.Years, y)
	}
	if !slices.Contains(d.Years, year) {
		d.Years = append(d.Years, year)
	}
	for m := 1; m <= 12; m++ {
		d.Months = append(d.Months, m)
	}
	month, _ := strconv.Atoi(d.Month)
	needle := documents.Fold(d.Q)
	for _, e := range entries {
		if d.Type != "" && e.Type != d.Type {
			continue
		}
		if month > 0 && int(e.IssuedAt.In(vietnam).Month()) != month {
			continue
		}
		if needle != "" && !strings.Contains(documents.Fold(strings.Join([]string{e.Symbol, e.TypeName, e.Subject, e.SignerName, e.Recipients, e.CopiesKept}, " ")), needle) {
			continue
		}
		d.Entries = append(d.Entries, e)
	}
	base := "/api/v1/registers/" + url.PathEscape(reg.ID) + "/entries?year=" + strconv.Itoa(year) + "&format="
	d.XLSXURL, d.PDFURL = base+"xlsx", base+"pdf"
	pg := u.page(r, "registers.title")
	pg.Title, pg.Data = reg.Name, d
	u.write(w, r, http.StatusOK, "register", pg)
}
