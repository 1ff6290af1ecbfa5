package signing_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/signing/ltv"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// keySource signs in into out with one kind of key.
type keySource struct {
	name string
	sign func(t *testing.T, in, out string, opts signing.Options)
}

// signTwoStep is the external flow: Prepare reserves the signature, the
// value is computed elsewhere (here by key, standing in for the official's
// token) over Prepared.Digest, Finalize embeds it, and the LTV extender
// raises the file to B-LT/B-LTA as Sign would.
func signTwoStep(t *testing.T, key keys.Key, in, out string, opts signing.Options) {
	t.Helper()
	ctx := context.Background()
	src, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	// Only the certificate chain is known where the PDF is prepared.
	ext, err := keys.NewExternal(key.Chain())
	if err != nil {
		t.Fatal(err)
	}
	p, err := signing.Prepare(ctx, src, st.Size(), dst, ext.Chain(), opts)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	value, err := key.Sign(rand.Reader, p.Digest, p.SignerOpts())
	if err != nil {
		t.Fatalf("external signature value: %v", err)
	}
	if err := signing.Finalize(ctx, p, dst, value); err != nil {
		t.Fatalf("finalize: %v", err)
	}
	if opts.Level == signing.LevelBLT || opts.Level == signing.LevelBLTA {
		if _, err := opts.Extender.ExtendFile(ctx, dst, p.Size, opts.Level == signing.LevelBLTA); err != nil {
			t.Fatalf("extend to %s: %v", opts.Level, err)
		}
	}
}

// TestKeySourceRoundTrips signs at every PAdES level with every key source —
// a PKCS#12 file, a PKCS#11 key on SoftHSM2 and the external two-step flow —
// against the dev PKI's real OCSP, CRL and TSA responders. pdfsig reports the
// signature valid and the verifier, online and trusting only the dev root,
// says VALID at the level asked for.
func TestKeySourceRoundTrips(t *testing.T) {
	ctx := context.Background()
	pki := testharness.DevPKI(t)

	p12, err := keys.Open(ctx, pki.P12Path(devpki.Official), keys.PasswordFromFile(pki.PasswordPath()))
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close(p12)

	tok := testharness.SoftHSM(t)
	soft, err := pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	uri := testharness.ImportKey(t, tok, soft, soft.Chain(), "official", []byte{0x0a})
	hsm, err := keys.Open(ctx, uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Closed before the test ends, so the module is finalised before the
	// next SoftHSM test points SOFTHSM2_CONF elsewhere.
	defer func() {
		if err := keys.Close(hsm); err != nil {
			t.Errorf("close PKCS#11 key: %v", err)
		}
	}()
	if got, want := hsm.Chain()[0].Raw, p12.Chain()[0].Raw; string(got) != string(want) {
		t.Fatal("the token's certificate is not the official's")
	}

	signWith := func(k keys.Key) func(*testing.T, string, string, signing.Options) {
		return func(t *testing.T, in, out string, opts signing.Options) {
			t.Helper()
			if err := signing.SignFile(ctx, in, out, k, opts); err != nil {
				t.Fatalf("sign: %v", err)
			}
		}
	}
	sources := []keySource{
		{"PKCS12", signWith(p12)},
		{"PKCS11-SoftHSM", signWith(hsm)},
		{"external-two-step", func(t *testing.T, in, out string, opts signing.Options) { signTwoStep(t, p12, in, out, opts) }},
	}

	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, testpdf.Bytes(testpdf.Options{Pages: 1, Text: "QUYET DINH so 05/QD-UBND"}), 0o644); err != nil {
		t.Fatal(err)
	}
	trust := chain.NewStore(pki.Root())
	for _, level := range []signing.Level{signing.LevelBB, signing.LevelBT, signing.LevelBLT, signing.LevelBLTA} {
		for _, src := range sources {
			t.Run(string(level)+"/"+src.name, func(t *testing.T) {
				opts := signing.Options{Level: level, Reason: "Ký ban hành"}
				if level != signing.LevelBB {
					opts.TSAURL = pki.TSAURL()
				}
				if level == signing.LevelBLT || level == signing.LevelBLTA {
					opts.Extender = &ltv.Extender{
						Options: ltv.Options{Roots: []*x509.Certificate{pki.Root()}},
						TSA:     ltv.TSA{URL: pki.TSAURL()},
					}
				}
				out := filepath.Join(t.TempDir(), "signed.pdf")
				src.sign(t, in, out, opts)

				// pdfsig lists the B-LTA document timestamp too but
				// cannot validate /ETSI.RFC3161 entries: there only the
				// signature itself is checked.
				want := 1
				if level == signing.LevelBLTA {
					want = 2
				}
				lines := signing.PdfsigLines(t, out)
				if len(lines) != want || lines[0] != "Signature is Valid." {
					t.Fatalf("pdfsig: %q, want %d entries, the signature valid", lines, want)
				}
				signing.QPDFCheckForExternal(t, out)

				rep, err := verify.VerifyFile(ctx, out, verify.Options{Trust: trust})
				if err != nil {
					t.Fatal(err)
				}
				s := rep.Signatures[0]
				if rep.Verdict != etsi.Valid || s.Indication != etsi.TotalPassed || s.Level != string(level) {
					for _, s := range rep.Signatures {
						t.Logf("%s %s %s %s errors=%v warnings=%v", s.Field, s.Level, s.Indication, s.SubIndication, s.Errors, s.Warnings)
					}
					t.Fatalf("verifier: %s, first signature %s at %s; want VALID at %s", rep.Verdict, s.Indication, s.Level, level)
				}
			})
		}
	}
}
