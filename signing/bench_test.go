package signing

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/pdf"
	pdfsign "github.com/digitorus/pdfsign/sign"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
)

// Benchmarks compare the engine with the floor (SHA-256 over the file plus one
// RSA-2048 signature) and with pdfsign called directly, at 1 MB and 20 MB:
//
//	go test ./signing -run '^$' -bench . -count 5 -benchtime 20x
//
// Each reports peak-heap-MB, the largest live heap sampled every millisecond.

var benchSizes = []int64{1 << 20, 20 << 20}

func benchKey(b *testing.B) keys.Key {
	b.Helper()
	pki := testPKI(b)
	k, err := keys.OpenPKCS12(pki.P12Path(devpki.Official), pki.Password())
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func benchInput(b *testing.B, size int64) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "in.pdf")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := testpdf.Write(f, testpdf.Options{Pages: 3, Size: size}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return p
}

// peakHeap samples the live heap until stop is called and reports the peak.
func peakHeap(b *testing.B) (stop func()) {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	}
}

func BenchmarkSign(b *testing.B) {
	key := benchKey(b)
	for _, size := range benchSizes {
		in := benchInput(b, size)
		out := filepath.Join(b.TempDir(), "out.pdf")
		b.Run(fmt.Sprintf("vanthu/%dMB", size>>20), func(b *testing.B) {
			b.SetBytes(size)
			stop := peakHeap(b)
			for i := 0; i < b.N; i++ {
				inF, _ := os.Open(in)
				st, _ := inF.Stat()
				outF, err := os.Create(out)
				if err != nil {
					b.Fatal(err)
				}
				if err := Sign(context.Background(), inF, st.Size(), outF, key, Options{}); err != nil {
					b.Fatal(err)
				}
				outF.Close()
				inF.Close()
			}
			stop()
		})
		b.Run(fmt.Sprintf("floor/%dMB", size>>20), func(b *testing.B) {
			b.SetBytes(size)
			stop := peakHeap(b)
			buf := make([]byte, 1<<20)
			for i := 0; i < b.N; i++ {
				inF, _ := os.Open(in)
				h := sha256.New()
				if _, err := io.CopyBuffer(h, inF, buf); err != nil {
					b.Fatal(err)
				}
				if _, err := key.Sign(rand.Reader, h.Sum(nil), crypto.SHA256); err != nil {
					b.Fatal(err)
				}
				inF.Close()
			}
			stop()
		})
		b.Run(fmt.Sprintf("pdfsign/%dMB", size>>20), func(b *testing.B) {
			b.SetBytes(size)
			stop := peakHeap(b)
			for i := 0; i < b.N; i++ {
				inF, _ := os.Open(in)
				st, _ := inF.Stat()
				outF, _ := os.Create(out)
				rdr, err := pdf.NewReader(inF, st.Size())
				if err != nil {
					b.Fatal(err)
				}
				err = pdfsign.Sign(inF, outF, rdr, st.Size(), pdfsign.SignData{
					Signature:         pdfsign.SignDataSignature{CertType: pdfsign.ApprovalSignature, Info: pdfsign.SignDataSignatureInfo{Date: time.Now()}},
					Signer:            key,
					DigestAlgorithm:   crypto.SHA256,
					Certificate:       key.Chain()[0],
					CertificateChains: [][]*x509.Certificate{key.Chain()},
					SubFilter:         pdfsign.SubFilterETSICAdESDetached,
				})
				if err != nil {
					b.Fatal(err)
				}
				outF.Close()
				inF.Close()
			}
			stop()
		})
	}
}
