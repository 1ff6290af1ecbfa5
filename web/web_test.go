package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/metrics"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/s3"
	"github.com/vanthu/vanthu/web"
)

func TestMain(m *testing.M) {
	// Request logs would drown test and benchmark output.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	testharness.Main(m)
}

// env is one service instance on its own database and bucket, with one
// organisation (UBND, units VP and TH) and a drafter of both units whose
// API token is token.
type env struct {
	t        testing.TB
	url      string
	token    string
	db       *storage.DB
	blobs    blob.Store
	moved    func()     // waits until every staged update is in MinIO
	inner    blob.Store // what blobs wraps: MinIO through the metrics
	accounts *accounts.Service
	office   *office
	server   *web.Server
	handler  atomic.Pointer[http.Handler] // what the test server serves: server.Handler(), rebuilt by configure
	s3       testharness.S3Config
	// finished receives "METHOD path" when a request's handler has returned.
	finished chan string
}

// newEnv runs the service as `vanthu serve` does with MinIO: uploads spooled
// in a local directory while they are hashed and checked.
func newEnv(t testing.TB, maxUpload int64) *env {
	t.Helper()
	return newEnvMode(t, maxUpload, true)
}

// newEnvMode chooses between spooling uploads locally and streaming them to
// a temporary object in MinIO (the blob store's two modes).
func newEnvMode(t testing.TB, maxUpload int64, spool bool) *env {
	t.Helper()
	ctx := context.Background()
	dbURL := testharness.Postgres(t)
	if err := storage.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	cfg := testharness.MinIO(t)
	s3cfg := s3.Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket}
	if spool {
		s3cfg.SpoolDir = t.TempDir()
	}
	bucket, err := s3.New(ctx, s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Wrapped as `vanthu serve` wraps it, so the tests and benchmarks go
	// the paths the service goes.
	inner := metrics.Blobs(bucket)
	blobs, moved := stagedBlobs(t, db, inner)
	ks, err := accounts.OpenKeystore(filepath.Join(t.TempDir(), "keystore-key"))
	if err != nil {
		t.Fatal(err)
	}
	acc := &accounts.Service{DB: db, Keystore: ks}
	// As `vanthu serve` does: tokens' principals kept while the database
	// tells their changes; the listener ends before the pool closes.
	tokensCtx, stopTokens := context.WithCancel(ctx)
	waitTokens := acc.StartTokenCache(tokensCtx)
	t.Cleanup(func() {
		stopTokens()
		waitTokens()
	})
	docs := &documents.Service{DB: db, Blobs: blobs, MaxUpload: maxUpload, Retention: time.Hour}
	e := &env{t: t, db: db, blobs: blobs, inner: inner, moved: moved, accounts: acc, s3: cfg, finished: make(chan string, 100),
		server: &web.Server{DB: db, Blobs: blobs, Docs: docs, Accounts: acc}}
	e.configure(func(*web.Server) {})
	finished := e.finished
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*e.handler.Load()).ServeHTTP(w, r)
		select {
		case finished <- r.Method + " " + r.URL.Path:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	// Named as the dev PKI's seal certificate names its organisation: a
	// seal certificate must name the organisation it is bound to.
	e.office = e.newOffice("UBND", "Ủy ban nhân dân tỉnh Mẫu", "VP", "TH")
	e.token = e.member(e.office.org.ID, "chuyenvien", []string{storage.RoleDrafter}, e.office.units["VP"].ID, e.office.units["TH"].ID).token
	return e
}

// configure changes the service's configuration and rebuilds its routes.
func (e *env) configure(change func(*web.Server)) {
	change(e.server)
	h := e.server.Handler()
	e.handler.Store(&h)
}

type part struct{ name, fileName, value string }

func multipartBody(parts []part) (*bytes.Buffer, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		if p.fileName != "" {
			w, _ := mw.CreateFormFile(p.name, p.fileName)
			io.WriteString(w, p.value)
		} else {
			mw.WriteField(p.name, p.value)
		}
	}
	mw.Close()
	return &body, mw.FormDataContentType()
}

func (e *env) do(method, path string, body io.Reader, contentType string, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

func (e *env) upload(parts []part, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	body, ct := multipartBody(parts)
	return e.do("POST", "/api/v1/documents", body, ct, hdr)
}

func (e *env) uploadPDF(subject string, pdf []byte) storage.Document {
	e.t.Helper()
	resp, b := e.upload([]part{{name: "type", value: "QĐ"}, {name: "subject", value: subject}, {name: "file", fileName: "quyết định.pdf", value: string(pdf)}}, nil)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var d storage.Document
	if err := json.Unmarshal(b, &d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// stored counts document rows and readable blobs.
func (e *env) stored() (rows, blobs int) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM documents").Scan(&rows); err != nil {
		e.t.Fatal(err)
	}
	if err := e.blobs.List(ctx, func(blob.Info) error { blobs++; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return rows, blobs
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
