package web_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/metrics"
	"github.com/vanthu/vanthu/storage"
)

// scrape reads the metrics as Prometheus would: series → value.
func scrape(t *testing.T) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics: %d", rec.Code)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// Requests are counted and timed by route pattern (never by path, so no
// id becomes a label) and status; logins and lockouts by outcome,
// verifications by verdict, blob store operations, and the database pool.
func TestMetricsCountWhatHappened(t *testing.T) {
	e := newEnv(t, 1<<20) // its blob store measured by metrics.Blobs, as serve's is
	if err := metrics.RegisterPool(e.db.Pool); err != nil {
		t.Fatal(err)
	}
	u := e.member(e.office.org.ID, "tranthib", []string{storage.RoleClerk}, e.office.units["VP"].ID)
	e.setPassword(u.user.ID)
	before := scrape(t)

	doc := e.uploadPDF("Quyết định đo đếm", testpdf.Bytes(testpdf.Options{Text: "đo đếm"}))
	for range 2 {
		if resp, b := e.do("GET", "/api/v1/documents/"+doc.ID, nil, "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("get: %d %s", resp.StatusCode, b)
		}
	}
	if resp, _ := e.do("GET", "/api/v1/documents/00000000-0000-4000-8000-000000000000", nil, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("missing document: %d", resp.StatusCode)
	}
	if resp, _ := e.do("GET", "/nowhere/"+doc.ID, nil, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("no route: %d", resp.StatusCode)
	}
	if resp, b := e.verifyUpload("", []part{{name: "file", fileName: "f.pdf", value: string(testpdf.Bytes(testpdf.Options{}))}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d %s", resp.StatusCode, b)
	}
	if resp, err := http.Get(e.url + "/api/v1/documents/" + doc.ID); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	b := &browser{t: t, base: e.url, client: http.DefaultClient}
	for range 5 {
		resp, _ := b.login("tranthib", "sai-mat-khau", nil)
		io.Copy(io.Discard, resp.Body)
	}
	b.login("tranthib", testPassword, nil) // refused: locked

	after := scrape(t)
	delta := func(series string) float64 { return after[series] - before[series] }
	for series, want := range map[string]float64{
		`vanthu_http_requests_total{method="POST",route="/api/v1/documents",status="201"}`:                     1,
		`vanthu_http_requests_total{method="GET",route="/api/v1/documents/{id}",status="200"}`:                 2,
		`vanthu_http_requests_total{method="GET",route="/api/v1/documents/{id}",status="404"}`:                 1,
		`vanthu_http_requests_total{method="GET",route="unmatched",status="404"}`:                              1,
		`vanthu_http_requests_total{method="POST",route="/api/v1/session",status="401"}`:                       4,
		`vanthu_http_requests_total{method="POST",route="/api/v1/session",status="429"}`:                       2,
		`vanthu_http_request_duration_seconds_count{method="GET",route="/api/v1/documents/{id}",status="200"}`: 2,
		`vanthu_logins_total{outcome="failure"}`:                                                               4,
		`vanthu_logins_total{outcome="locked"}`:                                                                2,
		`vanthu_login_lockouts_total{subject="username"}`:                                                      1,
		`vanthu_verifications_total{outcome="UNSIGNED"}`:                                                       1,
		`vanthu_verification_duration_seconds_count{outcome="UNSIGNED"}`:                                       1,
		`vanthu_blob_operations_total{op="put",outcome="ok"}`:                                                  1,
	} {
		if got := delta(series); got != want {
			t.Errorf("%s grew by %v, want %v", series, got, want)
		}
	}
	if after[`vanthu_db_pool_acquires_total`] <= before[`vanthu_db_pool_acquires_total`] || after[`vanthu_db_pool_max_connections`] < 1 {
		t.Errorf("database pool: acquires %v → %v, max %v", before[`vanthu_db_pool_acquires_total`], after[`vanthu_db_pool_acquires_total`], after[`vanthu_db_pool_max_connections`])
	}
	for series := range after {
		if strings.Contains(series, doc.ID) {
			t.Errorf("a document id became a label: %s", series)
		}
	}
}
