package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
)

// serve keeps a version it read in memory: the second download and a
// range request (pdf.js) are cache hits, the first a miss, and every answer
// is the uploaded bytes.
func TestServeReadsBlobsThroughTheCache(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := l.Addr().String()
	l.Close()
	dataDir := t.TempDir()
	s := startService(t, dataDir, "VANTHU_METRICS_ADDR="+metricsAddr, "VANTHU_BLOB_CACHE_MB=8")
	defer s.stop(t)
	token := newDrafter(t, s.url, readToken(t, dataDir))

	pdf := testpdf.Bytes(testpdf.Options{})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("type", "TB")
	mw.WriteField("subject", "Thông báo")
	w, _ := mw.CreateFormFile("file", "tb.pdf")
	w.Write(pdf)
	mw.Close()
	resp, err := http.DefaultClient.Do(uploadRequest(t, s.url, token, &body, mw.FormDataContentType()))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || doc.ID == "" {
		t.Fatalf("upload: %s", resp.Status)
	}

	get := func(rng string) []byte {
		t.Helper()
		req, _ := http.NewRequest("GET", s.url+"/api/v1/documents/"+doc.ID+"/versions/1/file", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("download %q: %s %s", rng, resp.Status, b)
		}
		return b
	}
	for i := range 2 {
		if got := get(""); !bytes.Equal(got, pdf) {
			t.Fatalf("download %d: %d bytes differ from the upload", i, len(got))
		}
	}
	if got := get("bytes=10-109"); !bytes.Equal(got, pdf[10:110]) {
		t.Fatalf("range: %d bytes differ", len(got))
	}

	resp, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	value := func(name string) int {
		m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindSubmatch(metrics)
		if m == nil {
			t.Fatalf("no %s in the metrics", name)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	if hits, misses := value("vanthu_blob_cache_hits_total"), value("vanthu_blob_cache_misses_total"); hits != 2 || misses != 1 {
		t.Fatalf("cache hits %d, misses %d; want 2 and 1", hits, misses)
	}
}
