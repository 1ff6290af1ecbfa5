package ui

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/scancheck"
	"github.com/vanthu/vanthu/storage"
)

// The certified-copy desk (chứng thực bản sao điện tử từ bản chính): the
// desk officer opens a request, uploads the scan and may refuse it on the
// grounds of Decree 23/2015 art. 22; the certifier reviews, sees the
// number certifying will take, certifies, and hands the citizen the
// receipt and the download link. The certify service authorizes every
// step; the pages only choose what to show.

func (u *UI) deskRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(u.signedIn, u.allowedTo(accounts.CertificationRead))
		r.Get("/certifications", u.deskQueue)
		r.Get("/certifications/new", u.deskNew)
		r.Post("/certifications/new", u.deskOpen)
		r.Get("/certifications/{id}", u.certificationPage)
		r.Post("/certifications/{id}/scan", u.certificationScan)
		r.Post("/certifications/{id}/refuse", u.certificationRefuse)
		r.Post("/certifications/{id}/certify", u.certificationCertify)
	})
}

// isDesk and isCertifier choose what the desk's pages offer.
func isDesk(p accounts.Principal) bool { return p.OrganizationID != "" && p.Has(storage.RoleDesk) }
func isCertifier(p accounts.Principal) bool {
	return p.OrganizationID != "" && p.Has(storage.RoleCertifier)
}

// groundCodes are the refusal grounds in the decree's order.
var groundCodes = []string{certify.GroundAltered, certify.GroundUnreadable, certify.GroundSecret, certify.GroundUnlawful, certify.GroundUnconfirmed}

