package signing

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync/atomic"
)

// ErrNotKnown is returned when bytes are not those a Known was computed
// over: a content key that is not their SHA-256, or a file said to extend
// a Known that does not start with its bytes.
var ErrNotKnown = errors.New("signing: bytes do not match their SHA-256")

// Known is a file's bytes together with the SHA-256 state after them,
// computed here over exactly those bytes and nowhere else. A signature
// of a Source opened from a Known (OpenKnown) hashes only what it
// appends: the signed byte ranges and the signed file's content key both
// begin with the whole file signed, which is already hashed. The bytes
// must not be changed once given.
type Known struct {
	data  []byte
	sum   [sha256.Size]byte
	state []byte // crypto/sha256's MarshalBinary after data
}

// hashed counts the bytes this package has hashed for byte ranges and
// content keys (Known, Extend, the signatures' byte-range digests), so a
// test can assert what a signature hashes (HashedBytes).
var hashed atomic.Int64

// HashedBytes is how many bytes the package has hashed since the process
// started: the byte ranges signed and the bytes of every Known.
func HashedBytes() int64 { return hashed.Load() }

// NewKnown hashes data once. key, when not empty, is the content key the
// caller expects (lowercase or uppercase hex SHA-256): other bytes are
// refused with ErrNotKnown, so a version read from a store is checked
// against its key on the way.
func NewKnown(data []byte, key string) (*Known, error) {
	h := sha256.New()
	h.Write(data)
	hashed.Add(int64(len(data)))
	return finishKnown(data, h, key)
}

func finishKnown(data []byte, h hash.Hash, key string) (*Known, error) {
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("signing: SHA-256 state: %w", err)
	}
	k := &Known{data: data, state: state}
	h.Sum(k.sum[:0])
	if key != "" && !strings.EqualFold(k.Key(), key) {
		return nil, fmt.Errorf("%w: %d bytes hash to %s, not %s", ErrNotKnown, len(data), k.Key(), key)
	}
	return k, nil
}

// Key is the bytes' content key: their lowercase hex SHA-256.
func (k *Known) Key() string { return hex.EncodeToString(k.sum[:]) }

// Sum is the bytes' SHA-256.
func (k *Known) Sum() [sha256.Size]byte { return k.sum }

// Size is the length of the bytes.
func (k *Known) Size() int64 { return int64(len(k.data)) }

// Bytes are the bytes; they must not be changed.
func (k *Known) Bytes() []byte { return k.data }

// Extend is the Known of whole, a file that starts with k's bytes (an
// incremental update of it, such as the file a signature of k's Source
// wrote): whole's first bytes are compared with k's, never assumed, and
// only the rest is hashed. A whole that does not start with k's bytes is
// refused with ErrNotKnown.
func (k *Known) Extend(whole []byte) (*Known, error) {
	if len(whole) < len(k.data) || !bytes.Equal(whole[:len(k.data)], k.data) {
		return nil, fmt.Errorf("%w: the file does not start with the %d bytes of %s", ErrNotKnown, len(k.data), k.Key())
	}
	h, err := k.resume()
	if err != nil {
		// A state that cannot be trusted is not used: the whole is hashed.
		return NewKnown(whole, "")
	}
	h.Write(whole[len(k.data):])
	hashed.Add(int64(len(whole) - len(k.data)))
	return finishKnown(whole, h, "")
}

// resume is a SHA-256 hash that has consumed k's bytes, rebuilt from the
// kept state. The state is checked before it is used: it must say it
// consumed exactly len(k.data) bytes and sum to k's SHA-256; otherwise
// resume fails and the caller hashes the bytes itself.
func (k *Known) resume() (hash.Hash, error) {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(k.state); err != nil {
		return nil, fmt.Errorf("signing: SHA-256 state: %w", err)
	}
	if len(k.state) < 8 || binary.BigEndian.Uint64(k.state[len(k.state)-8:]) != uint64(len(k.data)) {
		return nil, errors.New("signing: SHA-256 state is not for the length of its bytes")
	}
	var sum [sha256.Size]byte
	if h.Sum(sum[:0]); sum != k.sum {
		return nil, errors.New("signing: SHA-256 state does not sum to its bytes' key")
	}
	return h, nil
}

// prefixHash is the byte-range hash of a signature over src, having
// consumed the src's bytes when it carries a Known whose state is good
// for opts' hash; resumed reports which.
func prefixHash(src *Source, h crypto.Hash) (hh hash.Hash, resumed bool) {
	if src.known != nil && h == crypto.SHA256 {
		if r, err := src.known.resume(); err == nil {
			return r, true
		}
	}
	return h.New(), false
}
