package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/vanthu/vanthu/storage/blob"
)

// memStore is a small in-memory blob.Store for the cache's edge cases: it
// counts what reaches it and can fail, block or lie on demand.
type memStore struct {
	mu       sync.Mutex
	objects  map[string][]byte
	retained map[string]time.Time
	opens    []openCall
	stats    int
	deletes  int

	openErr  error         // returned by every Open
	statErr  error         // returned by every Stat
	failRead error         // returned by a reader after half the bytes
	corrupt  bool          // readers yield the bytes with the first one changed
	gate     chan struct{} // when set, Open waits for it to close
}

type openCall struct{ offset, length int64 }

func newMemStore() *memStore {
	return &memStore{objects: map[string][]byte{}, retained: map[string]time.Time{}}
}

func keyOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func (m *memStore) add(data []byte) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := keyOf(data)
	m.objects[key] = bytes.Clone(data)
	return key
}

func (m *memStore) openCalls() []openCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]openCall(nil), m.opens...)
}

func (m *memStore) statCalls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

func (m *memStore) Put(ctx context.Context, r io.Reader, opts blob.PutOptions) (blob.Info, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return blob.Info{}, err
	}
	key := m.add(data)
	return blob.Info{Key: key, Size: int64(len(data))}, nil
}

func (m *memStore) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	m.mu.Lock()
	m.opens = append(m.opens, openCall{offset, length})
	gate, openErr, failRead, corrupt := m.gate, m.openErr, m.failRead, m.corrupt
	data, ok := m.objects[key]
	m.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if err := blob.ValidKey(key); err != nil {
		return nil, err
	}
	if openErr != nil {
		return nil, openErr
	}
	if !ok {
		return nil, blob.ErrNotFound
	}
	if offset < 0 {
		return nil, errors.New("negative offset")
	}
	if corrupt {
		data = bytes.Clone(data)
		data[0] ^= 1
	}
	start := min(offset, int64(len(data)))
	end := int64(len(data))
	if length >= 0 {
		end = min(end, start+length)
	}
	var r io.Reader = bytes.NewReader(data[start:end])
	if failRead != nil {
		half := (end - start) / 2
		r = io.MultiReader(io.LimitReader(r, half), errReader{failRead})
	}
	return io.NopCloser(r), nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func (m *memStore) Stat(ctx context.Context, key string) (blob.Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats++
	if m.statErr != nil {
		return blob.Info{}, m.statErr
	}
	data, ok := m.objects[key]
	if !ok {
		return blob.Info{}, blob.ErrNotFound
	}
	return blob.Info{Key: key, Size: int64(len(data))}, nil
}

func (m *memStore) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deletes++
	if time.Now().Before(m.retained[key]) {
		return blob.ErrRetained
	}
	delete(m.objects, key)
	return nil
}

func (m *memStore) Retain(ctx context.Context, key string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; !ok {
		return blob.ErrNotFound
	}
	m.retained[key] = until
	return nil
}

func (m *memStore) List(ctx context.Context, fn func(blob.Info) error) error {
	m.mu.Lock()
	var infos []blob.Info
	for k, v := range m.objects {
		infos = append(infos, blob.Info{Key: k, Size: int64(len(v))})
	}
	m.mu.Unlock()
	for _, i := range infos {
		if err := fn(i); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) SweepTemporary(ctx context.Context, grace time.Duration) (int, error) {
	return 0, nil
}

func (m *memStore) Ping(ctx context.Context) error { return nil }

// knownMemStore is a memStore that is also a blob.KnownPutter.
type knownMemStore struct {
	*memStore
	known int // PutKnown calls
}

func (k *knownMemStore) PutKnown(ctx context.Context, key string, data []byte, until time.Time) (blob.Info, error) {
	k.known++
	if keyOf(data) != key {
		return blob.Info{}, blob.ErrDigestMismatch
	}
	k.add(data)
	if !until.IsZero() {
		k.retained[key] = until
	}
	return blob.Info{Key: key, Size: int64(len(data))}, nil
}

var errInjected = errors.New("injected failure")

// blobOf is deterministic bytes of the given size, different per seed.
func blobOf(seed byte, size int) []byte {
	b := []byte(strings.Repeat(string(rune('a'+seed%26)), size))
	for i := range b {
		b[i] += byte(i % 7)
	}
	if size > 0 {
		b[0] = seed
	}
	return b
}
