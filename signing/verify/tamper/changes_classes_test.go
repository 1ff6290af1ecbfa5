package tamper_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/signing/verify/tamper"
)

// draft is a Decree 30 draft printed by Chromium (tagged, one page).
func draft(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testharness.Drafts(t), "qd-chu-tich.pdf"))
	if err != nil {
		t.Fatalf("Decree 30 draft: %v", err)
	}
	return b
}

// ownSigner signs with the project's signer: the official certifies, the
// deputy approves (B-B, checked online against the dev PKI's OCSP). It
// forces signing a locked document, as an attacker's tool would.
func ownSigner(t *testing.T, pki *devpki.PKI, lock bool) tamper.Signer {
	return func(in []byte, certify int) ([]byte, error) {
		who := devpki.Deputy
		if certify > 0 {
			who = devpki.Official
		}
		key, err := pki.Key(who)
		if err != nil {
			return nil, err
		}
		dir := t.TempDir()
		src, dst := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
		if err := os.WriteFile(src, in, 0o600); err != nil {
			return nil, err
		}
		if err := signing.SignFile(context.Background(), src, dst, key, signing.Options{Certify: certify, Lock: lock && certify == 0, Reason: "Phê duyệt", Force: true}); err != nil {
			return nil, err
		}
		return os.ReadFile(dst)
	}
}

func verifyBytes(t *testing.T, b []byte, trust *chain.Store) *verify.Report {
	t.Helper()
	rep, err := verify.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), verify.Options{Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func logLines(t *testing.T, rep *verify.Report) {
	t.Helper()
	for _, l := range verify.Lines(rep, verify.English) {
		t.Log(l)
	}
}

func warned(s *verify.Signature, code string) int {
	n := 0
	for _, w := range s.Warnings {
		if strings.HasPrefix(w, code) {
			n++
		}
	}
	return n
}

// Certified with DocMDP, then approved (the certified copy's order); then
// certified and commented. The DocMDP reference's /Data names the catalog
// (as the signer and Acrobat write it): it must not make the analysis take
// the catalog for part of the signature dictionary.
func TestCertifiedThenApproved(t *testing.T) {
	pki := testharness.DevPKI(t)
	trust := chain.NewStore(pki.Root())
	sign := ownSigner(t, pki, false)
	in := draft(t)
	cases := []struct {
		name    string
		make    func() ([]byte, error)
		verdict etsi.Verdict
	}{
		{"P=1 then approval", func() ([]byte, error) { return tamper.CertifiedThenApproved(in, 1, sign) }, etsi.Invalid},
		{"P=2 then approval", func() ([]byte, error) { return tamper.CertifiedThenApproved(in, 2, sign) }, etsi.Valid},
		{"P=3 then approval", func() ([]byte, error) { return tamper.CertifiedThenApproved(in, 3, sign) }, etsi.Valid},
		{"P=1 then comment", func() ([]byte, error) { return tamper.CertifiedThenCommented(in, 1, sign) }, etsi.Invalid},
		{"P=2 then comment", func() ([]byte, error) { return tamper.CertifiedThenCommented(in, 2, sign) }, etsi.Invalid},
		{"P=3 then comment", func() ([]byte, error) { return tamper.CertifiedThenCommented(in, 3, sign) }, etsi.Valid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.make()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(out, []byte("/TransformMethod /DocMDP")) || !bytes.Contains(out, []byte("/Data ")) {
				t.Fatal("no DocMDP reference naming its /Data")
			}
			rep := verifyBytes(t, out, trust)
			if rep.Verdict != c.verdict {
				logLines(t, rep)
				t.Fatalf("verdict %s, want %s", rep.Verdict, c.verdict)
			}
			if c.verdict == etsi.Valid {
				for _, s := range rep.Signatures {
					if s.Indication != etsi.TotalPassed {
						logLines(t, rep)
						t.Fatalf("signature %s: %s", s.Field, s.Indication)
					}
				}
				if rep.Signatures[0].Certification == 0 {
					t.Error("the first signature is not reported as a certification")
				}
			}
		})
	}
}

