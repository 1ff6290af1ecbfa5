// Package devpki owns the development PKI: a small but realistic certificate
// hierarchy (root CA, issuing CA, officials, the organisation's seal, a TSA and
// an OCSP responder, plus deliberately revoked and expired signers) kept in a
// directory of PEM and PKCS#12 files, and the HTTP responders (OCSP, CRL,
// RFC 3161 timestamps, CA certificates) that make it behave like a real CA for
// demos and tests. It is never a production trust anchor.
package devpki

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/vanthu/vanthu/signing/keys"
)

// Names of the identities in a development PKI. Each is stored as NAME.p12
// (and the CAs also as NAME.pem).
const (
	RootCA     = "root-ca"
	IssuingCA  = "issuing-ca"
	Official   = "official"    // Nguyễn Văn An, Chủ tịch — RSA-2048
	Deputy     = "deputy"      // Trần Thị Bình, Phó Chủ tịch — signs KT.
	Seal       = "seal"        // the organisation's signature (digital seal)
	Revoked    = "revoked"     // revoked (keyCompromise) at creation
	Expired    = "expired"     // validity ended a day before creation
	OfficialEC = "official-ec" // Nguyễn Văn An again, ECDSA P-256 (only with Options.ECDSA)
	TSA        = "tsa"         // RFC 3161 timestamping unit
	OCSP       = "ocsp"        // delegated OCSP responder of the issuing CA
)

// signerNames are the identities PKI.Key hands out for signing.
var signerNames = []string{Official, Deputy, Seal, Revoked, Expired, OfficialEC}

const (
	passwordFile = "p12-password"
	stateFile    = "state.json"
	chainFile    = "chain.pem"
)

// Options tune Init.
type Options struct {
	// ECDSA adds official-ec.p12, an ECDSA P-256 signer.
	ECDSA bool
	// Keys, if set, supplies and remembers the generated private keys by
	// identity name, so a test binary that builds many hierarchies generates
	// each RSA key once. Never share a pool outside tests.
	Keys *KeyPool
	// Now is the creation time; zero means time.Now().
	Now time.Time
	// Organization is the organisation the people's certificates name (O=)
	// and the seal certificate is issued to (CN=); empty: "Ủy ban nhân dân
	// tỉnh Mẫu". A seal binds only to the organisation it names.
	Organization string
}

// KeyPool caches generated keys by identity name. The zero value is ready.
type KeyPool struct {
	mu   sync.Mutex
	keys map[string]crypto.Signer
}

