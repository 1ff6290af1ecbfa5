package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/register/book"
	"github.com/vanthu/vanthu/documents/scancheck"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// certifications is the service of the one-stop desk's certified copies.
func (s *Server) certifications() *certify.Service {
	return &certify.Service{DB: s.DB, Docs: s.Docs, Accounts: s.Accounts, Registers: s.registers(), Events: s.Certifying.Events,
		LinkTTL: s.Certifying.LinkTTL, Now: s.Issuing.Now, TempDir: s.Signing.TempDir, PublicURL: s.publicURL()}
}

// CertifyConfig configures certified copies: how long the citizen's
// download link works (0: certify.DefaultLinkTTL), the events' publisher
// (nil: nobody is told), and the address the links are built on ("":
// the address the certifier's request came to).
type CertifyConfig struct {
	LinkTTL   time.Duration
	Events    events.Publisher
	PublicURL string
}

func (s *Server) certificationRoutes(r chi.Router) {
	r.Post("/certifications", s.openCertification)
	r.Get("/certifications/{id}", s.getCertification)
	r.Post("/certifications/{id}/scan", s.scanCertification)
	r.Post("/certifications/{id}/refuse", s.refuseCertification)
	r.Post("/certifications/{id}/certify", s.certifyCopies)
	r.Get("/certifications/{id}/receipt", s.certificationReceipt)
}

// certifiedCopyRoutes are the citizen's downloads: no login, the
// unguessable token is the credential.
func (s *Server) certifiedCopyRoutes(r chi.Router) {
	r.Get("/c/{token}", s.downloadCertifiedCopy)
	r.Get("/c/{token}/{n}", s.downloadCertifiedCopy)
}

var certifyProblems = []struct {
	kind   error
	status int
	slug   string
	title  string
}{
	{certify.ErrState, http.StatusConflict, "certification-state", "The request is not at this step"},
	{certify.ErrNoKey, http.StatusConflict, "no-certifier-key", "No certifier key"},
}

func writeCertifyError(w http.ResponseWriter, r *http.Request, err error) {
	r = withReason(r, err)
	var se *certify.ScanError
	if errors.As(err, &se) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(struct {
			problem
			Problems []scancheck.Problem `json:"problems"`
		}{problem{Type: "/problems/scan-refused", Title: "The scan does not meet the rules for copies", Status: http.StatusUnprocessableEntity,
			Detail: se.Error(), Instance: r.URL.Path, Reason: reasonOf(r)}, se.Refusal.Problems})
		return
	}
	for _, k := range certifyProblems {
		if errors.Is(err, k.kind) {
			writeProblem(w, r, k.status, k.slug, k.title, err.Error())
			return
		}
	}
	writeRegisterError(w, r, err)
}

func (s *Server) openCertification(w http.ResponseWriter, r *http.Request) {
	var req certify.NewRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeCertifyError(w, r, err)
		return
	}
	c, err := s.certifications().Open(r.Context(), principalFrom(r.Context()), req)
	if err != nil {
		writeCertifyError(w, r, err)
		return
	}
	created(w, "/api/v1/certifications/"+c.ID, c)
}

func (s *Server) getCertification(w http.ResponseWriter, r *http.Request) {
	v, err := s.certifications().Get(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeCertifyError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) scanCertification(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	svc := s.certifications()
	id := chi.URLParam(r, "id")
	// Refused before a byte of the scan is read.
	c, err := svc.Get(r.Context(), p, id)
	if err == nil {
		err = accounts.Authorize(p, accounts.CertificationReceive, accounts.Target{OrgID: c.OrganizationID})
	}
	if err != nil {
		writeCertifyError(w, r, err)
		return
	}
	var out storage.Certification
	_, err = s.readMultipart(w, r, func(*documents.Meta, map[string]bool) error { return nil }, func(part *multipart.Part) error {
		var err error
		out, err = svc.Scan(r.Context(), p, id, part, part.FileName())
		return err
	})
	if err != nil {
		writeCertifyError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) refuseCertification(w http.ResponseWriter, r *http.Request) {
	var req certify.RefuseRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeCertifyError(w, r, err)
		return
	}
	c, err := s.certifications().Refuse(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	if err != nil {
		writeCertifyError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// origin is the address the citizen's links are built on.
func (s *Server) origin(r *http.Request) string {
	if s.Certifying.PublicURL != "" {
		return s.Certifying.PublicURL
	}
	scheme := "http"
	if r.TLS != nil || s.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) certifyCopies(w http.ResponseWriter, r *http.Request) {
	out, err := s.certifications().Certify(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), s.origin(r))
	if err != nil {
		writeCertifyError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // the links carry the token
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) certificationReceipt(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	rc, size, err := s.certifications().Receipt(r.Context(), principalFrom(r.Context()), id)
	if err != nil {
		writeCertifyError(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "bien-nhan-" + id + ".pdf"}))
	w.WriteHeader(http.StatusOK)
	io.Copy(w, rc)
}

func (s *Server) downloadCertifiedCopy(w http.ResponseWriter, r *http.Request) {
	// A browser opening the receipt's link sees the page of the copies
	// (web/ui), whose buttons download them (?download=1); other clients
	// get the file, as before.
	if s.pageHandler != nil && chi.URLParam(r, "n") == "" && r.URL.Query().Get("download") == "" &&
		strings.Contains(r.Header.Get("Accept"), "text/html") {
		s.pageHandler.ServeHTTP(w, r)
		return
	}
	// The file (a citizen's scan) or the refusal is not a page, but it is
	// served from the pages' site: nothing in it may run or be framed.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	n := 1
	if v := chi.URLParam(r, "n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			n = 0
		}
	}
	rc, cc, err := s.certifications().Download(r.Context(), chi.URLParam(r, "token"), n)
	if errors.Is(err, certify.ErrLinkGone) {
		writeProblem(w, r, http.StatusNotFound, "not-found", "Not found", "the link is unknown or has expired")
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.FormatInt(cc.Size, 10))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("ban-sao-chung-thuc-%d.pdf", cc.CopyNumber)}))
	w.WriteHeader(http.StatusOK)
	io.Copy(w, rc)
}

// certifiedRegisterEntries answers GET /registers/{id}/entries for a
// certified-copies register: its eight columns, as JSON, XLSX or PDF.
func (s *Server) certifiedRegisterEntries(w http.ResponseWriter, r *http.Request, year int, format string) {
	reg, year, rows, err := s.certifications().Register(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), year)
	if err != nil {
		writeCertifyError(w, r, err)
		return
	}
	if format == "xlsx" || format == "pdf" {
		org, err := storage.GetOrganization(r.Context(), s.DB.Pool, reg.OrganizationID)
		if err != nil {
			writeRegisterError(w, r, fmt.Errorf("register book: %w", err))
			return
		}
		b := book.Book{Organization: org.Name, Register: reg.Name, Code: reg.Code, Year: year, Columns: certify.Columns,
			Widths: certify.ColumnWidths, Heading: "SỔ CHỨNG THỰC BẢN SAO ĐIỆN TỬ TỪ BẢN CHÍNH", Rows: make([][]string, 0, len(rows))}
		for i, e := range rows {
			n, _ := strconv.Atoi(e.Number)
			if i == 0 {
				b.FromNumber = n
			}
			b.ToNumber = n
			b.Rows = append(b.Rows, e.Cells())
		}
		s.writeBook(w, r, reg, year, b, format)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"register": reg, "year": year, "columns": certify.Columns, "entries": rows})
}