var _ = addMessages(map[string][2]string{
	"nav.desk":                 {"Chứng thực bản sao", "Certified copies"},
	"desk.title":               {"Chứng thực bản sao từ bản chính", "Certified copies of originals"},
	"desk.intro":               {"Bộ phận một cửa tiếp nhận bản chính, quét và kiểm tra bản quét; người thực hiện chứng thực xem xét và ký chứng thực.", "The one-stop desk receives the original, scans and checks it; the certifier reviews and certifies."},
	"desk.new":                 {"Tiếp nhận yêu cầu mới", "Open a new request"},
	"desk.waiting":             {"Đang chờ xử lý", "Open requests"},
	"desk.waiting.certifier":   {"Chờ chứng thực", "Waiting to be certified"},
	"desk.done":                {"Đã xử lý gần đây", "Recently closed"},
	"desk.empty":               {"Không có yêu cầu nào.", "No request."},
	"desk.requester":           {"Người yêu cầu", "Requester"},
	"desk.idnumber":            {"Số giấy tờ tùy thân (CCCD, hộ chiếu)", "Identity card or passport number"},
	"desk.original":            {"Tên bản chính giấy tờ", "Name of the original"},
	"desk.original.hint":       {"Ví dụ: Bằng tốt nghiệp trung học phổ thông số A123456", "E.g. Upper secondary school diploma no. A123456"},
	"desk.pages":               {"Số trang của bản chính", "Pages of the original"},
	"desk.copies":              {"Số bản sao cần chứng thực", "Copies wanted"},
	"desk.received":            {"Thời điểm tiếp nhận", "Received at"},
	"desk.received.hint":       {"Giờ Việt Nam (+07:00); để trống là bây giờ.", "Vietnam time (+07:00); empty is now."},
	"desk.open":                {"Tiếp nhận", "Open the request"},
	"desk.status":              {"Tình trạng", "Status"},
	"desk.due":                 {"Hạn trả kết quả", "Due"},
	"desk.fee":                 {"Lệ phí", "Fee"},
	"desk.fee.rule":            {"2.000 đ/trang cho trang 1–2, 1.000 đ/trang từ trang 3, tối đa 200.000 đ/bản, nhân số bản.", "2,000 đ a page for pages 1–2, 1,000 đ a page from page 3, at most 200,000 đ a copy, times the copies."},
	"desk.open.link":           {"Xem", "Open"},
	"cstatus.received":         {"Chờ bản quét", "Waiting for the scan"},
	"cstatus.scanned":          {"Chờ chứng thực", "Waiting to be certified"},
	"cstatus.refused":          {"Từ chối", "Refused"},
	"cstatus.certified":        {"Đã chứng thực", "Certified"},
	"cert.title":               {"Yêu cầu chứng thực bản sao", "Certification request"},
	"cert.details":             {"Thông tin yêu cầu", "Request"},
	"cert.scan":                {"Bản quét bản chính", "Scan of the original"},
	"cert.scan.rule":           {"PDF 1.4 trở lên, ảnh màu, ít nhất 200 dpi ở tỷ lệ 100 %, đúng số trang của bản chính.", "PDF 1.4 or later, colour images of at least 200 dpi at 100 % scale, as many pages as the original."},
	"cert.scan.file":           {"Tệp bản quét (PDF)", "Scan file (PDF)"},
	"cert.scan.upload":         {"Tải lên và kiểm tra", "Upload and check"},
	"cert.scan.replace":        {"Tải lại bản quét khác", "Upload another scan"},
	"cert.scan.ok":             {"Bản quét đạt yêu cầu: %s, %s.", "The scan passed the check: %s, %s."},
	"cert.scan.none":           {"Chưa có bản quét.", "No scan yet."},
	"cert.scan.refused":        {"Bản quét không đạt yêu cầu, chưa được lưu:", "The scan was refused and not kept:"},
	"cert.scan.page":           {"Trang %d: %s", "Page %d: %s"},
	"cert.scan.file.whole":     {"Cả tệp: %s", "The file: %s"},
	"scanprob.resolution":      {"độ phân giải %.0f dpi, cần ít nhất 200 dpi", "%.0f dpi found, at least 200 dpi needed"},
	"scanprob.not_colour":      {"ảnh đen trắng hoặc xám, cần ảnh màu", "a black-and-white or grey image, colour needed"},
	"scanprob.no_image":        {"không có ảnh quét", "no scanned image"},
	"scanprob.pdf_version":     {"phiên bản PDF thấp hơn 1.4", "a PDF version older than 1.4"},
	"scanprob.not_pdf":         {"không phải tệp PDF", "not a PDF file"},
	"scanprob.unreadable_page": {"không đọc được trang", "the page cannot be read"},
	"cert.refuse":              {"Từ chối chứng thực", "Refuse"},
	"cert.refuse.intro":        {"Đánh dấu lý do theo Điều 22 Nghị định 23/2015/NĐ-CP; chỉ cần một lý do là yêu cầu bị từ chối.", "Tick the grounds of Decree 23/2015 art. 22; any one refuses the request."},
	"cert.refuse.note":         {"Ghi chú (không bắt buộc)", "Note (optional)"},
	"cert.refuse.submit":       {"Từ chối với lý do đã chọn", "Refuse on the chosen grounds"},
	"cert.refuse.none":         {"Chọn ít nhất một lý do từ chối.", "Tick at least one ground."},
	"cert.refused":             {"Yêu cầu đã bị từ chối", "The request was refused"},
	"cert.refused.at":          {"Từ chối lúc %s", "Refused at %s"},
	"cert.certify":             {"Chứng thực", "Certify"},
	"cert.number":              {"Số chứng thực sẽ cấp", "Certification number to be assigned"},
	"cert.number.note":         {"Số được cấp khi bấm Chứng thực; nếu trong lúc đó có yêu cầu khác được chứng thực trước, yêu cầu này nhận số kế tiếp.", "The number is taken when you press Certify; if another request is certified first, this one takes the next number."},
	"cert.certify.note":        {"Khi chứng thực, hệ thống ghi lời chứng vào trang cuối, ký số của người chứng thực bằng khóa của mình, rồi ký số của cơ quan, vào sổ chứng thực và lập biên nhận.", "Certifying draws the statement on the last page, signs with your own key, then with the organisation's seal key, enters the register and makes the receipt."},
	"cert.certify.submit":      {"Chứng thực số %d", "Certify as number %d"},
	"cert.certified":           {"Đã chứng thực số %d, quyển số %s.", "Certified as number %d, book %s."},
	"cert.book":                {"Số chứng thực, quyển số", "Number and book"},
	"cert.certifier":           {"Người chứng thực", "Certifier"},
	"cert.certified.at":        {"Ngày chứng thực", "Certified at"},
	"cert.ontime":              {"Đúng hạn", "On time"},
	"cert.late":                {"Quá hạn", "Late"},
	"cert.receipt":             {"Tải biên nhận (PDF, có mã QR)", "Download the receipt (PDF with a QR code)"},
	"cert.links":               {"Đường dẫn tải bản sao cho người yêu cầu", "The citizen's download links"},
	"cert.links.note":          {"Đường dẫn chỉ hiện một lần tại đây và trên biên nhận; hết hạn lúc %s. Hãy in hoặc gửi biên nhận cho người yêu cầu.", "The links are shown only once, here and on the receipt; they expire at %s. Print or send the receipt to the citizen."},
	"cert.copy":                {"Bản sao số %d", "Copy %d"},
	"cert.back":                {"Về danh sách yêu cầu", "Back to the requests"},
	"cert.error.state":         {"Yêu cầu không ở bước này", "The request is not at this step"},
	"cert.error.nokey":         {"Người chứng thực chưa có khóa ký số dùng được", "The certifier has no usable key"},
	"cert.error.received":      {"Thời điểm tiếp nhận không đúng định dạng ngày giờ.", "The received time is not a date and time."},
	"cert.error.number":        {"Số trang và số bản phải là số nguyên dương.", "Pages and copies are positive whole numbers."},
	"cert.error.file":          {"Chọn tệp PDF bản quét.", "Choose the scan's PDF file."},
})

