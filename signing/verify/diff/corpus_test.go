package diff

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/pdf"
)

type sigInfo struct {
	ref       pdf.Ref
	signedRev int // -1 if the ByteRange ends at no revision end
	level     Level
}

// signatures finds signature dictionaries by /ByteRange in the last
// revision, the revision each one covers, and its DocMDP level if any.
func signatures(t *testing.T, f *pdf.File) []sigInfo {
	t.Helper()
	last := len(f.Revisions()) - 1
	var out []sigInfo
	for _, ref := range f.Objects(last) {
		o, err := f.Get(ref, last)
		if err != nil {
			continue
		}
		d, ok := o.(pdf.Dict)
		if !ok {
			continue
		}
		br, ok := d["ByteRange"].(pdf.Array)
		if !ok || len(br) != 4 {
			continue
		}
		s := sigInfo{ref: ref, signedRev: -1}
		b2, _ := br[2].(pdf.Integer)
		b3, _ := br[3].(pdf.Integer)
		for _, r := range f.Revisions() {
			if r.End == int64(b2+b3) {
				s.signedRev = r.Index
			}
		}
		refs, _ := f.Resolve(d["Reference"], last)
		arr, _ := refs.(pdf.Array)
		for _, e := range arr {
			sr, _ := f.Resolve(e, last)
			sd, _ := sr.(pdf.Dict)
			if sd.Name("TransformMethod") == "DocMDP" {
				tp, _ := f.Resolve(sd["TransformParams"], last)
				if tpd, ok := tp.(pdf.Dict); ok {
					s.level = FormFilling
					if p, ok := tpd.Int("P"); ok {
						s.level = Level(p)
					}
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func openFile(t *testing.T, path string) *pdf.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pdf.OpenBytes(data, nil)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return f
}

// The corpus files whose upstream tests name a post-signing modification are
// flagged, and the ones with permitted changes are not.
func TestCorpusVerdicts(t *testing.T) {
	tests := []struct {
		file       string
		disallowed bool // for the earliest signature whose revision is known
	}{
		{"esig-dss/dss-2236__hide.pdf", true},
		{"esig-dss/pdf-spoofing-attack.pdf", true},
		{"esig-dss/pdf-signed-added-page.pdf", true},
		{"esig-dss/hello_signed_INCSAVE_signed.pdf", false},
		{"esig-dss/pdf-signed-original.pdf", false},
		{"esig-dss/pkcs7.pdf", false},
		{"esig-dss/dss-2554__certified-no-change-permitted.pdf", false},
		{"pyhanko/form-update-override-appearance-stream-sneaky.pdf", true},
		{"pyhanko/form-update-override-appearance-stream-ap-indirect-sneaky.pdf", true},
		{"pyhanko/form-update-no-override-appearance-stream-ap-indirect-sneaky.pdf", true},
		{"pyhanko/form-update-ap-indirect-sneaky-trailer.pdf", true},
		{"pyhanko/form-update-override-appearance-stream.pdf", false},
		{"pyhanko/form-update-original-ap-type-wrong.pdf", false},
		{"pyhanko/minimal-signed-twice-both-created.pdf", false},
		{"pyhanko/minimal-signed-twice-second-created.pdf", false},
		{"pyhanko/minimal-two-fields-signed-twice.pdf", false},
		{"pyhanko/pades-lta-dss-indirect-arrs-test.pdf", false},
		{"pyhanko/certified-with-indirect-refs-in-dir.pdf", false},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			f := openFile(t, filepath.Join(testharness.SignatureCorpus(t), tc.file))
			sigs := signatures(t, f)
			first := -1
			var level Level
			for _, s := range sigs {
				if s.signedRev >= 0 && (first < 0 || s.signedRev < first) {
					first, level = s.signedRev, s.level
				}
			}
			if first < 0 {
				t.Fatalf("no signature covers a revision end; sigs %+v", sigs)
			}
			res, err := Analyze(f, first, level, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range res.Changes {
				t.Logf("rev %d %v %s rule=%q allowed=%v: %s", c.Revision, c.Ref, c.Kind, c.Rule, c.Allowed, c.Detail)
			}
			if res.Disallowed != tc.disallowed {
				t.Errorf("signed revision %d level %d of %d: disallowed = %v, want %v", first, level, len(f.Revisions()), res.Disallowed, tc.disallowed)
			}
		})
	}
}

// Every corpus file that opens is analysed for every signature with bounded
// work,
// and the two-signature files clear the first signature's later revision.
func TestCorpusAllSignaturesAnalysed(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testharness.SignatureCorpus(t), "*", "*.pdf"))
	analysed := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := pdf.OpenBytes(data, nil)
		if err != nil {
			continue
		}
		// Bounded work, counted in bytes allocated (speed is a benchmark's).
		sigs := signatures(t, f)
		work := testharness.Work(t, func() {
			for _, s := range sigs {
				if s.signedRev < 0 {
					continue
				}
				if _, err := Analyze(f, s.signedRev, s.level, nil); err != nil {
					t.Errorf("%s: %v", filepath.Base(path), err)
				}
				analysed++
			}
		})
		if limit := uint64(64*len(data) + 16<<20); work.Bytes > limit {
			t.Errorf("%s: the analysis allocated %d bytes, more than %d", filepath.Base(path), work.Bytes, limit)
		}
	}
	if analysed < 25 {
		t.Fatalf("only %d signatures analysed", analysed)
	}
}
