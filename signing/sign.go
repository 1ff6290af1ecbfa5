package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/signing/verify/cms"
)

// Errors about the signer's certificate, checked before anything is written.
var (
	ErrCertificateNotValid = errors.New("signing: certificate not valid at signing time")
	ErrKeyUsage            = errors.New("signing: certificate key usage allows neither digitalSignature nor nonRepudiation")
	ErrKeyMismatch         = errors.New("signing: certificate does not match the signing key")
	ErrNoCertificate       = errors.New("signing: key has no certificate chain")
	// ErrCMSRejected: a CMS handed to FinalizeCMS is not the signature that
	// was prepared.
	ErrCMSRejected      = errors.New("signing: CMS from the external signer rejected")
	ErrContentsTooSmall = errors.New("signing: CMS larger than the reserved /Contents")
)

// Output is where a signed PDF is written: sequentially, then patched once
// in place with the CMS. *os.File satisfies it.
type Output interface {
	io.Writer
	io.WriterAt
}

// Prepared is a PDF with the signature's place reserved, waiting for the
// signature value (external two-step signing). The caller signs
// SignedAttributes (DER), or equivalently the precomputed Digest, with the
// certificate's key and hands the value to Finalize.
type Prepared struct {
	// SignedAttributes is the DER SET OF Attribute to be signed.
	SignedAttributes []byte
	// Digest is Hash(SignedAttributes): what a token signs when it is given
	// a hash rather than data.
	Digest []byte
	Hash   crypto.Hash
	PSS    bool
	// Size is the length of the prepared file.
	Size int64

	chain        []*x509.Certificate
	contentsAt   int64
	contentsSize int
	opts         Options
	// written, when the prepared file is still being written (sign
	// prepares in the background), waits for it; nil: it is written.
	written func() error
	// embedded is the length of the CMS Finalize wrote (0: none yet).
	embedded int
}

// SignerOpts returns the options to pass to crypto.Signer.Sign with Digest.
func (p *Prepared) SignerOpts() crypto.SignerOpts { return algorithm{p.Hash, p.PSS}.signerOpts() }

// checkCertificate refuses a certificate that is outside its validity at t,
// not meant for signatures, or not the key's.
func checkCertificate(cert *x509.Certificate, pub crypto.PublicKey, t time.Time) error {
	if t.Before(cert.NotBefore) {
		return fmt.Errorf("%w: not valid before %s", ErrCertificateNotValid, cert.NotBefore.Format(time.RFC3339))
	}
	if t.After(cert.NotAfter) {
		return fmt.Errorf("%w: expired %s", ErrCertificateNotValid, cert.NotAfter.Format(time.RFC3339))
	}
	// An absent keyUsage extension leaves the key unrestricted (RFC 5280).
	if cert.KeyUsage != 0 && cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return ErrKeyUsage
	}
	if pub != nil {
		eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !eq.Equal(cert.PublicKey) {
			return ErrKeyMismatch
		}
	}
	return nil
}

// contentsEstimate reserves room for the CMS: the chain, the signature, the
// attributes and, for B-T, a TSA token with its own chain.
func contentsEstimate(chain []*x509.Certificate, o *Options) int {
	if o.ContentsSize > 0 {
		return o.ContentsSize
	}
	n := 2048
	for _, c := range chain {
		n += len(c.Raw) + 16
	}
	switch k := chain[0].PublicKey.(type) {
	case *rsa.PublicKey:
		n += k.Size()
	case *ecdsa.PublicKey:
		n += 2*(k.Curve.Params().BitSize+7)/8 + 16
	}
	if o.Level.timestamped() {
		n += 12 * 1024
	}
	return n
}

// Prepare writes in (size bytes) followed by an incremental update with the
// signature field and a reserved /Contents to out, hashing the signed byte
// ranges on the way, and returns what must be signed. The original bytes are
// streamed, never held in memory.
func Prepare(ctx context.Context, in io.ReaderAt, size int64, out Output, chain []*x509.Certificate, opts Options) (*Prepared, error) {
	return prepare(ctx, sourceOf(in, size), out, chain, opts, false)
}

// source is where Prepare and Sign get the parsed input: a Source opened
// by the caller, or the input parsed once its other checks passed.
type source struct {
	opened *Source
	in     io.ReaderAt
	size   int64
}

func sourceOf(in io.ReaderAt, size int64) source { return source{in: in, size: size} }

func (s source) open() (*Source, error) {
	if s.opened != nil {
		return s.opened, nil
	}
	return OpenSource(s.in, s.size)
}

