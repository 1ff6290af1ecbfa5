package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/ltv"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// buildBinary compiles vanthu once per test binary.
var builtBinary string

func binary(t *testing.T) string {
	t.Helper()
	if builtBinary != "" {
		return builtBinary
	}
	dir, err := os.MkdirTemp("", "vanthu-bin-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "vanthu")
	if b, err := exec.Command("go", "build", "-o", out, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	builtBinary = out
	return out
}

// service is a running `vanthu serve` process.
type service struct {
	cmd  *exec.Cmd
	url  string
	logs *processOutput
	done chan error
}

func startService(t *testing.T, dataDir string, env ...string) *service {
	t.Helper()
	return startServiceArgs(t, dataDir, nil, env...)
}

// startServiceArgs starts serve with extra flags.
func startServiceArgs(t *testing.T, dataDir string, args []string, env ...string) *service {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &service{url: "http://" + addr, logs: &processOutput{}, done: make(chan error, 1)}
	s.cmd = exec.Command(binary(t), append([]string{"serve", "--addr", addr, "--data-dir", dataDir}, args...)...)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.cmd.Process.Kill() })
	// A safety net for a hang, not a speed: the demo office's first start
	// (its database, PKI, signed and issued documents) takes over a
	// minute on a busy 2-core machine.
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("vanthu serve exited: %v\n%s", err, s.logs)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("vanthu serve not ready\n%s", s.logs)
	return nil
}

// processOutput collects the process output, which exec copies from its own
// goroutine while the test reads it.
type processOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *processOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *processOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (s *service) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited with %v\n%s", err, s.logs)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}

func uploadRequest(t *testing.T, url, token string, body io.Reader, contentType string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/api/v1/documents", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	return req
}

// apiJSON sends a JSON request with a token and decodes the answer into
// out, failing the test unless the status is want.
func apiJSON(t *testing.T, method, url, token string, in, out any, want int) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
}

// newDrafter does, as the bootstrap administrator, what an office does
// first (the administrator belongs to no organisation and drafts nothing):
// an organisation, a unit, and a drafter of that unit with an API token,
// which it returns.
func newDrafter(t *testing.T, base, adminToken string) string {
	t.Helper()
	var org, unit, user struct{ ID string }
	apiJSON(t, "POST", base+"/api/v1/organizations", adminToken, map[string]string{"code": "UBND", "name": "Ủy ban nhân dân xã An Bình"}, &org, 201)
	apiJSON(t, "POST", base+"/api/v1/organizations/"+org.ID+"/units", adminToken, map[string]string{"code": "VP", "name": "Văn phòng"}, &unit, 201)
	apiJSON(t, "POST", base+"/api/v1/users", adminToken, map[string]any{"username": "chuyenvien", "full_name": "Trần Văn Chuyên",
		"organization_id": org.ID, "unit_ids": []string{unit.ID}, "roles": []string{"drafter"}}, &user, 201)
	var tok struct{ Token string }
	apiJSON(t, "POST", base+"/api/v1/users/"+user.ID+"/tokens", adminToken, map[string]string{"name": "thử"}, &tok, 201)
	if tok.Token == "" {
		t.Fatal("no token in the answer")
	}
	return tok.Token
}

