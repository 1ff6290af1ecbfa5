package signing_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/ltv"
)

// TestLongTermLevels raises signatures to B-LT and B-LTA through the LTV
// package's extender: the DSS and document timestamp updates must leave the
// signature valid and the file well-formed.
func TestLongTermLevels(t *testing.T) {
	pki := signing.TestPKIForExternal(t)
	for _, c := range []struct {
		level signing.Level
		sigs  int // entries pdfsig lists (B-LTA adds a document timestamp)
	}{{signing.LevelBLT, 1}, {signing.LevelBLTA, 2}} {
		t.Run(string(c.level), func(t *testing.T) {
			dir := t.TempDir()
			in := signing.WritePDFForExternal(t, dir, testpdf.Options{}, false)
			ext := &ltv.Extender{Options: ltv.Options{Roots: []*x509.Certificate{pki.Root()}}, TSA: ltv.TSA{URL: pki.TSAURL()}}
			// Twice: the second signature reserves the room the first
			// one's CMS took, and is extended as well.
			signing.FreshLearning(t)
			var sizes [2]int64
			for i := range sizes {
				out := filepath.Join(dir, fmt.Sprintf("out%d.pdf", i))
				err := signing.SignFile(context.Background(), in, out, signing.PKIKeyForExternal(t, devpki.Official), signing.Options{Level: c.level, TSAURL: pki.TSAURL(), Extender: ext})
				if err != nil {
					t.Fatal(err)
				}
				// pdfsig 22.12 lists the B-LTA document timestamp but cannot
				// verify /ETSI.RFC3161 entries ("not yet been verified"); the
				// signature itself must stay valid.
				lines := signing.PdfsigLines(t, out)
				if len(lines) != c.sigs || lines[0] != "Signature is Valid." {
					t.Fatalf("signature %d: pdfsig: %q, want %d entries, the first valid", i+1, lines, c.sigs)
				}
				signing.QPDFCheckForExternal(t, out)
				info, err := os.Stat(out)
				if err != nil {
					t.Fatal(err)
				}
				sizes[i] = info.Size()
			}
			if sizes[1] >= sizes[0] {
				t.Fatalf("the second signed file is %d bytes, the first %d: no room learned", sizes[1], sizes[0])
			}
		})
	}
}