// prepare is Prepare of src. background lets a Source opened from a Known
// write the output while the caller goes on (sign: the key's signature
// and the timestamp need only the digest, not the written file); the
// Prepared then waits for the writing in Finalize. Prepare, whose caller
// may read the output at once, never asks for it.
func prepare(ctx context.Context, src source, out Output, chain []*x509.Certificate, opts Options, background bool) (*Prepared, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if len(chain) == 0 || chain[0] == nil {
		return nil, ErrNoCertificate
	}
	if err := checkCertificate(chain[0], nil, opts.Time); err != nil {
		return nil, err
	}
	alg := algorithm{opts.Hash, opts.PSS}
	if _, ok := chain[0].PublicKey.(*rsa.PublicKey); !ok && opts.PSS {
		return nil, errors.New("signing: RSA-PSS needs an RSA key")
	}
	opened, err := src.open()
	if err != nil {
		return nil, err
	}
	if !opts.Force {
		if err := opened.CheckLocked(); err != nil {
			return nil, err
		}
	}
	doc, in, size := opened.doc, opened.in, opened.size
	csize := contentsEstimate(chain, &opts)
	ph, err := buildUpdate(doc, &opts, csize, kindSignature)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Copy the input to out while hashing it, then the update without the
	// /Contents hole. No read-back of the output is needed.
	release, err := preallocate(out, size+int64(len(ph.update)))
	if err != nil {
		return nil, err
	}
	// A Source opened from a Known resumes the hash after its bytes:
	// they are only copied, and the digest to sign needs only the update.
	h, resumed := prefixHash(opened, opts.Hash)
	u := ph.update
	p := &Prepared{Hash: opts.Hash, PSS: opts.PSS, Size: size + int64(len(u)),
		chain: chain, contentsAt: ph.contentsAt + 1, contentsSize: csize, opts: opts}
	switch {
	case resumed && background:
		// The copy (a fresh output's memory is faulted in as it is
		// written) runs while the key signs and the TSA answers; Finalize
		// waits for it before it patches the CMS in.
		done := make(chan error, 1)
		go func() { done <- writeOutput(out, opened.known.data, u) }()
		p.written = sync.OnceValue(func() error {
			err := <-done
			if err != nil {
				release()
			}
			return err
		})
	case resumed:
		if err := writeOutput(out, opened.known.data, u); err != nil {
			release()
			return nil, err
		}
	default:
		if err := copyInput(ctx, out, h, in, size); err != nil {
			release()
			return nil, err
		}
		hashed.Add(size)
		if err := writeOutput(out, u); err != nil {
			release()
			return nil, err
		}
	}
	hole0, hole1 := ph.contentsAt-ph.base, ph.contentsTo-ph.base
	h.Write(u[:hole0])
	h.Write(u[hole1:])
	hashed.Add(int64(len(u)) - (hole1 - hole0))
	attrs, err := alg.signedAttributes(h.Sum(nil), chain[0])
	if err != nil {
		p.wait()
		return nil, err
	}
	ah := opts.Hash.New()
	ah.Write(attrs)
	p.SignedAttributes, p.Digest = attrs, ah.Sum(nil)
	return p, nil
}

// writeOutput writes parts to out in order.
func writeOutput(out io.Writer, parts ...[]byte) error {
	for _, b := range parts {
		if _, err := out.Write(b); err != nil {
			return fmt.Errorf("signing: write output: %w", err)
		}
	}
	return nil
}

// wait waits for the prepared file to be written (prepare in the
// background: sign), and says whether it was.
func (p *Prepared) wait() error {
	if p.written == nil {
		return nil
	}
	return p.written()
}

// Finalize checks signatureValue against the signer's certificate over the
// prepared signed attributes (a wrong value or a value from another key is
// rejected and nothing is written), adds the signature timestamp for B-T and
// up, and writes the CMS into the reserved /Contents of out.
func Finalize(ctx context.Context, p *Prepared, out io.WriterAt, signatureValue []byte) error {
	alg := algorithm{p.Hash, p.PSS}
	if err := alg.verify(p.chain[0].PublicKey, p.SignedAttributes, signatureValue); err != nil {
		return err
	}
	var tst []byte
	if p.opts.Level.timestamped() {
		var err error
		if tst, err = fetchTimestamp(ctx, p.opts.HTTPClient, p.opts.TSAURL, p.Hash, signatureValue); err != nil {
			return err
		}
	}
	cms, err := alg.buildCMS(p.chain, p.SignedAttributes, signatureValue, tst)
	if err != nil {
		return err
	}
	if len(cms) > p.contentsSize {
		return fmt.Errorf("%w: %d > %d bytes", ErrContentsTooSmall, len(cms), p.contentsSize)
	}
	if err := p.wait(); err != nil {
		return err
	}
	if _, err := out.WriteAt([]byte(hex.EncodeToString(cms)), p.contentsAt); err != nil {
		return fmt.Errorf("signing: write signature: %w", err)
	}
	p.embedded = len(cms)
	return nil
}

