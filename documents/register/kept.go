package register

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// readKept is startRead's work for a version small enough to seal in
// memory, through the versions the process keeps (signing.Versions: most
// often the file the last signature made): such a version is neither
// read, hashed nor parsed again, and any other is read, checked against
// its content key, parsed once and kept. Its SHA-256 state comes with it,
// so the seal hashes only its own update (sealedSum). It reports false,
// doing nothing, for a larger version.
func (s *Service) readKept(ctx context.Context, v documents.Version, r *versionRead) bool {
	if v.Size > inMemoryMax {
		return false
	}
	src, release, err := signing.Versions.OpenStored(ctx, v.SHA256, v.Size, func(ctx context.Context) (io.ReadCloser, error) {
		return s.Docs.Open(ctx, v, 0, -1)
	})
	switch {
	case errors.Is(err, pdfupdate.ErrMalformed), errors.Is(err, pdfupdate.ErrEncrypted):
		// Read, but not a PDF that can be sealed: refused as sealable
		// refuses it.
		r.remove, r.checkErr = func() {}, fmt.Errorf("%w: %v", ErrSeal, err)
		return true
	case err != nil:
		r.err = fmt.Errorf("read version %d: %w", v.Number, err)
		return true
	}
	r.in, r.size, r.remove, r.src = src.ReaderAt(), src.Size(), release, src
	if err := src.CheckLocked(); err != nil {
		r.checkErr = fmt.Errorf("%w: %v", ErrSeal, err)
		return true
	}
	r.layout, r.checkErr = measure(src)
	return true
}

// sealedSum is the SHA-256 of sealed, the file a signature of src wrote:
// from src's kept state when it has one, only the seal's update is hashed.
func sealedSum(src *signing.Source, sealed []byte) [sha256.Size]byte {
	if k, err := src.Signed(sealed); err == nil {
		return k.Sum()
	}
	return sha256.Sum256(sealed)
}
