package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
)

// ErrTooLarge is returned by Put when the stream exceeds the caller's limit.
var ErrTooLarge = errors.New("blob larger than the allowed size")

// ErrRetained is returned when deleting an object under retention.
var ErrRetained = errors.New("blob is under retention")

var keyPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidKey reports whether key looks like a hex SHA-256, so that a key can
// never be used to escape a directory or address a temporary object.
func ValidKey(key string) error {
	if !keyPattern.MatchString(key) {
		return fmt.Errorf("invalid blob key %q", key)
	}
	return nil
}

// HashingReader hashes and counts what passes through it and fails once more
// than Max bytes were read (Max <= 0: no limit).
type HashingReader struct {
	R   io.Reader
	Max int64
	N   int64
	h   hash.Hash
}

// NewHashingReader wraps r.
func NewHashingReader(r io.Reader, max int64) *HashingReader {
	return &HashingReader{R: r, Max: max, h: sha256.New()}
}

func (hr *HashingReader) Read(p []byte) (int, error) {
	n, err := hr.R.Read(p)
	hr.N += int64(n)
	hr.h.Write(p[:n])
	if hr.Max > 0 && hr.N > hr.Max {
		return n, ErrTooLarge
	}
	return n, err
}

// Key is the hex SHA-256 of everything read so far.
func (hr *HashingReader) Key() string { return hex.EncodeToString(hr.h.Sum(nil)) }

// ContextReader stops a copy once ctx is cancelled.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