// FinalizeCMS completes a prepared signature from a whole CMS SignedData
// made elsewhere, for remote signing services that answer with CMS rather
// than a bare signature value. The CMS is accepted only if it is detached,
// has one signer, names the prepared certificate, and signs exactly the
// prepared signed attributes; its signature value then goes through
// Finalize, so what lands in the PDF is always a CMS built here, with the
// prepared chain and, from B-T on, the configured TSA's timestamp.
func FinalizeCMS(ctx context.Context, p *Prepared, out io.WriterAt, der []byte) error {
	sd, err := cms.Parse(der)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %v", ErrCMSRejected, err)
	case sd.HasEContent:
		return fmt.Errorf("%w: it encapsulates content; a PDF signature is detached", ErrCMSRejected)
	case sd.SignerCount != 1:
		return fmt.Errorf("%w: %d signers, want 1", ErrCMSRejected, sd.SignerCount)
	case sd.FindSigner(p.chain[:1]) == nil:
		return fmt.Errorf("%w: it names another signer than %s", ErrCMSRejected, p.chain[0].Subject.CommonName)
	case !bytes.Equal(sd.SignedAttrsRaw, p.SignedAttributes):
		return fmt.Errorf("%w: it signs other attributes than those prepared", ErrCMSRejected)
	}
	return Finalize(ctx, p, out, sd.Signature)
}

// Sign signs the PDF in (size bytes) with key and writes the signed file to
// out. The levels B-LT and B-LTA need an *os.File output and an Extender.
// Without Options.ContentsSize, the room for the CMS is learned from the
// key's last signature (room.go); out, an *os.File or a *Buffer, may then be
// emptied back to where it started and written again.
func Sign(ctx context.Context, in io.ReaderAt, size int64, out Output, key keys.Key, opts Options) error {
	return sign(ctx, sourceOf(in, size), out, key, opts)
}

func sign(ctx context.Context, src source, out Output, key keys.Key, opts Options) error {
	if err := opts.defaults(); err != nil {
		return err
	}
	chain := key.Chain()
	if len(chain) == 0 || chain[0] == nil {
		return ErrNoCertificate
	}
	if err := checkCertificate(chain[0], key.Public(), opts.Time); err != nil {
		return err
	}
	f, isFile := out.(*os.File)
	if opts.Level.extended() && !isFile {
		return fmt.Errorf("signing: level %s needs a file output", opts.Level)
	}
	// Room for a CMS the size of the last one of the same key, level,
	// TSA, hash and padding (room.go), when none is asked for and out
	// can be emptied for a second attempt with the estimate.
	restart := restarter(out)
	learning := opts.ContentsSize == 0 && restart != nil
	var learned cmsKey
	if learning {
		learned = cmsKeyOf(chain, &opts)
		opts.ContentsSize = learnedCMS.reserve(learned)
	}
	p, err := signOnce(ctx, src, out, key, chain, opts)
	if errors.Is(err, ErrContentsTooSmall) && learning && opts.ContentsSize > 0 {
		learnedCMS.forget(learned)
		if err := restart(); err != nil {
			return err
		}
		opts.ContentsSize = 0
		p, err = signOnce(ctx, src, out, key, chain, opts)
	}
	if err != nil {
		return err
	}
	if learning {
		learnedCMS.learn(learned, p.embedded)
	}
	if opts.Level.extended() {
		if _, err := opts.Extender.ExtendFile(ctx, f, p.Size, opts.Level == LevelBLTA); err != nil {
			return fmt.Errorf("signing: extend to %s: %w", opts.Level, err)
		}
	}
	slog.DebugContext(ctx, "signed PDF", "level", opts.Level, "subject", chain[0].Subject.CommonName, "bytes", p.Size)
	return nil
}

// signOnce prepares, signs and finalizes one attempt at a signature.
// Whatever happens, the output is no longer being written when it returns
// (the copy prepare began in the background is waited for), so a failed
// attempt's output can be emptied.
func signOnce(ctx context.Context, src source, out Output, key keys.Key, chain []*x509.Certificate, opts Options) (*Prepared, error) {
	p, err := prepare(ctx, src, out, chain, opts, true)
	if err != nil {
		return nil, err
	}
	defer p.wait()
	sig, err := key.Sign(rand.Reader, p.Digest, p.SignerOpts())
	if err != nil {
		return nil, fmt.Errorf("signing: key refused to sign: %w", err)
	}
	if err := Finalize(ctx, p, out, sig); err != nil {
		return nil, err
	}
	return p, nil
}

// SignFile signs inPath into outPath. It writes a temporary file next to
// outPath and renames it only on success, so outPath is never half-written.
func SignFile(ctx context.Context, inPath, outPath string, key keys.Key, opts Options) (err error) {
	in, err := os.Open(inPath)
	if err != nil {
		return fmt.Errorf("signing: open input: %w", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("signing: stat input: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".*.tmp")
	if err != nil {
		return fmt.Errorf("signing: create output: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = Sign(ctx, in, st.Size(), tmp, key, opts); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("signing: sync output: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("signing: close output: %w", err)
	}
	if err = os.Rename(tmp.Name(), outPath); err != nil {
		return fmt.Errorf("signing: rename output: %w", err)
	}
	return nil
}
