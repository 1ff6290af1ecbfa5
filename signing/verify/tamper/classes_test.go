package tamper_test

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/signing/verify/tamper"
)

func newPKI(t *testing.T, negative bool) *tamper.PKI {
	t.Helper()
	p, err := tamper.NewPKI(time.Now(), negative)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func plainPDF() []byte {
	return testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Quyet dinh 05/QD-UBND"})
}

// offline verifies against p's root with only the embedded evidence.
func offline(t *testing.T, p *tamper.PKI, b []byte) *verify.Report {
	t.Helper()
	return check(t, b, verify.Options{Offline: true, Trust: chain.NewStore(p.Root.Cert)})
}

func logReport(t *testing.T, rep *verify.Report) {
	t.Helper()
	for _, s := range rep.Signatures {
		t.Logf("%s %s %s errors=%q warnings=%q", s.Field, s.Indication, s.SubIndication, s.Errors, s.Warnings)
	}
}

func textReport(t *testing.T, rep *verify.Report, lang verify.Lang) string {
	t.Helper()
	var b bytes.Buffer
	if err := verify.WriteText(&b, rep, lang); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGeneratedSignatureIsValid is the control for the classes below: the
// generator's ordinary signature (positive serials, one SignerInfo, usual
// algorithms) is VALID offline and carries none of their warnings.
func TestGeneratedSignatureIsValid(t *testing.T) {
	p := newPKI(t, false)
	out, err := tamper.SignedBy(plainPDF(), p, p.Signer)
	if err != nil {
		t.Fatal(err)
	}
	rep := offline(t, p, out)
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 1 {
		logReport(t, rep)
		t.Fatalf("verdict %s with %d signatures, want VALID with 1", rep.Verdict, len(rep.Signatures))
	}
	if s := rep.Signatures[0]; len(s.Warnings) != 0 || s.Level != "PKCS7-T" && s.Level != "B-T" && s.Level != "B-LT" {
		t.Errorf("level %s, warnings %q", s.Level, s.Warnings)
	}
}

// TestNegativeSerialCertificates: a trust anchor, issuing CA, signer, TSA
// and OCSP responder with negative serial numbers are accepted (the anchor
// loads from a file as --trust reads it, the signer is found and its
// signature value checked) and each is named in a warning, in Vietnamese
// and English.
func TestNegativeSerialCertificates(t *testing.T) {
	p := newPKI(t, true)
	for _, id := range []tamper.Identity{p.Root, p.Issuing, p.Signer, p.TSA, p.OCSP} {
		if id.Cert.SerialNumber.Sign() >= 0 {
			t.Fatalf("%s: serial %s is not negative", id.Cert.Subject.CommonName, id.Cert.SerialNumber)
		}
	}
	anchor := filepath.Join(t.TempDir(), "legacy-root.pem")
	if err := os.WriteFile(anchor, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	store, err := chain.LoadStore(anchor)
	if err != nil {
		t.Fatalf("trust anchor with a negative serial: %v", err)
	}
	out, err := tamper.NegativeSerialSigned(plainPDF(), p)
	if err != nil {
		t.Fatal(err)
	}
	rep := check(t, out, verify.Options{Offline: true, Trust: store})
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 1 {
		logReport(t, rep)
		t.Fatalf("verdict %s, want VALID", rep.Verdict)
	}
	s := rep.Signatures[0]
	if s.Signer == "" || s.SignerSerial == "" || s.SignerSerial[0] != '-' {
		t.Errorf("signer %q serial %q, want the signer with its negative serial", s.Signer, s.SignerSerial)
	}
	warned := strings.Join(s.Warnings, "\n")
	for role, id := range map[string]tamper.Identity{"signer": p.Signer, "intermediate CA": p.Issuing, "trust anchor": p.Root, "TSA": p.TSA, "OCSP responder": p.OCSP} {
		if !strings.Contains(warned, "negative serial number accepted") || !strings.Contains(warned, role+" "+id.Cert.Subject.String()) {
			t.Errorf("no negative-serial warning for the %s %s in:\n%s", role, id.Cert.Subject, warned)
		}
	}
	if vi := textReport(t, rep, verify.Vietnamese); !strings.Contains(vi, "chứng thư số có số hiệu (serial) âm") {
		t.Errorf("Vietnamese report lacks the negative-serial warning:\n%s", vi)
	}
	if en := textReport(t, rep, verify.English); !strings.Contains(en, "certificate with a negative serial number accepted") {
		t.Errorf("English report lacks the negative-serial warning:\n%s", en)
	}
}

// TestSeveralSignerInfos: a CMS with two SignerInfos is not refused for the
// count; the one whose certificate is the signing certificate is verified
// and both are listed.
func TestSeveralSignerInfos(t *testing.T) {
	p := newPKI(t, false)
	out, err := tamper.SeveralSignerInfos(plainPDF(), p)
	if err != nil {
		t.Fatal(err)
	}
	rep := offline(t, p, out)
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 1 {
		logReport(t, rep)
		t.Fatalf("verdict %s, want VALID", rep.Verdict)
	}
	s := rep.Signatures[0]
	if s.Signer != p.Signer.Cert.Subject.String() {
		t.Errorf("checked signer %q, want %q", s.Signer, p.Signer.Cert.Subject.String())
	}
	warned := strings.Join(s.Warnings, "\n")
	if !strings.Contains(warned, "several SignerInfos") || !strings.Contains(warned, "#1 ") || !strings.Contains(warned, "#2 [checked] "+p.Signer.Cert.Subject.String()) {
		t.Errorf("warnings do not list both SignerInfos with the checked one:\n%s", warned)
	}
	if vi := textReport(t, rep, verify.Vietnamese); !strings.Contains(vi, "CMS chứa nhiều SignerInfo") {
		t.Errorf("Vietnamese report lacks the several-SignerInfos warning:\n%s", vi)
	}
	if en := textReport(t, rep, verify.English); !strings.Contains(en, "the CMS carries several SignerInfos") {
		t.Errorf("English report lacks the several-SignerInfos warning:\n%s", en)
	}
	// Flipping a byte of the document still breaks it: the chosen signer
	// is not one that happens to verify anything.
	bad, err := tamper.FlipSignedByte(out)
	if err != nil {
		t.Fatal(err)
	}
	if v := offline(t, p, bad).Verdict; v != etsi.Invalid {
		t.Errorf("modified several-SignerInfos file is %s, want INVALID", v)
	}
}

// TestMalformedAlgorithms: a signature value that cannot be verified because
// the algorithm identifiers are unknown or contradict each other is INVALID
// (TOTAL-FAILED, FORMAT_FAILURE); a known algorithm outside the policy stays
// INDETERMINATE.
func TestMalformedAlgorithms(t *testing.T) {
	p := newPKI(t, false)
	cases := []struct {
		name   string
		gen    func([]byte, *tamper.PKI) ([]byte, error)
		ind    etsi.Indication
		sub    etsi.SubIndication
		vi, en string
	}{
		{"unknown signature algorithm", tamper.UnknownSignatureAlgorithm, etsi.TotalFailed, etsi.FormatFailure,
			"Thuật toán chữ ký không xác định", "Unknown signature algorithm"},
		{"digest algorithm contradicts signature algorithm", tamper.ContradictingDigestAlgorithm, etsi.TotalFailed, etsi.FormatFailure,
			"Thuật toán chữ ký mâu thuẫn với thuật toán băm của SignerInfo", "The signature algorithm contradicts the SignerInfo's digest algorithm"},
		{"known but disallowed signature algorithm", tamper.DisallowedSignatureAlgorithm, etsi.Indeterminate, etsi.CryptoConstraintsFailure,
			"chính sách thuật toán", "algorithm policy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.gen(plainPDF(), p)
			if err != nil {
				t.Fatal(err)
			}
			rep := offline(t, p, out)
			if len(rep.Signatures) != 1 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			s := rep.Signatures[0]
			if s.Indication != c.ind || s.SubIndication != c.sub {
				logReport(t, rep)
				t.Fatalf("%s/%s, want %s/%s", s.Indication, s.SubIndication, c.ind, c.sub)
			}
			if vi := textReport(t, rep, verify.Vietnamese); !strings.Contains(vi, c.vi) {
				t.Errorf("Vietnamese report lacks %q:\n%s", c.vi, vi)
			}
			if en := textReport(t, rep, verify.English); !strings.Contains(en, c.en) {
				t.Errorf("English report lacks %q:\n%s", c.en, en)
			}
		})
	}
}
