package keys_test

import (
	"os"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
)

// FuzzDecodePKCS12: a PKCS#12 file is uploaded by a person binding their
// key (POST /users/{id}/keys); no file and no password may panic its
// decoding.
func FuzzDecodePKCS12(f *testing.F) {
	pki := testharness.DevPKI(f)
	p12, err := os.ReadFile(pki.P12Path(devpki.Official))
	if err != nil {
		f.Fatal(err)
	}
	password := pki.Password()
	f.Add(p12, password)
	f.Add(p12, []byte("sai"))
	f.Add(p12[:len(p12)/2], password)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x03}, []byte(""))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		k, err := keys.DecodePKCS12(data, password)
		if err == nil && k == nil {
			t.Fatal("no key and no error")
		}
	})
}