func readToken(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestZeroConfigServeKeepsDataAcrossRestarts(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "var")
	s := startService(t, dataDir)
	for _, name := range []string{"database-url", "admin-token"} {
		st, err := os.Stat(filepath.Join(dataDir, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v", name, err, st.Mode().Perm())
		}
	}
	if !strings.Contains(s.logs.String(), filepath.Join(dataDir, "admin-token")) {
		t.Errorf("start-up output does not say where the admin token is:\n%s", s.logs)
	}
	adminToken := readToken(t, dataDir)
	if strings.Contains(s.logs.String(), adminToken) {
		t.Fatal("the admin token appears in the output")
	}
	upload := func(token string) *http.Response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("type", "TB")
		mw.WriteField("subject", "Thông báo lịch họp")
		w, _ := mw.CreateFormFile("file", "tb.pdf")
		w.Write(testpdf.Bytes(testpdf.Options{}))
		mw.Close()
		resp, err := http.DefaultClient.Do(uploadRequest(t, s.url, token, &body, mw.FormDataContentType()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// The administrator manages organisations but drafts nothing.
	if resp := upload(adminToken); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("upload as the administrator: %s", resp.Status)
	}
	token := newDrafter(t, s.url, adminToken)
	if resp := upload(token); resp.StatusCode != 201 {
		t.Fatalf("upload: %s", resp.Status)
	}
	if blobs, _ := filepath.Glob(filepath.Join(dataDir, "blobs", "*", "*")); len(blobs) != 1 {
		t.Errorf("want the one upload under %s/blobs, found %v", dataDir, blobs)
	}
	s.stop(t)
	if _, err := os.Stat(filepath.Join(dataDir, "pg", "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("PostgreSQL still running after the service stopped: %v", err)
	}
	// migrate starts the same private PostgreSQL and finds nothing to do.
	if out, err := exec.Command(binary(t), "migrate", "--data-dir", dataDir).CombinedOutput(); err != nil || !strings.Contains(string(out), "migrations applied") {
		t.Fatalf("vanthu migrate: %v\n%s", err, out)
	}

	s = startService(t, dataDir)
	if readToken(t, dataDir) != adminToken {
		t.Fatal("restart replaced the admin token")
	}
	req, _ := http.NewRequest("GET", s.url+"/api/v1/documents?q=thong+bao", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "Thông báo lịch họp") {
		t.Fatalf("document lost across restart: %s", b)
	}
	s.stop(t)
}

// TestKillMidUploadLeavesNothing kills the service with SIGKILL while a large
// upload streams into MinIO, then checks the database and the bucket.
func TestKillMidUploadLeavesNothing(t *testing.T) {
	dbURL := testharness.Postgres(t)
	bucket := testharness.MinIO(t)
	dataDir := t.TempDir()
	env := []string{"VANTHU_DATABASE_URL=" + dbURL,
		"VANTHU_S3_ENDPOINT=" + bucket.Endpoint, "VANTHU_S3_ACCESS_KEY=" + bucket.AccessKey,
		"VANTHU_S3_SECRET_KEY=" + bucket.SecretKey, "VANTHU_S3_BUCKET=" + bucket.Bucket}
	s := startService(t, dataDir, env...)
	token := newDrafter(t, s.url, readToken(t, dataDir))

	// Made before the request starts: a body that stalls mid-way (as it
	// would while 60 MB are generated on a loaded machine) is cut by the
	// service's minimum body rate.
	pdf := testpdf.Bytes(testpdf.Options{Size: 60 << 20})
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sent := make(chan int64, 1)
	go func() {
		mw.WriteField("type", "QĐ")
		mw.WriteField("subject", "Tải lên bị ngắt")
		w, _ := mw.CreateFormFile("file", "big.pdf")
		var n int64
		for off := 0; off < len(pdf); off += 1 << 20 {
			m, err := w.Write(pdf[off:min(off+1<<20, len(pdf))])
			n += int64(m)
			if err != nil {
				break
			}
			if n == 30<<20 {
				sent <- n
			}
			time.Sleep(10 * time.Millisecond)
		}
		mw.Close()
		pw.Close()
	}()
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(uploadRequest(t, s.url, token, pr, mw.FormDataContentType()))
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("upload finished with %s", resp.Status)
		}
		errc <- err
	}()
	select {
	case <-sent:
	case <-time.After(60 * time.Second):
		t.Fatal("upload did not progress")
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	pr.CloseWithError(io.ErrClosedPipe)
	if err := <-errc; err == nil {
		t.Fatal("the upload succeeded although the service was killed")
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows int
	if err := conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM document_versions)").Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d rows after the kill (%v)", rows, err)
	}
	client, err := minio.New(bucket.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(bucket.AccessKey, bucket.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	for o := range client.ListObjects(ctx, bucket.Bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		t.Errorf("object %s (%d bytes) is readable after the kill", o.Key, o.Size)
	}
	// The interrupted multipart upload is invisible; the sweeper aborts it later.
	incomplete := 0
	for u := range client.ListIncompleteUploads(ctx, bucket.Bucket, "", true) {
		if u.Err == nil {
			incomplete++
		}
	}
	spooled, _ := filepath.Glob(filepath.Join(dataDir, "spool", "*"))
	t.Logf("%d spool files and %d interrupted multipart uploads left for the sweeper", len(spooled), incomplete)

	// A restart sweeps what the killed process left once it is older than
	// the grace period.
	s = startService(t, dataDir, append(env, "VANTHU_SWEEP_GRACE=1ms")...)
	deadline := time.Now().Add(time.Minute) // a hang, not a speed
	for {
		spooled, _ = filepath.Glob(filepath.Join(dataDir, "spool", "*"))
		incomplete = 0
		for u := range client.ListIncompleteUploads(ctx, bucket.Bucket, "", true) {
			if u.Err == nil {
				incomplete++
			}
		}
		if len(spooled) == 0 && incomplete == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a restart %d spool files and %d unfinished uploads remain", len(spooled), incomplete)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop(t)
}

// TestServeVerifiesWithItsTrustAndOfflineSetting: serve's --trust anchors
// and --verify-offline reach the verification API. Offline, a B-LT file
// carries its own revocation data and is VALID; a B-B file has none.
func TestServeVerifiesWithItsTrustAndOfflineSetting(t *testing.T) {
	pki := testharness.DevPKI(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.pdf")
	if err := os.WriteFile(plain, testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Quyet dinh 7/QD-UBND"}), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"B-LT": "VALID", "B-B": "INDETERMINATE"}
	for level := range files {
		opts := signing.Options{Level: signing.LevelBB}
		if level == "B-LT" {
			opts = signing.Options{Level: signing.LevelBLT, TSAURL: pki.TSAURL(), Extender: &ltv.Extender{TSA: ltv.TSA{URL: pki.TSAURL()}}}
		}
		if err := signing.SignFile(context.Background(), plain, filepath.Join(dir, level+".pdf"), key, opts); err != nil {
			t.Fatal(err)
		}
	}
	dataDir := filepath.Join(t.TempDir(), "var")
	s := startService(t, dataDir, "VANTHU_TRUST="+filepath.Join(pki.Dir(), devpki.RootCA+".pem"), "VANTHU_VERIFY_OFFLINE=true")
	defer s.stop(t)
	token := newDrafter(t, s.url, readToken(t, dataDir))
	for level, want := range files {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		w, _ := mw.CreateFormFile("file", level+".pdf")
		b, err := os.ReadFile(filepath.Join(dir, level+".pdf"))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		mw.Close()
		req, _ := http.NewRequest("POST", s.url+"/api/v1/verify", &body)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var rep struct{ Verdict string }
		err = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || rep.Verdict != want {
			t.Errorf("%s: %s %v verdict %q, want %s", level, resp.Status, err, rep.Verdict, want)
		}
	}
}

// Prometheus metrics are served on --metrics-addr (VANTHU_METRICS_ADDR),
// a listener of their own, and never on the API's: requests by route
// pattern, the database pool and the blob store show there.
func TestServeMetricsOnTheirOwnAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := l.Addr().String()
	l.Close()
	s := startService(t, t.TempDir(), "VANTHU_METRICS_ADDR="+metricsAddr)
	defer s.stop(t)
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(s.url + "/api/v1/documents"); code != http.StatusUnauthorized {
		t.Fatalf("API without a token: %d", code)
	}
	if code, body := get(s.url + "/metrics"); code != http.StatusNotFound || strings.Contains(body, "vanthu_") {
		t.Fatalf("the API's listener serves metrics: %d %.200s", code, body)
	}
	code, body := get("http://" + metricsAddr + "/metrics")
	if code != http.StatusOK {
		t.Fatalf("metrics: %d %.300s", code, body)
	}
	for _, want := range []string{
		`vanthu_http_requests_total{method="GET",route="/api/v1/documents",status="401"} 1`,
		`vanthu_http_requests_total{method="GET",route="/readyz",status="200"}`,
		`vanthu_db_pool_acquires_total`,
		`vanthu_db_pool_max_connections`,
		`vanthu_blob_operations_total{op="ping",outcome="ok"}`,
		`vanthu_blob_cache_hits_total 0`,
		`vanthu_blob_cache_misses_total 0`,
		`vanthu_http_request_duration_seconds_bucket{method="GET",route="/api/v1/documents",status="401",le=`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code, _ := get("http://" + metricsAddr + "/api/v1/documents"); code != http.StatusNotFound {
		t.Fatalf("the metrics listener serves the API: %d", code)
	}
}