func (p *KeyPool) get(name string, gen func() (crypto.Signer, error)) (crypto.Signer, error) {
	if p == nil {
		return gen()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if k, ok := p.keys[name]; ok {
		return k, nil
	}
	k, err := gen()
	if err != nil {
		return nil, err
	}
	if p.keys == nil {
		p.keys = map[string]crypto.Signer{}
	}
	p.keys[name] = k
	return k, nil
}

// state is what changes after Init: the revocations. It is JSON so a person
// can read it.
type state struct {
	BaseURL string       `json:"base_url"`
	Created time.Time    `json:"created"`
	Revoked []revocation `json:"revoked"`
}

type revocation struct {
	Name   string    `json:"name"`
	Issuer string    `json:"issuer"`
	Serial string    `json:"serial"` // hex
	Time   time.Time `json:"time"`
	Reason int       `json:"reason"` // RFC 5280 CRLReason
}

// identity is one certificate with its key and the chain above it.
type identity struct {
	name  string
	cert  *x509.Certificate
	key   crypto.Signer
	chain []*x509.Certificate // cert first, then issuers up to and including the root
}

// PKI is a loaded development PKI.
type PKI struct {
	dir      string
	password []byte
	ids      map[string]*identity

	mu      sync.Mutex
	state   state
	crlNum  int64
	baseURL string // may differ from state.BaseURL only if SetURL was used
}

// subject describes a person or organisation in the hierarchy.
type subject struct {
	cn, title, ou, uid string
}

const (
	orgName   = "Ủy ban nhân dân tỉnh Mẫu"
	orgUnit   = "Văn phòng Ủy ban nhân dân"
	province  = "Tỉnh Mẫu"
	caOrgName = "Trung tâm Chứng thực điện tử phát triển (vanthu dev)"
)

var people = map[string]subject{
	Official:   {cn: "Nguyễn Văn An", title: "Chủ tịch", ou: orgUnit, uid: "CCCD:001080001234"},
	OfficialEC: {cn: "Nguyễn Văn An", title: "Chủ tịch", ou: orgUnit, uid: "CCCD:001080001234"},
	Deputy:     {cn: "Trần Thị Bình", title: "Phó Chủ tịch", ou: orgUnit, uid: "CCCD:001185004321"},
	Seal:       {cn: orgName, uid: "MNS:0100000001"},
	Revoked:    {cn: "Lê Văn Cường", title: "Chánh Văn phòng", ou: orgUnit, uid: "CCCD:001079007777"},
	Expired:    {cn: "Phạm Thị Dung", title: "Phó Chánh Văn phòng", ou: orgUnit, uid: "CCCD:001190008888"},
	TSA:        {cn: "vanthu dev TSA", ou: "Dịch vụ cấp dấu thời gian"},
	OCSP:       {cn: "vanthu dev OCSP responder", ou: "Dịch vụ OCSP"},
}

// Init creates a new development PKI in dir (created if missing; it must not
// already hold one). baseURL is where the responders will be served (for
// example http://127.0.0.1:8099); it is written into the certificates' AIA and
// CRL distribution point extensions.
func Init(dir, baseURL string, opts Options) error {
	baseURL = strings.TrimRight(baseURL, "/")
	if !strings.HasPrefix(baseURL, "http://") && !strings.HasPrefix(baseURL, "https://") {
		return fmt.Errorf("devpki init: base URL %q must be an http(s) URL", baseURL)
	}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		return fmt.Errorf("devpki init: %s already holds a PKI", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("devpki init: %w", err)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)

	pw := make([]byte, 24)
	if _, err := rand.Read(pw); err != nil {
		return fmt.Errorf("devpki init: password: %w", err)
	}
	password := []byte(base64.RawURLEncoding.EncodeToString(pw))

	genRSA := func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }
	genEC := func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
	key := func(name string, gen func() (crypto.Signer, error)) (crypto.Signer, error) {
		k, err := opts.Keys.get(name, gen)
		if err != nil {
			return nil, fmt.Errorf("devpki init: generate %s key: %w", name, err)
		}
		return k, nil
	}

	ids := map[string]*identity{}

	// Root CA: self-signed, long-lived, the trust anchor.
	rootKey, err := key(RootCA, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 3072) })
	if err != nil {
		return err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          mustSerial(),
		Subject:               caName("vanthu Dev Root CA"),
		NotBefore:             now.AddDate(-5, 0, 0),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	root, err := issue(rootTmpl, rootKey, nil)
	if err != nil {
		return fmt.Errorf("devpki init: root CA: %w", err)
	}
	ids[RootCA] = root

	// Issuing CA: signs every end-entity certificate and the issuing CRL.
	issKey, err := key(IssuingCA, genRSA)
	if err != nil {
		return err
	}
	issTmpl := &x509.Certificate{
		SerialNumber:          mustSerial(),
		Subject:               caName("vanthu Dev Issuing CA"),
		NotBefore:             now.AddDate(-4, 0, 0),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		OCSPServer:            []string{baseURL + "/ocsp"},
		IssuingCertificateURL: []string{baseURL + "/ca/" + RootCA + ".cer"},
		CRLDistributionPoints: []string{baseURL + "/crl/root.crl"},
	}
	issuing, err := issue(issTmpl, issKey, root)
	if err != nil {
		return fmt.Errorf("devpki init: issuing CA: %w", err)
	}
	ids[IssuingCA] = issuing

	names := []string{Official, Deputy, Seal, Revoked, Expired, TSA, OCSP}
	if opts.ECDSA {
		names = append(names, OfficialEC)
	}
	for _, name := range names {
		gen := genRSA
		if name == OfficialEC {
			gen = genEC
		}
		k, err := key(name, gen)
		if err != nil {
			return err
		}
		id, err := issue(endEntity(name, baseURL, now, cmp.Or(opts.Organization, orgName)), k, issuing)
		if err != nil {
			return fmt.Errorf("devpki init: %s: %w", name, err)
		}
		ids[name] = id
	}

	// Files: password first, so a half-written directory is still readable.
	if err := writeFile(filepath.Join(dir, passwordFile), append(append([]byte(nil), password...), '\n'), 0o600); err != nil {
		return fmt.Errorf("devpki init: %w", err)
	}
	for name, id := range ids {
		p12, err := pkcs12.Modern2023.Encode(id.key, id.cert, id.chain[1:], string(password))
		if err != nil {
			return fmt.Errorf("devpki init: encode %s.p12: %w", name, err)
		}
		if err := writeFile(filepath.Join(dir, name+".p12"), p12, 0o600); err != nil {
			return fmt.Errorf("devpki init: %w", err)
		}
	}
	for _, name := range []string{RootCA, IssuingCA} {
		if err := writeFile(filepath.Join(dir, name+".pem"), pemCert(ids[name].cert), 0o644); err != nil {
			return fmt.Errorf("devpki init: %w", err)
		}
	}
	chain := append(pemCert(issuing.cert), pemCert(root.cert)...)
	if err := writeFile(filepath.Join(dir, chainFile), chain, 0o644); err != nil {
		return fmt.Errorf("devpki init: %w", err)
	}

	st := state{BaseURL: baseURL, Created: now, Revoked: []revocation{{
		Name:   Revoked,
		Issuer: IssuingCA,
		Serial: ids[Revoked].cert.SerialNumber.Text(16),
		Time:   now,
		Reason: 1, // keyCompromise
	}}}
	if err := saveState(dir, &st); err != nil {
		return fmt.Errorf("devpki init: %w", err)
	}
	return nil
}

