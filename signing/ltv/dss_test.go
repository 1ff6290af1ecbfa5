package ltv

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/vanthu/vanthu/internal/testpdf"
)

// needTool fails (never skips) when an external checker is missing.
func needTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: install it with %q", name, install)
	}
	return p
}

// basePDF returns an unsigned PDF with a classic xref table, or the same
// rewritten by qpdf with object and xref streams.
func basePDF(t *testing.T, xrefStream bool) []byte {
	t.Helper()
	b := testpdf.Bytes(testpdf.Options{Pages: 2, Text: "Quyet dinh so 05/QD-UBND"})
	if !xrefStream {
		return b
	}
	qpdf := needTool(t, "qpdf", "apt-get install -y qpdf")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(qpdf, "--object-streams=generate", in, out).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v: %s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("/XRef")) {
		t.Fatal("qpdf did not produce an xref stream")
	}
	return b
}

// signPDF makes a PAdES B-T signature with digitorus/pdfsign, standing in
// for the signing engine.
func signPDF(t *testing.T, in []byte, cert *x509.Certificate, key crypto.Signer, chain []*x509.Certificate, tsaURL string) []byte {
	t.Helper()
	rd, err := pdf.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = sign.SignWithData(bytes.NewReader(in), &out, rd, int64(len(in)), sign.SignData{
		Signature: sign.SignDataSignature{
			CertType: sign.ApprovalSignature,
			Info:     sign.SignDataSignatureInfo{Name: cert.Subject.CommonName, Reason: "Ký ban hành", Date: time.Now()},
		},
		Signer:            key,
		Certificate:       cert,
		CertificateChains: [][]*x509.Certificate{append([]*x509.Certificate{cert}, chain...)},
		DigestAlgorithm:   crypto.SHA256,
		SubFilter:         sign.SubFilterETSICAdESDetached,
		TSA:               sign.TSA{URL: tsaURL},
	})
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return out.Bytes()
}

// dssView is the DSS of a file as a validator would read it.
type dssView struct {
	certs []*x509.Certificate
	ocsps [][]byte
	crls  [][]byte
	refs  map[string][]uint32 // "Certs"/"OCSPs"/"CRLs" → object numbers
	vri   map[string]map[string]int
	tu    map[string]string
}

func readDSS(t *testing.T, b []byte) *dssView {
	t.Helper()
	rd, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	d := rd.Trailer().Key("Root").Key("DSS")
	if d.Kind() != pdf.Dict {
		t.Fatal("catalog has no /DSS")
	}
	v := &dssView{refs: map[string][]uint32{}, vri: map[string]map[string]int{}, tu: map[string]string{}}
	for _, k := range []string{"Certs", "OCSPs", "CRLs"} {
		arr := d.Key(k)
		for i := 0; i < arr.Len(); i++ {
			s := arr.Index(i)
			v.refs[k] = append(v.refs[k], s.GetPtr().GetID())
			data := s.Data()
			switch k {
			case "Certs":
				c, err := x509.ParseCertificate(data)
				if err != nil {
					t.Fatalf("DSS cert %d: %v", i, err)
				}
				v.certs = append(v.certs, c)
			case "OCSPs":
				v.ocsps = append(v.ocsps, data)
			case "CRLs":
				v.crls = append(v.crls, data)
			}
		}
	}
	vri := d.Key("VRI")
	for _, k := range vri.Keys() {
		e := vri.Key(k)
		v.vri[k] = map[string]int{"Cert": e.Key("Cert").Len(), "OCSP": e.Key("OCSP").Len(), "CRL": e.Key("CRL").Len()}
		v.tu[k] = e.Key("TU").RawString()
	}
	return v
}

func pdfsigOK(t *testing.T, b []byte, wantSigs int) string {
	t.Helper()
	tool := needTool(t, "pdfsig", "apt-get install -y poppler-utils")
	f := filepath.Join(t.TempDir(), "f.pdf")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(tool, f).CombinedOutput() // exits non-zero for untrusted roots
	s := string(out)
	if got := strings.Count(s, "Signature Validation: Signature is Valid."); got != wantSigs {
		t.Fatalf("pdfsig: %d valid signatures, want %d:\n%s", got, wantSigs, s)
	}
	return s
}

