package ui

import (
	"fmt"
	"github.com/google/uuid"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/storage"
)

// documentsSection: the documents list with search and filters, the upload
// page, and the document page with its preview and signature panel.
var documentsSection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Get("/documents", u.documentList)
			r.Get("/documents/new", u.uploadPage)
			r.Post("/documents/new", u.uploadForm)
			r.Get("/documents/{id}", u.documentPage)
			r.Post("/documents/{id}/versions", u.versionForm)
			r.With(u.allowedTo(accounts.Verify)).Get("/documents/{id}/versions/{n}/signatures", u.signaturePanel)
		})
	},
	nav: []navEntry{{Path: "/documents", Prefix: "/documents/", Key: "nav.documents", show: func(accounts.Principal) bool { return true }}},
}

var _ = addMessages(map[string][2]string{
	"nav.documents":         {"Văn bản", "Documents"},
	"docs.title":            {"Văn bản", "Documents"},
	"docs.search":           {"Tìm kiếm", "Search"},
	"docs.search.hint":      {"Gõ có dấu hay không dấu đều được, ví dụ: quyet dinh", "With or without diacritics, e.g. quyet dinh"},
	"docs.filter":           {"Lọc", "Filter"},
	"docs.filter.clear":     {"Bỏ lọc", "Clear filters"},
	"docs.type":             {"Loại văn bản", "Type"},
	"docs.status":           {"Trạng thái", "Status"},
	"docs.unit":             {"Đơn vị", "Unit"},
	"docs.from":             {"Từ ngày", "From"},
	"docs.to":               {"Đến ngày", "To"},
	"docs.any":              {"Tất cả", "Any"},
	"docs.subject":          {"Trích yếu", "Subject"},
	"docs.number":           {"Số, ký hiệu", "Number"},
	"docs.created":          {"Ngày tạo", "Created"},
	"docs.updated":          {"Cập nhật", "Updated"},
	"docs.versions":         {"Phiên bản", "Versions"},
	"docs.urgency":          {"Độ khẩn", "Urgency"},
	"docs.confidential":     {"Độ mật", "Confidentiality"},
	"docs.empty":            {"Không có văn bản nào khớp.", "No document matches."},
	"docs.results":          {"Danh sách văn bản", "Documents found"},
	"docs.new":              {"Tải lên dự thảo", "Upload a draft"},
	"status.draft":          {"Dự thảo", "Draft"},
	"upload.title":          {"Tải lên dự thảo", "Upload a draft"},
	"upload.file":           {"Tệp PDF", "PDF file"},
	"upload.drop":           {"Kéo thả tệp PDF vào đây, hoặc bấm để chọn tệp", "Drop a PDF here, or click to choose a file"},
	"upload.submit":         {"Tải lên", "Upload"},
	"upload.progress":       {"Tiến độ tải lên", "Upload progress"},
	"upload.done":           {"Đã tải lên. Đang mở văn bản…", "Uploaded. Opening the document…"},
	"upload.failed":         {"Không tải lên được", "Upload failed"},
	"upload.unit.none":      {"(không thuộc đơn vị nào)", "(no unit)"},
	"version.new":           {"Tải lên phiên bản mới", "Upload a new version"},
	"version.file":          {"Tệp PDF của phiên bản mới", "PDF file of the new version"},
	"version.hint":          {"Sửa theo ý kiến rồi tải lên bản đã sửa, sau đó trình lại.", "Make the changes asked for, upload the corrected file, then resubmit."},
	"done.version":          {"Đã tải lên phiên bản mới.", "The new version was uploaded."},
	"upload.maxsize":        {"Tối đa %s.", "At most %s."},
	"doc.meta":              {"Thông tin văn bản", "Document details"},
	"doc.version":           {"Phiên bản %d", "Version %d"},
	"doc.versions":          {"Các phiên bản", "Versions"},
	"doc.file":              {"Tệp", "File"},
	"doc.size":              {"Dung lượng", "Size"},
	"doc.signed":            {"Đã ký", "Signed"},
	"doc.unsigned":          {"Chưa ký", "Not signed"},
	"doc.download":          {"Tải xuống", "Download"},
	"doc.preview":           {"Xem trước", "Preview"},
	"doc.preview.label":     {"Trang %d của văn bản", "Page %d of the document"},
	"doc.preview.prev":      {"Trang trước", "Previous page"},
	"doc.preview.next":      {"Trang sau", "Next page"},
	"doc.preview.none":      {"Không xem trước được trong trình duyệt này; hãy tải tệp xuống.", "This browser cannot preview the file; download it instead."},
	"doc.viewing":           {"đang xem", "viewing"},
	"doc.open":              {"Xem", "View"},
	"doc.id":                {"Mã văn bản", "Document ID"},
	"sig.title":             {"Chữ ký số", "Digital signatures"},
	"sig.loading":           {"Đang kiểm tra chữ ký…", "Checking the signatures…"},
	"sig.open":              {"Kiểm tra chữ ký", "Check the signatures"},
	"sig.none":              {"Phiên bản này chưa có chữ ký số.", "This version has no digital signature."},
	"sig.verdict":           {"Kết luận", "Verdict"},
	"sig.who":               {"Người ký", "Signer"},
	"sig.issuer":            {"Tổ chức cấp chứng thư", "Certificate issuer"},
	"sig.org":               {"Cơ quan, tổ chức", "Organisation"},
	"sig.validity":          {"Hiệu lực chứng thư", "Certificate valid"},
	"sig.validity.range":    {"từ %s đến %s", "from %s to %s"},
	"sig.form":              {"Hình thức ký, lý do", "Authority form, reason"},
	"sig.when":              {"Thời điểm ký", "Signed at"},
	"sig.when.ts":           {"theo dấu thời gian", "by timestamp"},
	"sig.when.claimed":      {"khai báo, không có dấu thời gian", "claimed, no timestamp"},
	"sig.level":             {"Mức chữ ký", "Level"},
	"sig.result":            {"Kết quả", "Result"},
	"sig.changes":           {"Thay đổi sau khi ký", "Changes after signing"},
	"sig.changes.none":      {"Không có thay đổi nào sau chữ ký này.", "Nothing changed after this signature."},
	"sig.changes.allowed":   {"Chỉ có thay đổi được phép (chữ ký sau, dấu thời gian, thông tin kiểm tra).", "Only allowed changes (later signatures, timestamps, validation data)."},
	"sig.changes.bad":       {"CÓ THAY ĐỔI KHÔNG ĐƯỢC PHÉP sau chữ ký này.", "DISALLOWED CHANGES after this signature."},
	"sig.changes.unknown":   {"Không phân tích được các thay đổi.", "The changes could not be analysed."},
	"sig.errors":            {"Lỗi", "Errors"},
	"sig.warnings":          {"Cảnh báo", "Warnings"},
	"sig.doc_ts":            {"Dấu thời gian tài liệu", "Document timestamp"},
	"sig.n":                 {"Chữ ký %d", "Signature %d"},
	"sig.report.pdf":        {"Báo cáo kiểm tra (PDF)", "Validation report (PDF)"},
	"sig.checked":           {"Kiểm tra lúc %s", "Checked at %s"},
	"sig.allowed":           {"được phép", "allowed"},
	"sig.disallowed":        {"không được phép", "not allowed"},
	"verdict.VALID":         {"Hợp lệ", "Valid"},
	"verdict.INVALID":       {"Không hợp lệ", "Invalid"},
	"verdict.INDETERMINATE": {"Chưa xác định", "Indeterminate"},
	"verdict.UNSIGNED":      {"Không có chữ ký", "Unsigned"},
	"ind.TOTAL-PASSED":      {"Đạt", "Total passed"},
	"ind.TOTAL-FAILED":      {"Không đạt", "Total failed"},
	"ind.INDETERMINATE":     {"Chưa xác định", "Indeterminate"},
})

