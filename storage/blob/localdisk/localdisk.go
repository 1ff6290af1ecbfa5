// Package localdisk keeps blobs in a directory on local disk: the embedded
// default, for offices that run vanthu without an object store.
package localdisk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vanthu/vanthu/storage/blob"
)

// Store keeps each object at <dir>/<key[0:2]>/<key>, written through a
// temporary file in <dir>/tmp so a partial object is never visible.
type Store struct{ dir string }

// New creates the directory layout under dir.
func New(dir string) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob dir: %w", err)
		}
	}
	return &Store{dir: dir}, nil
}

// TempPattern names the temporary files of uploads in <dir>/tmp, so a
// restart can remove what a killed one left.
const TempPattern = "put-*"

func (s *Store) path(key string) string { return filepath.Join(s.dir, key[:2], key) }

func (s *Store) retentionPath(key string) string { return s.path(key) + ".retain" }

// Put streams r into a temporary file, then renames it under its hash.
func (s *Store) Put(ctx context.Context, r io.Reader, opts blob.PutOptions) (blob.Info, error) {
	sp, err := blob.Spool(ctx, filepath.Join(s.dir, "tmp"), "put-", r, opts)
	if err != nil {
		return blob.Info{}, err
	}
	defer sp.Close() // removes the temporary file unless it was renamed
	if err := sp.File.Sync(); err != nil {
		return blob.Info{}, fmt.Errorf("blob put: %w", err)
	}
	dst := s.path(sp.Key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return blob.Info{}, fmt.Errorf("blob put: %w", err)
	}
	if _, err := os.Stat(dst); err != nil {
		if err := os.Rename(sp.File.Name(), dst); err != nil {
			return blob.Info{}, fmt.Errorf("blob put: %w", err)
		}
		if d, err := os.Open(filepath.Dir(dst)); err == nil {
			_ = d.Sync()
			d.Close()
		}
	}
	return s.Stat(ctx, sp.Key)
}

func (s *Store) Open(_ context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := blob.ValidKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, blob.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("blob open: %w", err)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("blob open: %w", err)
		}
	}
	if length < 0 {
		return f, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, length), f}, nil
}

func (s *Store) Stat(_ context.Context, key string) (blob.Info, error) {
	if err := blob.ValidKey(key); err != nil {
		return blob.Info{}, err
	}
	st, err := os.Stat(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return blob.Info{}, blob.ErrNotFound
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("blob stat: %w", err)
	}
	return blob.Info{Key: key, Size: st.Size(), Modified: st.ModTime()}, nil
}

func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidKey(key); err != nil {
		return err
	}
	if until, ok := s.retainedUntil(key); ok && time.Now().Before(until) {
		return fmt.Errorf("blob %s: %w until %s", key, blob.ErrRetained, until.Format(time.RFC3339))
	}
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob delete: %w", err)
	}
	_ = os.Remove(s.retentionPath(key))
	return nil
}

// Retain records a retention date next to the object; Delete refuses until
// then. Local disk cannot stop a root user, so this only protects against the
// service's own mistakes; offices that need more use MinIO's object lock.
func (s *Store) Retain(ctx context.Context, key string, until time.Time) error {
	if _, err := s.Stat(ctx, key); err != nil {
		return err
	}
	if cur, ok := s.retainedUntil(key); ok && cur.After(until) {
		return nil
	}
	if err := os.WriteFile(s.retentionPath(key), []byte(until.UTC().Format(time.RFC3339)), 0o400); err != nil {
		// The marker is read-only once written; replace it to extend.
		_ = os.Remove(s.retentionPath(key))
		if err := os.WriteFile(s.retentionPath(key), []byte(until.UTC().Format(time.RFC3339)), 0o400); err != nil {
			return fmt.Errorf("blob retain: %w", err)
		}
	}
	_ = os.Chmod(s.path(key), 0o400)
	return nil
}

// retainedUntil reads the retention marker. A marker that exists but cannot
// be read or parsed counts as retention without end: deleting must fail
// closed.
func (s *Store) retainedUntil(key string) (time.Time, bool) {
	b, err := os.ReadFile(s.retentionPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, false
	}
	if err != nil {
		return forever, true
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(string(b)))
	if err != nil {
		return forever, true
	}
	return t, true
}

var forever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

func (s *Store) List(ctx context.Context, fn func(blob.Info) error) error {
	return filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() || blob.ValidKey(d.Name()) != nil {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		return fn(blob.Info{Key: d.Name(), Size: info.Size(), Modified: info.ModTime()})
	})
}

// SweepTemporary removes temporary files older than grace, left by a process
// killed mid-upload.
func (s *Store) SweepTemporary(_ context.Context, grace time.Duration) (int, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, "tmp"))
	if err != nil {
		return 0, fmt.Errorf("blob sweep: %w", err)
	}
	n := 0
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && time.Since(info.ModTime()) > grace {
			if os.Remove(filepath.Join(s.dir, "tmp", e.Name())) == nil {
				n++
			}
		}
	}
	return n, nil
}

func (s *Store) Ping(context.Context) error {
	_, err := os.Stat(filepath.Join(s.dir, "tmp"))
	return err
}
