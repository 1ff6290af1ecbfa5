// Package blob stores document bytes addressed by the SHA-256 of their content.
// Two implementations share one contract: MinIO/S3 (through minio-go) and a
// directory on local disk.
package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned when no object has the given key.
var ErrNotFound = errors.New("blob not found")

// ErrDigestMismatch is returned by Put when the bytes read do not hash to the
// expected key.
var ErrDigestMismatch = errors.New("blob digest mismatch")

// Info describes a stored object.
type Info struct {
	Key      string // lowercase hex SHA-256 of the content
	Size     int64
	Modified time.Time
}

// Store is a content-addressed object store. Objects are immutable: writing the
// same bytes twice is a no-op, and no partially written object is ever visible.
type Store interface {
	// Put streams r into the store and returns the key (hex SHA-256) and size.
	// The object becomes readable only after the whole stream was read,
	// hashed and checked; on any error nothing is stored.
	Put(ctx context.Context, r io.Reader, opts PutOptions) (Info, error)
	// Open returns a reader positioned at offset that yields length bytes
	// (length < 0 means to the end).
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	Stat(ctx context.Context, key string) (Info, error)
	Delete(ctx context.Context, key string) error
	// Retain protects the object from deletion and overwriting until the given
	// time (object lock on MinIO; a best-effort marker on local disk).
	Retain(ctx context.Context, key string, until time.Time) error
	// List calls fn for every object; it is used by the sweeper.
	List(ctx context.Context, fn func(Info) error) error
	// SweepTemporary removes what interrupted uploads left behind, once
	// older than grace.
	SweepTemporary(ctx context.Context, grace time.Duration) (int, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}

// KnownPutter is a Store that stores bytes held in memory, whose SHA-256
// the caller has already computed, in one request straight to their key,
// retained from the moment they appear: no temporary object, no copy, no
// separate retention call. The store has the bytes checked against key on
// the way (a wrong key stores nothing). Callers fall back to Put and Retain
// for a Store that is not one.
type KnownPutter interface {
	// PutKnown stores data under key (its lowercase hex SHA-256), retained
	// until until (the zero time: not retained).
	PutKnown(ctx context.Context, key string, data []byte, until time.Time) (Info, error)
}

// ErrInUse is returned by Delete for an object that an appended blob is
// built on (see AppendPutter): removing it would break that blob.
var ErrInUse = errors.New("blob is part of an appended blob")

// AppendPutter is a KnownPutter that stores a file made of an earlier
// blob's bytes with more appended (a PDF's incremental update: each
// signature and each issue adds a few tens of kilobytes to the version
// before) by keeping only the appended bytes. Readers see nothing of it:
// Open and Stat under key give the whole logical content, whose SHA-256
// key is, exactly as for any other blob.
//
// The store keeps the appended object retained no longer than every
// object it is built on (it extends their retention when until is later)
// and refuses to Delete an object an existing appended blob is built on
// (ErrInUse), so the whole file stays readable as long as it is kept.
type AppendPutter interface {
	KnownPutter
	// PutAppended stores whole under key (its lowercase hex SHA-256) as
	// the blob baseKey, which holds whole[:baseSize], followed by
	// whole[baseSize:]. It checks both keys against the bytes (a mismatch
	// stores nothing and wraps ErrDigestMismatch) and the base's size
	// against the store. When the base is missing or its chain is already
	// as deep as the store allows, it stores whole as PutKnown does.
	// until: retained until then (zero: not retained).
	PutAppended(ctx context.Context, key, baseKey string, whole []byte, baseSize int64, until time.Time) (Info, error)
}

// ErrNeedWhole is returned by PutTail when the store cannot build the
// appended blob on its base (the base is not stored, or its chain is as
// deep as the store allows): the caller stores the whole file instead.
var ErrNeedWhole = errors.New("blob store needs the whole file")

// TailPutter is an AppendPutter that also stores an appended blob from its
// appended bytes alone, for a caller that has already checked that the
// base's bytes followed by tail hash to key (the write-ahead of
// storage/blob/staged checks it when it takes the update, from the base's
// kept SHA-256 state): the whole file is neither needed nor hashed again.
type TailPutter interface {
	// PutTail stores key as the blob baseKey (baseSize bytes) followed by
	// tail, retained until until (zero: not retained), with the same
	// protection of the base as PutAppended. When it cannot build on the
	// base it stores nothing and returns an error wrapping ErrNeedWhole.
	PutTail(ctx context.Context, key, baseKey string, baseSize int64, tail []byte, until time.Time) (Info, error)
}

// Rememberer is a Store that keeps bytes in memory to serve reads: a
// caller that holds a blob's whole bytes, checked against its key, hands
// them over (the staged write-ahead does after a commit) so the next reads
// never reach the store. The store keeps data as given: the caller must
// not change it afterwards.
type Rememberer interface {
	Remember(key string, data []byte)
}

// PutKnownAfter stores data, held in memory and whose SHA-256 is key, with
// PutAppended when the store offers it and data starts with the bytes of
// the blob baseKey (base, baseSize bytes long: compared here, so a file
// that is not an append goes the ordinary way); otherwise with PutKnown.
func PutKnownAfter(ctx context.Context, kp KnownPutter, key string, data []byte, baseKey string, base io.ReaderAt, baseSize int64, until time.Time) (Info, error) {
	if ap, ok := kp.(AppendPutter); ok && baseKey != "" && base != nil && baseSize > 0 && baseSize < int64(len(data)) && startsWith(data, base, baseSize) {
		return ap.PutAppended(ctx, key, baseKey, data, baseSize, until)
	}
	return kp.PutKnown(ctx, key, data, until)
}

// startsWith reports whether data begins with the size bytes of base.
func startsWith(data []byte, base io.ReaderAt, size int64) bool {
	buf := make([]byte, min(size, 256<<10))
	for off := int64(0); off < size; {
		n := min(int64(len(buf)), size-off)
		if k, err := base.ReadAt(buf[:n], off); int64(k) != n || err != nil && err != io.EOF {
			return false
		}
		if !bytes.Equal(buf[:n], data[off:off+n]) {
			return false
		}
		off += n
	}
	return true
}
