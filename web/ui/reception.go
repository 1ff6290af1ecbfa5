package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
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
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage"
)

// receptionSection: the văn thư's incoming documents (văn bản đến) — the
// reception queue (arrivals from other organisations and the clerk's
// uploads, each with its verification verdict, duplicates flagged), the
// upload of a document received on paper or by other means with the
// Appendix VI fields, an arrival's page (the file previewed, the
// verification report) with registering (the số đến it will take shown
// first), returning to the sender and confirming a recall, and the
// incoming register's page. The reception service authorizes every call.
var receptionSection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Get("/reception", u.receptionQueue)
			r.Get("/reception/new", u.receivePage)
			r.Post("/reception/new", u.receiveForm)
			r.Get("/reception/{id}", u.arrivalPage)
			r.Post("/reception/{id}/register", u.registerArrival)
			r.Post("/reception/{id}/return", u.returnArrival)
			r.Post("/reception/{id}/confirm-recall", u.confirmRecall)
		})
	},
	nav: []navEntry{{Path: "/reception", Prefix: "/reception/", Key: "nav.reception", show: isClerk}},
}

var _ = addMessages(map[string][2]string{
	"nav.reception":              {"Văn bản đến", "Incoming"},
	"reception.title":            {"Văn bản đến chờ vào sổ", "Incoming documents to register"},
	"reception.intro":            {"Văn bản các cơ quan gửi đến qua hệ thống và văn bản văn thư tiếp nhận rồi tải lên; mỗi văn bản đã được kiểm tra chữ ký số khi đến.", "Documents sent by other organisations through this service and those the clerk received and uploaded; each was verified on arrival."},
	"reception.new":              {"Tiếp nhận văn bản giấy hoặc điện tử khác", "Receive a paper or other electronic document"},
	"reception.view":             {"Xem", "Show"},
	"reception.view.queue":       {"Chờ xử lý", "Waiting"},
	"reception.view.registered":  {"Đã vào sổ", "Registered"},
	"reception.view.returned":    {"Đã trả lại", "Returned"},
	"reception.view.recalled":    {"Đã thu hồi", "Recalled"},
	"reception.view.all":         {"Tất cả", "All"},
	"reception.empty":            {"Không có văn bản nào ở đây.", "Nothing here."},
	"reception.from":             {"Cơ quan ban hành", "Issued by"},
	"reception.symbol":           {"Số, ký hiệu", "Number and symbol"},
	"reception.date":             {"Ngày văn bản", "Document date"},
	"reception.arrived":          {"Đến lúc", "Arrived"},
	"reception.verdict":          {"Chữ ký số", "Signatures"},
	"reception.status":           {"Tình trạng", "Status"},
	"reception.source":           {"Nguồn", "Source"},
	"source.delivery":            {"Liên thông", "Sent through this service"},
	"source.upload":              {"Văn thư tải lên", "Uploaded by the clerk"},
	"medium.electronic":          {"Điện tử", "Electronic"},
	"medium.paper":               {"Bản giấy (bản quét)", "Paper (scan)"},
	"arrival.arrived":            {"Chờ vào sổ", "Waiting to be registered"},
	"arrival.registered":         {"Đã vào sổ", "Registered"},
	"arrival.returned":           {"Đã trả lại nơi gửi", "Returned to the sender"},
	"arrival.recalled":           {"Đã thu hồi", "Recalled"},
	"arrival.recall":             {"Nơi gửi thu hồi", "Recalled by the sender"},
	"arrival.recall.confirmed":   {"Đã xác nhận thu hồi", "Recall confirmed"},
	"arrival.duplicate":          {"Trùng văn bản", "Duplicate"},
	"arrival.duplicate.of":       {"Trùng với văn bản đã đến (cùng cơ quan ban hành, số, ký hiệu và năm)%s.", "Repeats a document that arrived before (same issuer, number, symbol and year)%s."},
	"arrival.duplicate.num":      {": số đến %d ngày %s", ": arrival number %d of %s"},
	"arrival.open":               {"Mở", "Open"},
	"arrival.title":              {"Văn bản đến", "Incoming document"},
	"arrival.details":            {"Thông tin văn bản đến", "Incoming document details"},
	"arrival.type":               {"Loại văn bản", "Type"},
	"arrival.signer":             {"Người ký", "Signer"},
	"arrival.medium":             {"Hình thức", "Medium"},
	"arrival.file":               {"Tệp", "File"},
	"arrival.report":             {"Kết quả kiểm tra chữ ký số khi đến", "Signature check on arrival"},
	"arrival.number":             {"Số đến sẽ cấp", "Arrival number to be assigned"},
	"arrival.number.note":        {"Số đến được cấp khi bấm Vào sổ; nếu trong lúc đó có văn bản khác được vào sổ trước, văn bản này nhận số kế tiếp.", "The number is taken when you press Register; if another document is registered first, this one takes the next number."},
	"arrival.register":           {"Vào sổ văn bản đến", "Register"},
	"arrival.receiver":           {"Đơn vị hoặc người nhận", "Unit or person receiving it"},
	"arrival.receiver.hint":      {"Ghi vào cột Đơn vị hoặc người nhận của sổ, ví dụ: Chủ tịch UBND", "Printed in the register's receiver column, e.g. the Chairman"},
	"arrival.note":               {"Ghi chú", "Note"},
	"arrival.force":              {"Vẫn vào sổ văn bản trùng này", "Register this duplicate all the same"},
	"arrival.force.reason":       {"Lý do vào sổ lại", "Why it is registered again"},
	"arrival.submit":             {"Vào sổ", "Register"},
	"arrival.return":             {"Trả lại nơi gửi", "Return to the sender"},
	"arrival.return.reason":      {"Lý do trả lại", "Reason for returning it"},
	"arrival.return.hint":        {"Ví dụ: gửi nhầm cơ quan; chữ ký số không hợp lệ.", "E.g. sent to the wrong organisation; the signature is not valid."},
	"arrival.return.submit":      {"Trả lại", "Return"},
	"arrival.recall.reason":      {"Lý do thu hồi", "Reason for the recall"},
	"arrival.recall.confirm":     {"Xác nhận đã thu hồi", "Confirm the recall"},
	"arrival.recall.note":        {"Nơi gửi đã thu hồi văn bản này. Xác nhận khi văn bản đã được đưa ra khỏi sử dụng.", "The sender recalled this document. Confirm once it is out of use."},
	"arrival.registered.as":      {"Đã vào sổ: số đến %d ngày %s.", "Registered: arrival number %d of %s."},
	"arrival.document":           {"Mở văn bản đến đã vào sổ", "Open the registered document"},
	"arrival.returned.flash":     {"Đã trả lại văn bản cho nơi gửi.", "The document was returned to its sender."},
	"arrival.confirmed.flash":    {"Đã xác nhận thu hồi.", "The recall was confirmed."},
	"arrival.received.flash":     {"Đã tiếp nhận văn bản; kiểm tra rồi vào sổ.", "The document was received; check it, then register it."},
	"arrival.reason":             {"Lý do", "Reason"},
	"receive.title":              {"Tiếp nhận văn bản đến", "Receive an incoming document"},
	"receive.intro":              {"Văn bản giấy (tải lên bản quét) hoặc văn bản điện tử nhận qua thư điện tử, đường bưu chính…: nhập các thông tin theo Phụ lục VI Nghị định 30/2020/NĐ-CP.", "A paper document (upload its scan) or an electronic one received by e-mail or post: enter its details as Decree 30 Appendix VI lists them."},
	"receive.from":               {"Cơ quan, tổ chức ban hành (tác giả)", "Issuing body"},
	"receive.number":             {"Số", "Number"},
	"receive.symbol":             {"Ký hiệu", "Symbol"},
	"receive.symbol.hint":        {"Ví dụ: QĐ-UBND; có thể ghi cả 05/QĐ-UBND", "E.g. QĐ-UBND, or the whole 05/QĐ-UBND"},
	"receive.date":               {"Ngày tháng văn bản", "Document date"},
	"receive.signer":             {"Người ký", "Signer"},
	"receive.position":           {"Chức vụ người ký", "Signer's position"},
	"receive.medium":             {"Hình thức văn bản", "Medium"},
	"receive.submit":             {"Tiếp nhận", "Receive"},
	"receive.file":               {"Tệp PDF (bản điện tử hoặc bản quét)", "PDF file (the electronic document or a scan)"},
	"error.arrival.state":        {"Văn bản đến này không cho phép việc này lúc này", "The arrival does not allow this now"},
	"error.reception.noregister": {"Cơ quan chưa có sổ văn bản đến mặc định; quản trị cần tạo sổ.", "The organisation has no default incoming register; an administrator must create one."},
	"incoming.arrival":           {"Ngày đến", "Arrived"},
	"incoming.number":            {"Số đến", "Arrival number"},
	"incoming.issuer":            {"Tác giả", "Issued by"},
	"incoming.symbol":            {"Số, ký hiệu văn bản", "Number and symbol"},
	"incoming.date":              {"Ngày tháng văn bản", "Date"},
	"incoming.subject":           {"Tên loại và trích yếu nội dung", "Type and subject"},
	"incoming.receiver":          {"Đơn vị hoặc người nhận", "Received by"},
	"incoming.transferred":       {"Ngày chuyển", "Passed on"},
	"incoming.receipt":           {"Ký nhận", "Signed for"},
	"incoming.note":              {"Ghi chú", "Note"},
})