func qpdfCheck(t *testing.T, b []byte) {
	t.Helper()
	tool := needTool(t, "qpdf", "apt-get install -y qpdf")
	f := filepath.Join(t.TempDir(), "f.pdf")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "--check", f).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
}

func TestLTAndLTA(t *testing.T) {
	ca := newTinyCA(t)
	for _, xs := range []bool{false, true} {
		name := map[bool]string{false: "classic xref", true: "xref stream"}[xs]
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			leaf, key := ca.leaf("Nguyễn Văn An")
			signed := signPDF(t, basePDF(t, xs), leaf, key, []*x509.Certificate{ca.ca}, ca.srv.URL+"/tsa")
			opts := Options{Roots: []*x509.Certificate{ca.root}}

			// B-LT.
			var lt bytes.Buffer
			rep, err := AddValidationData(ctx, bytes.NewReader(signed), int64(len(signed)), &lt, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(lt.Bytes(), signed) {
				t.Fatal("the signed bytes were not kept as they were")
			}
			sigs := findSigs(t, lt.Bytes())
			if len(sigs) != 1 || len(sigs[0].Timestamps) != 1 {
				t.Fatalf("got %d signatures, want 1 with a signature timestamp", len(sigs))
			}
			// The VRI key is the SHA-1 of the /Contents bytes exactly as in
			// the file (the hex between ByteRange's two parts, padding kept).
			br := sigs[0].ByteRange
			gap := lt.Bytes()[br[0]+br[1]+1 : br[2]-1]
			contents, err := hex.DecodeString(string(gap))
			if err != nil || !bytes.Equal(contents, sigs[0].Contents) || contents[len(contents)-1] != 0 {
				t.Fatalf("/Contents from the gap (padded: %v) differs from the parsed one: %v", contents[len(contents)-1] == 0, err)
			}
			sum := sha1.Sum(contents)
			wantKey := strings.ToUpper(hex.EncodeToString(sum[:]))
			if rep.Signatures[0].VRIKey != wantKey {
				t.Fatalf("VRI key %s, want %s", rep.Signatures[0].VRIKey, wantKey)
			}
			d := readDSS(t, lt.Bytes())
			e, ok := d.vri[wantKey]
			if !ok {
				t.Fatalf("no VRI entry %s; have %v", wantKey, d.vri)
			}
			if e["Cert"] == 0 || e["OCSP"] == 0 || e["CRL"] == 0 {
				t.Fatalf("VRI entry incomplete: %v", e)
			}
			if !strings.HasPrefix(d.tu[wantKey], "D:") {
				t.Fatalf("VRI /TU = %q", d.tu[wantKey])
			}
			for _, want := range []*x509.Certificate{leaf, ca.ca, ca.root, ca.tsa, ca.responder} {
				if !containsCert(d.certs, want) {
					t.Fatalf("DSS lacks %q", want.Subject)
				}
			}
			foundLeafOCSP := false
			for _, raw := range d.ocsps {
				r, err := ocsp.ParseResponse(raw, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
					if _, err := VerifyOCSP(raw, leaf, ca.ca, time.Now()); err != nil {
						t.Fatalf("DSS OCSP for the signer does not verify: %v", err)
					}
					if r.Status != ocsp.Good {
						t.Fatalf("signer OCSP status %d, want good", r.Status)
					}
					foundLeafOCSP = true
				}
			}
			if !foundLeafOCSP {
				t.Fatal("no OCSP response for the signer in the DSS")
			}
			if len(d.crls) != 2 { // issuing CA's and root's, each once
				t.Fatalf("DSS has %d CRLs, want 2", len(d.crls))
			}
			pdfsigOK(t, lt.Bytes(), 1)
			qpdfCheck(t, lt.Bytes())

			// B-LTA: document timestamp, then validation data for it.
			var ts bytes.Buffer
			if err := AddDocumentTimestamp(ctx, bytes.NewReader(lt.Bytes()), int64(lt.Len()), &ts, TSA{URL: ca.srv.URL + "/tsa"}); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(ts.Bytes(), lt.Bytes()) {
				t.Fatal("the document timestamp rewrote earlier bytes")
			}
			var lta bytes.Buffer
			rep2, err := AddValidationData(ctx, bytes.NewReader(ts.Bytes()), int64(ts.Len()), &lta, opts)
			if err != nil {
				t.Fatal(err)
			}
			sigs = findSigs(t, lta.Bytes())
			if len(sigs) != 2 || !sigs[1].IsDocTimeStamp() {
				t.Fatalf("want the signature and a document timestamp, got %d", len(sigs))
			}
			d2 := readDSS(t, lta.Bytes())
			if len(d2.vri) != 2 {
				t.Fatalf("VRI has %d entries, want 2", len(d2.vri))
			}
			if _, ok := d2.vri[sigs[1].VRIKey()]; !ok {
				t.Fatal("no VRI entry for the document timestamp")
			}
			// Merged, not duplicated: every old stream is still referenced
			// and the second pass added no certificate already there.
			for k, old := range d.refs {
				for _, n := range old {
					if !containsNum(d2.refs[k], n) {
						t.Fatalf("DSS /%s lost object %d", k, n)
					}
				}
			}
			if len(rep2.Signatures) != 1 || !strings.HasPrefix(rep2.Signatures[0].SubFilter, "ETSI.RFC3161") {
				t.Fatalf("second pass covered %d signatures, want only the document timestamp", len(rep2.Signatures))
			}
			if rep2.AddedCerts != 0 {
				t.Fatalf("second DSS added %d certificates, all were there already", rep2.AddedCerts)
			}
			// poppler cannot validate ETSI.RFC3161 document timestamps
			// ("Unimplemented Feature"): it must still list it and call the
			// earlier signature valid; the timestamp is checked below.
			out := pdfsigOK(t, lta.Bytes(), 1)
			if !strings.Contains(out, "Signature #2") || !strings.Contains(out, "CN=Tiny TSA") {
				t.Fatalf("pdfsig does not list the document timestamp:\n%s", out)
			}
			checkDocTimeStamp(t, ts.Bytes(), sigs[1])
			qpdfCheck(t, lta.Bytes())
		})
	}
}

