package ui

import (
	"errors"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/copies"
	"github.com/vanthu/vanthu/documents/scancheck"
)

// copiesSection: copies of the organisation's documents (SAO Y, TRÍCH SAO,
// SAO LỤC) made by the văn thư, from a document of the system or from the
// scan of a paper original; the certified-copy desk (certdesk.go); and the
// public pages anyone opens without logging in (public.go). The copies,
// certify and publicverify services authorize everything; the pages only
// choose what to show.
var copiesSection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Get("/documents/{id}/copy", u.copyPage)
			r.Post("/documents/{id}/copy", u.copyForm)
			r.Get("/documents/{id}/copies", u.copyPanel)
			r.Get("/copies/new", u.scanCopyPage)
			r.Post("/copies/new", u.scanCopyForm)
		})
		u.deskRoutes(r)
		u.publicRoutes(r)
	},
	nav: []navEntry{
		{Path: "/copies/new", Key: "nav.copies", show: isClerk},
		{Path: "/certifications", Prefix: "/certifications/", Key: "nav.desk", show: func(p accounts.Principal) bool { return isDesk(p) || isCertifier(p) }},
	},
}

var _ = addMessages(map[string][2]string{
	"nav.copies":              {"Sao văn bản", "Copies"},
	"copy.title":              {"Sao văn bản", "Make a copy"},
	"copy.make":               {"Sao văn bản này", "Make a copy"},
	"copy.form":               {"Hình thức sao", "Form of copy"},
	"copyform.SY":             {"Sao y (toàn văn)", "SAO Y (the whole document)"},
	"copyform.TrS":            {"Trích sao (các trang được chọn)", "TRÍCH SAO (chosen pages)"},
	"copyform.SL":             {"Sao lục (từ bản sao y)", "SAO LỤC (from a bản sao y)"},
	"copy.pages":              {"Các trang cần trích sao", "Pages to copy"},
	"copy.pages.hint":         {"Chỉ với trích sao: số trang cách nhau bởi dấu phẩy, ví dụ 1,3", "TRÍCH SAO only: page numbers separated by commas, e.g. 1,3"},
	"copy.submit":             {"Sao và ký số của cơ quan", "Copy and sign for the organisation"},
	"copy.note":               {"Bản sao được cấp số trong sổ bản sao, ký số của cơ quan ở góc trên bên phải trang đầu và có mã QR để tra cứu công khai.", "The copy is numbered in the copies register, signed for the organisation top right of page 1, and carries a QR code for public verification."},
	"copy.of":                 {"Bản sao của", "Copy of"},
	"copy.of.paper":           {"Bản sao từ bản giấy", "Copy of a paper original"},
	"copy.of.hidden":          {"văn bản bạn không có quyền xem", "a document you may not see"},
	"copy.pagesof":            {"các trang %s", "pages %s"},
	"copy.made":               {"Các bản sao đã lập", "Copies made"},
	"copy.panel":              {"Bản sao", "Copies"},
	"copy.panel.open":         {"Xem bản sao", "Show copies"},
	"copy.none":               {"Chưa có bản sao nào.", "No copy yet."},
	"copy.scan.title":         {"Sao từ bản giấy (bản quét)", "Copy a paper original from its scan"},
	"copy.scan.intro":         {"Quét bản giấy thành PDF màu, ít nhất 200 dpi; hệ thống kiểm tra bản quét trước khi ký.", "Scan the paper original to a colour PDF of at least 200 dpi; the scan is checked before anything is signed."},
	"copy.scan.original":      {"Bản gốc (loại, số, ngày, cơ quan ban hành)", "The original (type, number, date, issuer)"},
	"copy.scan.original.hint": {"Ví dụ: Quyết định số 12/QĐ-UBND ngày 05/3/2026 của UBND huyện An Bình", "E.g. Decision 12/QĐ-UBND of 5 March 2026 of An Binh district"},
	"copy.scan.subject":       {"Trích yếu", "Subject"},
	"copy.scan.file":          {"Tệp bản quét (PDF)", "Scan file (PDF)"},
	"copy.scan.refused":       {"Bản quét không đạt yêu cầu, không có gì được ký:", "The scan was refused; nothing was signed:"},
	"copy.error.pages":        {"Số trang là các số cách nhau bởi dấu phẩy, ví dụ 1,3.", "Pages are numbers separated by commas, e.g. 1,3."},
	"copy.error.notcopyable":  {"Văn bản này không sao được theo hình thức đã chọn", "The document cannot be copied in this form"},
	"copy.error.noscan":       {"Chưa cấu hình kiểm tra bản quét nên không sao được bản giấy", "Paper originals cannot be copied: no scan check is configured"},
	"copy.error.extract":      {"Không lấy được các trang của bản gốc", "The original's pages cannot be copied"},
	"copy.done":               {"Đã lập bản sao số %s.", "Copy %s made."},
})

