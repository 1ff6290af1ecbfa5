package cms_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"testing"

	"github.com/digitorus/pkcs7"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify/cms"
)

func TestMain(m *testing.M) { testharness.Main(m) }

var content = []byte("Quyết định số 05/QĐ-UBND")

// build signs content with the dev PKI's official, detached or not.
func build(t testing.TB, pki *devpki.PKI, detached bool) ([]byte, *x509.Certificate) {
	t.Helper()
	k, err := pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(k.Chain()[0], k.(crypto.Signer), pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	if detached {
		sd.Detach()
	}
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der, k.Chain()[0]
}

// toBER rewrites the outer SEQUENCE with an indefinite length, as some
// signers emit.
func toBER(t testing.TB, der []byte) []byte {
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(der, &raw); err != nil {
		t.Fatal(err)
	}
	out := append([]byte{0x30, 0x80}, raw.Bytes...)
	return append(out, 0, 0)
}

func TestParse(t *testing.T) {
	pki := testharness.DevPKI(t)
	detached, cert := build(t, pki, true)
	attached, _ := build(t, pki, false)
	deputy, _ := pki.Cert(devpki.Deputy)
	digest := sha256.Sum256(content)
	flipped := bytes.Clone(detached)
	flipped[len(flipped)-10] ^= 0xff // inside the signature value, the last field

	for _, tc := range []struct {
		name                   string
		der                    []byte
		wantErr                bool
		econtent, garbage, ber bool
		verifyCert             *x509.Certificate
		verifyDigest           []byte
		verifies               bool
	}{
		{name: "detached", der: detached, verifyCert: cert, verifyDigest: digest[:], verifies: true},
		{name: "padded with zeros as in /Contents", der: append(bytes.Clone(detached), make([]byte, 64)...), verifyCert: cert, verifyDigest: digest[:], verifies: true},
		{name: "trailing garbage", der: append(bytes.Clone(detached), "junk"...), garbage: true, verifyCert: cert, verifyDigest: digest[:], verifies: true},
		{name: "BER outer structure", der: toBER(t, detached), ber: true, verifyCert: cert, verifyDigest: digest[:], verifies: true},
		{name: "encapsulated content", der: attached, econtent: true, verifyCert: cert, verifyDigest: digest[:], verifies: true},
		{name: "another signer's certificate", der: detached, verifyCert: deputy, verifyDigest: digest[:]},
		{name: "signature value altered", der: flipped, verifyCert: cert, verifyDigest: digest[:]},
		{name: "truncated", der: detached[:len(detached)/2], wantErr: true},
		{name: "not CMS", der: []byte("%PDF-1.7"), wantErr: true},
		{name: "empty", der: nil, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sd, err := cms.Parse(tc.der)
			if tc.wantErr {
				if err == nil {
					t.Fatal("parsed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sd.HasEContent != tc.econtent || sd.TrailingGarbage != tc.garbage || sd.BERNormalised != tc.ber || sd.SignerCount != 1 {
				t.Fatalf("econtent %v garbage %v ber %v signers %d", sd.HasEContent, sd.TrailingGarbage, sd.BERNormalised, sd.SignerCount)
			}
			if !sd.SignedAttrsDER {
				t.Error("DER signed attributes reported as non-DER")
			}
			if md, err := sd.MessageDigest(); err != nil || !bytes.Equal(md, digest[:]) {
				t.Errorf("message digest %x, %v", md, err)
			}
			if got := sd.FindSigner([]*x509.Certificate{deputy, cert}); got != cert {
				t.Errorf("signer found = %v, want the official", got)
			}
			if got := sd.FindSigner([]*x509.Certificate{deputy}); got != nil {
				t.Errorf("signer %v found among certificates that did not sign", got.Subject)
			}
			if err := sd.VerifySignature(tc.verifyCert, tc.verifyDigest); (err == nil) != tc.verifies {
				t.Errorf("VerifySignature = %v, want success %v", err, tc.verifies)
			}
			if tc.verifies {
				if present, err := sd.SigningCertMatch(tc.verifyCert); present || err != nil {
					t.Errorf("signing-certificate attribute: present %v, %v (pkcs7 writes none)", present, err)
				}
			}
		})
	}
}
