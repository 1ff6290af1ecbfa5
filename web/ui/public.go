package ui

import (
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/storage/blob"
)

// The public pages, open without logging in: anyone checks whether a file
// was issued, copied or certified here (by uploading it or by the code of
// its QR), and the citizen opens the link of their certified copies. They
// show only what the publicverify and certify services answer.

func (u *UI) publicRoutes(r chi.Router) {
	r.Get("/check", u.checkPage)
	r.Post("/check", u.checkUpload)
	// The service's GET /v/{code} counts the request against the address's
	// limit and hands browsers here.
	r.Get("/v/{code}", u.verdictByCode)
	// The service's GET /c/{token} hands browsers here; the page's buttons
	// download the files from it.
	r.Get("/c/{token}", u.citizenLink)
}

var _ = addMessages(map[string][2]string{
	"check.title":                {"Tra cứu văn bản, bản sao", "Verify a document or copy"},
	"check.intro":                {"Kiểm tra một tệp PDF có đúng là văn bản do hệ thống này phát hành, sao hoặc chứng thực hay không. Tệp chỉ dùng để tính mã băm và kiểm tra chữ ký, không được lưu.", "Check whether a PDF is a document this service issued, copied or certified. The file is used only to compute its hash and check its signatures; it is not kept."},
	"check.upload":               {"Tải tệp PDF lên", "Upload the PDF"},
	"check.file":                 {"Tệp PDF", "PDF file"},
	"check.submit":               {"Kiểm tra tệp", "Check the file"},
	"check.code":                 {"Hoặc nhập mã tra cứu", "Or enter the verification code"},
	"check.code.label":           {"Mã tra cứu (in dưới mã QR, hoặc cả đường dẫn)", "Verification code (printed under the QR code, or the whole link)"},
	"check.code.submit":          {"Tra cứu mã", "Look up the code"},
	"check.code.bad":             {"Mã tra cứu không đúng dạng.", "This is not a verification code."},
	"check.limited":              {"Bạn đã tra cứu quá nhiều lần; hãy thử lại sau %d giây.", "Too many verifications from your address; try again in %d seconds."},
	"pubverdict.title":           {"Kết quả tra cứu", "Verification result"},
	"pubverdict.found":           {"%s của %s được ghi nhận trong hệ thống.", "This %s of %s is recorded by this service."},
	"pubverdict.notfound":        {"Không tìm thấy tệp này trong hệ thống", "This file is not recorded here"},
	"pubverdict.notfound.detail": {"Hệ thống không phát hành, sao hay chứng thực đúng tệp này (từng byte). Một tệp đã bị sửa, dù chỉ một byte, cũng không được tìm thấy.", "This service did not issue, copy or certify these exact bytes. A file changed by even one byte is not found."},
	"pubkind.issued":             {"Văn bản phát hành", "issued document"},
	"pubkind.copy":               {"Bản sao", "copy"},
	"pubkind.certified-copy":     {"Bản sao chứng thực", "certified copy"},
	"pubverdict.number":          {"Số, ký hiệu", "Number"},
	"pubverdict.type":            {"Loại văn bản", "Type"},
	"pubverdict.subject":         {"Trích yếu", "Subject"},
	"pubverdict.date":            {"Ngày", "Date"},
	"pubverdict.register":        {"Sổ đăng ký", "Register"},
	"pubverdict.register.entry":  {"%s, năm %d, số %d", "%s, %d, entry %d"},
	"pubverdict.copyof":          {"Sao từ", "Copy of"},
	"pubverdict.recalled":        {"Văn bản đã bị thu hồi", "The document was recalled"},
	"pubverdict.status":          {"Tình trạng", "Status"},
	"pubverdict.sigs":            {"Kết quả kiểm tra chữ ký số", "Signature check"},
	"pubverdict.overall":         {"Kết luận", "Verdict"},
	"pubverdict.signer":          {"Người/cơ quan ký", "Signer"},
	"pubverdict.when":            {"Thời điểm ký", "Signed at"},
	"pubverdict.level":           {"Mức", "Level"},
	"pubverdict.indication":      {"Kết quả", "Result"},
	"pubverdict.checked":         {"Kiểm tra lúc %s", "Checked at %s"},
	"pubverdict.again":           {"Tra cứu tệp khác", "Check another file"},
	"pubind.VALID":               {"Hợp lệ", "Valid"},
	"pubind.TOTAL_PASSED":        {"Hợp lệ", "Valid"},
	"pubind.INDETERMINATE":       {"Chưa xác định", "Indeterminate"},
	"pubind.INVALID":             {"Không hợp lệ", "Invalid"},
	"pubind.TOTAL_FAILED":        {"Không hợp lệ", "Invalid"},
	"pubind.UNSIGNED":            {"Không có chữ ký", "Unsigned"},
	"citizen.title":              {"Bản sao chứng thực của bạn", "Your certified copies"},
	"citizen.intro":              {"%s đã chứng thực bản sao điện tử từ bản chính: %s.", "%s certified electronic copies of the original: %s."},
	"citizen.number":             {"Số chứng thực %d, quyển số %s, ngày %s", "Certification number %d, book %s, %s"},
	"citizen.download":           {"Tải bản sao số %d (PDF, %s)", "Download copy %d (PDF, %s)"},
	"citizen.expires":            {"Đường dẫn này dùng được đến %s. Hãy tải và lưu các bản sao trước thời hạn đó.", "This link works until %s. Download and keep the copies before then."},
	"citizen.verify":             {"Bất kỳ ai nhận bản sao đều có thể kiểm tra tại trang tra cứu.", "Whoever receives a copy can check it on the verification page."},
	"citizen.gone":               {"Đường dẫn không tồn tại hoặc đã hết hạn. Hãy liên hệ bộ phận một cửa nơi bạn nộp hồ sơ.", "The link is unknown or has expired. Ask the one-stop desk where you handed in the original."},
})

