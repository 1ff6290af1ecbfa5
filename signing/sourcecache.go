package signing

import (
	"bytes"
	"container/list"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
)

// SourceCache keeps the versions a service has read or made lately, by
// content key: their bytes with their SHA-256 state (Known) and their
// parse (Source: the cross-reference data, the lock verdict, the objects
// read, the signers' names found). Signing a version it holds reads,
// hashes and parses nothing again. A content key names one content, so an
// entry is never stale; an entry is only ever handed out for the key AND
// the length asked, and its bytes were hashed to that key when they came
// in (NewKnown, Extend). Bounded by bytes, least recently used first out;
// safe for concurrent use.
//
// A parsed Source is read by one goroutine at a time (its parser caches
// the objects it reads): Open lends the kept parse to one caller until it
// calls release; a caller asking meanwhile for the same version gets a
// fresh parse of the kept bytes.
type SourceCache struct {
	mu    sync.Mutex
	max   int64
	used  int64
	order *list.List // of *cachedVersion, most recent first
	byKey map[string]*list.Element

	hits, misses, busy atomic.Int64
}

type cachedVersion struct {
	known *Known
	// lent is held by the one caller using src.
	lent sync.Mutex
	src  *Source // nil until the first Open
}

// Versions is the process's cache of versions being signed: the signing
// turn (documents/docsign) and the issue (documents/register) share it,
// so the file one signature makes is known to the next signature or
// issue. 128 MiB: a hundred drafts of a megabyte or so (besides the
// blob cache, which holds bytes too; the parses read from a kept version
// are not counted).
var Versions = NewSourceCache(128 << 20)

// NewSourceCache keeps versions of up to maxBytes in all.
func NewSourceCache(maxBytes int64) *SourceCache {
	return &SourceCache{max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}
}

// SourceCacheStats counts Open's answers: a kept version (Hits), bytes
// read (Misses), and a kept version in use by another caller, parsed again
// from the kept bytes (Busy, counted among Hits too).
type SourceCacheStats struct{ Hits, Misses, Busy int64 }

// Stats reports the answers so far.
func (c *SourceCache) Stats() SourceCacheStats {
	return SourceCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Busy: c.busy.Load()}
}

// Add keeps k (the file a signature made, say, with Extend) under its
// key, parsed on its first Open. A file larger than the cache is not kept.
func (c *SourceCache) Add(k *Known) {
	c.add(&cachedVersion{known: k})
}

func (c *SourceCache) add(e *cachedVersion) {
	size := e.known.Size()
	if size > c.max {
		return
	}
	key := e.known.Key()
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.byKey[key] = c.order.PushFront(e)
	c.used += size
	for c.used > c.max {
		last := c.order.Back()
		old := last.Value.(*cachedVersion)
		c.order.Remove(last)
		delete(c.byKey, old.known.Key())
		c.used -= old.known.Size()
	}
}

// get is the entry of key holding size bytes, or nil.
func (c *SourceCache) get(key string, size int64) *cachedVersion {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[strings.ToLower(key)]
	if !ok {
		return nil
	}
	e := el.Value.(*cachedVersion)
	if e.known.Size() != size {
		return nil
	}
	c.order.MoveToFront(el)
	return e
}

// Open is the version whose content key is key, size bytes long, parsed
// for signing: the kept one when the cache holds it, else the bytes read
// (called only then) are hashed and checked against key (other bytes are
// refused with ErrNotKnown and not kept), parsed and kept. The caller
// calls release once done with the Source, and must not change it (it is
// the cache's). A malformed or encrypted file is refused as OpenSource
// refuses it.
func (c *SourceCache) Open(ctx context.Context, key string, size int64, read func(context.Context) ([]byte, error)) (src *Source, release func(), err error) {
	if e := c.get(key, size); e != nil {
		c.hits.Add(1)
		return c.lend(e)
	}
	c.misses.Add(1)
	data, err := read(ctx)
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) != size {
		return nil, nil, fmt.Errorf("signing: version %s: %d bytes read, want %d", key, len(data), size)
	}
	k, err := NewKnown(data, key)
	if err != nil {
		return nil, nil, err
	}
	e := &cachedVersion{known: k}
	e.lent.Lock()
	if e.src, err = OpenKnown(k); err != nil {
		return nil, nil, err
	}
	c.add(e)
	return e.src, e.lent.Unlock, nil
}

// OpenStored is Open for a version held in a store: on a miss, open
// gives its bytes from their start, which are read into memory and must
// be size bytes long.
func (c *SourceCache) OpenStored(ctx context.Context, key string, size int64, open func(context.Context) (io.ReadCloser, error)) (*Source, func(), error) {
	return c.Open(ctx, key, size, func(ctx context.Context) ([]byte, error) {
		rc, err := open(ctx)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
		n, err := buf.ReadFrom(io.LimitReader(rc, size+1))
		if err != nil {
			return nil, fmt.Errorf("signing: read version %s: %w", key, err)
		}
		if n != size {
			return nil, fmt.Errorf("signing: read version %s: %d bytes, want %d", key, n, size)
		}
		return buf.Bytes(), nil
	})
}

// lend hands out e's parse to one caller, parsing it on first use; a
// caller meanwhile gets a parse of its own of the same bytes.
func (c *SourceCache) lend(e *cachedVersion) (*Source, func(), error) {
	if !e.lent.TryLock() {
		c.busy.Add(1)
		src, err := OpenKnown(e.known)
		return src, func() {}, err
	}
	if e.src == nil {
		src, err := OpenKnown(e.known)
		if err != nil {
			e.lent.Unlock()
			return nil, nil, err
		}
		e.src = src
	}
	return e.src, e.lent.Unlock, nil
}