// queueViews are the reception queue's views: the working queue ("") and
// the statuses the service lists.
var queueViews = []struct{ Status, Key string }{
	{"", "reception.view.queue"}, {"registered", "reception.view.registered"}, {"returned", "reception.view.returned"},
	{"recalled", "reception.view.recalled"}, {"all", "reception.view.all"},
}

type queueView struct {
	Status, Key string
	Current     bool
}

type receptionData struct {
	Items []reception.Item
	Views []queueView
	Flash string
}

func (u *UI) receptionQueue(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	if u.cfg.Reception == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	status := r.URL.Query().Get("status")
	known := false
	d := receptionData{}
	for _, v := range queueViews {
		known = known || v.Status == status
		d.Views = append(d.Views, queueView{Status: v.Status, Key: v.Key, Current: v.Status == status})
	}
	if !known {
		u.fail(w, r, http.StatusBadRequest, u.tr(r, "error.badform"))
		return
	}
	var err error
	if d.Items, err = u.cfg.Reception.List(r.Context(), p, status); err != nil {
		u.failErr(w, r, err)
		return
	}
	if r.URL.Query().Get("returned") != "" {
		d.Flash = u.tr(r, "arrival.returned.flash")
	}
	u.render(w, r, http.StatusOK, "reception", "reception.title", d)
}

