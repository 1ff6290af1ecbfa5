package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage/blob"
)

func read(t *testing.T, s blob.Store, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key, offset, length)
	if err != nil {
		t.Fatalf("open %d+%d: %v", offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %d+%d: %v", offset, length, err)
	}
	return b
}

// want is what the store itself answers for a range: clamped to the end.
func want(data []byte, offset, length int64) []byte {
	start := min(offset, int64(len(data)))
	end := int64(len(data))
	if length >= 0 {
		end = min(end, start+length)
	}
	return data[start:end]
}

// cachedKeys is what the cache holds, most recently used first, after
// checking that its byte count is exactly the sum of their sizes and within
// the budget.
func cachedKeys(t *testing.T, c *Store) []string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []string
	var sum int64
	for el := c.lru.Front(); el != nil; el = el.Next() {
		e := el.Value.(*entry)
		keys = append(keys, e.key)
		sum += int64(len(e.data))
	}
	if sum != c.used || c.used > c.budget || len(keys) != len(c.entries) {
		t.Fatalf("accounting: %d bytes counted, %d held in %d entries (%d in the map), budget %d", c.used, sum, len(keys), len(c.entries), c.budget)
	}
	return keys
}

func TestRangesOfEveryShape(t *testing.T) {
	const size = 1000
	data := blobOf(1, size)
	shapes := []struct {
		name           string
		offset, length int64
	}{
		{"whole", 0, -1},
		{"whole with its length", 0, size},
		{"first byte", 0, 1},
		{"head", 0, 100},
		{"middle", 5, 100},
		{"tail to the end", 900, -1},
		{"tail with its length", size - 10, 10},
		{"last byte", size - 1, 1},
		{"empty", 7, 0},
		{"past the end", size - 5, 50},
		{"longer than the blob", 0, size + 100},
		{"at the end", size, -1},
		{"beyond the end", size + 5, 10},
	}
	ctx := context.Background()
	for _, tc := range shapes {
		t.Run(tc.name, func(t *testing.T) {
			// From a cold cache (a miss) and again from memory (a hit).
			m := newMemStore()
			key := m.add(data)
			c := newStore(m, Options{Budget: 1 << 20})
			for _, pass := range []string{"miss", "hit"} {
				if got := read(t, c, key, tc.offset, tc.length); !bytes.Equal(got, want(data, tc.offset, tc.length)) {
					t.Fatalf("%s: got %d bytes, want %d", pass, len(got), len(want(data, tc.offset, tc.length)))
				}
			}
			// Whatever the first read was, one whole fetch at most reached
			// the store, and the second read none.
			if tc.length != 0 {
				if calls := m.openCalls(); len(calls) != 1 || calls[0] != (openCall{0, -1}) {
					t.Fatalf("store opens %v, want one whole read", calls)
				}
				if got := read(t, c, key, 0, -1); !bytes.Equal(got, data) {
					t.Fatal("whole read after the range differs")
				}
				if s := c.Stats(); s.Blobs != 1 || s.Bytes != size || len(m.openCalls()) != 1 {
					t.Fatalf("stats %+v, store opens %v", s, m.openCalls())
				}
			}
		})
	}
	t.Run("negative offset goes to the store", func(t *testing.T) {
		m := newMemStore()
		key := m.add(data)
		c := newStore(m, Options{Budget: 1 << 20})
		if _, err := c.Open(ctx, key, -1, 5); err == nil {
			t.Fatal("negative offset accepted")
		}
		if len(m.openCalls()) != 1 || c.Stats().Blobs != 0 {
			t.Fatalf("store opens %v, stats %+v", m.openCalls(), c.Stats())
		}
	})
}

func TestRangeOfALargerBlobGoesToTheStore(t *testing.T) {
	data := blobOf(2, 5000)
	m := newMemStore()
	key := m.add(data)
	c := newStore(m, Options{Budget: 1 << 20, MaxBlob: 10000, RangeFill: 4000})
	for i, r := range []openCall{{100, 64}, {4000, 64}, {0, 64}} {
		if got := read(t, c, key, r.offset, r.length); !bytes.Equal(got, want(data, r.offset, r.length)) {
			t.Fatalf("range %v differs", r)
		}
		if calls := m.openCalls(); len(calls) != i+1 || calls[i] != r {
			t.Fatalf("store opens %v, want the range %v asked as it was", calls, r)
		}
	}
	// The size was learned once: later ranges do not ask for it again.
	if n := m.statCalls(); n != 1 {
		t.Fatalf("%d stats for three ranges of one blob", n)
	}
	if s := c.Stats(); s.Blobs != 0 || s.Misses != 3 || s.Hits != 0 {
		t.Fatalf("stats %+v", s)
	}
	// A whole read caches it; ranges are then served from memory.
	read(t, c, key, 0, -1)
	opens := len(m.openCalls())
	if got := read(t, c, key, 100, 64); !bytes.Equal(got, data[100:164]) || len(m.openCalls()) != opens {
		t.Fatal("range after a whole read did not come from memory")
	}
	if s := c.Stats(); s.Blobs != 1 || s.Hits != 1 || s.Misses != 4 {
		t.Fatalf("stats %+v", s)
	}
}