// Dong shows an amount of đồng: 10.000 đ in Vietnamese, 10,000 VND in
// English.
func (p *Page) Dong(n int64) string {
	s := strconv.FormatInt(n, 10)
	sep := "."
	if p.Lang == "en" {
		sep = ","
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if p.Lang == "en" {
		return b.String() + " VND"
	}
	return b.String() + " đ"
}

type deskData struct {
	Open, Closed []storage.Certification
	Desk         bool
	Certifier    bool
}

func (u *UI) deskQueue(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	if u.cfg.Certify == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	all, err := u.cfg.Certify.List(r.Context(), p)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d := deskData{Desk: isDesk(p), Certifier: isCertifier(p)}
	for _, c := range all {
		switch {
		case c.Status == storage.CertificationScanned || c.Status == storage.CertificationReceived && !d.Certifier:
			d.Open = append(d.Open, c)
		case c.Status != storage.CertificationReceived && len(d.Closed) < 20:
			d.Closed = append(d.Closed, c)
		}
	}
	u.render(w, r, http.StatusOK, "desk", "desk.title", d)
}

type deskNewData struct {
	Name, IDNumber, Original, Pages, Copies, Received string
	Now                                               string
}

func (u *UI) deskNew(w http.ResponseWriter, r *http.Request) {
	u.showDeskNew(w, r, http.StatusOK, "", deskNewData{Pages: "1", Copies: "1"})
}

func (u *UI) showDeskNew(w http.ResponseWriter, r *http.Request, status int, errMsg string, d deskNewData) {
	p, _ := principal(r.Context())
	if !isDesk(p) {
		u.fail(w, r, http.StatusForbidden, u.tr(r, "error.forbidden"))
		return
	}
	d.Now = nowFunc().In(vietnam).Format("2006-01-02T15:04")
	pg := u.page(r, "desk.new")
	pg.Error, pg.Data = errMsg, d
	pg.Path = "/certifications/new"
	u.write(w, r, status, "desk_new", pg)
}

func (u *UI) deskOpen(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 64<<10) {
		return
	}
	p, _ := principal(r.Context())
	f := r.PostForm
	d := deskNewData{Name: f.Get("requester_name"), IDNumber: f.Get("requester_id_number"), Original: f.Get("original_name"),
		Pages: f.Get("page_count"), Copies: f.Get("copies"), Received: f.Get("received_at")}
	req := certify.NewRequest{RequesterName: d.Name, RequesterIDNumber: d.IDNumber, OriginalName: d.Original}
	var err1, err2 error
	req.PageCount, err1 = strconv.Atoi(strings.TrimSpace(d.Pages))
	req.Copies, err2 = strconv.Atoi(strings.TrimSpace(d.Copies))
	if err1 != nil || err2 != nil {
		refuseField(r, "copies")
		if err1 != nil {
			refuseField(r, "page_count")
		}
		u.showDeskNew(w, r, http.StatusUnprocessableEntity, u.tr(r, "cert.error.number"), d)
		return
	}
	if s := strings.TrimSpace(d.Received); s != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", s, vietnam)
		if err != nil {
			refuseField(r, "received_at")
			u.showDeskNew(w, r, http.StatusUnprocessableEntity, u.tr(r, "cert.error.received"), d)
			return
		}
		req.ReceivedAt = &t
	}
	if u.cfg.Certify == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	c, err := u.cfg.Certify.Open(r.Context(), p, req)
	var in *accounts.InputError
	if errors.As(err, &in) {
		u.showDeskNew(w, r, http.StatusUnprocessableEntity, u.inputWords(r, err, in), d)
		return
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/certifications/"+url.PathEscape(c.ID), http.StatusSeeOther)
}