// reference holds the names of a reference table's codes, sorted by code.
type option struct{ Code, Name string }

func (u *UI) options(r *http.Request, table string) ([]option, error) {
	m, err := storage.ReferenceCodes(r.Context(), u.cfg.DB.Pool, table)
	if err != nil {
		return nil, err
	}
	out := make([]option, 0, len(m))
	for c, n := range m {
		out = append(out, option{c, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

type listData struct {
	Q, Type, Status, Unit, From, To string
	Types                           []option
	Statuses                        []string
	Documents                       []documents.Document
	Next                            string
	Paged                           bool
	// CanUpload shows the upload link to whoever may upload.
	CanUpload bool
}

// documentStatuses are the states a filter offers; approval chains add
// theirs.
var documentStatuses = documents.Statuses

func (u *UI) documentList(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	q := r.URL.Query()
	d := listData{Q: q.Get("q"), Type: q.Get("type"), Status: q.Get("status"), Unit: q.Get("unit"), From: q.Get("from"), To: q.Get("to"),
		Statuses: documentStatuses, Paged: q.Get("cursor") != "", CanUpload: u.cfg.Docs.CanCreate(p) == nil}
	f := documents.Filter{Query: d.Q, Type: d.Type, Status: d.Status, Unit: d.Unit, Cursor: q.Get("cursor"), Limit: 25}
	var err error
	if f.From, err = parseDay(d.From, false); err == nil {
		f.To, err = parseDay(d.To, true)
	}
	if err == nil {
		d.Types, err = u.options(r, "document_types")
	}
	if err == nil {
		d.Documents, d.Next, err = u.cfg.Docs.List(r.Context(), p, f)
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "documents", "docs.title", d)
}

// parseDay reads a date field (YYYY-MM-DD, a day in Vietnam); an end date
// includes its whole day.
func parseDay(s string, end bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, vietnam)
	if err != nil {
		return nil, &documents.InputError{Kind: documents.ErrInvalidField, Detail: fmt.Sprintf("date %q: use YYYY-MM-DD", s)}
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return &t, nil
}

// The urgency and confidentiality levels of Decree 30, most common first
// (the reference tables hold the same codes; CheckMeta validates them).
var (
	urgencyLevels         = []string{"thuong", "khan", "thuong-khan", "hoa-toc"}
	confidentialityLevels = []string{"thuong", "mat", "toi-mat", "tuyet-mat"}
)

var _ = addMessages(map[string][2]string{
	"urgency.thuong":      {"Thường", "Normal"},
	"urgency.khan":        {"Khẩn", "Urgent"},
	"urgency.thuong-khan": {"Thượng khẩn", "Very urgent"},
	"urgency.hoa-toc":     {"Hỏa tốc", "Flash"},
	"conf.thuong":         {"Thường", "Unclassified"},
	"conf.mat":            {"Mật", "Confidential"},
	"conf.toi-mat":        {"Tối mật", "Secret"},
	"conf.tuyet-mat":      {"Tuyệt mật", "Top secret"},
})

type uploadData struct {
	Types                        []option
	Urgencies, Confidentialities []string
	Units                        []storage.Unit
	UploadURL                    string
	MaxUpload                    int64
	// Typed is what the form holds: empty but for the type at first, what
	// was sent after a refusal.
	Typed documents.Meta
	// Key names this rendering's upload (the API's Idempotency-Key): the
	// form posted twice makes one document.
	Key string
}

func (u *UI) uploadPage(w http.ResponseWriter, r *http.Request) {
	u.showUpload(w, r, http.StatusOK, "", documents.Meta{})
}

// showUpload writes the upload form holding typed: what a refused upload
// said, so nothing typed is lost (a file input cannot be filled again).
func (u *UI) showUpload(w http.ResponseWriter, r *http.Request, status int, errMsg string, typed documents.Meta) {
	p, _ := principal(r.Context())
	if err := u.cfg.Docs.CanCreate(p); err != nil {
		u.failErr(w, r, err)
		return
	}
	d := uploadData{UploadURL: u.cfg.UploadURL, MaxUpload: u.cfg.Docs.MaxUpload, Typed: typed, Key: uuid.NewString()}
	if d.Typed.Type == "" {
		d.Typed.Type = "CV" // công văn, the commonest
	}
	d.Urgencies, d.Confidentialities = urgencyLevels, confidentialityLevels
	var err error
	if d.Types, err = u.options(r, "document_types"); err != nil {
		u.failErr(w, r, err)
		return
	}
	units, err := u.cfg.Accounts.Units(r.Context(), p, p.OrganizationID)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	for _, un := range units {
		if p.InUnit(un.ID) {
			d.Units = append(d.Units, un)
		}
	}
	u.renderErr(w, r, status, "upload", "upload.title", errMsg, d)
}

// uploadForm is the upload without scripts: the form posts here, the
// document is created like POST /api/v1/documents, and the browser goes to
// its page.
func (u *UI) uploadForm(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	doc, typed, err := u.cfg.CreateDocument(w, r, p)
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			u.showUpload(w, r, status, msg, typed)
		})
		return
	}
	http.Redirect(w, r, "/documents/"+doc.ID, http.StatusSeeOther)
}

// versionForm adds the posted PDF as the document's new version (a
// drafter answering a return) and goes back to the document page; a
// refused file shows the page again with its reason.
func (u *UI) versionForm(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if u.cfg.AddVersion == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	if _, err := u.cfg.AddVersion(w, r, p, id); err != nil {
		u.formRefused(w, r, err, func(status int, msg string) { u.showDocument(w, r, id, status, msg, chain.ActionRequest{}) })
		return
	}
	http.Redirect(w, r, back(id, "version"), http.StatusSeeOther)
}

type documentData struct {
	Doc      documents.Document
	Versions []documents.Version
	Shown    documents.Version
	FileURL  string
	Preview  bool
	// Chain is the approval chain's panel and forms (chain.go).
	Chain *chainPanel
	// CanIssue: a clerk of the organisation may issue the signed
	// document (issuing.go); Issued links its deliveries.
	CanIssue, Issued bool
	// Handling is an incoming document's handling panel (handling.go).
	Handling *handlingPanel
}

func (u *UI) documentPage(w http.ResponseWriter, r *http.Request) {
	u.showDocument(w, r, chi.URLParam(r, "id"), http.StatusOK, "", chain.ActionRequest{})
}

// showDocument writes the document page with status: errMsg is the reason
// an action form was refused, typed what that form held.
func (u *UI) showDocument(w http.ResponseWriter, r *http.Request, id string, status int, errMsg string, typed chain.ActionRequest) {
	p, _ := principal(r.Context())
	doc, err := u.cfg.Docs.Get(r.Context(), p, id)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	vs, err := u.cfg.Docs.Versions(r.Context(), p, id)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	if len(vs) == 0 {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	d := documentData{Doc: doc, Versions: vs, Shown: vs[len(vs)-1], Preview: u.assets.has("vendor/pdfjs/pdf.min.mjs")}
	if s := r.URL.Query().Get("v"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > len(vs) {
			u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
			return
		}
		d.Shown = vs[n-1]
	}
	d.CanIssue = u.cfg.Registers != nil && doc.Status == documents.StatusSigned && isClerk(p) && p.Member(doc.OrganizationID)
	d.Issued = u.cfg.Registers != nil && doc.Status == documents.StatusIssued
	d.FileURL = fmt.Sprintf("/api/v1/documents/%s/versions/%d/file", doc.ID, d.Shown.Number)
	if d.Chain, err = u.loadChain(r.Context(), p, doc); err != nil {
		u.failErr(w, r, err)
		return
	}
	if d.Handling, err = u.loadHandling(r, p, doc); err != nil {
		u.failErr(w, r, err)
		return
	}
	if d.Chain != nil {
		d.Chain.Typed = typed
		d.Chain.CanAddVersion = d.Chain.CanSubmit && u.cfg.AddVersion != nil
		if done := r.URL.Query().Get("done"); done != "" && r.Method == http.MethodGet {
			if _, ok := messages["vi"]["done."+done]; ok {
				d.Chain.Flash = u.tr(r, "done."+done)
			}
		}
	}
	pg := u.page(r, "docs.title")
	pg.Title, pg.Data, pg.Error = doc.Subject, d, errMsg
	if r.Method != http.MethodGet {
		pg.Path = "/documents/" + doc.ID // where the language switch comes back to
	}
	u.write(w, r, status, "document", pg)
}

// signaturePanel verifies a stored version and shows each signature: who,
// in what authority form, when, at what level, the verdict, and what
// changed after it. htmx loads it into the document page.
func (u *UI) signaturePanel(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	// Version numbers are PostgreSQL integers: a larger one names nothing.
	n, err := strconv.ParseInt(chi.URLParam(r, "n"), 10, 32)
	if err != nil || n < 1 {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	id := chi.URLParam(r, "id")
	v, err := u.cfg.Docs.Version(r.Context(), p, id, int(n))
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	rep, err := u.cfg.VerifyVersion(r.Context(), v)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	pdf := fmt.Sprintf("/api/v1/documents/%s/versions/%d/verification?format=pdf&lang=%s", id, n, u.lang(r))
	u.render(w, r, http.StatusOK, "signatures", "sig.title", reportView{Report: rep, Lang: u.lang(r), PDFURL: pdf})
}
