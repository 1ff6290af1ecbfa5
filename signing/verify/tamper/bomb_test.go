package tamper_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/signing/verify/tamper"
)

// verifyCounting verifies b and returns the report and the bytes the
// verification allocated (all of them, kept or not).
func verifyCounting(t *testing.T, b []byte, opts verify.Options) (*verify.Report, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep, err := verify.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return rep, after.TotalAlloc - before.TotalAlloc
}

// TestDecompressionBombs: a file of a few megabytes whose streams inflate to
// gigabytes (one huge stream, many streams that each fit the budget, a chain
// of object streams, the cross-reference stream itself), appended to an
// unsigned and to a signed file, costs the verification no more than its
// decoding budget allows: the bytes it allocates stay within a few budgets
// of what the same file without the bomb costs, the decoded data it holds
// within the budget, and the report says the budget refused data, in both
// languages. A signature whose later revision holds the bomb is
// INDETERMINATE (its changes are unknown), never VALID and never INVALID for
// the bomb alone. No test (not this one) of the project allocates gigabytes
// on a bomb any more: on the unbounded reader, TotalAlloc grew by the
// inflated size.
func TestDecompressionBombs(t *testing.T) {
	signed, err := os.ReadFile(filepath.Join(corpus(t), "pyhanko", "sig-with-ski-sid.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	plain := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Cong van so 12/UBND"})
	// A small budget keeps the test cheap under -race; the bombs are full
	// size, and the scaled variants have streams that each fit the budget,
	// so only holding them together (or decoding them all) would exceed it.
	const budget = 8 << 20
	opts := verify.Options{Offline: true, Budget: budget}
	bombs := tamper.Bombs()
	bombs = append(bombs,
		tamper.BombCase{Name: "many-streams-each-within-budget", Apply: func(in []byte) ([]byte, error) { return tamper.ManyStreamsBomb(in, 64, 5<<20) }},
		tamper.BombCase{Name: "nested-streams-each-within-budget", Apply: func(in []byte) ([]byte, error) { return tamper.NestedObjectStreamsBomb(in, 12, 3<<20) }},
	)
	for _, base := range []struct {
		name string
		pdf  []byte
	}{{"unsigned", plain}, {"signed", signed}} {
		baseRep, baseAlloc := verifyCounting(t, base.pdf, opts)
		if baseRep.Decoding.Exceeded != "" {
			t.Fatalf("%s: the file without a bomb exceeds the budget: %s", base.name, baseRep.Decoding.Exceeded)
		}
		for _, c := range bombs {
			t.Run(base.name+"/"+c.Name, func(t *testing.T) {
				out, err := c.Apply(base.pdf)
				if err != nil {
					t.Fatal(err)
				}
				if grew := len(out) - len(base.pdf); grew > 3<<20 {
					t.Fatalf("the bomb adds %d bytes; it should be a small file", grew)
				}
				rep, alloc := verifyCounting(t, out, opts)
				d := rep.Decoding
				t.Logf("allocated %d KiB (%d KiB without the bomb); decoded data held at most %d KiB, %d KiB in all; %s",
					alloc>>10, baseAlloc>>10, d.Peak>>10, d.Total>>10, d.Exceeded)
				if d.Exceeded == "" {
					t.Fatal("the report does not say the budget was exceeded")
				}
				if d.Budget != budget || d.Peak > budget || d.Total > 2*budget {
					t.Fatalf("decoding %+v: more than the budget held or decoded", d)
				}
				// The decoding work is bounded by 2 budgets (the bytes kept
				// are at most that, allocated once each); the rest is
				// the verification of the file itself and the bomb's
				// compressed bytes read through the parser.
				if limit := baseAlloc + 2*budget + 3*uint64(len(out)); alloc > limit {
					t.Fatalf("verification allocated %d bytes, more than %d", alloc, limit)
				}
				switch base.name {
				case "unsigned":
					if rep.Verdict != etsi.Unsigned {
						t.Fatalf("verdict %s", rep.Verdict)
					}
				case "signed":
					if rep.Verdict != etsi.VerdictIndeterminate {
						t.Fatalf("verdict %s, want INDETERMINATE", rep.Verdict)
					}
					// A bomb is not proof of a change: what it kept from being
					// read is unknown, or, where the revision could be rebuilt
					// from its objects as viewers do, judged on those.
					for _, s := range rep.Signatures {
						if s.Modifications == verify.ModDisallowed || s.Indication == etsi.TotalFailed {
							t.Fatalf("signature %q: %s, changes %s: a bomb is not proof of a change", s.Field, s.Indication, s.Modifications)
						}
					}
				}
				for lang, want := range map[verify.Lang]string{verify.Vietnamese: "vượt hạn mức bộ nhớ 8 MiB", verify.English: "exceeded the verification's memory budget of 8 MiB"} {
					if text := strings.Join(verify.Lines(rep, lang), "\n"); !strings.Contains(text, want) {
						t.Errorf("%s report lacks %q:\n%s", lang, want, text)
					}
				}
			})
		}
	}
}

// TestBombsInflateAsClaimed: the generator's streams are what they claim,
// checked on a small one (a full bomb inflates to 2 GiB).
func TestBombsInflateAsClaimed(t *testing.T) {
	plain := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "x"})
	out, err := tamper.ManyStreamsBomb(plain, 2, 3<<20)
	if err != nil {
		t.Fatal(err)
	}
	// With a budget large enough, everything is read and nothing refused:
	// the bomb is a well-formed file, only a large one.
	rep, _ := verifyCounting(t, out, verify.Options{Offline: true, Budget: 64 << 20})
	if rep.Decoding.Exceeded != "" || rep.Decoding.Total < 2*3<<20 {
		t.Fatalf("decoding %+v, want two 3 MiB streams read", rep.Decoding)
	}
}
