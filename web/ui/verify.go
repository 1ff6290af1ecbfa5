package ui

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/internal/certname"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// verifySection: the auditor's verification of any PDF, with the full
// report in Vietnamese or English and as a PDF.
var verifySection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn, u.allowedTo(accounts.Verify))
			r.Get("/verify", u.verifyPage)
			r.Post("/verify", u.verifyUpload)
			r.Get("/verify/reports/{token}", u.reportPage)
			r.Get("/verify/reports/{token}/pdf", u.reportPDF)
		})
	},
	nav: []navEntry{{Path: "/verify", Prefix: "/verify/", Key: "nav.verify", show: may(accounts.Verify)}},
}

var _ = addMessages(map[string][2]string{
	"nav.verify":       {"Kiểm tra chữ ký", "Verify"},
	"verify.title":     {"Kiểm tra chữ ký số của tệp PDF", "Verify the signatures of a PDF"},
	"verify.intro":     {"Chọn một tệp PDF bất kỳ. Tệp chỉ được kiểm tra, không được lưu.", "Choose any PDF. It is only checked, never stored."},
	"verify.file":      {"Tệp PDF cần kiểm tra", "PDF to verify"},
	"verify.submit":    {"Kiểm tra", "Verify"},
	"verify.report":    {"Báo cáo kiểm tra", "Validation report"},
	"verify.sha256":    {"SHA-256", "SHA-256"},
	"verify.revisions": {"Số lần lưu", "Revisions"},
	"verify.again":     {"Kiểm tra tệp khác", "Verify another file"},
	"verify.lang":      {"Xem báo cáo bằng tiếng Anh", "Show the report in Vietnamese"},
	"verify.expired":   {"Báo cáo này đã hết hạn lưu tạm (%d phút); hãy kiểm tra lại tệp.", "This report is no longer kept (%d minutes); verify the file again."},
	"verify.checks":    {"Đã kiểm tra", "Checked"},
	"verify.coverage":  {"Phạm vi ký", "Coverage"},
	"verify.tech":      {"chi tiết kỹ thuật", "technical detail"},
})

func (u *UI) verifyPage(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusOK, "verify", "verify.title", nil)
}

type reportData struct {
	View  reportView
	Token string
	Other string
}

// reportView renders a verification report in its own language, which may
// differ from the page's (an auditor may want the English report).
type reportView struct {
	Report *verify.Report
	Lang   string
	PDFURL string
}

func (v reportView) T(key string, args ...any) string {
	return translate(messages[v.Lang], key, args...)
}

func (v reportView) Time(t any) string { return (&Page{Lang: v.Lang}).Time(t) }

// The report's findings in its language (package verify words them): a
// sentence, and apart from it the verifier's own technical words, which
// the template shows in a <code> marked "chi tiết kỹ thuật".

func (v reportView) verifyLang() verify.Lang {
	if v.Lang == "en" {
		return verify.English
	}
	return verify.Vietnamese
}

func (v reportView) Error(msg string) verify.Said      { return v.named(v.verifyLang().Error(msg)) }
func (v reportView) Warning(msg string) verify.Said    { return v.named(v.verifyLang().Warning(msg)) }
func (v reportView) Check(c verify.Check) verify.Said  { return v.named(v.verifyLang().CheckSaid(c)) }
func (v reportView) Sub(s etsi.SubIndication) string   { return v.verifyLang().SubIndication(s) }
func (v reportView) Coverage(c verify.Coverage) string { return v.verifyLang().CoverageSaid(c) }
func (v reportView) ChangeKind(kind string) string     { return v.verifyLang().ChangeKind(kind) }
func (v reportView) Rule(rule string) string           { return v.verifyLang().RuleSaid(rule) }
func (v reportView) Decoding() verify.Said             { return v.verifyLang().DecodingSaid(v.Report.Decoding) }

// Who is a signature's signing certificate as a reader knows it: the
// holder's name and organisation (package certname: never the citizen ID
// number the subject carries).
func (v reportView) Who(s verify.Signature) certname.Name { return certname.Parse(s.Signer) }

// IssuerName names the certificate's issuer (a CA's common name, else its
// organisation).
func (v reportView) IssuerName(s verify.Signature) string { return certname.Shown(s.Issuer) }

// CertHolder is a key binding's certificate as its pages list it: the
// holder's name and organisation, never the rest of its subject (the
// citizen ID number); see package certname.
func (p *Page) CertHolder(subject string) string {
	n := certname.Parse(subject)
	if n.Common != "" && n.Organization != "" {
		return n.Common + " — " + n.Organization
	}
	return n.Shown()
}

