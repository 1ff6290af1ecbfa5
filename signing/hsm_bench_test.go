package signing_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
)

// memOutput is an in-memory signing.Output, so the benchmark measures
// signing rather than the disk.
type memOutput struct{ b []byte }

func (m *memOutput) Write(p []byte) (int, error) {
	m.b = append(m.b, p...)
	return len(p), nil
}

func (m *memOutput) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	copy(m.b[off:], p)
	return len(p), nil
}

const benchDocs = 100

// signBatch signs every document with key on workers goroutines (B-B) and
// returns the signed files.
func signBatch(ctx context.Context, key keys.Key, docs [][]byte, workers int) ([][]byte, error) {
	out := make([][]byte, len(docs))
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				m := &memOutput{b: make([]byte, 0, len(docs[i])+32<<10)}
				if err := signing.Sign(ctx, bytes.NewReader(docs[i]), int64(len(docs[i])), m, key, signing.Options{Level: signing.LevelBB}); err != nil {
					errs <- fmt.Errorf("document %d: %w", i, err)
					return
				}
				out[i] = m.b
			}
		}()
	}
	var err error
feed:
	for i := range docs {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return out, err
}

// rawBatch makes the same number of bare RSA signatures over a digest with
// the same workers: the key's own floor, without any PDF work.
func rawBatch(key keys.Key, n, workers int) error {
	digest := sha256.Sum256([]byte("vanthu"))
	next := make(chan struct{})
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// BenchmarkSoftHSMConcurrent signs 100 one-page documents (B-B) concurrently
// with the dev PKI's RSA-2048 official key held on a SoftHSM2 token, with
// GOMAXPROCS workers and with 8, and the same documents with the same key
// from its PKCS#12 file for comparison. "raw" is the floor: 100 bare
// signatures over a digest with the same workers. Each op is one batch of
// 100; sigs/s is the throughput.
//
//	go test ./signing -run '^$' -bench SoftHSMConcurrent -benchtime 10x -count 3
func BenchmarkSoftHSMConcurrent(b *testing.B) {
	ctx := context.Background()
	pki := testharness.DevPKI(b)

	docs := make([][]byte, benchDocs)
	for i := range docs {
		docs[i] = testpdf.Bytes(testpdf.Options{Pages: 1, Text: fmt.Sprintf("QUYET DINH so %02d/QD-UBND", i+1)})
	}

	p12, err := keys.Open(ctx, pki.P12Path(devpki.Official), keys.PasswordFromFile(pki.PasswordPath()))
	if err != nil {
		b.Fatal(err)
	}
	defer keys.Close(p12)
	if pub, ok := p12.Public().(*rsa.PublicKey); !ok || pub.N.BitLen() != 2048 {
		b.Fatalf("official key is %T, want RSA-2048", p12.Public())
	}
	tok := testharness.SoftHSM(b)
	soft, err := pki.Key(devpki.Official)
	if err != nil {
		b.Fatal(err)
	}
	hsm, err := keys.Open(ctx, testharness.ImportKey(b, tok, soft, soft.Chain(), "official", []byte{1}), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := keys.Close(hsm); err != nil {
			b.Errorf("close PKCS#11 key: %v", err)
		}
	}()

	// The batches must produce valid signatures: check a few with pdfsig
	// once, outside the timings.
	for _, k := range []keys.Key{hsm, p12} {
		signed, err := signBatch(ctx, k, docs, 8)
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		for _, i := range []int{0, benchDocs / 2, benchDocs - 1} {
			p := filepath.Join(dir, fmt.Sprintf("%d.pdf", i))
			if err := os.WriteFile(p, signed[i], 0o644); err != nil {
				b.Fatal(err)
			}
			signing.AssertValidExternal(b, p, 1)
		}
	}

	workers := []int{runtime.GOMAXPROCS(0)}
	if workers[0] != 8 {
		workers = append(workers, 8)
	}
	for _, src := range []struct {
		name string
		key  keys.Key
	}{{"PKCS11-SoftHSM", hsm}, {"PKCS12", p12}} {
		for _, w := range workers {
			b.Run(fmt.Sprintf("%s/workers=%d", src.name, w), func(b *testing.B) {
				start := time.Now()
				for i := 0; i < b.N; i++ {
					if _, err := signBatch(ctx, src.key, docs, w); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(benchDocs*b.N)/time.Since(start).Seconds(), "sigs/s")
			})
			b.Run(fmt.Sprintf("%s/raw/workers=%d", src.name, w), func(b *testing.B) {
				start := time.Now()
				for i := 0; i < b.N; i++ {
					if err := rawBatch(src.key, benchDocs, w); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(benchDocs*b.N)/time.Since(start).Seconds(), "sigs/s")
			})
		}
	}
}