// forms are the forms of copy in the decree's order.
var forms = []string{copies.FormSY, copies.FormTrS, copies.FormSL}

type copyData struct {
	Doc   documents.Document
	Forms []string
	Form  string
	Pages string
	Info  copies.Info
}

func pageNumbers(s string) ([]int, bool) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func (u *UI) copyPage(w http.ResponseWriter, r *http.Request) {
	u.showCopy(w, r, http.StatusOK, "", &copyData{Form: copies.FormSY})
}

func (u *UI) showCopy(w http.ResponseWriter, r *http.Request, status int, errMsg string, d *copyData) {
	p, _ := principal(r.Context())
	if u.cfg.Copies == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	id := chi.URLParam(r, "id")
	var err error
	if d.Doc, err = u.cfg.Docs.Get(r.Context(), p, id); err != nil {
		u.failErr(w, r, err)
		return
	}
	if !isClerk(p) {
		u.fail(w, r, http.StatusForbidden, u.tr(r, "error.forbidden"))
		return
	}
	if d.Info, err = u.cfg.Copies.Of(r.Context(), p, id); err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Forms = forms
	pg := u.page(r, "copy.title")
	pg.Error, pg.Data = errMsg, d
	pg.Path = "/documents/" + id + "/copy"
	u.write(w, r, status, "copy", pg)
}

func (u *UI) copyForm(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 64<<10) {
		return
	}
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	d := &copyData{Form: r.PostForm.Get("form"), Pages: r.PostForm.Get("pages")}
	req := copies.Request{Form: d.Form}
	if d.Form == copies.FormTrS {
		var ok bool
		if req.Pages, ok = pageNumbers(d.Pages); !ok {
			refuseField(r, "pages")
			u.showCopy(w, r, http.StatusUnprocessableEntity, u.tr(r, "copy.error.pages"), d)
			return
		}
	}
	if u.cfg.Copies == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	c, err := u.cfg.Copies.Make(r.Context(), p, id, req)
	var in *accounts.InputError
	if errors.As(err, &in) {
		u.showCopy(w, r, http.StatusUnprocessableEntity, u.inputWords(r, err, in), d)
		return
	}
	if errors.Is(err, copies.ErrNotCopyable) || errors.Is(err, copies.ErrExtract) {
		u.showCopy(w, r, http.StatusConflict, u.copyRefusal(r, err), d)
		return
	}
	if err != nil {
		u.copyFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/documents/"+url.PathEscape(c.ID), http.StatusSeeOther)
}

func (u *UI) copyRefusal(r *http.Request, err error) string {
	key := "copy.error.extract"
	switch {
	case errors.Is(err, copies.ErrNotCopyable):
		key = "copy.error.notcopyable"
	case errors.Is(err, copies.ErrNoScanCheck):
		key = "copy.error.noscan"
	}
	if words, ok := u.reasonWords(r, err); ok {
		return words
	}
	return u.tr(r, key) + " (" + err.Error() + ")"
}

// copyFailed answers what the copy pages cannot show in their form.
func (u *UI) copyFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, copies.ErrNoScanCheck):
		u.fail(w, r, http.StatusServiceUnavailable, u.copyRefusal(r, err))
	default:
		u.failErr(w, r, err)
	}
}

type copyPanelData struct {
	Doc     documents.Document
	Info    copies.Info
	CanCopy bool
}

