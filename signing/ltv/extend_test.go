package ltv

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestExtendFile(t *testing.T) {
	ca := newTinyCA(t)
	leaf, key := ca.leaf("Phạm Thị Dung")
	signed := signPDF(t, basePDF(t, true), leaf, key, []*x509.Certificate{ca.ca}, ca.srv.URL+"/tsa")
	ext := &Extender{Options: Options{Roots: []*x509.Certificate{ca.root}}, TSA: TSA{URL: ca.srv.URL + "/tsa"}}

	tests := []struct {
		name     string
		lta      bool
		tsaDown  bool
		wantErr  bool
		wantEOFs int // %%EOF markers added
		wantSigs int // signatures pdfsig validates
	}{
		{name: "B-LT", lta: false, wantEOFs: 1, wantSigs: 1},
		{name: "B-LTA", lta: true, wantEOFs: 3, wantSigs: 1},
		{name: "B-LTA with the TSA down leaves the file as signed", lta: true, tsaDown: true, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ca.mu.Lock()
			ca.tsaDown = tc.tsaDown
			ca.mu.Unlock()
			path := filepath.Join(t.TempDir(), "doc.pdf")
			if err := os.WriteFile(path, signed, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			n, err := ext.ExtendFile(ctx, f, int64(len(signed)), tc.lta)
			got, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				if !bytes.Equal(got, signed) {
					t.Fatalf("file changed on error: %d bytes, was %d", len(got), len(signed))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(got)) || !bytes.HasPrefix(got, signed) {
				t.Fatalf("size %d, file %d bytes; prefix kept: %v", n, len(got), bytes.HasPrefix(got, signed))
			}
			if added := bytes.Count(got, []byte("%%EOF")) - bytes.Count(signed, []byte("%%EOF")); added != tc.wantEOFs {
				t.Fatalf("%d updates appended, want %d", added, tc.wantEOFs)
			}
			pdfsigOK(t, got, tc.wantSigs)
			qpdfCheck(t, got)
			d := readDSS(t, got)
			sigs := findSigs(t, got)
			for _, s := range sigs {
				if _, ok := d.vri[s.VRIKey()]; !ok {
					t.Fatalf("signature %q has no VRI entry", s.Field)
				}
			}
		})
	}
}

// TestSecondSigner: a second official signs a B-LT file, then B-LT is made
// again; the first signer's VRI entry and streams stay, the DSS gains the
// second's.
func TestSecondSigner(t *testing.T) {
	ca := newTinyCA(t)
	ctx := context.Background()
	opts := Options{Roots: []*x509.Certificate{ca.root}}
	a, aKey := ca.leaf("Chủ tịch")
	b, bKey := ca.leaf("Văn thư")
	first := signPDF(t, basePDF(t, false), a, aKey, []*x509.Certificate{ca.ca}, ca.srv.URL+"/tsa")
	var lt1 bytes.Buffer
	if _, err := AddValidationData(ctx, bytes.NewReader(first), int64(len(first)), &lt1, opts); err != nil {
		t.Fatal(err)
	}
	second := signPDF(t, lt1.Bytes(), b, bKey, []*x509.Certificate{ca.ca}, ca.srv.URL+"/tsa")
	var lt2 bytes.Buffer
	rep, err := AddValidationData(ctx, bytes.NewReader(second), int64(len(second)), &lt2, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signatures) != 1 || rep.Signatures[0].Evidence.Certs[0].Equal(a) {
		t.Fatal("the second pass should only cover the new signature")
	}
	d1, d2 := readDSS(t, lt1.Bytes()), readDSS(t, lt2.Bytes())
	if len(d2.vri) != 2 {
		t.Fatalf("VRI has %d entries, want 2", len(d2.vri))
	}
	for k, e := range d1.vri {
		if d2.vri[k]["Cert"] != e["Cert"] || d2.tu[k] != d1.tu[k] {
			t.Fatalf("first signer's VRI entry changed: %v → %v", e, d2.vri[k])
		}
	}
	if !containsCert(d2.certs, b) {
		t.Fatal("DSS lacks the second signer's certificate")
	}
	pdfsigOK(t, lt2.Bytes(), 2)
	qpdfCheck(t, lt2.Bytes())

	var again bytes.Buffer
	if _, err := AddValidationData(ctx, bytes.NewReader(lt2.Bytes()), int64(lt2.Len()), &again, opts); !errors.Is(err, ErrUpToDate) || again.Len() != 0 {
		t.Fatalf("err = %v, %d bytes; want ErrUpToDate and nothing written", err, again.Len())
	}
	opts.Refresh = true
	rep, err = AddValidationData(ctx, bytes.NewReader(lt2.Bytes()), int64(lt2.Len()), &again, opts)
	if err != nil || len(rep.Signatures) != 2 {
		t.Fatalf("refresh: %v, %d signatures", err, len(rep.Signatures))
	}
	qpdfCheck(t, again.Bytes())
}

// TestDamagedInputNoPanic feeds truncated and bit-flipped signed files: any
// outcome but a panic is acceptable, and an error must leave out empty.
func TestDamagedInputNoPanic(t *testing.T) {
	ca := newTinyCA(t)
	leaf, key := ca.leaf("Hoàng Văn E")
	signed := signPDF(t, basePDF(t, false), leaf, key, []*x509.Certificate{ca.ca}, ca.srv.URL+"/tsa")
	rng := rand.New(rand.NewSource(1))
	opts := Options{NoAIAFetch: true, Timeout: 2 * time.Second}
	for i := 0; i < 60; i++ {
		b := append([]byte(nil), signed...)
		switch i % 3 {
		case 0:
			b = b[:rng.Intn(len(b))]
		default:
			for j := 0; j < 1+rng.Intn(8); j++ {
				b[len(b)-1-rng.Intn(len(b)/2)] = byte(rng.Intn(256))
			}
		}
		var out bytes.Buffer
		_, err := AddValidationData(context.Background(), bytes.NewReader(b), int64(len(b)), &out, opts)
		if err != nil && out.Len() != 0 {
			t.Fatalf("case %d: error %v but %d bytes written", i, err, out.Len())
		}
	}
}

func TestCancelledContext(t *testing.T) {
	ca := newTinyCA(t)
	leaf, key := ca.leaf("Đỗ Văn F")
	signed := signPDF(t, basePDF(t, false), leaf, key, []*x509.Certificate{ca.ca}, ca.srv.URL+"/tsa")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if _, err := AddValidationData(ctx, bytes.NewReader(signed), int64(len(signed)), &out, Options{}); !errors.Is(err, context.Canceled) || out.Len() != 0 {
		t.Fatalf("err = %v, %d bytes written", err, out.Len())
	}
	if err := AddDocumentTimestamp(ctx, bytes.NewReader(signed), int64(len(signed)), &out, TSA{URL: ca.srv.URL + "/tsa"}); err == nil || out.Len() != 0 {
		t.Fatalf("doc timestamp with a cancelled context: err = %v, %d bytes", err, out.Len())
	}
}
