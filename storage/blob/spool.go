package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// PutOptions shape one Put.
type PutOptions struct {
	// Max is the largest accepted stream in bytes; 0 means no limit.
	Max int64
	// Check, when set, sees the complete bytes before they are stored; an
	// error from it stops the Put and nothing is stored.
	Check func(r io.ReaderAt, size int64) error
	// BeforeStore, when set, is called with the key once the bytes are
	// hashed and checked, before the store looks for an object of that key
	// or writes one; an error from it stops the Put and nothing is stored.
	// A caller that shares objects with others records its claim here, so
	// no one deletes the object between this Put and its use of it.
	BeforeStore func(ctx context.Context, key string) error
}

// beforeStore runs opts.BeforeStore, if any.
func (opts PutOptions) beforeStore(ctx context.Context, key string) error {
	if opts.BeforeStore == nil {
		return nil
	}
	return opts.BeforeStore(ctx, key)
}

// BeforeStore runs opts.BeforeStore, if any: for stores outside this
// package.
func BeforeStore(ctx context.Context, opts PutOptions, key string) error {
	return opts.beforeStore(ctx, key)
}

// Spooled is a stream written to a local temporary file and hashed on the way.
type Spooled struct {
	File *os.File
	Key  string
	Size int64
}

// Close removes the temporary file unless it was renamed away.
func (s *Spooled) Close() {
	s.File.Close()
	os.Remove(s.File.Name())
}

// Spool copies r into a new file in dir (named by pattern), hashing it on the
// way (see CopyHashed), then runs the caller's check. The file is not synced:
// it is scratch space, and the caller decides what durability it needs. On
// error nothing is left behind.
func Spool(ctx context.Context, dir, pattern string, r io.Reader, opts PutOptions) (*Spooled, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spooled{File: f}
	s.Key, s.Size, err = CopyHashed(ctx, f, ContextReader(ctx, r), opts.Max)
	if err != nil {
		s.Close()
		if errors.Is(err, ErrTooLarge) {
			return nil, ErrTooLarge
		}
		return nil, fmt.Errorf("spool: %w", err)
	}
	if opts.Check != nil {
		if err := opts.Check(f, s.Size); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := opts.beforeStore(ctx, s.Key); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// RemoveTemporaries deletes the files in dir whose names match pattern (a
// filepath.Match pattern such as "vanthu-spool-*"), whatever their age: at
// start, before any upload runs, every such file is a killed upload's
// leftover. A missing dir has nothing to remove.
func RemoveTemporaries(dir, pattern string) (int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return 0, fmt.Errorf("remove temporaries in %s: %w", dir, err)
	}
	n := 0
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("remove temporaries: %w", err)
		}
		n++
	}
	return n, nil
}