// Indication translates a verdict's indication, keeping an unknown one.
func (p *Page) Indication(s string) string {
	if t := p.T("pubind." + s); t != "pubind."+s {
		return t
	}
	return s
}

// Day shows a YYYY-MM-DD day as the page's dates are shown.
func (p *Page) Day(s string) string {
	t, err := time.ParseInLocation("2006-01-02", s, vietnam)
	if err != nil {
		return s
	}
	return p.Date(t)
}

type checkData struct {
	Code string
}

func (u *UI) checkPage(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	if code == "" {
		u.render(w, r, http.StatusOK, "check", "check.title", checkData{})
		return
	}
	// The code, or the whole link printed or scanned from the QR code.
	if i := strings.LastIndex(code, "/v/"); i >= 0 {
		code = code[i+3:]
	}
	if !publicverify.ValidCode(code) {
		u.renderErr(w, r, http.StatusUnprocessableEntity, "check", "check.title", u.tr(r, "check.code.bad"), checkData{Code: r.URL.Query().Get("code")})
		return
	}
	http.Redirect(w, r, "/v/"+url.PathEscape(code), http.StatusSeeOther)
}

// limited answers a public verification past its address's limit.
func (u *UI) limited(w http.ResponseWriter, r *http.Request) bool {
	if u.cfg.PublicAllow == nil {
		return false
	}
	ok, wait, err := u.cfg.PublicAllow(r)
	if err != nil {
		u.failErr(w, r, err)
		return true
	}
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
		u.fail(w, r, http.StatusTooManyRequests, u.tr(r, "check.limited", int(wait.Seconds())))
		return true
	}
	return false
}

func (u *UI) checkUpload(w http.ResponseWriter, r *http.Request) {
	if u.cfg.PublicVerify == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	if u.limited(w, r) {
		return
	}
	var a publicverify.Answer
	got, err := u.readScan(w, r, map[string]string{}, func(part *multipart.Part) error {
		var err error
		a, err = u.cfg.PublicVerify.Upload(r.Context(), part, u.cfg.Docs.MaxUpload)
		if errors.Is(err, blob.ErrTooLarge) {
			return &documents.InputError{Kind: documents.ErrTooLarge, Detail: fmt.Sprintf("the file is larger than the limit of %d bytes", u.cfg.Docs.MaxUpload)}
		}
		return err
	})
	if err == nil && !got {
		u.renderErr(w, r, http.StatusUnprocessableEntity, "check", "check.title", u.tr(r, "cert.error.file"), checkData{})
		return
	}
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			u.renderErr(w, r, status, "check", "check.title", msg, checkData{})
		}, http.StatusForbidden, http.StatusNotFound)
		return
	}
	u.showVerdict(w, r, a)
}

func (u *UI) verdictByCode(w http.ResponseWriter, r *http.Request) {
	if u.refusedForLimit(w, r) {
		return
	}
	if u.cfg.PublicVerify == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	a, err := u.cfg.PublicVerify.ByCode(r.Context(), chi.URLParam(r, "code"))
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	u.showVerdict(w, r, a)
}

func (u *UI) showVerdict(w http.ResponseWriter, r *http.Request, a publicverify.Answer) {
	pg := u.page(r, "pubverdict.title")
	pg.Data = a
	pg.Path = "/check"
	u.write(w, r, http.StatusOK, "verdict", pg)
}

type citizenData struct {
	V     certify.LinkView
	Token string
}

func (u *UI) citizenLink(w http.ResponseWriter, r *http.Request) {
	if u.cfg.Certify == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	token := chi.URLParam(r, "token")
	v, err := u.cfg.Certify.Link(r.Context(), token)
	if errors.Is(err, certify.ErrLinkGone) {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "citizen.gone"))
		return
	}
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer") // the path is the credential
	pg := u.page(r, "citizen.title")
	pg.Data = citizenData{V: v, Token: token}
	u.write(w, r, http.StatusOK, "citizen", pg)
}
