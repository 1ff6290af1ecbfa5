package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/metrics"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/web/ui"
)

// publicURL is the deployment's address as the public reaches it, which
// QR codes carry.
func (s *Server) publicURL() string {
	if s.PublicURL != "" {
		return s.PublicURL
	}
	return "http://127.0.0.1:8080"
}

// publicVerify is the service of public verification, running the
// verifier on the service's bounded slots and shared budget.
func (s *Server) publicVerify() *publicverify.Service {
	return &publicverify.Service{DB: s.DB, Blobs: s.Blobs, TempDir: s.TempDir, Verdicts: s.publicVerdicts,
		Verify: func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
			return s.runVerifyAt(ctx, r, size)
		}}
}

// The spooled upload hands the verifier its file (mapped, not read) and the
// hash states captured while it arrived, so the file is hashed once.
var _ interface {
	verify.KnownSHA256
	File() *os.File
} = (*blob.Buffered)(nil)

// publicRoutes need no credential: anyone may ask whether a file was
// issued, copied or certified here, within the per-address limit.
func (s *Server) publicRoutes(r chi.Router) {
	r.With(s.publicLimit).Post("/api/v1/public/verify", s.publicVerifyUpload)
	r.With(s.publicLimit).Get("/v/{code}", s.publicVerifyCode)
}

// publicLimit counts the request against its address's limit before any
// of its body is read.
func (s *Server) publicLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait, err := s.publicAllow(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !ok && r.Method == http.MethodGet && s.pageHandler != nil && !strings.Contains(r.Header.Get("Accept"), "application/json") {
			// A browser following a QR code reads the refusal in the
			// pages' layout and language; the API keeps problem+json.
			s.pageHandler.ServeHTTP(w, r.WithContext(ui.RateLimited(r.Context(), wait)))
			return
		}
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
			writeProblem(w, r, http.StatusTooManyRequests, "rate-limited", "Too many verifications",
				"this address asked for too many verifications; try again after Retry-After seconds")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// publicAllow counts a public verification of r's address against the
// limit: the API's and the pages' share it.
func (s *Server) publicAllow(r *http.Request) (bool, time.Duration, error) {
	l := s.PublicVerifyLimit
	if l == (publicverify.Limit{}) {
		l = publicverify.DefaultLimit
	}
	return publicverify.Allow(r.Context(), s.DB.Pool, s.clientAddress(r), l)
}

func (s *Server) publicVerifyUpload(w http.ResponseWriter, r *http.Request) {
	pub := s.publicVerify()
	var answer publicverify.Answer
	found := false
	_, err := s.readMultipart(w, r, func(*documents.Meta, map[string]bool) error { return nil }, func(part *multipart.Part) (err error) {
		answer, err = pub.Upload(r.Context(), part, s.Docs.MaxUpload)
		if errors.Is(err, blob.ErrTooLarge) {
			return &documents.InputError{Kind: documents.ErrTooLarge, Detail: "the file is larger than the limit"}
		}
		found = err == nil
		return err
	})
	if err == nil && !found {
		err = &documents.InputError{Kind: documents.ErrMissingFile, Detail: "send the PDF as multipart/form-data with a part named file"}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, answer)
}

// publicVerifyCode answers the QR code's URL: the same answer as an
// upload of the file, as a small page or, asked for, JSON.
func (s *Server) publicVerifyCode(w http.ResponseWriter, r *http.Request) {
	a, err := s.publicVerify().ByCode(r.Context(), chi.URLParam(r, "code"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Accept")
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, a)
		return
	}
	if s.pageHandler != nil {
		// The pages show the answer in their layout (counted here already).
		s.pageHandler.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = verdictPage.Execute(w, a)
}

// verdictPage is the QR code's answer in a browser when the service runs
// without its pages (web/ui shows it in the pages' layout otherwise).
var verdictPage = template.Must(template.New("verdict").Parse(`<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Xác minh văn bản</title></head><body>
<main>
<h1>Xác minh văn bản</h1>
{{if .Found}}
<p><strong>{{if eq .Kind "copy"}}Bản sao{{else if eq .Kind "certified-copy"}}Bản sao chứng thực{{else}}Văn bản phát hành{{end}}</strong>
của {{.Organization.Name}} được ghi nhận trong hệ thống.</p>
<dl>
<dt>Số, ký hiệu</dt><dd>{{.Number}}</dd>
<dt>Loại văn bản</dt><dd>{{.Type}}</dd>
<dt>Trích yếu</dt><dd>{{.Subject}}</dd>
<dt>Ngày</dt><dd>{{.Date}}</dd>
{{with .Register}}<dt>Sổ đăng ký</dt><dd>{{.Register}}, năm {{.Year}}, số {{.Number}}</dd>{{end}}
{{with .Certification}}<dt>Chứng thực</dt><dd>Số chứng thực {{.Number}}, quyển số {{.Book}} (bản {{.Copy}}/{{.Copies}})</dd>{{end}}
{{with .CopyOf}}<dt>Sao từ</dt><dd>{{.Form}} {{.Number}} {{.Type}} {{.Date}} {{.Description}}</dd>{{end}}
{{if .Recalled}}<dt>Tình trạng</dt><dd>Đã thu hồi</dd>{{end}}
<dt>Kết quả kiểm tra chữ ký</dt><dd>{{.Verdict}}</dd>
</dl>
<ul>{{range .Signatures}}<li>{{.Signer}}: {{.Indication}}{{with .SigningTime}} ({{.Format "2006-01-02T15:04:05-07:00"}}){{end}}</li>{{end}}</ul>
<p>SHA-256: <code>{{.SHA256}}</code></p>
{{else}}
<p>Không tìm thấy văn bản này trong hệ thống.</p>
{{end}}
</main></body></html>
`))

// runVerifyAt validates a file the caller holds on one of the service's
// verification slots, with the service's options, as runVerify does an
// upload.
func (s *Server) runVerifyAt(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
	select {
	case s.verifySlots <- struct{}{}:
		defer func() { <-s.verifySlots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	start := time.Now()
	rep, err := verify.Verify(ctx, r, size, s.Verify)
	if err != nil {
		metrics.ObserveVerification("error", time.Since(start))
		return nil, fmt.Errorf("verify: %w", err)
	}
	metrics.ObserveVerification(string(rep.Verdict), time.Since(start))
	return rep, nil
}