type receiveData struct {
	Form             map[string]string
	Types            []option
	Urgencies, Confs []string
	MaxUpload        int64
}

// receptionFields are the upload form's text fields and where they go,
// as POST /api/v1/reception names them.
func receptionFields(up *reception.Upload) map[string]*string {
	return map[string]*string{"from": &up.From, "number": &up.Number, "symbol": &up.Symbol, "date": &up.Date, "type": &up.Type,
		"subject": &up.Subject, "signer": &up.Signer, "signer_position": &up.SignerPosition, "urgency": &up.Urgency,
		"confidentiality": &up.Confidentiality, "medium": &up.Medium}
}

func (u *UI) receivePage(w http.ResponseWriter, r *http.Request) {
	u.showReceive(w, r, http.StatusOK, "", map[string]string{"medium": "paper", "urgency": "thuong", "confidentiality": "thuong"})
}

func (u *UI) showReceive(w http.ResponseWriter, r *http.Request, status int, errMsg string, form map[string]string) {
	p, _ := principal(r.Context())
	if u.cfg.Reception == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	if err := u.cfg.Reception.CanReceive(p); err != nil {
		u.failErr(w, r, err)
		return
	}
	d := receiveData{Form: form, Urgencies: urgencyLevels, Confs: confidentialityLevels, MaxUpload: u.cfg.Docs.MaxUpload}
	var err error
	if d.Types, err = u.options(r, "document_types"); err != nil {
		u.failErr(w, r, err)
		return
	}
	pg := u.page(r, "receive.title")
	pg.Data, pg.Error = d, errMsg
	if r.Method != http.MethodGet {
		pg.Path = "/reception/new"
	}
	u.write(w, r, status, "reception_new", pg)
}