// What may be added after an approval signature: comments, stamps and links
// over no signed content, each a permitted change with a warning; a stamp
// over the signed text, a full-page overlay, or any annotation after a
// signature that locks the form, is not.
func TestApprovalAnnotations(t *testing.T) {
	pki := testharness.DevPKI(t)
	trust := chain.NewStore(pki.Root())
	signed, err := ownSigner(t, pki, false)(draft(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	locked, err := ownSigner(t, pki, true)(draft(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		base    []byte
		apply   func([]byte) ([]byte, error)
		verdict etsi.Verdict
	}{
		{"comment in the margin", signed, tamper.AddComment, etsi.Valid},
		{"stamp in the margin", signed, tamper.AddStamp, etsi.Valid},
		{"link on the text", signed, tamper.AddLink, etsi.Valid},
		{"comment, then stamp, then link", signed, func(b []byte) ([]byte, error) {
			for _, f := range []func([]byte) ([]byte, error){tamper.AddComment, tamper.AddStamp, tamper.AddLink} {
				var err error
				if b, err = f(b); err != nil {
					return nil, err
				}
			}
			return b, nil
		}, etsi.Valid},
		{"stamp over the signed text", signed, tamper.AddStampOverText, etsi.Invalid},
		{"full-page overlay", signed, tamper.AddAnnotationOverlay, etsi.Invalid},
		{"comment after a signature that locks the form", locked, tamper.AddComment, etsi.Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.apply(c.base)
			if err != nil {
				t.Fatal(err)
			}
			rep := verifyBytes(t, out, trust)
			if rep.Verdict != c.verdict {
				logLines(t, rep)
				t.Fatalf("verdict %s, want %s", rep.Verdict, c.verdict)
			}
			s := rep.Signatures[0]
			if c.verdict == etsi.Valid {
				if s.Modifications != verify.ModAllowed || warned(s, "permitted change after signing") == 0 {
					logLines(t, rep)
					t.Fatalf("modifications %s, %d permitted-change warnings", s.Modifications, warned(s, "permitted change after signing"))
				}
				vi := strings.Join(verify.Lines(rep, verify.Vietnamese), "\n")
				if !strings.Contains(vi, "Thay đổi được phép sau khi ký") {
					t.Error("the Vietnamese report does not name the permitted change")
				}
			} else if s.Modifications != verify.ModDisallowed {
				t.Fatalf("modifications %s, want DISALLOWED", s.Modifications)
			}
		})
	}
}

// Shadow attacks on a prepared, signed Decree 30 draft: hide, replace and
// hide-and-replace, each as written and behind damaged cross-reference
// data. Every one is INVALID with the changed objects named, never
// INDETERMINATE; a repaired revision is reported.
func TestShadowAttacks(t *testing.T) {
	pki := testharness.DevPKI(t)
	trust := chain.NewStore(pki.Root())
	prepared, err := tamper.PrepareShadow(draft(t))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := ownSigner(t, pki, false)(prepared, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep := verifyBytes(t, signed, trust); rep.Verdict != etsi.Valid {
		logLines(t, rep)
		t.Fatalf("the prepared, signed document is %s", rep.Verdict)
	}
	attacks := map[string]func([]byte) ([]byte, error){
		"hide":             tamper.ShadowHide,
		"replace":          tamper.ShadowReplace,
		"hide-and-replace": tamper.ShadowHideAndReplace,
	}
	damages := map[string]func([]byte) ([]byte, error){
		"":                             func(b []byte) ([]byte, error) { return b, nil },
		" behind a broken startxref":   tamper.BreakXref,
		" behind shifted xref offsets": tamper.ShiftXrefOffsets,
	}
	for an, attack := range attacks {
		for dn, damage := range damages {
			t.Run(an+dn, func(t *testing.T) {
				out, err := attack(signed)
				if err != nil {
					t.Fatal(err)
				}
				if out, err = damage(out); err != nil {
					if an == "hide-and-replace" && strings.Contains(err.Error(), "no in-use entries") {
						return // that attack's update defines no object to shift
					}
					t.Fatal(err)
				}
				rep := verifyBytes(t, out, trust)
				s := rep.Signatures[0]
				if rep.Verdict != etsi.Invalid || s.Modifications != verify.ModDisallowed {
					logLines(t, rep)
					t.Fatalf("verdict %s, modifications %s; want INVALID, DISALLOWED", rep.Verdict, s.Modifications)
				}
				if warned(s, "page content changed after signing") != 1 {
					logLines(t, rep)
					t.Fatal("the change to what the page shows is not reported with the objects changed")
				}
				if dn != "" && warned(s, "cross-reference data repaired") == 0 {
					logLines(t, rep)
					t.Fatal("the repaired revision is not reported")
				}
			})
		}
	}
}
