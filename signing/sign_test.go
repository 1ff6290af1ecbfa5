package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/signing/pdfupdate"
)

var (
	pkiOnce sync.Once
	pkiVal  *devpki.PKI
	pkiErr  error
	pkiDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pkiDir != "" {
		os.RemoveAll(pkiDir)
	}
	os.Exit(code)
}

// testPKI starts one development PKI per test binary, its OCSP, CRL and TSA
// responders served on loopback.
func testPKI(t testing.TB) *devpki.PKI {
	t.Helper()
	pkiOnce.Do(func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			pkiErr = err
			return
		}
		if pkiDir, err = os.MkdirTemp("", "vanthu-signing-pki-"); err != nil {
			pkiErr = err
			return
		}
		if err = devpki.Init(pkiDir, "http://"+ln.Addr().String(), devpki.Options{ECDSA: true}); err != nil {
			pkiErr = err
			return
		}
		if pkiVal, err = devpki.Load(pkiDir); err != nil {
			pkiErr = err
			return
		}
		go func() { _ = http.Serve(ln, pkiVal.Handler()) }()
	})
	if pkiErr != nil {
		t.Fatalf("dev PKI: %v", pkiErr)
	}
	return pkiVal
}

func pkiKey(t testing.TB, name string) keys.Key {
	t.Helper()
	k, err := testPKI(t).Key(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func tool(t testing.TB, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found: install it with `apt-get install -y %s`", name, pkg)
	}
}

var validLine = regexp.MustCompile(`Signature Validation: (.*)`)

// pdfsigValid runs poppler's pdfsig (without certificate trust checks: the
// dev root is not in NSS's store) and returns each signature's validation
// line.
func pdfsigValid(t testing.TB, path string) []string {
	t.Helper()
	tool(t, "pdfsig", "poppler-utils")
	out, _ := exec.Command("pdfsig", "-nocert", path).CombinedOutput()
	var res []string
	for _, m := range validLine.FindAllStringSubmatch(string(out), -1) {
		res = append(res, m[1])
	}
	if len(res) == 0 {
		t.Logf("pdfsig output:\n%s", out)
	}
	return res
}

func assertAllValid(t testing.TB, path string, n int) {
	t.Helper()
	got := pdfsigValid(t, path)
	if len(got) != n {
		t.Fatalf("pdfsig found %d signatures, want %d: %q", len(got), n, got)
	}
	for i, g := range got {
		if g != "Signature is Valid." {
			out, _ := exec.Command("pdfsig", "-nocert", path).CombinedOutput()
			t.Fatalf("signature #%d: %q\n%s", i+1, g, out)
		}
	}
}

func qpdfCheck(t testing.TB, path string) {
	t.Helper()
	tool(t, "qpdf", "qpdf")
	out, err := exec.Command("qpdf", "--check", path).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("WARNING")) {
		t.Fatalf("qpdf --check %s: %v\n%s", path, err, out)
	}
}

func writePDF(t testing.TB, dir string, o testpdf.Options, objstm bool) string {
	t.Helper()
	p := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(p, testpdf.Bytes(o), 0o600); err != nil {
		t.Fatal(err)
	}
	if !objstm {
		return p
	}
	tool(t, "qpdf", "qpdf")
	q := filepath.Join(dir, "in-objstm.pdf")
	if b, err := exec.Command("qpdf", "--object-streams=generate", p, q).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v %s", err, b)
	}
	return q
}