// receiveForm reads the upload form (multipart: the fields, then the
// file), stores the file through the documents' upload checks and puts it
// in the queue; a refused field shows the form again with what was typed.
func (u *UI) receiveForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, _ := principal(ctx)
	if u.cfg.Reception == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	// Refused before a byte of the file is read.
	if err := u.cfg.Reception.CanReceive(p); err != nil {
		u.failErr(w, r, err)
		return
	}
	var up reception.Upload
	fields := receptionFields(&up)
	form := map[string]string{}
	refuse := func(err error) {
		u.formRefused(w, r, err, func(status int, msg string) { u.showReceive(w, r, status, msg, form) })
	}
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		refuse(&documents.InputError{Kind: documents.ErrMissingFile, Detail: "choose a PDF file"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, u.cfg.Docs.MaxUpload+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		refuse(&documents.InputError{Kind: documents.ErrMalformedBody, Detail: err.Error()})
		return
	}
	var stored documents.StoredFile
	seenFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			u.cfg.Docs.Discard(ctx, stored)
			refuse(uploadBodyError(err, u.cfg.Docs.MaxUpload))
			return
		}
		name := part.FormName()
		if name == "file" {
			if seenFile || part.FileName() == "" {
				continue // an empty file input, or a second file: ignored
			}
			seenFile = true
			// The fields sent ahead of the file are checked first.
			if _, _, err := u.cfg.Reception.CheckUpload(ctx, p, up); err != nil {
				refuse(err)
				return
			}
			if stored, err = u.cfg.Docs.StoreFile(ctx, part, part.FileName()); err != nil {
				refuse(uploadBodyError(err, u.cfg.Docs.MaxUpload))
				return
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, 4<<10+1))
		if err != nil || len(b) > 4<<10 {
			u.cfg.Docs.Discard(ctx, stored)
			refuse(&documents.InputError{Kind: documents.ErrInvalidField, Detail: name + " is too long"})
			return
		}
		if dst, ok := fields[name]; ok {
			*dst = string(b)
			form[name] = string(b)
		}
	}
	if !seenFile {
		if _, _, err := u.cfg.Reception.CheckUpload(ctx, p, up); err != nil {
			refuse(err)
			return
		}
		refuse(&documents.InputError{Kind: documents.ErrMissingFile, Detail: "choose a PDF file"})
		return
	}
	it, err := u.cfg.Reception.Receive(ctx, p, up, stored)
	if err != nil {
		refuse(err) // Receive discarded the file
		return
	}
	http.Redirect(w, r, "/reception/"+url.PathEscape(it.ID)+"?received=1", http.StatusSeeOther)
}

// uploadBodyError names a body that ended early or exceeded the limit.
func uploadBodyError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &documents.InputError{Kind: documents.ErrTooLarge, Detail: fmt.Sprintf("the file is larger than the limit of %d bytes", limit)}
	}
	var in *documents.InputError
	if errors.As(err, &in) || errors.Is(err, documents.ErrTooLarge) {
		return err
	}
	for _, k := range []error{documents.ErrEmptyFile, documents.ErrNotPDF, documents.ErrEncryptedPDF, documents.ErrTruncatedPDF, documents.ErrUnparsablePDF} {
		if errors.Is(err, k) {
			return err
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "multipart") {
		return &documents.InputError{Kind: documents.ErrMalformedBody, Detail: "the upload ended early or is malformed"}
	}
	return err
}

type arrivalData struct {
	Item    reception.Item
	Report  *reportView
	FileURL string
	Preview bool
	Number  *reception.NumberPreview
	// Duplicate is set when registering was refused as a duplicate: the
	// form then offers registering anyway with a reason.
	Duplicate         *reception.Duplicate
	Receiver, Note    string
	Reason, ReturnWhy string
	Flash             string
	Registerable      bool
	CanConfirmRecall  bool
}

