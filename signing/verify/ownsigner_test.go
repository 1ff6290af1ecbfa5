package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/ltv"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/signing/verify/tamper"
)

func sign(t *testing.T, pki *devpki.PKI, in, out, who string, opts signing.Options) {
	t.Helper()
	key, err := pki.Key(who)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Level != signing.LevelBB {
		opts.TSAURL = pki.TSAURL()
	}
	if opts.Level == signing.LevelBLT || opts.Level == signing.LevelBLTA {
		opts.Extender = &ltv.Extender{TSA: ltv.TSA{URL: pki.TSAURL()}}
	}
	if err := signing.SignFile(context.Background(), in, out, key, opts); err != nil {
		t.Fatalf("sign as %s: %v", who, err)
	}
}

// TestOwnSignerOutput verifies what the project's signing engine produces,
// at every level, against the dev PKI's real OCSP/CRL/TSA.
func TestOwnSignerOutput(t *testing.T) {
	pki := testharness.DevPKI(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.pdf")
	if err := os.WriteFile(plain, testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Quyet dinh 05/QD-UBND"}), 0o644); err != nil {
		t.Fatal(err)
	}
	trust := chain.NewStore(pki.Root())
	type step struct {
		who  string
		opts signing.Options
	}
	// The office's chain: the official, the deputy, then the organisation's
	// seal locking every field.
	office := []step{
		{devpki.Deputy, signing.Options{Level: signing.LevelBT, Reason: "KT. Chủ tịch"}},
		{devpki.Seal, signing.Options{Level: signing.LevelBB, Lock: true, Reason: "Ban hành"}},
	}
	cases := []struct {
		name    string
		who     string
		level   signing.Level
		offline bool
		certify int
		after   []step // later signatures, if any
		verdict etsi.Verdict
		sub     etsi.SubIndication
		lvl     string
	}{
		{"B-B online", devpki.Official, signing.LevelBB, false, 0, nil, etsi.Valid, "", "B-B"},
		{"B-B offline has no revocation data", devpki.Official, signing.LevelBB, true, 0, nil, etsi.VerdictIndeterminate, etsi.TryLater, "B-B"},
		{"B-T online", devpki.Official, signing.LevelBT, false, 0, nil, etsi.Valid, "", "B-T"},
		{"B-LT offline", devpki.Official, signing.LevelBLT, true, 0, nil, etsi.Valid, "", "B-LT"},
		{"B-LTA offline", devpki.Official, signing.LevelBLTA, true, 0, nil, etsi.Valid, "", "B-LTA"},
		{"revoked signer", devpki.Revoked, signing.LevelBB, false, 0, nil, etsi.Invalid, etsi.Revoked, "B-B"},
		{"approval after approval", devpki.Official, signing.LevelBB, false, 0, []step{{devpki.Deputy, signing.Options{Level: signing.LevelBB}}}, etsi.Valid, "", "B-B"},
		{"approval after certification P=2", devpki.Official, signing.LevelBB, false, 2, []step{{devpki.Seal, signing.Options{Level: signing.LevelBB}}}, etsi.Valid, "", "B-B"},
		{"approval after certification P=1", devpki.Official, signing.LevelBB, false, 1, []step{{devpki.Seal, signing.Options{Level: signing.LevelBB, Force: true}}}, etsi.Invalid, etsi.FormatFailure, "B-B"},
		{"three-signature chain with the organisation's lock", devpki.Official, signing.LevelBT, false, 0, office, etsi.Valid, "", "B-T"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "signed.pdf")
			sign(t, pki, plain, out, c.who, signing.Options{Level: c.level, Certify: c.certify, Reason: "Phê duyệt"})
			for _, st := range c.after {
				next := filepath.Join(t.TempDir(), "signed-more.pdf")
				sign(t, pki, out, next, st.who, st.opts)
				out = next
			}
			rep, err := verify.VerifyFile(context.Background(), out, verify.Options{Trust: trust, Offline: c.offline})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range rep.Signatures {
				t.Logf("%s %s %s %s %s %v %v %+v", s.Field, s.Level, s.Indication, s.SubIndication, s.Modifications, s.Errors, s.Warnings, s.Changes)
			}
			if rep.Verdict != c.verdict {
				t.Fatalf("verdict %s, want %s", rep.Verdict, c.verdict)
			}
			first := rep.Signatures[0]
			if c.sub != "" {
				found := false
				for _, s := range rep.Signatures {
					found = found || s.SubIndication == c.sub
				}
				if !found {
					t.Errorf("no signature with sub-indication %s", c.sub)
				}
			}
			if first.Level != c.lvl {
				t.Errorf("level %s, want %s", first.Level, c.lvl)
			}
			if c.level != signing.LevelBB && first.TimestampTime == nil {
				t.Error("no timestamp time")
			}
			if c.verdict == etsi.Valid {
				in, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				for _, tc := range tamper.Cases(in) {
					tb, err := tc.Apply(in)
					if err != nil {
						if tc.Name == "swap-contents" {
							continue // needs a second, different signature
						}
						t.Fatalf("%s: %v", tc.Name, err)
					}
					rep, err := verify.Verify(context.Background(), bytesReader(tb), int64(len(tb)), verify.Options{Trust: trust, Offline: c.offline})
					if err != nil {
						t.Fatal(err)
					}
					if rep.Verdict != etsi.Invalid {
						t.Errorf("tampered %s: %s, want INVALID", tc.Name, rep.Verdict)
					}
				}
			}
		})
	}
}
