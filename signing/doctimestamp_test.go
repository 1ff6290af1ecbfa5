package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/pdfupdate"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// formPDF is a one-page PDF whose /AcroForm is its own object with default
// resources and appearance, as office suites write it.
func formPDF(t *testing.T) []byte {
	t.Helper()
	base := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Quyet dinh 05/QD-UBND"})
	doc, err := pdfupdate.Open(bytes.NewReader(base), int64(len(base)))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := doc.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	u := doc.NewUpdate()
	font := u.Add(pdfupdate.Dict{"Type": "/Font", "Subtype": "/Type1", "BaseFont": "/Helvetica"}.Bytes())
	form := u.Add(pdfupdate.Dict{
		"Fields":          "[]",
		"DR":              "<< /Font << /Helv " + font.String() + " >> >>",
		"DA":              "(/Helv 0 Tf 0 g)",
		"NeedAppearances": "false",
	}.Bytes())
	cd, err := pdfupdate.DictOf(cat)
	if err != nil {
		t.Fatal(err)
	}
	cd["AcroForm"] = form.String()
	u.Set(doc.Root(), cd.Bytes())
	var out bytes.Buffer
	if _, err := u.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestDocumentTimestamp adds a document timestamp to a signed PDF and checks
// the update: catalog and form updated in place with their other keys kept,
// an invisible field, a token over exactly the byte range, and a file our
// verifier calls VALID with only permitted changes.
func TestDocumentTimestamp(t *testing.T) {
	pki := testPKI(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, formPDF(t), 0o600); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(dir, "signed.pdf")
	if err := SignFile(context.Background(), in, signed, pkiKey(t, devpki.Official), Options{Level: LevelBT, TSAURL: pki.TSAURL()}); err != nil {
		t.Fatal(err)
	}
	sb, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	before, err := pdfupdate.Open(bytes.NewReader(sb), int64(len(sb)))
	if err != nil {
		t.Fatal(err)
	}
	oldCat, _ := before.Catalog()
	oldForm := oldCat.Key("AcroForm").GetPtr()

	u, err := DocumentTimestamp(context.Background(), bytes.NewReader(sb), int64(len(sb)), TimestampOptions{TSAURL: pki.TSAURL()})
	if err != nil {
		t.Fatal(err)
	}
	file := append(append([]byte{}, sb...), u...)
	out := filepath.Join(dir, "lta.pdf")
	if err := os.WriteFile(out, file, 0o600); err != nil {
		t.Fatal(err)
	}

	after, err := pdfupdate.Open(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	if after.Root() != before.Root() {
		t.Fatalf("trailer /Root moved from %v to %v", before.Root(), after.Root())
	}
	cat, _ := after.Catalog()
	form := cat.Key("AcroForm")
	if p := form.GetPtr(); p.GetID() != oldForm.GetID() || p.GetID() == 0 {
		t.Fatalf("/AcroForm is object %d now, was %d", p.GetID(), oldForm.GetID())
	}
	if form.Key("DA").RawString() != "/Helv 0 Tf 0 g" || form.Key("DR").Key("Font").Key("Helv").Key("BaseFont").Name() != "Helvetica" {
		t.Fatalf("/AcroForm lost /DA or /DR: %v", form)
	}
	if form.Key("NeedAppearances").IsNull() || form.Key("SigFlags").Int64() != 3 {
		t.Fatalf("/AcroForm keys: %v", form)
	}
	fields := form.Key("Fields")
	if fields.Len() != 2 {
		t.Fatalf("%d fields, want the signature and the timestamp", fields.Len())
	}
	fld := fields.Index(1)
	v := fld.Key("V")
	if fld.Key("FT").Name() != "Sig" || v.Key("Type").Name() != "DocTimeStamp" || v.Key("SubFilter").Name() != "ETSI.RFC3161" {
		t.Fatalf("timestamp field %v with value %v", fld, v)
	}
	if !v.Key("M").IsNull() {
		t.Error("a document timestamp carries /M: its time is the token's")
	}
	r := fld.Key("Rect")
	for i := 0; i < 4; i++ {
		if r.Index(i).Float64() != 0 {
			t.Fatalf("timestamp widget is not invisible: /Rect %v", r)
		}
	}
	if fields.Index(0).Key("V").Key("SubFilter").Name() != "ETSI.CAdES.detached" {
		t.Fatal("the signature field was replaced")
	}

	// The token is over exactly the byte range, which is the whole file
	// but the /Contents string.
	var br [4]int64
	for i := range br {
		br[i] = v.Key("ByteRange").Index(i).Int64()
	}
	if br[0] != 0 || br[2]+br[3] != int64(len(file)) || file[br[1]] != '<' || file[br[2]-1] != '>' {
		t.Fatalf("ByteRange %v over a %d-byte file", br, len(file))
	}
	raw, err := hex.DecodeString(string(file[br[1]+1 : br[2]-1]))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := timestamp.Parse(trimDER(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	h := crypto.SHA256.New()
	h.Write(file[:br[1]])
	h.Write(file[br[2]:])
	if !bytes.Equal(h.Sum(nil), tok.HashedMessage) {
		t.Fatal("token imprint is not the digest of the byte range")
	}

	qpdfCheck(t, out)
	if lines := pdfsigValid(t, out); len(lines) != 2 || lines[0] != "Signature is Valid." {
		t.Fatalf("pdfsig: %q", lines)
	}
	rep, err := verify.VerifyFile(context.Background(), out, verify.Options{Trust: chain.NewStore(pki.Root())})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Signatures {
		t.Logf("%s %s %s %s %s %v", s.Field, s.Type, s.Level, s.Indication, s.Modifications, s.Errors)
		for _, c := range s.Changes {
			if !c.Allowed {
				t.Errorf("%s: disallowed change %+v", s.Field, c)
			}
		}
	}
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 || rep.Signatures[1].Type != "document-timestamp" {
		t.Fatalf("verdict %s with %d signatures", rep.Verdict, len(rep.Signatures))
	}
}

// trimDER cuts the zero padding after a DER SEQUENCE.
func trimDER(t *testing.T, b []byte) []byte {
	t.Helper()
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(b, &v)
	if err != nil {
		t.Fatal(err)
	}
	return b[:len(b)-len(rest)]
}

// fakeTSA answers time-stamp requests signed by its own certificate, spoiled
// as a test case asks.
type fakeTSA struct {
	cert  *x509.Certificate
	key   crypto.Signer
	spoil func(req *timestamp.Request, ts *timestamp.Timestamp) []byte
}

func newFakeTSA(t *testing.T, eku []x509.ExtKeyUsage, notAfter time.Time) *fakeTSA {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "fake TSA"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: eku,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &fakeTSA{cert: c, key: k}
}

func (f *fakeTSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ts := &timestamp.Timestamp{
		HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage,
		Time: time.Now().UTC().Truncate(time.Second), Nonce: req.Nonce,
		Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, AddTSACertificate: true,
	}
	if f.spoil != nil {
		if b := f.spoil(req, ts); b != nil {
			w.Write(b)
			return
		}
	}
	der, err := ts.CreateResponseWithOpts(f.cert, f.key, crypto.SHA256)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(der)
}

// TestDocumentTimestampChecksTSA refuses every TSA answer that does not bind
// to the request or comes from no time-stamping certificate; nothing is
// returned then, and the local clock is never used instead.
func TestDocumentTimestampChecksTSA(t *testing.T) {
	pki := testPKI(t)
	signed := filepath.Join(t.TempDir(), "signed.pdf")
	in := writePDF(t, t.TempDir(), testpdf.Options{}, false)
	if err := SignFile(context.Background(), in, signed, pkiKey(t, devpki.Official), Options{}); err != nil {
		t.Fatal(err)
	}
	sb, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	tsaEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
	inAYear := time.Now().AddDate(1, 0, 0)
	cases := []struct {
		name  string
		tsa   *fakeTSA
		spoil func(req *timestamp.Request, ts *timestamp.Timestamp) []byte
		want  string
	}{
		{"good", newFakeTSA(t, tsaEKU, inAYear), nil, ""},
		{"rejection", newFakeTSA(t, tsaEKU, inAYear), func(*timestamp.Request, *timestamp.Timestamp) []byte {
			b, _ := timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadRequest)
			return b
		}, "bad answer"},
		{"wrong nonce", newFakeTSA(t, tsaEKU, inAYear), func(_ *timestamp.Request, ts *timestamp.Timestamp) []byte {
			ts.Nonce = new(big.Int).Add(ts.Nonce, big.NewInt(1))
			return nil
		}, "nonce"},
		{"no nonce", newFakeTSA(t, tsaEKU, inAYear), func(_ *timestamp.Request, ts *timestamp.Timestamp) []byte {
			ts.Nonce = nil
			return nil
		}, "nonce"},
		{"wrong imprint", newFakeTSA(t, tsaEKU, inAYear), func(_ *timestamp.Request, ts *timestamp.Timestamp) []byte {
			ts.HashedMessage = append([]byte{}, ts.HashedMessage...)
			ts.HashedMessage[0] ^= 1
			return nil
		}, "imprint"},
		{"wrong hash", newFakeTSA(t, tsaEKU, inAYear), func(_ *timestamp.Request, ts *timestamp.Timestamp) []byte {
			ts.HashAlgorithm = crypto.SHA512
			s := crypto.SHA512.New()
			ts.HashedMessage = s.Sum(nil)
			return nil
		}, "token hash"},
		{"no certificate", newFakeTSA(t, tsaEKU, inAYear), func(_ *timestamp.Request, ts *timestamp.Timestamp) []byte {
			ts.AddTSACertificate = false
			return nil
		}, "no TSA certificate"},
		{"not a TSA certificate", newFakeTSA(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, inAYear), nil, "not a time-stamping certificate"},
		{"TSA certificate expired", newFakeTSA(t, tsaEKU, time.Now().Add(-time.Hour)), nil, "validity"},
		{"garbage", newFakeTSA(t, tsaEKU, inAYear), func(*timestamp.Request, *timestamp.Timestamp) []byte {
			return []byte("not DER")
		}, "bad answer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.tsa.spoil = c.spoil
			srv := httptest.NewServer(c.tsa)
			defer srv.Close()
			u, err := DocumentTimestamp(context.Background(), bytes.NewReader(sb), int64(len(sb)), TimestampOptions{TSAURL: srv.URL})
			if c.want == "" {
				if err != nil || len(u) == 0 {
					t.Fatalf("good TSA: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTSA) || !strings.Contains(err.Error(), c.want) || u != nil {
				t.Fatalf("err = %v (want ErrTSA with %q), %d bytes", err, c.want, len(u))
			}
		})
	}
	if _, err := DocumentTimestamp(context.Background(), bytes.NewReader(sb), int64(len(sb)), TimestampOptions{}); !errors.Is(err, ErrTSA) {
		t.Fatalf("no TSA URL: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := DocumentTimestamp(ctx, bytes.NewReader(sb), int64(len(sb)), TimestampOptions{TSAURL: pki.TSAURL()}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
