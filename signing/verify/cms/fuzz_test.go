package cms_test

import (
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/verify/cms"
)

// FuzzParse: a CMS SignedData comes from strangers twice, inside a PDF
// being verified and as POST /sign/complete's cms field; no bytes may
// panic the parser or its readers.
func FuzzParse(f *testing.F) {
	pki := testharness.DevPKI(f)
	attached, _ := build(f, pki, false)
	detached, _ := build(f, pki, true)
	f.Add(attached)
	f.Add(detached)
	f.Add(toBER(f, detached))
	f.Add(detached[:len(detached)/2])
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, der []byte) {
		sd, err := cms.Parse(der)
		if err != nil {
			return
		}
		sd.MessageDigest()
		sd.ContentType()
		sd.SigningTime()
	})
}