func TestRevokedEvidence(t *testing.T) {
	ca := newTinyCA(t)
	leaf, key := ca.leaf("Trần Văn Bị Thu Hồi")
	signed := signPDF(t, basePDF(t, false), leaf, key, []*x509.Certificate{ca.ca}, ca.srv.URL+"/tsa")
	ca.revoke(leaf)
	var out bytes.Buffer
	rep, err := AddValidationData(context.Background(), bytes.NewReader(signed), int64(len(signed)), &out, Options{Roots: []*x509.Certificate{ca.root}})
	if err != nil {
		t.Fatal(err)
	}
	st, ok := rep.Signatures[0].Evidence.StatusOf(leaf)
	if !ok || st.Status != StatusRevoked {
		t.Fatalf("report status %v, want revoked", st.Status)
	}
	d := readDSS(t, out.Bytes())
	ocspRevoked := false
	for _, raw := range d.ocsps {
		r, err := ocsp.ParseResponseForCert(raw, leaf, nil)
		if err == nil && r.Status == ocsp.Revoked {
			ocspRevoked = true
		}
	}
	if !ocspRevoked {
		t.Fatal("no OCSP response in the DSS says revoked")
	}
	crlLists := false
	for _, raw := range d.crls {
		l, err := x509.ParseRevocationList(raw)
		if err != nil {
			t.Fatal(err)
		}
		if revokedEntry(l, leaf.SerialNumber) != nil {
			crlLists = true
		}
	}
	if !crlLists {
		t.Fatal("no CRL in the DSS lists the revoked serial")
	}
}

