package verify

import (
	"bytes"
	"errors"
	"io"

	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/verify/chain"
)

// structure is what the verifier needs from the PDF's object structure. It
// is an interface so that a file whose structure cannot be read is still
// checked signature by signature from its raw bytes (scanStructure).
type structure interface {
	close()                   // releases the file mapping; nothing read from it may be used after
	err() error               // why the structure could not be read, nil if it could
	warnings() []string       // oddities the reader tolerated
	revisionEnds() []int64    // offset just past each revision's %%EOF, ascending
	fields() []sigField       // signature fields with a value, in the latest revision
	streamSigDicts() []string // signature dictionaries inside object streams
	dss() chain.Evidence      // the document security store of the latest revision
	certification() int       // DocMDP P from the catalog's /Perms, 0 if none
	analyze(signedRev, certLevel int, e *sigEntry) (Modifications, []Change, error)
	decodeRefusal() error // the first stream decoding a limit refused (pdf.ErrBudget), nil if none
}

type sigField struct {
	name    string
	offset  int64 // of the signature dictionary object; -1 when not a plain object
	problem string
}

// scanStructure knows only the %%EOF markers.
type scanStructure struct {
	ends  []int64
	cause error
}

func newScanStructure(r io.ReaderAt, size int64, cause error) *scanStructure {
	s := &scanStructure{cause: cause}
	const chunk = 1 << 20
	pat := []byte("%%EOF")
	for off := int64(0); off < size; off += chunk {
		b, _ := span(r, off, min(chunk+int64(len(pat)), size-off))
		for i := 0; ; {
			j := bytes.Index(b[i:], pat)
			if j < 0 {
				break
			}
			pos := off + int64(i+j)
			if pos < off+chunk {
				end := pos + int64(len(pat))
				// Include the end-of-line that closes the marker.
				var eol [2]byte
				m, _ := r.ReadAt(eol[:], end)
				if m > 0 && eol[0] == '\r' {
					end++
					if m > 1 && eol[1] == '\n' {
						end++
					}
				} else if m > 0 && eol[0] == '\n' {
					end++
				}
				s.ends = append(s.ends, end)
			}
			i += j + len(pat)
		}
	}
	if len(s.ends) == 0 || s.ends[len(s.ends)-1] < size {
		s.ends = append(s.ends, size)
	}
	return s
}

func (s *scanStructure) err() error {
	if s.cause == nil {
		return errors.New("object structure not read")
	}
	return s.cause
}
func (s *scanStructure) close()                   {}
func (s *scanStructure) warnings() []string       { return nil }
func (s *scanStructure) revisionEnds() []int64    { return s.ends }
func (s *scanStructure) fields() []sigField       { return nil }
func (s *scanStructure) streamSigDicts() []string { return nil }
func (s *scanStructure) dss() chain.Evidence      { return chain.Evidence{} }
func (s *scanStructure) certification() int       { return 0 }

// decodeRefusal: the structure may have been unreadable because decoding
// its cross-reference stream was refused.
func (s *scanStructure) decodeRefusal() error {
	if errors.Is(s.cause, pdf.ErrBudget) {
		return s.cause
	}
	return nil
}
func (s *scanStructure) analyze(int, int, *sigEntry) (Modifications, []Change, error) {
	return ModUnknown, nil, errors.New("the PDF structure could not be read")
}
