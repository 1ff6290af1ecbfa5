package signing

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"

	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// Source is a PDF opened once to be checked, searched and signed: a
// service that refuses a locked version (CheckLocked), places the
// signature by the text (Appearance), reads the signature fields (Doc) and
// signs (Sign, Prepare) parses the version once instead of at every step.
// Signing a Source checks its lock exactly as Sign checks its input's: the
// verdict is part of the Source, taken from the same parse. A Source reads
// lazily through the io.ReaderAt it was opened with, which must stay
// readable and unchanged while it is used, by one goroutine at a time.
type Source struct {
	in     io.ReaderAt
	size   int64
	doc    *pdfupdate.Doc
	locked error // checkLocked's verdict: nil, or why it may not be signed
	// known is the bytes with their SHA-256 state when opened with
	// OpenKnown: a signature then hashes only what it appends.
	known *Known
	// parsed is the text search of the parse (Appearance), kept with
	// the names searched for (SignatureGap), so a Source kept between
	// signatures (SourceCache) searches a signer's name once.
	parsed *appearance.Parsed
	gaps   map[gapQuery]gapAnswer
}

type gapQuery struct {
	name string
	page int
}

type gapAnswer struct {
	gap appearance.Gap
	err error
}

// OpenSource parses the PDF in (size bytes) for signing. A document its
// signatures lock opens (a forced signature may still be made); CheckLocked
// says so.
func OpenSource(in io.ReaderAt, size int64) (*Source, error) {
	doc, err := pdfupdate.Open(in, size)
	if err != nil {
		return nil, err
	}
	s := &Source{in: in, size: size, doc: doc}
	if err := checkLocked(doc); err != nil {
		if !errors.Is(err, ErrLocked) {
			return nil, err
		}
		s.locked = err
	}
	return s, nil
}

// OpenKnown parses the bytes of k for signing, as OpenSource does; a
// signature of the Source resumes the SHA-256 of its byte ranges from k's
// state instead of hashing k's bytes again (SHA-256 only; other hashes
// hash everything).
func OpenKnown(k *Known) (*Source, error) {
	s, err := OpenSource(bytes.NewReader(k.data), k.Size())
	if err != nil {
		return nil, err
	}
	s.known = k
	return s, nil
}

// Known is the bytes and SHA-256 state the Source was opened with
// (OpenKnown), or nil.
func (s *Source) Known() *Known { return s.known }

// Signed is the Known of whole, the file a signature of the Source wrote
// (its bytes followed by the signature's update): with the Source's SHA-256
// state (OpenKnown) only the update is hashed, after whole's first bytes
// are compared with the Source's; otherwise whole is hashed. Its Key is the
// signed file's content key.
func (s *Source) Signed(whole []byte) (*Known, error) {
	if s.known != nil {
		return s.known.Extend(whole)
	}
	return NewKnown(whole, "")
}

// CheckLocked is the package's CheckLocked for the opened PDF: an ErrLocked
// error naming the signature that forbids another one, or nil.
func (s *Source) CheckLocked() error { return s.locked }

// Size is the length of the PDF in bytes.
func (s *Source) Size() int64 { return s.size }

// ReaderAt is the PDF's bytes, as opened.
func (s *Source) ReaderAt() io.ReaderAt { return s.in }

// Doc is the parsed last revision, for reading the document's objects
// (its signature fields, pages); it must not be changed.
func (s *Source) Doc() *pdfupdate.Doc { return s.doc }

// Appearance searches the PDF's text (the signer's printed name, the
// number and date blanks, anchors) on the same parse.
func (s *Source) Appearance() *appearance.Parsed {
	if s.parsed == nil {
		s.parsed = appearance.ParsedReader(s.doc.Reader())
	}
	return s.parsed
}

// SignatureGap is Appearance().SignatureGap, answered once per name and
// page for the Source: a Source kept between signatures finds each
// signer's printed name once.
func (s *Source) SignatureGap(name string, page int) (appearance.Gap, error) {
	q := gapQuery{name, page}
	if a, ok := s.gaps[q]; ok {
		return a.gap, a.err
	}
	g, err := s.Appearance().SignatureGap(name, page)
	if s.gaps == nil {
		s.gaps = map[gapQuery]gapAnswer{}
	}
	s.gaps[q] = gapAnswer{g, err}
	return g, err
}

// Sign is the package's Sign for the opened PDF.
func (s *Source) Sign(ctx context.Context, out Output, key keys.Key, opts Options) error {
	return sign(ctx, source{opened: s}, out, key, opts)
}

// Prepare is the package's Prepare for the opened PDF.
func (s *Source) Prepare(ctx context.Context, out Output, chain []*x509.Certificate, opts Options) (*Prepared, error) {
	return prepare(ctx, source{opened: s}, out, chain, opts, false)
}