type groundOption struct {
	Code, Text string
	Checked    bool
}

type certData struct {
	C          certify.View
	Desk       bool
	Certifier  bool
	Preview    *certify.NumberPreview
	Problems   []string // a refused scan's, readable
	Grounds    []groundOption
	Note       string
	Reasons    []string // a refused request's grounds, worded
	ReceiptURL string
	// Result is set once, right after certifying: the links carry the
	// token, which is never kept.
	Result *certify.Certified
}

// certificationPage shows a request at its step, with the forms the
// viewer's role may use.
func (u *UI) certificationPage(w http.ResponseWriter, r *http.Request) {
	u.showCertification(w, r, http.StatusOK, "", &certData{})
}

func (u *UI) showCertification(w http.ResponseWriter, r *http.Request, status int, errMsg string, d *certData) {
	p, _ := principal(r.Context())
	if u.cfg.Certify == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	id := chi.URLParam(r, "id")
	var err error
	if d.C, err = u.cfg.Certify.Get(r.Context(), p, id); err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Desk, d.Certifier = isDesk(p), isCertifier(p)
	open := d.C.Status == storage.CertificationReceived || d.C.Status == storage.CertificationScanned
	if open && d.Grounds == nil {
		for _, g := range groundCodes {
			d.Grounds = append(d.Grounds, groundOption{Code: g, Text: certify.Grounds[g]})
		}
	}
	if d.C.Status == storage.CertificationScanned && d.Certifier && d.Result == nil {
		// The number certifying would take now; a refusal to preview (no
		// register) shows when certifying.
		if pv, err := u.cfg.Certify.Preview(r.Context(), p, id); err == nil {
			d.Preview = &pv
		}
	}
	for _, g := range d.C.RefusalReasons {
		d.Reasons = append(d.Reasons, certify.Grounds[g])
	}
	if d.C.Status == storage.CertificationCertified {
		d.ReceiptURL = "/api/v1/certifications/" + url.PathEscape(d.C.ID) + "/receipt"
	}
	pg := u.page(r, "cert.title")
	pg.Error, pg.Data = errMsg, d
	pg.Path = "/certifications/" + id
	u.write(w, r, status, "certification", pg)
}

// scanProblems words a refused scan's problems page by page.
func (u *UI) scanProblems(r *http.Request, ref *scancheck.Refusal) []string {
	var out []string
	for _, pr := range ref.Problems {
		var what string
		if pr.Code == scancheck.CodeResolution {
			what = u.tr(r, "scanprob.resolution", pr.DPI)
		} else if t := u.tr(r, "scanprob."+pr.Code); t != "scanprob."+pr.Code {
			what = t
		} else {
			what = pr.Message
		}
		if pr.Page > 0 {
			out = append(out, u.tr(r, "cert.scan.page", pr.Page, what))
		} else {
			out = append(out, u.tr(r, "cert.scan.file.whole", what))
		}
	}
	return out
}

