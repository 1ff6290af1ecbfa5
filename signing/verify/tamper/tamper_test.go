package tamper_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/signing/verify/tamper"
)

func corpus(t *testing.T) string { return testharness.SignatureCorpus(t) }

func check(t *testing.T, b []byte, opts verify.Options) *verify.Report {
	t.Helper()
	rep, err := verify.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestEveryManipulationIsInvalid applies every manipulation to signed files
// that verify as not INVALID, and requires INVALID afterwards.
func TestEveryManipulationIsInvalid(t *testing.T) {
	dir := corpus(t)
	anchors, err := chain.LoadStore(filepath.Join(dir, "trust-anchors"))
	if err != nil {
		t.Fatal(err)
	}
	opts := verify.Options{Offline: true, Trust: anchors, At: time.Date(2020, 11, 1, 0, 0, 0, 0, time.UTC)}
	donor, err := os.ReadFile(filepath.Join(dir, "pyhanko", "sig-no-signed-attrs.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"pyhanko/sig-with-ski-sid.pdf", "esig-dss/pdf-signed-original.pdf", "pyhanko/certified-with-indirect-refs-in-dir.pdf"} {
		in, err := os.ReadFile(filepath.Join(dir, base))
		if err != nil {
			t.Fatal(err)
		}
		if v := check(t, in, opts).Verdict; v == etsi.Invalid || v == etsi.Unsigned {
			t.Fatalf("%s: untouched file is %s", base, v)
		}
		for _, c := range tamper.Cases(donor) {
			t.Run(base+"/"+c.Name, func(t *testing.T) {
				out, err := c.Apply(in)
				if err != nil {
					t.Fatalf("apply: %v", err)
				}
				if bytes.Equal(out, in) {
					t.Fatal("manipulation changed nothing")
				}
				rep := check(t, out, opts)
				if rep.Verdict != etsi.Invalid {
					for _, s := range rep.Signatures {
						t.Logf("%s %s %s %s %v", s.Field, s.Indication, s.SubIndication, s.Modifications, s.Warnings)
					}
					t.Errorf("verdict %s, want INVALID", rep.Verdict)
				}
				// The same manipulation behind a startxref that points
				// nowhere: viewers rebuild the revision and show it.
				broken, err := tamper.BreakXref(out)
				if err != nil {
					return // no startxref left to break (truncated)
				}
				if rep := check(t, broken, opts); rep.Verdict != etsi.Invalid {
					for _, s := range rep.Signatures {
						t.Logf("%s %s %s %s %v", s.Field, s.Indication, s.SubIndication, s.Modifications, s.Warnings)
					}
					t.Errorf("behind a broken startxref: verdict %s, want INVALID", rep.Verdict)
				}
			})
		}
	}
}
