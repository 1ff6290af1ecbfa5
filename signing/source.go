package signing

import (
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
func (s *Source) Appearance() *appearance.Parsed { return appearance.ParsedReader(s.doc.Reader()) }

// Sign is the package's Sign for the opened PDF.
func (s *Source) Sign(ctx context.Context, out Output, key keys.Key, opts Options) error {
	return sign(ctx, source{opened: s}, out, key, opts)
}

// Prepare is the package's Prepare for the opened PDF.
func (s *Source) Prepare(ctx context.Context, out Output, chain []*x509.Certificate, opts Options) (*Prepared, error) {
	return prepare(ctx, source{opened: s}, out, chain, opts)
}