func (u *UI) arrivalPage(w http.ResponseWriter, r *http.Request) {
	d := &arrivalData{}
	q := r.URL.Query()
	switch {
	case q.Get("received") != "":
		d.Flash = u.tr(r, "arrival.received.flash")
	case q.Get("confirmed") != "":
		d.Flash = u.tr(r, "arrival.confirmed.flash")
	}
	u.showArrival(w, r, http.StatusOK, "", d)
}

// showArrival writes an arrival's page: its details, the file previewed,
// the report of the verification run when it arrived, and the forms its
// state allows.
func (u *UI) showArrival(w http.ResponseWriter, r *http.Request, status int, errMsg string, d *arrivalData) {
	p, _ := principal(r.Context())
	if u.cfg.Reception == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	var err error
	if d.Item, err = u.cfg.Reception.Get(r.Context(), p, chi.URLParam(r, "id")); err != nil {
		u.failErr(w, r, err)
		return
	}
	it := d.Item
	if len(it.Verification) > 0 {
		var rep verify.Report
		if json.Unmarshal(it.Verification, &rep) == nil {
			d.Report = &reportView{Report: &rep, Lang: u.lang(r)}
		}
	}
	d.FileURL = "/api/v1/reception/" + url.PathEscape(it.ID) + "/file"
	d.Preview = u.assets.has("vendor/pdfjs/pdf.min.mjs")
	d.Registerable = it.Status == "arrived" && it.Recall == nil
	d.CanConfirmRecall = it.Recall != nil && it.Recall.ConfirmedAt == nil
	if d.Registerable {
		n, err := u.cfg.Reception.PreviewNumber(r.Context(), p)
		switch {
		case err == nil:
			d.Number = &n
		case errors.Is(err, accounts.ErrForbidden):
		default:
			if errMsg == "" {
				errMsg = u.tr(r, "error.reception.noregister")
			}
		}
	}
	pg := u.page(r, "arrival.title")
	pg.Title = it.Subject
	pg.Data, pg.Error = d, errMsg
	if r.Method != http.MethodGet {
		pg.Path = "/reception/" + it.ID
	}
	u.write(w, r, status, "arrival", pg)
}

// parseForm reads a form of the usual size (64 KiB) as readForm does.
func (u *UI) parseForm(w http.ResponseWriter, r *http.Request) bool {
	return u.readForm(w, r, 64<<10)
}