// named puts, in the verifier's words, each certificate subject of the
// report by the name a page shows: its findings quote whole subjects.
func (v reportView) named(said verify.Said) verify.Said {
	for _, s := range v.Report.Signatures {
		for _, dn := range []string{s.Signer, s.Issuer} {
			if dn == "" {
				continue
			}
			shown := certname.Shown(dn)
			said.Text = strings.ReplaceAll(said.Text, dn, shown)
			said.Detail = strings.ReplaceAll(said.Detail, dn, shown)
		}
	}
	return said
}

// ChangeDetail is a change's technical description: the object, its
// revision, the rule's identifier and the analysis's own words.
func (v reportView) ChangeDetail(c verify.Change) string {
	d := fmt.Sprintf("%s (rev %d)", c.Object, c.Revision)
	if c.Rule != "" {
		d += " " + c.Rule
	}
	if c.Detail != "" {
		d += ": " + c.Detail
	}
	return d
}

// verifyUpload streams the uploaded file to the verifier (never stored)
// and shows its report; the report is kept a while in memory, for its
// other language and its PDF.
func (u *UI) verifyUpload(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	rep, err := u.verifyMultipart(w, r)
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			u.renderErr(w, r, status, "verify", "verify.title", msg, nil)
		}, http.StatusForbidden, http.StatusNotFound)
		return
	}
	token := u.reports.put(p.ID, rep)
	http.Redirect(w, r, "/verify/reports/"+token, http.StatusSeeOther)
}

func (u *UI) verifyMultipart(w http.ResponseWriter, r *http.Request) (*verify.Report, error) {
	missing := &documents.InputError{Kind: documents.ErrMissingFile, Detail: "choose a PDF file"}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, missing
	}
	r.Body = http.MaxBytesReader(w, r.Body, u.cfg.Docs.MaxUpload+(1<<20))
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, missing
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, missing
		}
		if err != nil {
			return nil, &documents.InputError{Kind: documents.ErrMalformedBody, Detail: "the upload is malformed or too large"}
		}
		if part.FormName() != "file" {
			continue
		}
		if part.FileName() == "" {
			return nil, missing
		}
		rep, err := u.cfg.VerifyUpload(r.Context(), part)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &documents.InputError{Kind: documents.ErrTooLarge, Detail: "the file is larger than the upload limit"}
		}
		if err != nil {
			return nil, err
		}
		rep.File = documents.CleanFileName(part.FileName())
		return rep, nil
	}
}

func (u *UI) reportPage(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	rep, ok := u.reports.get(p.ID, chi.URLParam(r, "token"))
	if !ok {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "verify.expired", int(reportTTL/time.Minute)))
		return
	}
	lang := u.lang(r)
	if l := r.URL.Query().Get("lang"); l == "vi" || l == "en" {
		lang = l
	}
	other := "en"
	if lang == "en" {
		other = "vi"
	}
	token := chi.URLParam(r, "token")
	u.render(w, r, http.StatusOK, "report", "verify.report", reportData{Token: token, Other: other,
		View: reportView{Report: rep, Lang: lang, PDFURL: "/verify/reports/" + token + "/pdf?lang=" + lang}})
}

func (u *UI) reportPDF(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	rep, ok := u.reports.get(p.ID, chi.URLParam(r, "token"))
	if !ok {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "verify.expired", int(reportTTL/time.Minute)))
		return
	}
	lang := verify.Vietnamese
	if r.URL.Query().Get("lang") == "en" {
		lang = verify.English
	}
	var b bytes.Buffer
	if err := verify.WritePDF(&b, []*verify.Report{rep}, lang, nowFunc()); err != nil {
		u.failErr(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="verification-`+rep.SHA256[:12]+`.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

// reportCache keeps recent reports of uploaded files for the user who
// made them, so the report can be shown again in the other language and
// as a PDF without sending the file twice. The file itself is not kept.
type reportCache struct {
	mu      sync.Mutex
	entries map[string]cachedReport
}

type cachedReport struct {
	user    string
	report  *verify.Report
	expires time.Time
}

const (
	reportTTL     = 30 * time.Minute
	reportEntries = 500
)

func newReportCache() *reportCache { return &reportCache{entries: map[string]cachedReport{}} }

func (c *reportCache) put(user string, rep *verify.Report) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	now := nowFunc()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= reportEntries {
		// Drop the expired ones, then the one that expires first.
		var first string
		for k, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, k)
			} else if first == "" || e.expires.Before(c.entries[first].expires) {
				first = k
			}
		}
		if len(c.entries) >= reportEntries {
			delete(c.entries, first)
		}
	}
	c.entries[token] = cachedReport{user: user, report: rep, expires: now.Add(reportTTL)}
	return token
}

func (c *reportCache) get(user, token string) (*verify.Report, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[token]
	if !ok || e.user != user || nowFunc().After(e.expires) {
		return nil, false
	}
	return e.report, true
}
