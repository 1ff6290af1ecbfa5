package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vanthu/vanthu/signing/devpki"
)

// syncBuffer collects log output written from the server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestPKIInitServeShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := filepath.Join(t.TempDir(), "pki")

	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetArgs([]string{"pki", "init", dir, "--url", "http://" + addr})
	t.Cleanup(func() { rootCmd.SetArgs(nil); rootCmd.SetOut(nil) })
	if err := rootCmd.Execute(); err != nil {
		t.Fatalf("pki init: %v", err)
	}
	if !strings.Contains(out.String(), "root-ca.pem") {
		t.Errorf("init output does not point at the trust anchor: %q", out.String())
	}
	for _, f := range []string{"root-ca.pem", "issuing-ca.pem", "official.p12", "official-ec.p12", "tsa.p12", "ocsp.p12", "p12-password"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	// A second init must not overwrite the first.
	rootCmd.SetArgs([]string{"pki", "init", dir, "--url", "http://" + addr})
	if err := rootCmd.Execute(); err == nil {
		t.Error("second init over the same directory succeeded")
	}

	p, err := devpki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- servePKI(ctx, p, addr) }()

	var resp *http.Response
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err = http.Get(p.CRLURL()); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("CRL from served PKI: %v", err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	crl, err := x509.ParseRevocationList(body.Bytes())
	if err != nil {
		t.Fatalf("parse served CRL: %v", err)
	}
	if err := crl.CheckSignatureFrom(p.Issuing()); err != nil {
		t.Errorf("served CRL signature: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
	l := logs.String()
	for _, want := range []string{"pki request", "path=/crl/issuing.crl", "status=200", "shutting down"} {
		if !strings.Contains(l, want) {
			t.Errorf("logs lack %q:\n%s", want, l)
		}
	}
	if strings.Contains(l, string(p.Password())) {
		t.Error("logs contain the .p12 password")
	}

	// The port is free again after a clean shutdown.
	if resp, err := http.Get(p.CRLURL()); err == nil {
		resp.Body.Close()
		t.Error("server still answers after shutdown")
	}
}

// TestPKIInitDemoImages: `pki init` writes the official's signature and the
// organisation's seal as transparent PNGs, and they sign out of the box:
// the official's visible signature, then the organisation's seal signature
// over it, both valid for pdfsig.
func TestPKIInitDemoImages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetArgs([]string{"pki", "init", dir, "--url", "http://127.0.0.1:1"})
	t.Cleanup(func() { rootCmd.SetArgs(nil); rootCmd.SetOut(nil) })
	if err := rootCmd.Execute(); err != nil {
		t.Fatalf("pki init: %v", err)
	}
	for _, want := range []string{"signature.png", "seal.png", "--image " + dir + "/signature.png", "--seal " + dir + "/seal.png"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("init output lacks %q:\n%s", want, out.String())
		}
	}
	for _, c := range []struct {
		file string
		w, h int
	}{{"signature.png", 600, 220}, {"seal.png", 600, 600}} {
		img, err := loadPNG(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
			t.Errorf("%s is %v, want %dx%d", c.file, b, c.w, c.h)
		}
		var clear, ink int
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 4 {
			for x := b.Min.X; x < b.Max.X; x += 4 {
				if _, _, _, a := img.At(x, y).RGBA(); a == 0 {
					clear++
				} else {
					ink++
				}
			}
		}
		if clear == 0 || ink == 0 {
			t.Errorf("%s: %d transparent and %d inked samples, want both", c.file, clear, ink)
		}
	}

	pdfDir := t.TempDir()
	in := writeInput(t, pdfDir)
	signed := filepath.Join(pdfDir, "signed.pdf")
	if err := signCLI(in, signed, "--key", filepath.Join(dir, "official.p12"), "--password-file", filepath.Join(dir, "p12-password"),
		"--visible", "--rect", "330,520,530,620", "--title", "CHỦ TỊCH", "--image", filepath.Join(dir, "signature.png")); err != nil {
		t.Fatalf("sign with the demo signature image: %v", err)
	}
	sealed := filepath.Join(pdfDir, "sealed.pdf")
	if err := signCLI(signed, sealed, "--key", filepath.Join(dir, "seal.p12"), "--password-file", filepath.Join(dir, "p12-password"),
		"--visible", "--rect", "280,500,400,620", "--seal", filepath.Join(dir, "seal.png"), "--lock"); err != nil {
		t.Fatalf("sign with the demo seal image: %v", err)
	}
	assertPdfsigValid(t, sealed, 2)
}
