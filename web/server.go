package web

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/accounts/oidc"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/copies"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
)

// Server holds what the handlers need.
type Server struct {
	DB       *storage.DB
	Blobs    blob.Store
	Docs     *documents.Service
	Accounts *accounts.Service
	// SecureCookies marks the session cookie Secure on plain HTTP too, for
	// a service behind a proxy that terminates TLS.
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed when throttling logins and auditing their address.
	TrustedProxies []netip.Prefix
	// OIDC, when set, adds OpenID Connect login (see oidc.go).
	OIDC *oidc.Client
	// Pages serves the HTML pages (web/ui) at / for browsers; the API
	// stays as it is under /api/v1.
	Pages bool
	// Verify is the deployment's verification: its trust anchors (nil
	// trusts nothing), whether revocation is checked online, the client
	// that fetches OCSP and CRLs. A request may go offline, never online.
	Verify verify.Options
	// TempDir holds the temporary files of verifications too large for
	// memory: on the data volume, not a /tmp that may be memory itself.
	// Empty: the system's temporary directory.
	TempDir string
	// Turns is the approval chain's side of signing: whose turn it is to
	// sign which version. Nil answers the sign routes 409 "no approval
	// chain".
	Turns documents.SigningTurns
	// Signing configures the signatures the service makes.
	Signing SigningConfig
	// BodyLimits sets the minimum rate of request bodies (BodyWindow,
	// BodyMinBytes; see Limits); zero: DefaultLimits.
	BodyLimits Limits
	// Chain runs approval chains (and is the signing step's
	// documents.SigningTurns); Calendar keeps the working calendar. Both
	// default to services over DB and Docs.
	Chain    *chain.Service
	Calendar *calendar.Service
	// Issuing configures numbering and the organisation's signature.
	Issuing IssueConfig
	// Notify is the notifications, e-mail and webhooks engine (notify.go);
	// nil answers its routes 503.
	Notify *notify.Engine
	// Reception configures the reception queues (văn bản đến).
	Reception ReceptionConfig
	// Certifying configures the one-stop desk's certified copies.
	Certifying CertifyConfig
	// Handling runs the handling of incoming documents and the
	// statistics; defaults to a service over DB (events to nobody).
	Handling *handling.Service
	// PublicURL is the deployment's address as the public reaches it: QR
	// codes of copies carry PublicURL/v/{code}. Empty: http://127.0.0.1:8080.
	PublicURL string
	// PublicVerifyLimit bounds public verifications per client address;
	// zero: publicverify.DefaultLimit.
	PublicVerifyLimit publicverify.Limit
	// PublicVerdictTTL is how long public verification reuses a recorded
	// file's verdict (zero: every answer runs the verifier; serve uses
	// publicverify.DefaultVerdictTTL).
	PublicVerdictTTL time.Duration
	// CheckScan checks the scans of paper originals copied with POST
	// /copies (documents/scancheck); nil answers that route 503.
	CheckScan copies.ScanCheck

	verifySlots    chan struct{}
	verifyMemory   *blob.Memory
	publicVerdicts *publicverify.VerdictCache
	// pageHandler serves the pages (nil without Pages): the public routes
	// hand browsers to it.
	pageHandler http.Handler
}

// Handler returns the HTTP routes of the service.
func (s *Server) Handler() http.Handler {
	// Memory is bounded by the shared decoding budget, not by the number of
	// slots, so there are enough that a small verification is not queued
	// behind a few slow hostile files; the CPU is shared between them.
	s.verifySlots = make(chan struct{}, 4*runtime.GOMAXPROCS(0))
	s.verifyMemory = blob.NewMemory(verifyMemoryTotal, verifyMemoryPerPDF)
	s.shareVerifyBudget()
	s.publicVerdicts = publicverify.NewVerdictCache(s.PublicVerdictTTL)
	s.wire()
	r := chi.NewRouter()
	r.Use(recoverer, requestLog, measure(r))
	r.Use(bodyProgress(cmp.Or(s.BodyLimits, DefaultLimits)), s.withDatabase)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "not-found", "Not found", "no such route")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", r.Method+" is not allowed here")
	})
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", s.ready)
	s.sessionRoutes(r)
	s.oidcRoutes(r)
	s.publicRoutes(r)
	// Everything under /api/v1 but logging in needs a credential, and
	// every handler authorizes through accounts.Authorize.
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.authenticate)
		s.directoryRoutes(r)
		r.Post("/documents", s.createDocument)
		r.Get("/documents", s.listDocuments)
		r.Get("/documents/{id}", s.getDocument)
		r.Get("/documents/{id}/versions", s.listVersions)
		r.Post("/documents/{id}/versions", s.addVersion)
		r.Get("/documents/{id}/versions/{n}/file", s.downloadVersion)
		r.Head("/documents/{id}/versions/{n}/file", s.downloadVersion)
		s.verifyRoutes(r)
		s.chainRoutes(r)
		s.signingRoutes(r)
		s.registerRoutes(r)
		s.notifyRoutes(r)
		s.receptionRoutes(r)
		s.certificationRoutes(r)
		s.handlingRoutes(r)
		s.copyRoutes(r)
		s.accountRoutes(r)
	})
	s.certifiedCopyRoutes(r)
	if s.Pages {
		s.pageHandler = s.pages()
		r.Mount("/", s.pageHandler)
	}
	return r
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "blobs": "ok"}
	status := http.StatusOK
	if err := s.DB.Ping(ctx); err != nil {
		checks["database"], status = "unreachable", http.StatusServiceUnavailable
	}
	if err := s.Blobs.Ping(ctx); err != nil {
		checks["blobs"], status = "unreachable", http.StatusServiceUnavailable
	}
	writeJSON(w, status, checks)
}

func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.Error("handler panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeProblem(w, r, http.StatusInternalServerError, "internal", "Internal error", "")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		slog.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start).Round(time.Microsecond))
	})
}