// registerArrival gives the arrival its số đến and opens the registered
// document, whose page then offers presenting it to a leader.
func (u *UI) registerArrival(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	p, _ := principal(r.Context())
	if u.cfg.Reception == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	f := r.PostForm
	req := reception.RegisterRequest{Receiver: f.Get("receiver"), Note: f.Get("note"), Force: f.Get("force") == "on", Reason: f.Get("reason")}
	out, err := u.cfg.Reception.Register(r.Context(), p, chi.URLParam(r, "id"), req)
	d := &arrivalData{Receiver: req.Receiver, Note: req.Note, Reason: req.Reason}
	var dup *reception.DuplicateError
	var in *accounts.InputError
	switch {
	case errors.As(err, &dup):
		d.Duplicate = &dup.Earlier
		u.showArrival(w, r, http.StatusConflict, u.tr(r, "arrival.duplicate.of", u.duplicateNumber(r, dup.Earlier)), d)
		return
	case errors.As(err, &in):
		u.showArrival(w, r, http.StatusUnprocessableEntity, u.inputWords(r, err, in), d)
		return
	case errors.Is(err, reception.ErrState):
		// The form posted again (a double click, the back button, a
		// colleague's page left open) finds the arrival registered: its
		// document, with its số đến, is the answer.
		if it, gerr := u.cfg.Reception.Get(r.Context(), p, chi.URLParam(r, "id")); gerr == nil && it.DocumentID != "" && it.ArrivalNumber > 0 {
			http.Redirect(w, r, "/documents/"+url.PathEscape(it.DocumentID)+"?"+url.Values{"registered": {strconv.Itoa(it.ArrivalNumber)}}.Encode(), http.StatusSeeOther)
			return
		}
		u.failErr(w, r, err)
		return
	case err != nil:
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/documents/"+url.PathEscape(out.DocumentID)+"?"+url.Values{"registered": {strconv.Itoa(out.ArrivalNumber)}}.Encode(), http.StatusSeeOther)
}

func (u *UI) duplicateNumber(r *http.Request, d reception.Duplicate) string {
	if d.ArrivalNumber == 0 {
		return ""
	}
	return u.tr(r, "arrival.duplicate.num", d.ArrivalNumber, (&Page{Lang: u.lang(r)}).IsoDay(d.ArrivalDate))
}

func (u *UI) returnArrival(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	p, _ := principal(r.Context())
	if u.cfg.Reception == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	why := r.PostForm.Get("reason")
	_, err := u.cfg.Reception.Return(r.Context(), p, chi.URLParam(r, "id"), why)
	var in *accounts.InputError
	if errors.As(err, &in) {
		u.showArrival(w, r, http.StatusUnprocessableEntity, u.inputWords(r, err, in), &arrivalData{ReturnWhy: why})
		return
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/reception?returned=1", http.StatusSeeOther)
}

func (u *UI) confirmRecall(w http.ResponseWriter, r *http.Request) {
	if !u.parseForm(w, r) {
		return
	}
	p, _ := principal(r.Context())
	if u.cfg.Reception == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	it, err := u.cfg.Reception.ConfirmRecall(r.Context(), p, chi.URLParam(r, "id"))
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/reception/"+url.PathEscape(it.ID)+"?confirmed=1", http.StatusSeeOther)
}

type incomingRegisterData struct {
	Register        storage.Register
	Year            int
	Years           []int
	Q, Month        string
	Months          []int
	Entries         []reception.Entry
	Total           int
	XLSXURL, PDFURL string
}

// incomingRegister is /registers/{id} for an incoming register: the
// entries of a year in the columns of Decree 30 Appendix IV (sổ đăng ký
// văn bản đến), filtered by text and month; the exports are the API's.
func (u *UI) incomingRegister(w http.ResponseWriter, r *http.Request, reg storage.Register, year int) {
	p, _ := principal(r.Context())
	var years, months []int
	for y := register.Year(nowFunc()); y >= register.Year(nowFunc())-5; y-- {
		years = append(years, y)
	}
	if !slices.Contains(years, year) {
		years = append(years, year)
	}
	for m := 1; m <= 12; m++ {
		months = append(months, m)
	}
	es, err := u.cfg.Reception.Entries(r.Context(), p, reg, year)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	q := r.URL.Query()
	d := incomingRegisterData{Register: reg, Year: year, Years: years, Months: months, Q: q.Get("q"), Month: q.Get("month"), Total: len(es)}
	month, _ := strconv.Atoi(d.Month)
	needle := documents.Fold(d.Q)
	for _, e := range es {
		if month > 0 && int(e.RegisteredAt.In(vietnam).Month()) != month {
			continue
		}
		if needle != "" && !strings.Contains(documents.Fold(strings.Join([]string{e.NumberSymbol, e.Issuer, e.TypeSubject, e.Receiver, e.Note}, " ")), needle) {
			continue
		}
		d.Entries = append(d.Entries, e)
	}
	base := "/api/v1/registers/" + url.PathEscape(reg.ID) + "/entries?year=" + strconv.Itoa(year) + "&format="
	d.XLSXURL, d.PDFURL = base+"xlsx", base+"pdf"
	pg := u.page(r, "registers.title")
	pg.Title, pg.Data = reg.Name, d
	u.write(w, r, http.StatusOK, "register_incoming", pg)
}

// IsoDay shows a day written YYYY-MM-DD as the page's language writes it
// (20/11/2026); anything else as it is.
func (p *Page) IsoDay(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		if s == "" {
			return "—"
		}
		return s
	}
	if p.Lang == "en" {
		return t.Format("2 Jan 2006")
	}
	return t.Format("02/01/2006")
}
