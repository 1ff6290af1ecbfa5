package pdf_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/pdf/pdftest"
)

// FuzzOpen opens arbitrary bytes and walks every object of every revision:
// it must never panic or hang, whatever the input.
func FuzzOpen(f *testing.F) {
	b := pdftest.Signed()
	f.Add(b.Bytes())
	b.Obj(10, "<</Producer (x)>>")
	b.EndRevision()
	f.Add(b.Bytes())
	b.ObjStm(30, map[uint32]string{5: "<</A [1 2 (x) <41>]>>", 31: "31"})
	b.EndRevisionXrefStream(32)
	f.Add(b.Bytes())
	corpus := testharness.SignatureCorpus(f)
	for _, name := range []string{"esig-dss/pades_infinite_loop.pdf", "pyhanko/minimal-two-fields-signed-twice.pdf", "esig-dss/dss-2236__hide.pdf"} {
		data, err := os.ReadFile(filepath.Join(corpus, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	lim := pdf.Limits{MaxStreamBytes: 1 << 20, MaxTotalDecoded: 8 << 20, MaxObjects: 100000}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := pdf.OpenBytes(data, &lim)
		if err != nil {
			return
		}
		for _, r := range file.Revisions() {
			for _, ref := range file.Objects(r.Index) {
				o, err := file.Get(ref, r.Index)
				if err != nil {
					continue
				}
				if s, ok := o.(*pdf.Stream); ok {
					file.StreamData(s, r.Index)
				}
				file.Resolve(ref, r.Index)
			}
		}
		file.StrayEOFs(len(file.Revisions()) - 1)
		file.Warnings()
	})
}