func TestSignLevels(t *testing.T) {
	pki := testPKI(t)
	cases := []struct {
		name   string
		key    string
		opts   Options
		objstm bool
	}{
		{"B-B RSA SHA-256", devpki.Official, Options{}, false},
		{"B-B RSA SHA-384 xref stream", devpki.Official, Options{Hash: crypto.SHA384}, true},
		{"B-B RSA SHA-512", devpki.Official, Options{Hash: crypto.SHA512}, false},
		{"B-B RSA-PSS", devpki.Official, Options{PSS: true}, false},
		{"B-B ECDSA P-256", devpki.OfficialEC, Options{}, true},
		{"B-T RSA", devpki.Official, Options{Level: LevelBT, TSAURL: pki.TSAURL()}, false},
		{"B-T ECDSA xref stream", devpki.OfficialEC, Options{Level: LevelBT, TSAURL: pki.TSAURL()}, true},
		{"B-B Vietnamese text entries", devpki.Deputy, Options{Name: "Trần Thị Bình", Reason: "Phê duyệt văn bản", Location: "Thành phố Hà Nội"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			in := writePDF(t, dir, testpdf.Options{Pages: 2}, c.objstm)
			out := filepath.Join(dir, "out.pdf")
			if err := SignFile(context.Background(), in, out, pkiKey(t, c.key), c.opts); err != nil {
				t.Fatal(err)
			}
			orig, _ := os.ReadFile(in)
			signed, _ := os.ReadFile(out)
			if !bytes.HasPrefix(signed, orig) {
				t.Fatal("signed file does not start with the original bytes")
			}
			assertAllValid(t, out, 1)
			qpdfCheck(t, out)
			info, _ := exec.Command("pdfsig", "-nocert", out).CombinedOutput()
			if c.opts.Level == LevelBT && !bytes.Contains(info, []byte("Timestamp")) && !strings.Contains(string(info), "ETSI.CAdES.detached") {
				t.Fatalf("pdfsig shows no timestamp / PAdES subfilter:\n%s", info)
			}
			if !bytes.Contains(info, []byte("ETSI.CAdES.detached")) {
				t.Fatalf("pdfsig does not report a PAdES signature:\n%s", info)
			}
			if c.opts.Location != "" {
				// pdfsig does not print /Location: read the entries back.
				f, _ := os.Open(out)
				defer f.Close()
				doc, err := pdfupdate.Open(f, int64(len(signed)))
				if err != nil {
					t.Fatal(err)
				}
				cat, _ := doc.Catalog()
				v := cat.Key("AcroForm").Key("Fields").Index(0).Key("V")
				for k, want := range map[string]string{"Name": c.opts.Name, "Reason": c.opts.Reason, "Location": c.opts.Location} {
					if got := v.Key(k).Text(); got != want {
						t.Errorf("/%s read back as %q, want %q", k, got, want)
					}
				}
			}
		})
	}
}

// TestThreeSignatureChain signs like an office does: the official (B-T), the
// deputy (B-T), then the organisation's seal locking the fields. Every earlier
// signature must stay valid after each step.
func TestThreeSignatureChain(t *testing.T) {
	pki := testPKI(t)
	for _, objstm := range []bool{false, true} {
		t.Run(fmt.Sprintf("objstm=%v", objstm), func(t *testing.T) {
			dir := t.TempDir()
			cur := writePDF(t, dir, testpdf.Options{Pages: 1}, objstm)
			steps := []struct {
				key  string
				opts Options
			}{
				{devpki.Official, Options{Level: LevelBT, TSAURL: pki.TSAURL(), Name: "Nguyễn Văn An", Reason: "Ký ban hành"}},
				{devpki.Deputy, Options{Level: LevelBT, TSAURL: pki.TSAURL(), Name: "Trần Thị Bình", Reason: "KT. Chủ tịch"}},
				{devpki.Seal, Options{Lock: true, Name: "Ủy ban nhân dân tỉnh Mẫu", Reason: "Ban hành"}},
			}
			for i, s := range steps {
				next := filepath.Join(dir, fmt.Sprintf("step%d.pdf", i+1))
				if err := SignFile(context.Background(), cur, next, pkiKey(t, s.key), s.opts); err != nil {
					t.Fatalf("step %d: %v", i+1, err)
				}
				assertAllValid(t, next, i+1)
				qpdfCheck(t, next)
				cur = next
			}
			b, _ := os.ReadFile(cur)
			for _, want := range []string{"/SigFieldLock", "/FieldMDP", "(Signature3)"} {
				if !bytes.Contains(b, []byte(want)) {
					t.Fatalf("final file lacks %s", want)
				}
			}
		})
	}
}

