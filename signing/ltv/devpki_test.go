package ltv

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
)

// TestDevPKI runs B-LT then B-LTA against the dev PKI for the official (good)
// and the revoked signer.
func TestDevPKI(t *testing.T) {
	p := testharness.DevPKI(t)
	tests := []struct {
		name    string
		signer  string
		revoked bool
	}{
		{name: "official", signer: devpki.Official},
		{name: "revoked", signer: devpki.Revoked, revoked: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := p.Key(tc.signer)
			if err != nil {
				t.Fatal(err)
			}
			chain := key.Chain()
			signed := signPDF(t, basePDF(t, false), chain[0], key, chain[1:], p.TSAURL())
			path := filepath.Join(t.TempDir(), "doc.pdf")
			if err := os.WriteFile(path, signed, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ext := &Extender{Options: Options{Roots: []*x509.Certificate{p.Root()}}, TSA: TSA{URL: p.TSAURL()}}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := ext.ExtendFile(ctx, f, int64(len(signed)), true); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			d := readDSS(t, got)
			sigs := findSigs(t, got)
			if len(sigs) != 2 {
				t.Fatalf("%d signatures, want the signature and a document timestamp", len(sigs))
			}
			for _, s := range sigs {
				if _, ok := d.vri[s.VRIKey()]; !ok {
					t.Fatalf("no VRI entry for %q", s.Field)
				}
			}
			for _, want := range append(chain, p.Root()) {
				if !containsCert(d.certs, want) {
					t.Fatalf("DSS lacks %q", want.Subject)
				}
			}
			wantStatus := ocsp.Good
			if tc.revoked {
				wantStatus = ocsp.Revoked
			}
			sawOCSP, crlListed := false, false
			for _, raw := range d.ocsps {
				r, err := VerifyOCSP(raw, chain[0], chain[1], time.Now())
				if err != nil {
					continue // another certificate's response
				}
				sawOCSP = true
				if r.Status != wantStatus {
					t.Fatalf("OCSP status %d, want %d", r.Status, wantStatus)
				}
			}
			for _, raw := range d.crls {
				l, err := VerifyCRL(raw, chain[1], time.Now())
				if err != nil {
					continue
				}
				crlListed = crlListed || revokedEntry(l, chain[0].SerialNumber) != nil
			}
			if !sawOCSP {
				t.Fatal("no verifying OCSP response for the signer in the DSS")
			}
			if crlListed != tc.revoked {
				t.Fatalf("CRL lists the signer: %v, want %v", crlListed, tc.revoked)
			}
			pdfsigOK(t, got, 1)
			qpdfCheck(t, got)
			if !bytes.HasPrefix(got, signed) {
				t.Fatal("signed bytes changed")
			}
		})
	}
}

// TestSigningEngineBLTA drives the signing engine at B-LT and B-LTA with this
// package as its Extender, against the dev PKI.
func TestSigningEngineBLTA(t *testing.T) {
	p := testharness.DevPKI(t)
	key, err := p.Key(devpki.Deputy)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "draft.pdf")
	if err := os.WriteFile(in, basePDF(t, true), 0o600); err != nil {
		t.Fatal(err)
	}
	ext := &Extender{Options: Options{Roots: []*x509.Certificate{p.Root()}}, TSA: TSA{URL: p.TSAURL()}}
	for _, tc := range []struct {
		level    signing.Level
		wantSigs int
	}{{signing.LevelBLT, 1}, {signing.LevelBLTA, 2}} {
		t.Run(string(tc.level), func(t *testing.T) {
			out := filepath.Join(dir, string(tc.level)+".pdf")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := signing.SignFile(ctx, in, out, key, signing.Options{
				Level: tc.level, TSAURL: p.TSAURL(), Extender: ext, Reason: "KT. Chủ tịch",
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			sigs := findSigs(t, got)
			if len(sigs) != tc.wantSigs {
				t.Fatalf("%d signatures, want %d", len(sigs), tc.wantSigs)
			}
			d := readDSS(t, got)
			for _, s := range sigs {
				if e, ok := d.vri[s.VRIKey()]; !ok || e["OCSP"]+e["CRL"] == 0 {
					t.Fatalf("signature %q: VRI entry %v", s.Field, e)
				}
			}
			pdfsigOK(t, got, 1)
			qpdfCheck(t, got)
		})
	}
}
