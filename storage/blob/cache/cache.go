// Package cache keeps recently read blobs in the service's memory, in front
// of a blob.Store. Blobs are content-addressed and immutable, so a cached
// copy can never go stale: the cache owns only which blobs to hold (an LRU
// bounded by bytes), filling it (whole reads, puts of bytes already in
// memory, one fetch for concurrent misses) and making sure it never serves
// bytes other than those its key names (a fill from a read is checked
// against the key's SHA-256).
//
// The budget counts the blobs held, exactly (their bytes); a fill in
// progress holds its blob outside it until the blob enters, evicting others.
//
// Only Open is served from memory. Stat, Retain, List and the rest always
// ask the store: whether an object still exists is the store's to say (a
// row must not be committed against a blob another replica deleted).
package cache

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/vanthu/vanthu/storage/blob"
)

// Defaults of Options.
const (
	DefaultBudget    = 256 << 20
	DefaultMaxBlob   = 32 << 20
	DefaultRangeFill = 4 << 20
)

// fillTimeout bounds one fetch into the cache. A fill runs on past the
// request that started it (others may wait for it), so it needs a bound of
// its own.
const fillTimeout = 2 * time.Minute

// knownSizesMax bounds how many sizes of uncached blobs are remembered.
const knownSizesMax = 4096

// Counter is what the cache counts hits and misses on (a Prometheus
// counter is one).
type Counter interface{ Inc() }

// Options shape a Store.
type Options struct {
	// Budget is the most bytes of blobs held at once; 0 or less: no cache.
	Budget int64
	// MaxBlob is the largest blob held whole (0: DefaultMaxBlob).
	MaxBlob int64
	// RangeFill is the largest blob that a read of part of it fetches
	// whole into the cache (0: DefaultRangeFill). A range of a larger
	// blob that is not cached goes to the store as asked.
	RangeFill int64
	// Hits and Misses, when set, count the Opens served from memory and
	// those that went to the store.
	Hits, Misses Counter
}

// Store is a blob.Store with an in-memory read cache.
type Store struct {
	blob.Store
	budget, maxBlob, rangeFill int64
	hitCounter, missCounter    Counter
	hits, misses               atomic.Int64

	mu      sync.Mutex
	lru     *list.List // of *entry, most recently used first
	entries map[string]*list.Element
	used    int64            // bytes of the entries' data, never above budget
	sizes   map[string]int64 // sizes of blobs seen but not cached
	deletes uint64           // Deletes begun or ended; a fill that saw another value stores nothing (rare enough to need no per-key count)

	flight singleflight.Group
}

type entry struct {
	key  string
	data []byte // never written after the entry is made
}

// New wraps s with a cache. With a budget of 0 or less it returns s itself.
func New(s blob.Store, opts Options) blob.Store {
	if opts.Budget <= 0 {
		return s
	}
	return newStore(s, opts)
}

func newStore(s blob.Store, opts Options) *Store {
	c := &Store{Store: s, budget: opts.Budget, maxBlob: opts.MaxBlob, rangeFill: opts.RangeFill,
		hitCounter: opts.Hits, missCounter: opts.Misses,
		lru: list.New(), entries: map[string]*list.Element{}, sizes: map[string]int64{}}
	if c.maxBlob <= 0 {
		c.maxBlob = DefaultMaxBlob
	}
	if c.rangeFill <= 0 {
		c.rangeFill = DefaultRangeFill
	}
	c.maxBlob = min(c.maxBlob, c.budget)
	c.rangeFill = min(c.rangeFill, c.maxBlob)
	return c
}

// Stats is what the cache holds and has served.
type Stats struct {
	Blobs        int
	Bytes        int64
	Hits, Misses int64
}

// Stats reports the cache's content and counts.
func (c *Store) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Blobs: len(c.entries), Bytes: c.used, Hits: c.hits.Load(), Misses: c.misses.Load()}
}

// Open serves the range from memory when the blob is cached. Otherwise a
// whole read, or a range of a blob of at most RangeFill bytes, fetches the
// whole blob once (concurrent misses of one key share the fetch), checks it
// against its key and keeps it; any other range goes to the store as asked.
func (c *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 || length == 0 {
		return c.miss(ctx, key, offset, length)
	}
	if data, ok := c.get(key); ok {
		c.count(true)
		return section(data, offset, length), nil
	}
	size, known := c.knownSize(key)
	if !known {
		info, err := c.Store.Stat(ctx, key)
		if err != nil {
			c.count(false)
			return nil, err
		}
		size = info.Size
	}
	whole := offset == 0 && (length < 0 || length >= size)
	if size > c.maxBlob || (!whole && size > c.rangeFill) {
		c.rememberSize(key, size)
		return c.miss(ctx, key, offset, length)
	}
	c.count(false)
	data, err := c.fill(ctx, key, size)
	if err != nil {
		return nil, err
	}
	return section(data, offset, length), nil
}