func TestCertification(t *testing.T) {
	dir := t.TempDir()
	in := writePDF(t, dir, testpdf.Options{}, false)
	cert := filepath.Join(dir, "certified.pdf")
	if err := SignFile(context.Background(), in, cert, pkiKey(t, devpki.Official), Options{Certify: 2}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(cert)
	if !regexp.MustCompile(`/Perms << /DocMDP \d+ 0 R`).Match(b) || !bytes.Contains(b, []byte("/TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P 2")) {
		t.Fatal("no DocMDP reference / catalog /Perms")
	}
	approved := filepath.Join(dir, "approved.pdf")
	if err := SignFile(context.Background(), cert, approved, pkiKey(t, devpki.Deputy), Options{}); err != nil {
		t.Fatal(err)
	}
	assertAllValid(t, approved, 2)
	qpdfCheck(t, approved)
	// Certification must come first.
	err := SignFile(context.Background(), approved, filepath.Join(dir, "x.pdf"), pkiKey(t, devpki.Seal), Options{Certify: 1})
	if !errors.Is(err, ErrAlreadySigned) {
		t.Fatalf("certifying a signed document: %v, want ErrAlreadySigned", err)
	}
}

// throwawayKey makes a self-issued certificate for cases the dev PKI lacks.
func throwawayKey(t testing.TB, tmpl x509.Certificate) keys.Key {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.Subject = pkix.Name{CommonName: "throwaway"}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	key, err := keys.FromSigner(k, []*x509.Certificate{c})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// mismatchedKey signs with one key but presents another's certificate.
type mismatchedKey struct {
	crypto.Signer
	chain []*x509.Certificate
}

func (m mismatchedKey) Chain() []*x509.Certificate { return m.chain }

func TestSignRejects(t *testing.T) {
	tool(t, "qpdf", "qpdf")
	dir := t.TempDir()
	good := writePDF(t, dir, testpdf.Options{}, false)
	goodB, _ := os.ReadFile(good)
	enc := filepath.Join(dir, "enc.pdf")
	if b, err := exec.Command("qpdf", "--encrypt", "u", "o", "256", "--", good, enc).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --encrypt: %v %s", err, b)
	}
	trunc := filepath.Join(dir, "trunc.pdf")
	_ = os.WriteFile(trunc, goodB[:len(goodB)*2/3], 0o600)
	junk := filepath.Join(dir, "junk.pdf")
	_ = os.WriteFile(junk, []byte("%PDF-1.7\nthis is not really a PDF\n%%EOF\n"), 0o600)

	now := time.Now()
	official := pkiKey(t, devpki.Official)
	other := rsaKey(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	deadTSA := "http://" + ln.Addr().String() + "/tsa"
	ln.Close()
	cases := []struct {
		name string
		in   string
		key  keys.Key
		opts Options
		want error
	}{
		{"encrypted", enc, official, Options{}, pdfupdate.ErrEncrypted},
		{"truncated", trunc, official, Options{}, pdfupdate.ErrMalformed},
		{"malformed", junk, official, Options{}, pdfupdate.ErrMalformed},
		{"expired", good, pkiKey(t, devpki.Expired), Options{}, ErrCertificateNotValid},
		{"not yet valid", good, official, Options{Time: now.Add(-100 * 24 * 365 * time.Hour)}, ErrCertificateNotValid},
		{"key usage", good, throwawayKey(t, x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}), Options{}, ErrKeyUsage},
		{"certificate of another key", good, mismatchedKey{other, official.Chain()}, Options{}, ErrKeyMismatch},
		{"TSA unreachable", good, official, Options{Level: LevelBT, TSAURL: deadTSA}, ErrTSA},
		{"TSA not a TSA", good, official, Options{Level: LevelBT, TSAURL: testPKI(t).URL() + "/crl/issuing.crl"}, ErrTSA},
		{"B-T without TSA URL", good, official, Options{Level: LevelBT}, ErrTSA},
		{"B-LT without extender", good, official, Options{Level: LevelBLT, TSAURL: deadTSA}, ErrLevelUnavailable},
		{"certify P out of range", good, official, Options{Certify: 4}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			odir := t.TempDir()
			out := filepath.Join(odir, "out.pdf")
			err := SignFile(context.Background(), c.in, out, c.key, c.opts)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("SignFile = %v, want %v", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			if left, _ := os.ReadDir(odir); len(left) != 0 {
				t.Fatalf("failed signing left %d files behind (%s)", len(left), left[0].Name())
			}
		})
	}
}

func rsaKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestExternalTwoStep(t *testing.T) {
	pki := testPKI(t)
	key := pkiKey(t, devpki.Official)
	dir := t.TempDir()
	inPath := writePDF(t, dir, testpdf.Options{}, false)
	inB, _ := os.ReadFile(inPath)
	other := rsaKey(t)
	cases := []struct {
		name string
		pss  bool
		sign func(p *Prepared) []byte
		want error
	}{
		{"token signs the digest", false, func(p *Prepared) []byte {
			s, _ := key.Sign(rand.Reader, p.Digest, p.SignerOpts())
			return s
		}, nil},
		{"PSS token", true, func(p *Prepared) []byte {
			s, _ := key.Sign(rand.Reader, p.Digest, p.SignerOpts())
			return s
		}, nil},
		{"value from another key", false, func(p *Prepared) []byte {
			s, _ := other.Sign(rand.Reader, p.Digest, p.SignerOpts())
			return s
		}, errSignatureValueWrong},
		{"value over other data", false, func(p *Prepared) []byte {
			d := crypto.SHA256.New()
			d.Write([]byte("something else"))
			s, _ := key.Sign(rand.Reader, d.Sum(nil), crypto.SHA256)
			return s
		}, errSignatureValueWrong},
		{"garbage", false, func(p *Prepared) []byte { return []byte("not a signature") }, errSignatureValueWrong},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pdf")
			f, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			// The chain is all the server knows; the key stays at the desk.
			p, err := Prepare(context.Background(), bytes.NewReader(inB), int64(len(inB)), f, key.Chain(), Options{Level: LevelBT, TSAURL: pki.TSAURL(), PSS: c.pss})
			if err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(out)
			err = Finalize(context.Background(), p, f, c.sign(p))
			if !errors.Is(err, c.want) {
				t.Fatalf("Finalize = %v, want %v", err, c.want)
			}
			if c.want != nil {
				if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
					t.Fatal("a rejected value was written")
				}
				return
			}
			f.Close()
			assertAllValid(t, out, 1)
		})
	}
}

