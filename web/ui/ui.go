package ui

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/copies"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

// Sessions is the browser session cookie, owned by the web package: the
// pages read and set the same cookie the API accepts.
type Sessions interface {
	// Secret is the session secret the request carries, "" if none.
	Secret(r *http.Request) string
	Start(w http.ResponseWriter, r *http.Request, secret string)
	End(w http.ResponseWriter, r *http.Request)
}

// Config is what the pages need from the service.
type Config struct {
	DB       *storage.DB
	Docs     *documents.Service
	Accounts *accounts.Service
	Sessions Sessions
	// ClientAddress is the address logins are throttled by.
	ClientAddress func(*http.Request) string
	// VerifyUpload validates a PDF read from r (refusing one larger than
	// the upload limit) on the service's verification slots.
	VerifyUpload func(ctx context.Context, r io.Reader) (*verify.Report, error)
	// VerifyVersion validates a stored version.
	VerifyVersion func(ctx context.Context, v documents.Version) (*verify.Report, error)
	// CreateDocument reads a multipart upload (the same fields as POST
	// /api/v1/documents) and creates the document: the no-script path of
	// the upload page. It returns the fields it read even when it refuses,
	// so the page shows the form again as it was filled.
	CreateDocument func(w http.ResponseWriter, r *http.Request, p accounts.Principal) (documents.Document, documents.Meta, error)
	// AddVersion reads a multipart upload (field file, as POST
	// /api/v1/documents/{id}/versions) and adds it as the document's new
	// version: how a drafter answers a return on the document page.
	AddVersion func(w http.ResponseWriter, r *http.Request, p accounts.Principal, id string) (documents.Version, error)
	// OIDCLogin is the path that starts an OpenID Connect login; "" when
	// the office has no identity provider.
	OIDCLogin string
	// UploadURL is the API route the upload page sends files to with
	// progress (XHR with the session cookie).
	UploadURL string
	// Chain runs approval chains: the inbox, the chain panel and its
	// forms (nil: the pages show no chain).
	Chain *chain.Service
	// Sign signs the document with p's server-held key, as POST
	// /api/v1/documents/{id}/sign (req: the place, empty to find the
	// printed name); nil: no sign button.
	Sign func(ctx context.Context, p accounts.Principal, documentID string, req docsign.Request) (documents.Version, error)
	// Registers keeps the registers and issues documents (nil: no issuing
	// pages).
	Registers *register.Service
	// Calendar keeps the working calendar (nil: no calendar page).
	Calendar *calendar.Service
	// Reception keeps the reception queues and the incoming registers
	// (nil: no reception pages).
	Reception *reception.Service
	// Handling runs the handling of incoming documents (the handling
	// panel and its forms on the document page) and computes the on-time
	// statistics (nil: neither).
	Handling *handling.Service
	// Copies makes the organisation's copies (nil: no copy pages).
	Copies *copies.Service
	// Certify runs the certified-copy desk (nil: no desk pages).
	Certify *certify.Service
	// CertifyOrigin is the address the citizen's links are built on for a
	// request (as POST /api/v1/certifications/{id}/certify builds them).
	CertifyOrigin func(*http.Request) string
	// PublicVerify answers the public verification pages (nil: none).
	PublicVerify *publicverify.Service
	// PublicAllow counts a public verification against its address's
	// limit before the upload is read: false with the wait when reached.
	PublicAllow func(*http.Request) (ok bool, retryAfter time.Duration, err error)
	// SecureCookies marks the pages' own cookie (the language) Secure on
	// plain HTTP too, as the session cookie is behind a TLS proxy.
	SecureCookies bool
	// Notify keeps notifications and webhooks (nil: no bell, no
	// notifications or webhooks pages).
	Notify *notify.Engine
	// SignatureImage reads and PutSignatureImage stores a person's
	// handwritten-signature image, as GET and PUT
	// /api/v1/users/{id}/signature-image do (nil: the account pages
	// offer no image).
	SignatureImage    func(ctx context.Context, p accounts.Principal, userID string) (storage.SignatureImage, error)
	PutSignatureImage func(ctx context.Context, p accounts.Principal, userID string, r io.Reader) (storage.SignatureImage, error)
}