// miss passes an Open to the store.
func (c *Store) miss(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	c.count(false)
	return c.Store.Open(ctx, key, offset, length)
}

func (c *Store) count(hit bool) {
	if hit {
		c.hits.Add(1)
		if c.hitCounter != nil {
			c.hitCounter.Inc()
		}
		return
	}
	c.misses.Add(1)
	if c.missCounter != nil {
		c.missCounter.Inc()
	}
}

// section is a read-only reader over data[offset:offset+length], clamped
// to the blob's end as the stores do.
func section(data []byte, offset, length int64) io.ReadCloser {
	start := min(offset, int64(len(data)))
	end := int64(len(data))
	if length >= 0 {
		end = min(end, start+length)
	}
	return io.NopCloser(bytes.NewReader(data[start:end]))
}

// fill fetches the blob of the given size, checks it and caches it. One
// fetch serves every concurrent caller; a caller that gives up (its ctx
// ends) leaves the fetch to finish for the others.
func (c *Store) fill(ctx context.Context, key string, size int64) ([]byte, error) {
	ch := c.flight.DoChan(key, func() (any, error) {
		// A fill that ended between the caller's miss and this flight
		// has already cached it.
		if data, ok := c.get(key); ok {
			return data, nil
		}
		c.mu.Lock()
		deletes := c.deletes
		c.mu.Unlock()
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fillTimeout)
		defer cancel()
		data, err := c.fetch(fctx, key, size)
		if err != nil {
			return nil, err
		}
		c.add(key, data, deletes)
		return data, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]byte), nil
	}
}

// ErrWrongBytes is returned when the store yields bytes that are not the
// blob its key names (or not as many as it said): they are neither served
// nor cached.
var ErrWrongBytes = errors.New("blob cache: the store returned other bytes than the key names")

// fetch reads the whole blob, exactly size bytes, and checks its SHA-256.
func (c *Store) fetch(ctx context.Context, key string, size int64) ([]byte, error) {
	rc, err := c.Store.Open(ctx, key, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data := make([]byte, size)
	if _, err := io.ReadFull(rc, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read blob %s: %w: shorter than its %d bytes", key, ErrWrongBytes, size)
		}
		return nil, fmt.Errorf("read blob %s: %w", key, err)
	}
	var extra [1]byte
	if n, err := io.ReadFull(rc, extra[:]); n > 0 {
		return nil, fmt.Errorf("read blob %s: %w: longer than its %d bytes", key, ErrWrongBytes, size)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read blob %s: %w", key, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != key {
		slog.Error("blob store returned bytes that do not hash to their key", "key", key, "size", size)
		return nil, fmt.Errorf("read blob %s: %w", key, ErrWrongBytes)
	}
	return data, nil
}

func (c *Store) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*entry).data, true
}

// add caches data under key, evicting the least recently used blobs to
// stay within the budget, unless a Delete began or ended since deletes was
// read.
func (c *Store) add(key string, data []byte, deletes uint64) {
	size := int64(len(data))
	if size > c.maxBlob {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deletes != deletes {
		return
	}
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		return
	}
	for c.used+size > c.budget {
		c.removeLocked(c.lru.Back())
	}
	c.entries[key] = c.lru.PushFront(&entry{key: key, data: data})
	c.used += size
	delete(c.sizes, key)
}

func (c *Store) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*entry)
	delete(c.entries, e.key)
	c.used -= int64(len(e.data))
}

func (c *Store) knownSize(key string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	size, ok := c.sizes[key]
	return size, ok
}

// rememberSize notes the size of a blob that is not cached, so the next
// Open of it skips the Stat. A key's size never changes.
func (c *Store) rememberSize(key string, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sizes) >= knownSizesMax {
		for k := range c.sizes { // any one: this is only a shortcut
			delete(c.sizes, k)
			break
		}
	}
	c.sizes[key] = size
}

