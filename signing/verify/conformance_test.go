package verify

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// corpusDir is the shared third-party corpus.
func corpusDir(t testing.TB) string { return testharness.SignatureCorpus(t) }

type corpusEntry struct{ file, expected, reason string }

func readManifest(t testing.TB) (string, []corpusEntry) {
	dir := corpusDir(t)
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatalf("signature corpus: %v (set VANTHU_SIGNATURE_CORPUS)", err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 {
			continue
		}
		out = append(out, corpusEntry{cols[0], cols[2], cols[3]})
	}
	if len(out) == 0 {
		t.Fatal("empty manifest")
	}
	return dir, out
}

// corpusOptions: the pyHanko files trust pyHanko's testing CA at 2020-11-01.
func corpusOptions(t testing.TB, dir, file string) Options {
	opts := Options{Offline: true, Trust: chain.NewStore()}
	if strings.HasPrefix(file, "pyhanko/") {
		st, err := chain.LoadStore(filepath.Join(dir, "trust-anchors", "pyhanko_testing-ca_chain.pem"))
		if err != nil {
			t.Fatal(err)
		}
		opts.Trust = st
		opts.At = time.Date(2020, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	return opts
}

func TestConformanceCorpus(t *testing.T) {
	dir, entries := readManifest(t)
	for _, c := range entries {
		t.Run(c.file, func(t *testing.T) {
			var rep *Report
			var err error
			work := testharness.Work(t, func() {
				rep, err = VerifyFile(context.Background(), filepath.Join(dir, c.file), corpusOptions(t, dir, c.file))
			})
			if err != nil {
				t.Fatal(err)
			}
			var sigs []string
			for _, s := range rep.Signatures {
				sigs = append(sigs, string(s.Indication)+"/"+string(s.SubIndication)+"/"+string(s.Coverage)+"/"+string(s.Modifications)+"/"+s.Level)
			}
			t.Logf("%s: %s %v errs=%v", c.expected, rep.Verdict, sigs, rep.Errors)
			t.Logf("allocated %d bytes for %d bytes of file, decoded %d", work.Bytes, rep.Size, rep.Decoding.Total)
			for _, s := range rep.Signatures {
				t.Logf("  %s errors=%v warnings=%v", s.Field, s.Errors, s.Warnings)
			}
			switch {
			case strings.HasPrefix(c.expected, "invalid"):
				if rep.Verdict != etsi.Invalid {
					t.Errorf("want INVALID (%s), got %s", c.reason, rep.Verdict)
				}
			case strings.HasPrefix(c.expected, "valid"):
				if rep.Verdict != etsi.Valid && rep.Verdict != etsi.VerdictIndeterminate {
					t.Errorf("want VALID or INDETERMINATE, got %s", rep.Verdict)
				}
			case strings.HasPrefix(c.expected, "indeterminate"):
				if rep.Verdict != etsi.VerdictIndeterminate {
					t.Errorf("want INDETERMINATE, got %s", rep.Verdict)
				}
			case strings.HasPrefix(c.expected, "parser-robustness"):
				if rep.Verdict == etsi.Valid {
					t.Errorf("robustness file reported VALID")
				}
				// Bounded work (speed is BenchmarkVerifyCorpus's): the
				// decoding within its budget, the allocations within a
				// multiple of the file besides it.
				if limit := fuzzWorkPerByte*uint64(rep.Size) + uint64(rep.Decoding.Total) + fuzzWorkFloor; work.Bytes > limit {
					t.Errorf("allocated %d bytes for %d bytes of file, more than %d", work.Bytes, rep.Size, limit)
				}
			default:
				t.Fatalf("unknown expectation %q", c.expected)
			}
		})
	}
}

// BenchmarkVerifyCorpus verifies every file of the shared corpus once per
// iteration (offline, the corpus's own anchors): the speed the conformance
// test no longer times.
func BenchmarkVerifyCorpus(b *testing.B) {
	dir, entries := readManifest(b)
	for i := 0; i < b.N; i++ {
		for _, c := range entries {
			if _, err := VerifyFile(context.Background(), filepath.Join(dir, c.file), corpusOptions(b, dir, c.file)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