// endEntity returns the certificate template for a named end entity.
func endEntity(name, baseURL string, now time.Time, org string) *x509.Certificate {
	p := people[name]
	if name == Seal {
		p.cn = org
	}
	t := &x509.Certificate{
		SerialNumber:          mustSerial(),
		Subject:               personName(p),
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
		OCSPServer:            []string{baseURL + "/ocsp"},
		IssuingCertificateURL: []string{baseURL + "/ca/" + IssuingCA + ".cer"},
		CRLDistributionPoints: []string{baseURL + "/crl/issuing.crl"},
	}
	t.Subject.Organization = []string{org}
	switch name {
	case Expired:
		t.NotBefore = now.AddDate(-2, 0, 0)
		t.NotAfter = now.AddDate(0, 0, -1)
	case TSA:
		// RFC 3161 §2.3: the TSA certificate has exactly one EKU,
		// timeStamping, and the extension is critical. crypto/x509 marks EKU
		// non-critical, so the extension is written by hand.
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
		t.ExtraExtensions = append(t.ExtraExtensions, criticalEKU(oidKPTimeStamping))
	case OCSP:
		// RFC 6960 §4.2.2.2: a delegated responder carries id-kp-OCSPSigning;
		// id-pkix-ocsp-nocheck tells clients not to check its own status.
		t.KeyUsage = x509.KeyUsageDigitalSignature
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
		t.ExtraExtensions = append(t.ExtraExtensions, ocspNoCheck())
		t.NotAfter = now.AddDate(1, 0, 0)
	}
	return t
}

// issue signs tmpl with parent (or self-signs when parent is nil).
func issue(tmpl *x509.Certificate, key crypto.Signer, parent *identity) (*identity, error) {
	parentCert, parentKey := tmpl, key
	var chain []*x509.Certificate
	if parent != nil {
		parentCert, parentKey = parent.cert, parent.key
		chain = parent.chain
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), parentKey)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new certificate: %w", err)
	}
	return &identity{cert: cert, key: key, chain: append([]*x509.Certificate{cert}, chain...)}, nil
}

// Load opens a development PKI created by Init.
func Load(dir string) (*PKI, error) {
	pw, err := keys.PasswordFromFile(filepath.Join(dir, passwordFile))()
	if err != nil {
		return nil, fmt.Errorf("devpki load: %w", err)
	}
	st, err := loadState(dir)
	if err != nil {
		return nil, fmt.Errorf("devpki load: %w", err)
	}
	p := &PKI{dir: dir, password: pw, ids: map[string]*identity{}, state: *st, baseURL: st.BaseURL}
	for _, name := range []string{RootCA, IssuingCA, Official, Deputy, Seal, Revoked, Expired, TSA, OCSP, OfficialEC} {
		data, err := os.ReadFile(filepath.Join(dir, name+".p12"))
		if errors.Is(err, os.ErrNotExist) && name == OfficialEC {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("devpki load: %w", err)
		}
		k, err := keys.DecodePKCS12(data, pw)
		if err != nil {
			return nil, fmt.Errorf("devpki load %s.p12: %w", name, err)
		}
		signer, ok := k.(interface{ PrivateKey() crypto.PrivateKey }).PrivateKey().(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("devpki load %s.p12: key is not a signer", name)
		}
		p.ids[name] = &identity{name: name, cert: k.Chain()[0], key: signer, chain: k.Chain()}
	}
	p.crlNum = time.Now().UnixMilli()
	return p, nil
}

