package accounts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

func TestCheckSealNames(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert := func(subject pkix.Name) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1e9, 0)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	const org = "Ủy ban nhân dân tỉnh Mẫu"
	for _, tc := range []struct {
		name    string
		subject pkix.Name
		org     string
		ok      bool
	}{
		{"CN equal", pkix.Name{CommonName: org}, org, true},
		{"O equal, CN a person", pkix.Name{CommonName: "Văn thư", Organization: []string{org}}, org, true},
		{"upper case", pkix.Name{CommonName: "ỦY BAN NHÂN DÂN TỈNH MẪU"}, org, true},
		{"decomposed and spaced", pkix.Name{CommonName: norm.NFD.String("Ủy  ban nhân dân tỉnh  Mẫu")}, org, true},
		{"decomposed organisation name", pkix.Name{CommonName: org}, norm.NFD.String(org), true},
		{"name within a longer subject", pkix.Name{CommonName: org + " - MST 0100000001"}, org, true},
		{"another organisation", pkix.Name{CommonName: "Ủy ban nhân dân xã An Bình"}, org, false},
		{"diacritics differ", pkix.Name{CommonName: "Uy ban nhan dan tinh Mau"}, org, false},
		{"only in OU", pkix.Name{CommonName: "Văn thư", OrganizationalUnit: []string{org}}, org, false},
		{"empty organisation name", pkix.Name{CommonName: org}, " ", false},
	} {
		err := checkSealNames(cert(tc.subject), tc.org)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrKeyRefused)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