// evict drops key from the cache and makes fills already running store
// nothing.
func (c *Store) evict(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deletes++
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
	delete(c.sizes, key)
}

// Delete removes the blob from the cache and the store. It evicts before
// and after the store's delete, so a fill racing with it cannot keep the
// blob.
func (c *Store) Delete(ctx context.Context, key string) error {
	c.evict(key)
	defer c.evict(key)
	return c.Store.Delete(ctx, key)
}

// putInMemory runs put, which stores data (held in memory) under key, and
// caches a copy of data once the store has taken it. The copy is made
// first and is what put stores, so the bytes cached are the bytes the
// store checked against key, whatever the caller does with its slice
// afterwards.
func (c *Store) putInMemory(key string, data []byte, put func(data []byte) (blob.Info, error)) (blob.Info, error) {
	if int64(len(data)) > c.maxBlob {
		return put(data)
	}
	c.mu.Lock()
	deletes := c.deletes
	c.mu.Unlock()
	own := bytes.Clone(data)
	info, err := put(own)
	if err == nil && info.Key == key {
		c.add(key, own, deletes)
	}
	return info, err
}

// PutKnown forwards blob.KnownPutter and caches the bytes. For a store
// that is not a KnownPutter it does what callers do then: Put and Retain.
func (c *Store) PutKnown(ctx context.Context, key string, data []byte, until time.Time) (blob.Info, error) {
	return c.putInMemory(key, data, func(data []byte) (blob.Info, error) {
		return putKnown(ctx, c.Store, key, data, until)
	})
}

func putKnown(ctx context.Context, s blob.Store, key string, data []byte, until time.Time) (blob.Info, error) {
	if kp, ok := s.(blob.KnownPutter); ok {
		return kp.PutKnown(ctx, key, data, until)
	}
	if err := blob.ValidKey(key); err != nil {
		return blob.Info{}, err
	}
	// Checked first, so a wrong key stores nothing, as PutKnown promises.
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != key {
		return blob.Info{}, fmt.Errorf("blob put: %w: the bytes are not %s", blob.ErrDigestMismatch, key)
	}
	info, err := s.Put(ctx, bytes.NewReader(data), blob.PutOptions{})
	if err != nil {
		return blob.Info{}, err
	}
	if !until.IsZero() {
		if err := s.Retain(ctx, key, until); err != nil {
			return blob.Info{}, err
		}
	}
	return info, nil
}

// PutAppended forwards blob.AppendPutter and caches the whole file; for a
// store without it, the whole file is stored as PutKnown stores it.
func (c *Store) PutAppended(ctx context.Context, key, baseKey string, whole []byte, baseSize int64, until time.Time) (blob.Info, error) {
	return c.putInMemory(key, whole, func(data []byte) (blob.Info, error) {
		if ap, ok := c.Store.(blob.AppendPutter); ok {
			return ap.PutAppended(ctx, key, baseKey, data, baseSize, until)
		}
		return putKnown(ctx, c.Store, key, data, until)
	})
}

// PutTail forwards blob.TailPutter (nothing is cached: the whole file is
// not at hand); a store without it is asked for the whole file.
func (c *Store) PutTail(ctx context.Context, key, baseKey string, baseSize int64, tail []byte, until time.Time) (blob.Info, error) {
	if tp, ok := c.Store.(blob.TailPutter); ok {
		return tp.PutTail(ctx, key, baseKey, baseSize, tail, until)
	}
	return blob.Info{}, fmt.Errorf("blob put %s: %w", key, blob.ErrNeedWhole)
}

// Remember caches data, the whole bytes of key as the caller checked
// them (blob.Rememberer). The cache keeps data itself, not a copy: a copy
// of a megabyte into fresh memory cost an issue about 4 ms, inside its
// transaction.
func (c *Store) Remember(key string, data []byte) {
	if int64(len(data)) > c.maxBlob {
		return
	}
	c.mu.Lock()
	deletes := c.deletes
	c.mu.Unlock()
	c.add(key, data, deletes)
}

var (
	_ blob.AppendPutter = (*Store)(nil)
	_ blob.TailPutter   = (*Store)(nil)
	_ blob.Rememberer   = (*Store)(nil)
)

// Forwarding another optional put interface of storage/blob is one method
// like PutKnown: its bytes go through putInMemory, to the wrapped store's
// own method when it has one and to the generic put (putKnown) when not,
// so the wrapper offers every interface whatever it wraps.