// Dir is the directory the PKI lives in.
func (p *PKI) Dir() string { return p.dir }

// URL is the base URL the responders are expected at (as written into the
// certificates), without a trailing slash.
func (p *PKI) URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.baseURL
}

// OCSPURL, TSAURL and CRLURL are the responder addresses under URL.
func (p *PKI) OCSPURL() string { return p.URL() + "/ocsp" }
func (p *PKI) TSAURL() string  { return p.URL() + "/tsa" }
func (p *PKI) CRLURL() string  { return p.URL() + "/crl/issuing.crl" }

// Root is the trust anchor.
func (p *PKI) Root() *x509.Certificate { return p.ids[RootCA].cert }

// Issuing is the issuing (intermediate) CA.
func (p *PKI) Issuing() *x509.Certificate { return p.ids[IssuingCA].cert }

// Roots is a pool holding only the root, for x509.VerifyOptions.
func (p *PKI) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root())
	return pool
}

// Intermediates is a pool holding the issuing CA.
func (p *PKI) Intermediates() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Issuing())
	return pool
}

// Cert returns the certificate of any named identity (including the CAs, the
// TSA and the OCSP responder).
func (p *PKI) Cert(name string) (*x509.Certificate, error) {
	id, ok := p.ids[name]
	if !ok {
		return nil, fmt.Errorf("devpki: no identity %q", name)
	}
	return id.cert, nil
}

// Chain returns a named identity's certificate followed by its issuers up to
// and including the root.
func (p *PKI) Chain(name string) ([]*x509.Certificate, error) {
	id, ok := p.ids[name]
	if !ok {
		return nil, fmt.Errorf("devpki: no identity %q", name)
	}
	return append([]*x509.Certificate(nil), id.chain...), nil
}

// Key returns a signing key: official, deputy, seal, revoked, expired or
// official-ec. Revoked and expired keys are returned as they are, without the
// checks keys.OpenPKCS12 applies, so tests can make bad signatures.
func (p *PKI) Key(name string) (keys.Key, error) {
	known := false
	for _, n := range signerNames {
		known = known || n == name
	}
	id, ok := p.ids[name]
	if !known || !ok {
		return nil, fmt.Errorf("devpki: no signing identity %q", name)
	}
	// The chain handed to signers stops below the root: the trust anchor is
	// configuration on the verifying side, not part of the signature.
	return keys.FromSigner(id.key, id.chain[:len(id.chain)-1])
}

// P12Path is the path of a named identity's PKCS#12 file.
func (p *PKI) P12Path(name string) string { return filepath.Join(p.dir, name+".p12") }

// PasswordPath is the file holding the password of every .p12 in the PKI.
func (p *PKI) PasswordPath() string { return filepath.Join(p.dir, passwordFile) }

// Password returns the password of the PKI's .p12 files.
func (p *PKI) Password() []byte { return append([]byte(nil), p.password...) }

// Revoke marks a named identity revoked (keyCompromise) from now on and
// records it in the state file, so OCSP and the CRLs report it.
func (p *PKI) Revoke(name string) error {
	id, ok := p.ids[name]
	if !ok || name == RootCA {
		return fmt.Errorf("devpki revoke: no revocable identity %q", name)
	}
	issuer := IssuingCA
	if name == IssuingCA {
		issuer = RootCA
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	serial := id.cert.SerialNumber.Text(16)
	for _, r := range p.state.Revoked {
		if r.Serial == serial && r.Issuer == issuer {
			return nil
		}
	}
	next := p.state
	next.Revoked = append(append([]revocation(nil), p.state.Revoked...), revocation{
		Name: name, Issuer: issuer, Serial: serial, Time: time.Now().UTC().Truncate(time.Second), Reason: 1,
	})
	if err := saveState(p.dir, &next); err != nil {
		return fmt.Errorf("devpki revoke %s: %w", name, err)
	}
	p.state = next
	return nil
}

func loadState(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("parse %s: %w", stateFile, err)
	}
	return &st, nil
}

func saveState(dir string, st *state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, stateFile), append(b, '\n'), 0o644)
}

// writeFile writes through a temporary file and a rename so a crash never
// leaves a half-written key or state file.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func mustSerial() *big.Int {
	// 128 random bits, positive; crypto/rand does not fail on supported
	// platforms, and a zero serial would be rejected by CreateCertificate.
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[0] &= 0x7f
	b[0] |= 0x01
	return new(big.Int).SetBytes(b)
}