// TestExternalFullCMS: a remote service may answer with a whole CMS; it is
// taken only when it is the prepared signature, and what is embedded is
// rebuilt here (with the TSA's token at B-T).
func TestExternalFullCMS(t *testing.T) {
	pki := testPKI(t)
	key := pkiKey(t, devpki.Official)
	deputy := pkiKey(t, devpki.Deputy)
	inB, _ := os.ReadFile(writePDF(t, t.TempDir(), testpdf.Options{}, false))
	prepare := func(t *testing.T, out *os.File) *Prepared {
		p, err := Prepare(context.Background(), bytes.NewReader(inB), int64(len(inB)), out, key.Chain(), Options{Level: LevelBT, TSAURL: pki.TSAURL()})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	wrap := func(t *testing.T, k keys.Key, p *Prepared, attrs []byte) []byte {
		h := p.Hash.New()
		h.Write(attrs)
		sig, err := k.Sign(rand.Reader, h.Sum(nil), p.SignerOpts())
		if err != nil {
			t.Fatal(err)
		}
		der, err := algorithm{p.Hash, p.PSS}.buildCMS(k.Chain(), attrs, sig, nil)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	otherIn := testpdf.Bytes(testpdf.Options{Pages: 2})
	other, err := Prepare(context.Background(), bytes.NewReader(otherIn), int64(len(otherIn)), mustCreate(t, filepath.Join(t.TempDir(), "other.pdf")), key.Chain(), Options{Level: LevelBT, TSAURL: pki.TSAURL()})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cms  func(p *Prepared) []byte
		want error
	}{
		{"the prepared signature", func(p *Prepared) []byte { return wrap(t, key, p, p.SignedAttributes) }, nil},
		{"other attributes", func(p *Prepared) []byte { return wrap(t, key, p, other.SignedAttributes) }, ErrCMSRejected},
		{"another signer", func(p *Prepared) []byte { return wrap(t, deputy, p, p.SignedAttributes) }, ErrCMSRejected},
		{"encapsulated content", func(p *Prepared) []byte {
			sd, err := pkcs7.NewSignedData([]byte("nội dung"))
			if err != nil {
				t.Fatal(err)
			}
			if err := sd.AddSigner(key.Chain()[0], key, pkcs7.SignerInfoConfig{}); err != nil {
				t.Fatal(err)
			}
			der, err := sd.Finish()
			if err != nil {
				t.Fatal(err)
			}
			return der
		}, ErrCMSRejected},
		{"garbage", func(p *Prepared) []byte { return []byte("not a CMS") }, ErrCMSRejected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pdf")
			f := mustCreate(t, out)
			p := prepare(t, f)
			before, _ := os.ReadFile(out)
			err := FinalizeCMS(context.Background(), p, f, c.cms(p))
			if !errors.Is(err, c.want) {
				t.Fatalf("FinalizeCMS = %v, want %v", err, c.want)
			}
			if c.want != nil {
				if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
					t.Fatal("a rejected CMS was written")
				}
				return
			}
			f.Close()
			assertAllValid(t, out, 1)
		})
	}
}

func mustCreate(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
