package signing

import (
	"context"
	"crypto"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// TimestampOptions control a document timestamp.
type TimestampOptions struct {
	TSAURL string // RFC 3161 TSA, required
	// Username and Password authenticate to the TSA (HTTP basic), if set.
	Username, Password string
	// HTTPClient is used for the TSA; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Hash is the message-imprint algorithm: SHA-256 (default), SHA-384
	// or SHA-512.
	Hash crypto.Hash
	// FieldName names the new field; empty picks "DocTimeStamp<n>".
	FieldName string
	// ContentsSize reserves this many bytes for the token instead of the
	// default (16 KB, room for a TSA chain of several certificates).
	ContentsSize int
}

const docTimestampContents = 16 * 1024

// DocumentTimestamp returns the incremental update that adds a PAdES
// document timestamp (ETSI EN 319 142-1 §5.4.3, the B-LTA step) to the PDF
// in (size bytes): a /Type /DocTimeStamp dictionary with /SubFilter
// /ETSI.RFC3161 whose /Contents is the TSA's RFC 3161 token over the digest
// of its /ByteRange, which covers the whole file (everything before, the DSS
// included) except the token itself. Its field is invisible, listed in the
// existing /AcroForm /Fields and the first page's /Annots; the form and
// catalog are updated under their own object numbers, keeping every other
// key (/DR, /DA, /NeedAppearances, ...), so /Root does not move.
//
// The update belongs right after byte size of in. The input is read once, to
// hash it, and nothing is returned unless the TSA granted a token that binds
// to our request (status, hash algorithm, imprint, nonce, a time-stamping
// certificate valid at the token's time); there is no fallback to the local
// clock.
func DocumentTimestamp(ctx context.Context, in io.ReaderAt, size int64, opts TimestampOptions) ([]byte, error) {
	if opts.TSAURL == "" {
		return nil, fmt.Errorf("%w: a document timestamp needs a TSA URL", ErrTSA)
	}
	if opts.Hash == 0 {
		opts.Hash = crypto.SHA256
	}
	if _, err := hashOID(opts.Hash); err != nil {
		return nil, err
	}
	csize := opts.ContentsSize
	if csize <= 0 {
		csize = docTimestampContents
	}
	doc, err := pdfupdate.Open(in, size)
	if err != nil {
		return nil, err
	}
	ph, err := buildUpdate(doc, &Options{FieldName: opts.FieldName}, csize, kindDocTimestamp)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := opts.Hash.New()
	if err := hashRange(ctx, h, in, size); err != nil {
		return nil, err
	}
	u := ph.update
	hole0, hole1 := ph.contentsAt-ph.base, ph.contentsTo-ph.base
	h.Write(u[:hole0])
	h.Write(u[hole1:])
	tsa := tsaClient{client: opts.HTTPClient, url: opts.TSAURL, username: opts.Username, password: opts.Password}
	tok, err := tsa.timestamp(ctx, opts.Hash, h.Sum(nil))
	if err != nil {
		return nil, err
	}
	if len(tok) > csize {
		return nil, fmt.Errorf("%w: token of %d > %d bytes", ErrContentsTooSmall, len(tok), csize)
	}
	hex.Encode(u[hole0+1:], tok)
	return u, nil
}