// readScan streams the multipart form's part named file to use; fields
// before it are collected into fields. It reports false when there is no
// file (or it is empty of a name).
func (u *UI) readScan(w http.ResponseWriter, r *http.Request, fields map[string]string, use func(part *multipart.Part) error) (bool, error) {
	limit := u.cfg.Docs.MaxUpload
	if limit <= 0 {
		limit = 100 << 20
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return false, &documents.InputError{Kind: documents.ErrMalformedBody, Detail: "send the form as multipart/form-data"}
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, &documents.InputError{Kind: documents.ErrMalformedBody, Detail: err.Error()}
		}
		name := part.FormName()
		if name == "file" {
			if part.FileName() == "" {
				return false, nil
			}
			return true, use(part)
		}
		b, err := io.ReadAll(io.LimitReader(part, 4<<10))
		if err != nil {
			return false, &documents.InputError{Kind: documents.ErrMalformedBody, Detail: err.Error()}
		}
		if _, ok := fields[name]; ok {
			fields[name] = string(b)
		}
	}
}

func (u *UI) certificationScan(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if u.cfg.Certify == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	// Refused before a byte of the scan is read.
	c, err := u.cfg.Certify.Get(r.Context(), p, id)
	if err == nil {
		err = accounts.Authorize(p, accounts.CertificationReceive, accounts.Target{OrgID: c.OrganizationID})
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	got, err := u.readScan(w, r, map[string]string{}, func(part *multipart.Part) error {
		_, err := u.cfg.Certify.Scan(r.Context(), p, id, part, part.FileName())
		return err
	})
	if err == nil && !got {
		u.showCertification(w, r, http.StatusUnprocessableEntity, u.tr(r, "cert.error.file"), &certData{})
		return
	}
	var se *certify.ScanError
	var in *accounts.InputError
	switch {
	case errors.As(err, &se):
		u.showCertification(w, r, http.StatusUnprocessableEntity, u.tr(r, "cert.scan.refused"), &certData{Problems: u.scanProblems(r, se.Refusal)})
		return
	case errors.As(err, &in):
		u.showCertification(w, r, http.StatusUnprocessableEntity, u.inputWords(r, err, in), &certData{})
		return
	case err != nil:
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/certifications/"+url.PathEscape(id), http.StatusSeeOther)
}

func (u *UI) certificationRefuse(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 64<<10) {
		return
	}
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if u.cfg.Certify == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	req := certify.RefuseRequest{Reasons: r.PostForm["reasons"], Note: r.PostForm.Get("note")}
	d := &certData{Note: req.Note}
	for _, g := range groundCodes {
		d.Grounds = append(d.Grounds, groundOption{Code: g, Text: certify.Grounds[g], Checked: slices.Contains(req.Reasons, g)})
	}
	if len(req.Reasons) == 0 {
		refuseField(r, "reasons")
		u.showCertification(w, r, http.StatusUnprocessableEntity, u.tr(r, "cert.refuse.none"), d)
		return
	}
	_, err := u.cfg.Certify.Refuse(r.Context(), p, id, req)
	var in *accounts.InputError
	if errors.As(err, &in) {
		u.showCertification(w, r, http.StatusUnprocessableEntity, u.inputWords(r, err, in), d)
		return
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/certifications/"+url.PathEscape(id), http.StatusSeeOther)
}

// certificationCertify certifies and shows the result with the citizen's
// links, once: they carry the token, which the service never keeps.
func (u *UI) certificationCertify(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if u.cfg.Certify == nil || u.cfg.CertifyOrigin == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	out, err := u.cfg.Certify.Certify(r.Context(), p, id, u.cfg.CertifyOrigin(r))
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	u.showCertification(w, r, http.StatusOK, "", &certData{Result: &out})
}