// copyPanel is the document page's panel about copies (loaded by htmx):
// what the document copies, with a link to its original, the copies made
// of it, and the clerk's button to make one.
func (u *UI) copyPanel(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	if u.cfg.Copies == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	id := chi.URLParam(r, "id")
	d := copyPanelData{}
	var err error
	if d.Doc, err = u.cfg.Docs.Get(r.Context(), p, id); err != nil {
		u.failErr(w, r, err)
		return
	}
	if d.Info, err = u.cfg.Copies.Of(r.Context(), p, id); err != nil {
		u.failErr(w, r, err)
		return
	}
	d.CanCopy = isClerk(p) && d.Doc.OrganizationID == p.OrganizationID && (d.Doc.Status == documents.StatusIssued || d.Info.Form != "")
	u.render(w, r, http.StatusOK, "copypanel", "copy.panel", d)
}

type scanCopyData struct {
	Forms                                []string
	Form, Pages, Original, Subject, Conf string
	Problems                             []string
}

func (u *UI) scanCopyPage(w http.ResponseWriter, r *http.Request) {
	u.showScanCopy(w, r, http.StatusOK, "", &scanCopyData{Form: copies.FormSY})
}

func (u *UI) showScanCopy(w http.ResponseWriter, r *http.Request, status int, errMsg string, d *scanCopyData) {
	p, _ := principal(r.Context())
	if !isClerk(p) || u.cfg.Copies == nil {
		u.fail(w, r, http.StatusForbidden, u.tr(r, "error.forbidden"))
		return
	}
	d.Forms = []string{copies.FormSY, copies.FormTrS}
	pg := u.page(r, "copy.scan.title")
	pg.Error, pg.Data = errMsg, d
	pg.Path = "/copies/new"
	u.write(w, r, status, "copy_scan", pg)
}

func (u *UI) scanCopyForm(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	if !isClerk(p) || u.cfg.Copies == nil {
		u.fail(w, r, http.StatusForbidden, u.tr(r, "error.forbidden"))
		return
	}
	if err := u.cfg.Docs.CanCreate(p); err != nil {
		u.failErr(w, r, err)
		return
	}
	fields := map[string]string{"form": "", "pages": "", "original": "", "subject": "", "confidentiality": ""}
	var made copies.Copy
	var pagesBad bool
	got, err := u.readScan(w, r, fields, func(part *multipart.Part) error {
		req := copies.ScanRequest{Form: fields["form"], Original: fields["original"], Subject: fields["subject"], Confidentiality: fields["confidentiality"]}
		if req.Form == copies.FormTrS {
			var ok bool
			if req.Pages, ok = pageNumbers(fields["pages"]); !ok {
				pagesBad = true
				return nil
			}
		}
		var err error
		made, err = u.cfg.Copies.MakeFromScan(r.Context(), p, req, part)
		return err
	})
	d := &scanCopyData{Form: fields["form"], Pages: fields["pages"], Original: fields["original"], Subject: fields["subject"], Conf: fields["confidentiality"]}
	var ref *scancheck.Refusal
	var in *accounts.InputError
	var din *documents.InputError
	refuseField(r, fieldOf(err)) // a refusal of one field (nil: none)
	switch {
	case pagesBad:
		refuseField(r, "pages")
		u.showScanCopy(w, r, http.StatusUnprocessableEntity, u.tr(r, "copy.error.pages"), d)
	case err == nil && !got:
		refuseField(r, "file")
		u.showScanCopy(w, r, http.StatusUnprocessableEntity, u.tr(r, "cert.error.file"), d)
	case errors.As(err, &ref):
		d.Problems = u.scanProblems(r, ref)
		u.showScanCopy(w, r, http.StatusUnprocessableEntity, u.tr(r, "copy.scan.refused"), d)
	case errors.As(err, &in):
		u.showScanCopy(w, r, http.StatusUnprocessableEntity, u.inputWords(r, err, in), d)
	case errors.As(err, &din) && !errors.Is(err, documents.ErrNotFound):
		_, msg := u.explain(r, err)
		u.showScanCopy(w, r, http.StatusUnprocessableEntity, msg, d)
	case errors.Is(err, copies.ErrScanRefused), errors.Is(err, copies.ErrExtract):
		u.showScanCopy(w, r, http.StatusUnprocessableEntity, u.copyRefusal(r, err), d)
	case err != nil:
		u.copyFailed(w, r, err)
	default:
		http.Redirect(w, r, "/documents/"+url.PathEscape(made.ID), http.StatusSeeOther)
	}
}
