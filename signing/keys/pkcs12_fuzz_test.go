package keys_test

import (
	"testing"

	"github.com/vanthu/vanthu/signing/keys"
)

// FuzzDecodePKCS12: a PKCS#12 file is uploaded by a person binding their
// key (POST /users/{id}/keys); no file and no password may panic its
// decoding. The seed in testdata/fuzz/FuzzDecodePKCS12 is the dev PKI's
// official with its password, stored so that a fuzzing worker starts
// without making a PKI.
func FuzzDecodePKCS12(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x03}, []byte(""))
	f.Add([]byte{}, []byte("sai"))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		k, err := keys.DecodePKCS12(data, password)
		if err == nil && k == nil {
			t.Fatal("no key and no error")
		}
	})
}