func TestUnreachableWritesNothing(t *testing.T) {
	ca := newTinyCA(t)
	leaf, key := ca.leaf("Lê Thị C")
	signed := signPDF(t, basePDF(t, false), leaf, key, []*x509.Certificate{ca.ca}, ca.srv.URL+"/tsa")
	dead := "http://127.0.0.1:1/tsa"
	tests := []struct {
		name    string
		setup   func()
		run     func(out *bytes.Buffer) error
		wantErr string
	}{
		{name: "OCSP answers garbage", setup: func() { ca.ocspBroken = true },
			run: func(out *bytes.Buffer) error {
				_, err := AddValidationData(context.Background(), bytes.NewReader(signed), int64(len(signed)), out, Options{})
				return err
			}, wantErr: "OCSP answer from"},
		{name: "CRL down", setup: func() { ca.crlDown = true },
			run: func(out *bytes.Buffer) error {
				_, err := AddValidationData(context.Background(), bytes.NewReader(signed), int64(len(signed)), out, Options{})
				return err
			}, wantErr: "CRL distribution point"},
		{name: "TSA down", setup: func() { ca.tsaDown = true },
			run: func(out *bytes.Buffer) error {
				return AddDocumentTimestamp(context.Background(), bytes.NewReader(signed), int64(len(signed)), out, TSA{URL: ca.srv.URL + "/tsa"})
			}, wantErr: "503"},
		{name: "TSA unreachable",
			run: func(out *bytes.Buffer) error {
				return AddDocumentTimestamp(context.Background(), bytes.NewReader(signed), int64(len(signed)), out, TSA{URL: dead})
			}, wantErr: "document timestamp from"},
		{name: "unsigned PDF",
			run: func(out *bytes.Buffer) error {
				b := basePDF(t, false)
				_, err := AddValidationData(context.Background(), bytes.NewReader(b), int64(len(b)), out, Options{})
				return err
			}, wantErr: "no signatures"},
		{name: "not a PDF",
			run: func(out *bytes.Buffer) error {
				b := []byte("%PDF-1.7\nthis is not really a PDF at all\n%%EOF\n")
				_, err := AddValidationData(context.Background(), bytes.NewReader(b), int64(len(b)), out, Options{})
				return err
			}, wantErr: "open PDF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ca.mu.Lock()
			ca.ocspBroken, ca.crlDown, ca.tsaDown = false, false, false
			if tc.setup != nil {
				tc.setup()
			}
			ca.mu.Unlock()
			var out bytes.Buffer
			err := tc.run(&out)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
			if out.Len() != 0 {
				t.Fatalf("%d bytes written despite the error", out.Len())
			}
		})
	}
}

func findSigs(t *testing.T, b []byte) []*Signature {
	t.Helper()
	rd, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := FindSignatures(rd)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func containsNum(list []uint32, n uint32) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// checkDocTimeStamp verifies what poppler cannot: the token's signature, and
// that its imprint is the SHA-256 of the byte range, which covers the whole
// revision it was made for except its own /Contents.
func checkDocTimeStamp(t *testing.T, file []byte, s *Signature) {
	t.Helper()
	if s.SubFilter != "ETSI.RFC3161" {
		t.Fatalf("SubFilter %q", s.SubFilter)
	}
	br := s.ByteRange
	if len(br) != 4 || br[0] != 0 || br[2]+br[3] != int64(len(file)) {
		t.Fatalf("ByteRange %v does not cover the %d-byte revision", br, len(file))
	}
	tok, err := timestamp.Parse(s.CMS)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	h := tok.HashAlgorithm.New()
	h.Write(file[br[0] : br[0]+br[1]])
	h.Write(file[br[2] : br[2]+br[3]])
	if !bytes.Equal(h.Sum(nil), tok.HashedMessage) {
		t.Fatal("document timestamp imprint does not match the byte range")
	}
	// The gap is exactly the /Contents hex string.
	gap := file[br[0]+br[1] : br[2]]
	if gap[0] != '<' || gap[len(gap)-1] != '>' {
		t.Fatalf("gap is not a hex string: %q...", gap[:8])
	}
	raw, err := hex.DecodeString(string(gap[1 : len(gap)-1]))
	if err != nil || !bytes.Equal(raw, s.Contents) {
		t.Fatal("/Contents read by the parser differs from the bytes in the gap")
	}
}
