package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vanthu/vanthu/internal/testpdf"
)

// streamUpload sends a generated PDF of about size bytes as a multipart
// upload without holding it in memory, and returns the status.
func (e *env) streamUpload(tb testing.TB, size int64) int {
	tb.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("type", "BC")
		mw.WriteField("subject", "Báo cáo dung lượng lớn")
		w, _ := mw.CreateFormFile("file", "large.pdf")
		err := testpdf.Write(w, testpdf.Options{Size: size})
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", e.url+"/api/v1/documents", pr)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// peakHeap samples the live heap while fn runs.
func peakHeap(fn func()) uint64 {
	// Twice: sync.Pool contents from setup (goose keeps a 16 MB parse buffer)
	// survive one collection, and are no part of the upload.
	runtime.GC()
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

// TestUploadHeapStaysSmall uploads 200 MB through the API into MinIO in both
// blob store modes; client and server share this process, so the figure
// covers both.
func TestUploadHeapStaysSmall(t *testing.T) {
	for _, mode := range []struct {
		name  string
		spool bool
	}{{"spooled", true}, {"streamed", false}} {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnvMode(t, 250<<20, mode.spool)
			var status int
			peak := peakHeap(func() { status = e.streamUpload(t, 200<<20) })
			if status != http.StatusCreated {
				t.Fatalf("upload: %d", status)
			}
			t.Logf("peak Go heap while uploading 200 MB (%s): %.1f MB", mode.name, float64(peak)/(1<<20))
			if peak > 64<<20 {
				t.Fatalf("peak heap %.1f MB, want under 64 MB", float64(peak)/(1<<20))
			}
		})
	}
}

// BenchmarkUpload20MB compares an upload through the API (multipart, hash,
// PDF checks, metadata row) with a bare minio-go PutObject of the same bytes.
// Both send from memory; each iteration's file differs so nothing dedupes.
func BenchmarkUpload20MB(b *testing.B) {
	const size = 20 << 20
	pdf := testpdf.Bytes(testpdf.Options{Size: size})
	b.Run("api", func(b *testing.B) {
		e := newEnv(b, 250<<20)
		b.SetBytes(size)
		b.StopTimer()
		for i := 0; i < b.N; i++ {
			body, ct := multipartBody([]part{{name: "type", value: "BC"}, {name: "subject", value: "Báo cáo"}, {name: "file", fileName: "bc.pdf", value: string(uniquePDF(pdf, i))}})
			b.StartTimer()
			resp, out := e.do("POST", "/api/v1/documents", body, ct, nil)
			b.StopTimer()
			if resp.StatusCode != http.StatusCreated {
				b.Fatalf("upload: %d %s", resp.StatusCode, out)
			}
		}
	})
	b.Run("bare-minio-putobject", func(b *testing.B) {
		e := newEnv(b, 0)
		client, err := minio.New(e.s3.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(e.s3.AccessKey, e.s3.SecretKey, "")})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(size)
		b.StopTimer()
		for i := 0; i < b.N; i++ {
			data := uniquePDF(pdf, i)
			b.StartTimer()
			_, err := client.PutObject(context.Background(), e.s3.Bucket, fmt.Sprintf("bare-%d", i), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// uniquePDF makes iteration i's file distinct by changing bytes inside the
// padding stream, so the content-addressed store cannot skip the upload.
func uniquePDF(pdf []byte, i int) []byte {
	v := append([]byte(nil), pdf...)
	v[1000], v[1001], v[1002] = byte(i), byte(i>>8), 0xA5
	return v
}

// BenchmarkUploadVsBarePaired alternates an API upload and a bare PutObject
// of the same 20 MB in every iteration, so both see the same machine load
// (separate benchmarks run seconds apart on a shared machine), and reports
// their throughputs and the ratio api/bare, for both blob store modes.
func BenchmarkUploadVsBarePaired(b *testing.B) {
	const size = 20 << 20
	pdf := testpdf.Bytes(testpdf.Options{Size: size})
	for _, mode := range []struct {
		name  string
		spool bool
	}{{"spooled", true}, {"streamed", false}} {
		b.Run(mode.name, func(b *testing.B) {
			e := newEnvMode(b, 250<<20, mode.spool)
			client, err := minio.New(e.s3.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(e.s3.AccessKey, e.s3.SecretKey, "")})
			if err != nil {
				b.Fatal(err)
			}
			var apiTime, bareTime time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				data := uniquePDF(pdf, i)
				body, ct := multipartBody([]part{{name: "type", value: "BC"}, {name: "subject", value: "Báo cáo"}, {name: "file", fileName: "bc.pdf", value: string(data)}})
				start := time.Now()
				resp, out := e.do("POST", "/api/v1/documents", body, ct, nil)
				apiTime += time.Since(start)
				if resp.StatusCode != http.StatusCreated {
					b.Fatalf("upload: %d %s", resp.StatusCode, out)
				}
				start = time.Now()
				_, err := client.PutObject(context.Background(), e.s3.Bucket, fmt.Sprintf("bare-%d", i), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
				bareTime += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
			}
			mb := float64(size) * float64(b.N) / (1 << 20)
			b.ReportMetric(mb/apiTime.Seconds(), "api-MB/s")
			b.ReportMetric(mb/bareTime.Seconds(), "bare-MB/s")
			b.ReportMetric(bareTime.Seconds()/apiTime.Seconds(), "api/bare")
		})
	}
}