// UI serves the pages.
type UI struct {
	cfg     Config
	pages   map[string]*template.Template
	assets  *assets
	reports *reportCache
	router  chi.Router
	// nav is every section's navigation entries, in order.
	nav []navEntry
}

// section is one workflow's pages: its routes, and the navigation entry
// shown to whoever may use it. Adding a workflow is adding a section.
type section struct {
	routes func(u *UI, r chi.Router)
	nav    []navEntry
}

type navEntry struct {
	Path, Key string
	// Prefix marks the entry current on every page under it ("" for Path
	// only).
	Prefix string
	// show reports whether p may use the entry, through accounts.Authorize.
	show func(p accounts.Principal) bool
}

// sections lists every workflow's pages, in navigation order.
var sections = []section{homeSection, documentsSection, chainSection, issuingSection, copiesSection, receptionSection, handlingSection, verifySection, auditSection, adminSection, adminWorkflowSection, statsSection, notifySection, webhooksSection, adminDirectorySection, adminPeopleSection, sessionSection, accountSection}

// New parses the templates and builds the routes. Templates are embedded,
// so a template that does not parse is a bug any test finds: it panics.
func New(cfg Config) *UI {
	u := &UI{cfg: cfg, assets: loadAssets(), reports: newReportCache()}
	u.pages = parsePages(u.assets)
	r := chi.NewRouter()
	r.Use(securityHeaders, u.crossOrigin, u.session, withRefusedField)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, http.StatusMethodNotAllowed, u.tr(r, "error.method"))
	})
	r.Get("/static/*", u.assets.serve)
	for _, s := range sections {
		s.routes(u, r)
		u.nav = append(u.nav, s.nav...)
	}
	u.router = r
	return u
}

func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) { u.router.ServeHTTP(w, r) }

// Router is the pages' router: what the service mounts, and what tests
// walk to reach every page.
func (u *UI) Router() chi.Router { return u.router }

// parsePages parses each page template with the layout and the shared
// partials, so every page has its own "content".
func parsePages(a *assets) map[string]*template.Template {
	funcs := template.FuncMap{
		"asset": a.url,
		"has":   a.has,
		"inc":   func(i int) int { return i + 1 },
		"list":  func(s ...string) []string { return s },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
		"query": func(kv ...string) template.URL {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					v.Set(kv[i], kv[i+1])
				}
			}
			return template.URL(v.Encode())
		},
	}
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	pages := map[string]*template.Template{}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		name := strings.TrimPrefix(f, "templates/")
		if strings.HasPrefix(name, "_") {
			continue
		}
		pages[strings.TrimSuffix(name, ".html")] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, f))
	}
	return pages
}

// Page is what every template receives.
type Page struct {
	Lang  string
	User  *accounts.Principal
	Title string
	Nav   []navLink
	// Path is the page's own path and query, where the language switch
	// comes back to.
	Path string
	// Error is a message shown above the content (a refused form).
	Error string
	// Refused: Error is a form's refusal, shown as an error summary
	// that links to ErrorField when it names one (forms.go).
	Refused    bool
	ErrorField *FieldLink
	errorField string
	errorForm  string
	Data       any
	// Bell shows the unread notifications' count (Unread) in the header.
	Bell   bool
	Unread int
	// Fix is the way out of the refusal in Error, when it has one (a link).
	Fix *navLink

	msgs map[string]string
}

type navLink struct {
	Path, Label string
	Current     bool
}

// T translates a message key, formatting args into it.
func (p *Page) T(key string, args ...any) string { return translate(p.msgs, key, args...) }

// render writes a page with status.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name, titleKey string, data any) {
	u.renderErr(w, r, status, name, titleKey, "", data)
}

func (u *UI) renderErr(w http.ResponseWriter, r *http.Request, status int, name, titleKey, errMsg string, data any) {
	pg := u.page(r, titleKey)
	pg.Error, pg.Data = errMsg, data
	u.write(w, r, status, name, pg)
}

