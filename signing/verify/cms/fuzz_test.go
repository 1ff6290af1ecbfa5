package cms_test

import (
	"testing"

	"github.com/vanthu/vanthu/signing/verify/cms"
)

// FuzzParse: a CMS SignedData comes from strangers twice, inside a PDF
// being verified and as POST /sign/complete's cms field; no bytes may
// panic the parser or its readers. The seeds in testdata/fuzz/FuzzParse
// are the dev PKI's signatures (attached, detached, BER), stored so that
// a fuzzing worker starts without making a PKI.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add([]byte{0x30, 0x03, 0x06, 0x01, 0x00})
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
