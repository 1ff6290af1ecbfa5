// Package blob stores document bytes addressed by the SHA-256 of their content.
// Two implementations share one contract: MinIO/S3 (through minio-go) and a
// directory on local disk.
package blob

import (
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