func (u *UI) page(r *http.Request, titleKey string) *Page {
	lang := u.lang(r)
	pg := &Page{Lang: lang, Path: r.URL.RequestURI(), msgs: messages[lang]}
	pg.Title = pg.T(titleKey)
	pg.Fix = fixOf(r, pg)
	if p, ok := principal(r.Context()); ok {
		pg.User = &p
		pg.Bell, pg.Unread = u.bell(r, p)
		for _, n := range u.nav {
			if n.show(p) {
				current := r.URL.Path == n.Path || n.Prefix != "" && strings.HasPrefix(r.URL.Path, n.Prefix)
				pg.Nav = append(pg.Nav, navLink{Path: n.Path, Label: pg.T(n.Key), Current: current})
			}
		}
	}
	return pg
}

var bufPool = sync.Pool{New: func() any { return new(strings.Builder) }}

func (u *UI) write(w http.ResponseWriter, r *http.Request, status int, name string, pg *Page) {
	t, ok := u.pages[name]
	if !ok {
		panic("ui: no page template " + name)
	}
	if pg.Error != "" && name != "error" {
		// A page shown again with a refusal: its error summary (every
		// form page comes here, whichever handler sets Error).
		pg.Refused = true
		if f := refusedFieldOf(r); f != nil {
			pg.errorField, pg.errorForm = f.name, f.form
		}
	}
	b := bufPool.Get().(*strings.Builder)
	defer func() { b.Reset(); bufPool.Put(b) }()
	tmpl := "layout"
	if r.Header.Get("HX-Request") == "true" && t.Lookup("fragment") != nil {
		tmpl = "fragment" // htmx asks for the part it swaps in
	}
	if err := t.ExecuteTemplate(b, tmpl, pg); err != nil {
		if r.Context().Err() == nil {
			slog.Error("render page", "page", name, "err", err)
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	out := b.String()
	if pg.errorField != "" {
		// The summary links to the refused field by its label on this
		// page: render again with it, and mark the field.
		if tag, link, ok := findField(out, pg.errorForm, pg.errorField); ok {
			pg.ErrorField = &link
			b.Reset()
			if err := t.ExecuteTemplate(b, tmpl, pg); err == nil {
				out = markInvalid(b.String(), tag)
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, out)
}

// fail answers with a readable error page.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	pg := u.page(r, "error.title")
	pg.Error = msg
	pg.Data = map[string]any{"Status": status}
	u.write(w, r, status, "error", pg)
}

// failErr answers with the page for err: refused input, a refusal, a
// missing thing, or an internal error logged and never shown.
func (u *UI) failErr(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := u.explain(r, err)
	if status == http.StatusInternalServerError && r.Context().Err() == nil {
		slog.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	u.fail(w, r, status, msg)
}

// refusalKind is how a page answers one of a service's refusals: its status
// and the message key of the reader's headline.
type refusalKind struct {
	kind   error
	status int
	key    string
}

// stateRefusals are the services' refusals of a request their state or
// rules do not allow: the reader's headline, then the error's own reason.
var stateRefusals = []refusalKind{
	{chain.ErrConflict, http.StatusConflict, "error.chain.conflict"},
	{chain.ErrInvalid, http.StatusUnprocessableEntity, "error.chain.invalid"},
	{handling.ErrConflict, http.StatusConflict, "error.handling.conflict"},
	{handling.ErrInvalid, http.StatusUnprocessableEntity, "error.handling.invalid"},
	{calendar.ErrInvalid, http.StatusUnprocessableEntity, "error.calendar"},
	{reception.ErrState, http.StatusConflict, "error.arrival.state"},
}

// signRefusals are signing's, issuing's and certifying's refusals: the
// reader's headline, then the whole error in brackets (it carries the
// reason).
var signRefusals = []refusalKind{
	{docsign.ErrPlace, http.StatusUnprocessableEntity, "error.sign.place"},
	{docsign.ErrNoKey, http.StatusConflict, "error.sign.key"},
	{docsign.ErrNotYourTurn, http.StatusConflict, "error.sign.turn"},
	{docsign.ErrNoImage, http.StatusConflict, "error.sign.image"},
	{docsign.ErrNoChain, http.StatusConflict, "error.sign.chain"},
	{signing.ErrLocked, http.StatusConflict, "error.sign.locked"},
	{docsign.ErrUnavailable, http.StatusServiceUnavailable, "error.sign.down"},
	{register.ErrNotSigned, http.StatusConflict, "error.issue.notsigned"},
	{register.ErrNoSealKey, http.StatusConflict, "error.issue.nosealkey"},
	{register.ErrSeal, http.StatusUnprocessableEntity, "error.issue.seal"},
	{register.ErrUnavailable, http.StatusServiceUnavailable, "error.issue.down"},
	{storage.ErrDuplicateNumber, http.StatusConflict, "error.issue.duplicate"},
	{certify.ErrState, http.StatusConflict, "cert.error.state"},
	{certify.ErrNoKey, http.StatusConflict, "cert.error.nokey"},
}

// explain maps an error of the service layer to a status and a message for
// the reader. It is the one place a service's refusal gets its status and
// words on the pages: the status from the refusal's kind, the words from
// its reason (package refusal) when it names one, else the kind's
// headline before the service's own detail.
func (u *UI) explain(r *http.Request, err error) (int, string) {
	status, msg := u.explainKind(r, err)
	if worded, ok := u.reasonWords(r, err); ok {
		if status == http.StatusInternalServerError {
			// A refusal with a reason is the person's to correct, even
			// when no kind above knows it.
			status = http.StatusUnprocessableEntity
		}
		return status, worded
	}
	return status, msg
}

// explainKind is explain by the refusal's kind alone.
func (u *UI) explainKind(r *http.Request, err error) (int, string) {
	for _, k := range stateRefusals {
		if errors.Is(err, k.kind) {
			return k.status, u.withDetail(r, u.tr(r, k.key), strings.TrimPrefix(err.Error(), k.kind.Error()+": "))
		}
	}
	for _, k := range signRefusals {
		if errors.Is(err, k.kind) {
			return k.status, u.withDetail(r, u.tr(r, k.key), err.Error())
		}
	}
	var din *documents.InputError
	switch {
	case errors.As(err, &din):
		status := http.StatusUnprocessableEntity
		switch {
		case errors.Is(err, documents.ErrNotFound):
			return http.StatusNotFound, u.tr(r, "error.notfound")
		case errors.Is(err, documents.ErrTooLarge):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(err, documents.ErrNotPDF):
			status = http.StatusUnsupportedMediaType
		case errors.Is(err, documents.ErrEmptyFile), errors.Is(err, documents.ErrMissingFile),
			errors.Is(err, documents.ErrMalformedBody), errors.Is(err, documents.ErrInvalidField), errors.Is(err, documents.ErrInvalidCursor):
			status = http.StatusBadRequest
		}
		return status, u.documentInput(r, din.Kind, din.Detail)
	case errors.Is(err, documents.ErrNotFound), errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound, u.tr(r, "error.notfound")
	}
	if status, msg, ok := u.explainAccounts(r, err); ok {
		return status, msg
	}
	if errors.Is(err, storage.ErrConflict) {
		return http.StatusConflict, u.tr(r, "error.conflict")
	}
	for _, k := range documentInputs {
		if errors.Is(err, k.kind) {
			return http.StatusUnprocessableEntity, u.tr(r, k.key)
		}
	}
	return http.StatusInternalServerError, u.tr(r, "error.internal")
}

// withDetail is a refusal's headline in the reader's language with the
// service's own detail, which is English (the API's words): an English
// page reads them as one sentence, a Vietnamese page shows the detail
// apart, marked as technical detail, so no sentence mixes the languages.
func (u *UI) withDetail(r *http.Request, headline, detail string) string {
	if detail == "" {
		return headline
	}
	if u.lang(r) == "en" {
		return headline + ": " + detail
	}
	return headline + " (" + u.tr(r, "error.tech") + ": " + detail + ")"
}

// tr translates a key in the request's language.
func (u *UI) tr(r *http.Request, key string, args ...any) string {
	return translate(messages[u.lang(r)], key, args...)
}

// nowFunc is the clock of the pages.
var nowFunc = time.Now