func TestBlobLargerThanMaxBlobIsNeverHeld(t *testing.T) {
	data := blobOf(3, 3000)
	m := newMemStore()
	key := m.add(data)
	c := newStore(m, Options{Budget: 1 << 20, MaxBlob: 2999})
	for range 2 {
		if got := read(t, c, key, 0, -1); !bytes.Equal(got, data) {
			t.Fatal("whole read differs")
		}
	}
	if calls := m.openCalls(); len(calls) != 2 || c.Stats().Blobs != 0 || m.statCalls() != 1 {
		t.Fatalf("store opens %v, stats %d, cache %+v", calls, m.statCalls(), c.Stats())
	}
	// Nor one larger than the budget, whatever MaxBlob says.
	c = newStore(m, Options{Budget: 2000, MaxBlob: 1 << 20})
	read(t, c, key, 0, -1)
	if c.Stats().Blobs != 0 {
		t.Fatal("a blob larger than the budget was cached")
	}
}

func TestEvictionOrder(t *testing.T) {
	m := newMemStore()
	keys := map[string]string{}
	for i, name := range []string{"a", "b", "c", "d"} {
		keys[name] = m.add(blobOf(byte(10+i), 100))
	}
	names := func(c *Store) string {
		var s string
		for _, k := range cachedKeys(t, c) {
			for n, kk := range keys {
				if kk == k {
					s += n
				}
			}
		}
		return s
	}
	cases := []struct {
		name  string
		reads []string
		want  string // cached, most recently used first
	}{
		{"fills up to the budget", []string{"a", "b", "c"}, "cba"},
		{"the least recently read goes first", []string{"a", "b", "c", "d"}, "dcb"},
		{"a hit makes a blob recent", []string{"a", "b", "c", "a", "d"}, "dac"},
		{"a range hit does too", []string{"a", "b", "c", "a:range", "d"}, "dac"},
		{"rereading keeps one copy", []string{"a", "a", "a"}, "a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newStore(m, Options{Budget: 300})
			for _, r := range tc.reads {
				if n, ok := bytes.CutSuffix([]byte(r), []byte(":range")); ok {
					read(t, c, keys[string(n)], 10, 10)
					continue
				}
				read(t, c, keys[r], 0, -1)
			}
			if got := names(c); got != tc.want {
				t.Fatalf("cached %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBudgetIsNeverExceeded reads, puts and deletes blobs of many sizes
// from many goroutines and checks the accounting after every step.
func TestBudgetIsNeverExceeded(t *testing.T) {
	m := &knownMemStore{memStore: newMemStore()}
	var blobs [][]byte
	var keys []string
	rng := rand.New(rand.NewSource(7))
	for i := range 40 {
		b := blobOf(byte(i), 1+rng.Intn(3000))
		blobs = append(blobs, b)
		keys = append(keys, m.add(b))
	}
	c := newStore(m, Options{Budget: 10000, MaxBlob: 4000, RangeFill: 2000})
	var wg sync.WaitGroup
	var mu sync.Mutex // the knownMemStore's counter is not safe for concurrent puts
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewSource(int64(g)))
			for range 200 {
				i := rng.Intn(len(keys))
				switch rng.Intn(10) {
				case 0:
					mu.Lock()
					_, err := c.PutKnown(context.Background(), keys[i], blobs[i], time.Time{})
					mu.Unlock()
					if err != nil {
						t.Error(err)
						return
					}
				case 1:
					off := rng.Int63n(int64(len(blobs[i])))
					rc, err := c.Open(context.Background(), keys[i], off, 100)
					if err != nil {
						t.Error(err)
						return
					}
					got, _ := io.ReadAll(rc)
					if !bytes.Equal(got, want(blobs[i], off, 100)) {
						t.Errorf("range of blob %d differs", i)
						return
					}
				default:
					rc, err := c.Open(context.Background(), keys[i], 0, -1)
					if err != nil {
						t.Error(err)
						return
					}
					got, _ := io.ReadAll(rc)
					if !bytes.Equal(got, blobs[i]) {
						t.Errorf("blob %d differs", i)
						return
					}
				}
				cachedKeys(t, c)
			}
		})
	}
	wg.Wait()
	if s := c.Stats(); s.Bytes > 10000 || s.Blobs == 0 || s.Hits == 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestConcurrentMissesFetchOnce(t *testing.T) {
	data := blobOf(4, 50000)
	m := newMemStore()
	key := m.add(data)
	m.gate = make(chan struct{})
	c := newStore(m, Options{Budget: 1 << 20})
	const readers = 16
	var wg sync.WaitGroup
	results := make([][]byte, readers)
	errs := make([]error, readers)
	for i := range readers {
		wg.Go(func() {
			off := int64(i * 1000)
			rc, err := c.Open(context.Background(), key, off, -1)
			if err != nil {
				errs[i] = err
				return
			}
			results[i], errs[i] = io.ReadAll(rc)
		})
	}
	// Let every reader reach the fetch (or pass it) before the store answers.
	for len(m.openCalls()) == 0 {
		time.Sleep(time.Millisecond)
	}
	close(m.gate)
	wg.Wait()
	for i := range readers {
		if errs[i] != nil || !bytes.Equal(results[i], data[i*1000:]) {
			t.Fatalf("reader %d: %v, %d bytes", i, errs[i], len(results[i]))
		}
	}
	if calls := m.openCalls(); len(calls) != 1 {
		t.Fatalf("%d store opens for %d concurrent misses of one blob", len(calls), readers)
	}
}

func TestWaiterThatGivesUpLeavesTheFillToFinish(t *testing.T) {
	data := blobOf(5, 1000)
	m := newMemStore()
	key := m.add(data)
	m.gate = make(chan struct{})
	c := newStore(m, Options{Budget: 1 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := c.Open(ctx, key, 0, -1)
		done <- err
	}()
	for len(m.openCalls()) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled open: %v", err)
	}
	close(m.gate)
	for c.Stats().Blobs == 0 {
		time.Sleep(time.Millisecond)
	}
	if got := read(t, c, key, 0, -1); !bytes.Equal(got, data) || len(m.openCalls()) != 1 {
		t.Fatalf("after the fill: %d store opens", len(m.openCalls()))
	}
}

func TestDeleteEvicts(t *testing.T) {
	ctx := context.Background()
	data := blobOf(6, 1000)
	m := newMemStore()
	key := m.add(data)
	c := newStore(m, Options{Budget: 1 << 20})
	read(t, c, key, 0, -1)
	if c.Stats().Blobs != 1 {
		t.Fatal("not cached")
	}
	if err := c.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Blobs != 0 || s.Bytes != 0 || m.deletes != 1 {
		t.Fatalf("after delete: %+v, %d store deletes", s, m.deletes)
	}
	if _, err := c.Open(ctx, key, 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("open after delete: %v", err)
	}

	// A refused delete (retention) passes the store's error through; the
	// blob is read again from the store.
	key = m.add(data)
	if err := m.Retain(ctx, key, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	read(t, c, key, 0, -1)
	if err := c.Delete(ctx, key); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("delete of a retained blob: %v", err)
	}
	if got := read(t, c, key, 0, -1); !bytes.Equal(got, data) {
		t.Fatal("retained blob differs")
	}

	// A fill that read the blob before a Delete does not keep it.
	c = newStore(m, Options{Budget: 1 << 20})
	before := c.deletes
	c.evict(key)
	c.add(key, data, before)
	if c.Stats().Blobs != 0 {
		t.Fatal("a fill begun before a delete cached the blob")
	}
}

func TestStoreErrorsPassThroughAndNothingIsCached(t *testing.T) {
	ctx := context.Background()
	data := blobOf(7, 1000)
	cases := []struct {
		name       string
		breakStore func(m *memStore)
		is         error
	}{
		{"open fails", func(m *memStore) { m.openErr = errInjected }, errInjected},
		{"stat fails", func(m *memStore) { m.statErr = errInjected }, errInjected},
		{"read fails half way", func(m *memStore) { m.failRead = errInjected }, errInjected},
		{"wrong bytes", func(m *memStore) { m.corrupt = true }, ErrWrongBytes},
		{"missing", func(m *memStore) { m.objects = map[string][]byte{} }, blob.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemStore()
			key := m.add(data)
			c := newStore(m, Options{Budget: 1 << 20})
			tc.breakStore(m)
			for _, r := range []openCall{{0, -1}, {10, 20}} {
				rc, err := c.Open(ctx, key, r.offset, r.length)
				if err == nil {
					_, err = io.ReadAll(rc)
				}
				if !errors.Is(err, tc.is) {
					t.Fatalf("open %v: %v, want %v", r, err, tc.is)
				}
			}
			if s := c.Stats(); s.Blobs != 0 || s.Bytes != 0 || s.Hits != 0 {
				t.Fatalf("cached after a failure: %+v", s)
			}
			// Once the store is well again, the next read fetches afresh.
			*m = memStore{objects: map[string][]byte{key: data}, retained: map[string]time.Time{}}
			if got := read(t, c, key, 0, -1); !bytes.Equal(got, data) || c.Stats().Blobs != 1 {
				t.Fatalf("read after recovery: %d bytes, %+v", len(got), c.Stats())
			}
		})
	}
	t.Run("store shorter or longer than its stat", func(t *testing.T) {
		for _, size := range []int64{999, 1001} {
			m := newMemStore()
			key := m.add(data)
			c := newStore(m, Options{Budget: 1 << 20})
			if _, err := c.fill(ctx, key, size); !errors.Is(err, ErrWrongBytes) {
				t.Fatalf("fill of %d bytes from a %d-byte blob: %v", size, len(data), err)
			}
			if c.Stats().Blobs != 0 {
				t.Fatal("cached")
			}
		}
	})
}

func TestHandedOutBytesAreTheCachesOwn(t *testing.T) {
	data := blobOf(8, 1000)
	m := newMemStore()
	key := m.add(data)
	c := newStore(m, Options{Budget: 1 << 20})
	first := read(t, c, key, 0, -1)
	for i := range first {
		first[i] = 0
	}
	rc, _ := c.Open(context.Background(), key, 0, -1)
	if _, ok := rc.(io.Writer); ok {
		t.Fatal("the reader of a cached blob is writable")
	}
	rc.Close()
	if got := read(t, c, key, 0, -1); !bytes.Equal(got, data) {
		t.Fatal("changing what was read changed the cache")
	}
}

func TestPutKnownFillsTheCache(t *testing.T) {
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	for _, known := range []bool{true, false} {
		t.Run(fmt.Sprintf("wrapped store is a KnownPutter: %v", known), func(t *testing.T) {
			mem := newMemStore()
			var inner blob.Store = mem
			kms := &knownMemStore{memStore: mem}
			if known {
				inner = kms
			}
			c := newStore(inner, Options{Budget: 1 << 20})
			data := blobOf(9, 2000)
			key := keyOf(data)
			mine := bytes.Clone(data)
			info, err := c.PutKnown(ctx, key, mine, until)
			if err != nil || info.Key != key || info.Size != int64(len(data)) {
				t.Fatalf("put: %+v %v", info, err)
			}
			if known && kms.known != 1 {
				t.Fatal("PutKnown was not forwarded")
			}
			if !mem.retained[key].Equal(until) {
				t.Fatal("not retained")
			}
			// The caller reuses its slice; the cache kept its own copy.
			mine[0] ^= 0xff
			if got := read(t, c, key, 0, -1); !bytes.Equal(got, data) {
				t.Fatal("cached bytes differ")
			}
			if len(mem.openCalls()) != 0 || c.Stats().Hits != 1 {
				t.Fatalf("read after put reached the store: %v", mem.openCalls())
			}
			// A wrong key stores and caches nothing.
			other := blobOf(10, 100)
			if _, err := c.PutKnown(ctx, key[:63]+"0", other, time.Time{}); !errors.Is(err, blob.ErrDigestMismatch) {
				t.Fatalf("put with a wrong key: %v", err)
			}
			if len(mem.objects) != 1 || c.Stats().Blobs != 1 {
				t.Fatalf("%d objects stored, %d cached after a wrong key", len(mem.objects), c.Stats().Blobs)
			}
		})
	}
}

func TestNoBudgetNoCache(t *testing.T) {
	m := newMemStore()
	if s := New(m, Options{}); s != blob.Store(m) {
		t.Fatalf("New with no budget wrapped the store: %T", s)
	}
}

type counter struct{ n int }

func (c *counter) Inc() { c.n++ }

func TestCountersSeeHitsAndMisses(t *testing.T) {
	m := newMemStore()
	key := m.add(blobOf(11, 100))
	var hits, misses counter
	c := New(m, Options{Budget: 1 << 20, Hits: &hits, Misses: &misses})
	read(t, c, key, 0, -1)
	read(t, c, key, 0, -1)
	read(t, c, key, 3, 4)
	if hits.n != 2 || misses.n != 1 {
		t.Fatalf("hits %d misses %d", hits.n, misses.n)
	}
}
