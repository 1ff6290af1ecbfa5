package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/web"
)

// recordedFile stores a signed PDF of about size bytes as a document and
// records it for public verification, as issuing does its sealed version.
func recordedFile(tb testing.TB, e *env, size int64) []byte {
	tb.Helper()
	ctx := context.Background()
	pki := testharness.DevPKI(tb)
	e.configure(func(s *web.Server) {
		s.Verify = verify.Options{Trust: chain.NewStore(pki.Root())}
		s.PublicVerifyLimit = publicverify.Limit{Requests: 1 << 30, Window: time.Hour}
	})
	key, err := pki.Key(devpki.Seal)
	if err != nil {
		tb.Fatal(err)
	}
	in := testpdf.Bytes(testpdf.Options{Size: size})
	var signed bytes.Buffer
	if err := signing.Sign(ctx, bytes.NewReader(in), int64(len(in)), &memOutput{b: &signed}, key, signing.Options{Name: "Ủy ban nhân dân tỉnh Mẫu"}); err != nil {
		tb.Fatal(err)
	}
	doc := e.uploadPDF("Quyết định lớn", signed.Bytes())
	if _, err := publicverify.Record(ctx, e.db.Pool, publicverify.Rec{SHA256: sha(signed.Bytes()), Kind: publicverify.KindIssued,
		DocumentID: doc.ID, Version: 1, OrganizationID: e.office.org.ID}); err != nil {
		tb.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(ctx, "UPDATE documents SET status = 'issued', number = '01/QĐ-UBND', issued_at = now() WHERE id = $1", doc.ID); err != nil {
		tb.Fatal(err)
	}
	return signed.Bytes()
}

type memOutput struct{ b *bytes.Buffer }

func (m *memOutput) Write(p []byte) (int, error) { return m.b.Write(p) }
func (m *memOutput) WriteAt(p []byte, off int64) (int, error) {
	copy(m.b.Bytes()[off:], p)
	return len(p), nil
}

// streamPublicVerify posts pdf to the public route through a pipe (the
// body is never one buffer) and returns the status and the answer.
func (e *env) streamPublicVerify(tb testing.TB, pdf []byte) (int, []byte) {
	tb.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, _ := mw.CreateFormFile("file", "x.pdf")
		_, err := io.Copy(w, bytes.NewReader(pdf))
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", e.url+"/api/v1/public/verify", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestPublicVerifyHeapFlat: verifying a recorded 20 MB file publicly (its
// upload hashed as it streams, the recorded file verified from a
// temporary file) holds a few MB of heap beyond what the test holds, not
// the file.
func TestPublicVerifyHeapFlat(t *testing.T) {
	e := newEnv(t, 250<<20)
	pdf := recordedFile(t, e, 20<<20)
	var status int
	var body []byte
	// Collect often while measuring: the figure is what the verification
	// holds, and on a loaded machine the default pacing lets garbage
	// outgrow it before a late collection.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	base := heapObjects()
	peak := peakHeap(func() { status, body = e.streamPublicVerify(t, pdf) })
	if status != http.StatusOK || !bytes.Contains(body, []byte(`"found":true`)) || !bytes.Contains(body, []byte(`"verdict":"VALID"`)) {
		t.Fatalf("public verification: %d %s", status, body)
	}
	grew := int64(peak) - int64(base)
	t.Logf("heap grew by %.1f MB while verifying a 20 MB file publicly", float64(grew)/(1<<20))
	if grew > 12<<20 {
		t.Fatalf("heap grew by %.1f MB for a 20 MB file: the file is held in memory", float64(grew)/(1<<20))
	}
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkPublicVerifyVsUploadPaired alternates, in every iteration, an
// upload of 20 MB through POST /documents and a public verification of a
// recorded 20 MB signed file, and reports both throughputs and the ratio
// verify/upload (target: at least 0.8). "cold" runs the verifier on every
// answer (the first answer for a file); "cached" reuses the verdict as
// serve does for five minutes (hash while streaming and the look-up).
func BenchmarkPublicVerifyVsUploadPaired(b *testing.B) {
	for _, mode := range []struct {
		name string
		ttl  time.Duration
	}{{"cold", 0}, {"cached", publicverify.DefaultVerdictTTL}} {
		b.Run(mode.name, func(b *testing.B) {
			const size = 20 << 20
			e := newEnv(b, 250<<20)
			recorded := recordedFile(b, e, size)
			e.configure(func(s *web.Server) { s.PublicVerdictTTL = mode.ttl })
			upload := testpdf.Bytes(testpdf.Options{Size: size})
			var upTime, verTime time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				data := uniquePDF(upload, i)
				body, ct := multipartBody([]part{{name: "type", value: "BC"}, {name: "subject", value: "Báo cáo"}, {name: "file", fileName: "bc.pdf", value: string(data)}})
				start := time.Now()
				resp, out := e.do("POST", "/api/v1/documents", body, ct, nil)
				upTime += time.Since(start)
				if resp.StatusCode != http.StatusCreated {
					b.Fatalf("upload: %d %s", resp.StatusCode, out)
				}
				vbody, vct := multipartBody([]part{{name: "file", fileName: "x.pdf", value: string(recorded)}})
				start = time.Now()
				resp, out = send(b, e.url, "", "POST", "/api/v1/public/verify", vbody, vct)
				verTime += time.Since(start)
				if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"verdict":"VALID"`)) {
					b.Fatalf("public verification: %d %s", resp.StatusCode, out)
				}
			}
			mb := float64(size) * float64(b.N) / (1 << 20)
			b.ReportMetric(mb/upTime.Seconds(), "upload-MB/s")
			b.ReportMetric(mb/verTime.Seconds(), "publicverify-MB/s")
			b.ReportMetric(upTime.Seconds()/verTime.Seconds(), "verify/upload")
		})
	}
}
