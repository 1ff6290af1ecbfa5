package certname

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
)

// TestShownSignerKeepsTheCitizenIDPrivate: the public check page showed
// an official's whole certificate subject, with their citizen ID number
// (CCCD) in its UID. A signer is named by the subject's common name only
// (its organisation when it has none), whatever the subject escapes.
func TestShownSignerKeepsTheCitizenIDPrivate(t *testing.T) {
	uid := asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	title := asn1.ObjectIdentifier{2, 5, 4, 12}
	official := pkix.Name{CommonName: "Nguyễn Văn An", Organization: []string{"Ủy ban nhân dân xã An Bình"}, Country: []string{"VN"},
		OrganizationalUnit: []string{"Văn phòng Ủy ban nhân dân"}, Province: []string{"Tỉnh Mẫu"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: uid, Value: "CCCD:001080001234"}, {Type: title, Value: "Chủ tịch"}}}
	for _, c := range []struct {
		name, dn, want string
	}{
		{"an official", official.String(), "Nguyễn Văn An"},
		{"a seal without a common name", pkix.Name{Organization: []string{"Ủy ban nhân dân xã An Bình, tỉnh Mẫu"}, Country: []string{"VN"}}.String(), "Ủy ban nhân dân xã An Bình, tỉnh Mẫu"},
		{"escaped characters", pkix.Name{CommonName: `Công ty "A+B", chi nhánh \ Hà Nội`}.String(), `Công ty "A+B", chi nhánh \ Hà Nội`},
		{"a multi-valued RDN", "UID=CCCD:001080001234+CN=Trần Thị Bình,O=UBND", "Trần Thị Bình"},
		{"nothing to show", "C=VN,0.9.2342.19200300.100.1.1=CCCD:001080001234", ""},
		{"empty", "", ""},
	} {
		got := Shown(c.dn)
		if got != c.want {
			t.Errorf("%s: %q from %q, want %q", c.name, got, c.dn, c.want)
		}
		if strings.Contains(got, "001080001234") {
			t.Errorf("%s: the citizen ID number is shown: %q", c.name, got)
		}
	}
}

// TestParseNamesHolderAndOrganisation: the office's pages show a signer's
// and an issuer's name and organisation, never the rest of the subject.
func TestParseNamesHolderAndOrganisation(t *testing.T) {
	for _, c := range []struct {
		dn   string
		want Name
	}{
		{"SERIALNUMBER=CCCD:001080001234,CN=Nguyễn Văn An,OU=Văn phòng,O=UBND xã An Bình,L=Tỉnh Mẫu,C=VN", Name{"Nguyễn Văn An", "UBND xã An Bình"}},
		{"CN=Vanthu Dev Issuing CA,O=Vanthu Dev PKI,C=VN", Name{"Vanthu Dev Issuing CA", "Vanthu Dev PKI"}},
		{`O=Công ty A\, B,C=VN`, Name{"", "Công ty A, B"}},
		{"0.9.2342.19200300.100.1.1=CCCD:001080001234", Name{}},
	} {
		if got := Parse(c.dn); got != c.want {
			t.Errorf("%q: %+v, want %+v", c.dn, got, c.want)
		}
	}
}

// FuzzShownSigner: any subject string (an uploaded PDF's certificate)
// gives a name no longer than itself, without panicking.
func FuzzShownSigner(f *testing.F) {
	f.Add("CN=Nguyễn Văn An,O=UBND,0.9.2342.19200300.100.1.1=CCCD:001080001234")
	f.Add(`CN=a\,b\\,O=x+CN=y`)
	f.Add("\\")
	f.Add("CN=\xff\xfe")
	f.Fuzz(func(t *testing.T, dn string) {
		// An invalid byte comes out as U+FFFD, three bytes.
		n := Parse(dn)
		if got := n.Shown(); len(got) > 3*len(dn) || len(n.Common) > 3*len(dn) || len(n.Organization) > 3*len(dn) {
			t.Fatalf("%q from %q", got, dn)
		}
	})
}
