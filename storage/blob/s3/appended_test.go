package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vanthu/vanthu/storage/blob"
)

// chain is a root file and the files made by appending to it, each the one
// before with more bytes.
type chain struct {
	files [][]byte
	keys  []string
}

func (c *chain) last() ([]byte, string) { return c.files[len(c.files)-1], c.keys[len(c.keys)-1] }

// grow appends n random bytes to the last file and stores the result with
// PutAppended.
func (c *chain) grow(t *testing.T, s *Store, rng *rand.Rand, n int, until time.Time) blob.Info {
	t.Helper()
	base, baseKey := c.last()
	whole := make([]byte, len(base)+n)
	copy(whole, base)
	rng.Read(whole[len(base):])
	key := keyOf(whole)
	info, err := s.PutAppended(context.Background(), key, baseKey, whole, int64(len(base)), until)
	if err != nil {
		t.Fatalf("append %d to %d bytes: %v", n, len(base), err)
	}
	if info.Key != key || info.Size != int64(len(whole)) {
		t.Fatalf("append: info %+v, want %s of %d bytes", info, key, len(whole))
	}
	c.files, c.keys = append(c.files, whole), append(c.keys, key)
	return info
}

func newChain(t *testing.T, s *Store, rng *rand.Rand, n int, until time.Time) *chain {
	t.Helper()
	root := make([]byte, n)
	rng.Read(root)
	key := keyOf(root)
	if _, err := s.PutKnown(context.Background(), key, root, until); err != nil {
		t.Fatal(err)
	}
	return &chain{files: [][]byte{root}, keys: []string{key}}
}

func read(s *Store, key string, off, n int64) ([]byte, error) {
	rc, err := s.Open(context.Background(), key, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// storedBytes is what the object under key holds itself.
func storedBytes(t *testing.T, s *Store, key string) int64 {
	t.Helper()
	st, err := s.client.StatObject(context.Background(), s.cfg.Bucket, contentKey(key), minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return st.Size
}

// TestAppendedBlobsReadBackWhole: chains of every depth up to the cap read
// back, whole and by every kind of range, exactly as the logical bytes,
// while each appended object stores only what was appended; beyond the cap
// the file is stored whole.
func TestAppendedBlobsReadBackWhole(t *testing.T) {
	s := newStore(t, streamed, 0)
	rng := rand.New(rand.NewSource(3))
	c := newChain(t, s, rng, 300<<10+7, time.Time{})
	for depth := 1; depth <= MaxAppendDepth; depth++ {
		n := 1000 + rng.Intn(40<<10)
		c.grow(t, s, rng, n, time.Time{})
		whole, key := c.last()
		size := int64(len(whole))
		wantStored := int64(n)
		if depth == MaxAppendDepth {
			wantStored = size // the cap: stored whole, as PutKnown
		}
		if got := storedBytes(t, s, key); got != wantStored {
			t.Fatalf("depth %d: object stores %d bytes, want %d", depth, got, wantStored)
		}
		if info, err := s.Stat(context.Background(), key); err != nil || info.Size != size {
			t.Fatalf("depth %d: stat %+v %v, want size %d", depth, info, err, size)
		}
		prev := int64(len(c.files[len(c.files)-2]))
		root := int64(len(c.files[0]))
		ranges := []struct{ off, n int64 }{
			{0, -1},                 // whole
			{0, 1},                  // first byte
			{5, 100},                // inside the root
			{root - 10, 20},         // across root and the first tail
			{prev - 3, 3},           // the base's last bytes
			{prev, -1},              // only this tail, to the end
			{prev - 1000, -1},       // across into this tail, to the end
			{size - 1, 1},           // the last byte
			{size - 10, 100},        // running past the end
			{root / 2, size - root}, // across every part
			{7, 0},                  // nothing
			{1 << 10, -1},           // from inside the root to the end
		}
		for _, r := range ranges {
			want := whole[r.off:]
			if r.n >= 0 {
				want = whole[r.off:min(r.off+r.n, size)]
			}
			got, err := read(s, key, r.off, r.n)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("depth %d, range %d+%d: %d bytes (%v), want %d", depth, r.off, r.n, len(got), err, len(want))
			}
		}
		if _, err := read(s, key, size+5, 10); err == nil {
			t.Fatalf("depth %d: a range past the end read", depth)
		}
	}
	// Every file of the chain still reads back.
	for i, key := range c.keys {
		if got, err := read(s, key, 0, -1); err != nil || !bytes.Equal(got, c.files[i]) {
			t.Fatalf("file %d: %d bytes (%v)", i, len(got), err)
		}
	}
	// A file appended to the one stored whole starts a new chain on it.
	c.grow(t, s, rng, 500, time.Time{})
	_, key := c.last()
	if got := storedBytes(t, s, key); got != 500 {
		t.Fatalf("after the cap: object stores %d bytes, want 500", got)
	}
}

func TestPutAppendedChecksTheBytes(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, streamed, 0)
	rng := rand.New(rand.NewSource(4))
	c := newChain(t, s, rng, 1000, time.Time{})
	base, baseKey := c.last()
	whole := append(append([]byte{}, base...), "appended"...)
	other := append([]byte("x"), whole[1:]...)
	// An object under the key of whole's first 999 bytes that holds other
	// bytes (written behind the store's back): its size gives it away.
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, contentKey(keyOf(whole[:999])), bytes.NewReader(base[:500]), 500, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key, baseKey string
		data               []byte
		baseSize           int64
	}{
		{"key not the bytes'", keyOf(other), baseKey, whole, 1000},
		{"bytes not starting with the base", keyOf(other), baseKey, other, 1000},
		{"base size other than the stored base's", keyOf(whole), keyOf(whole[:999]), whole, 999},
		{"base size past the bytes", keyOf(whole), baseKey, whole, int64(len(whole))},
		{"invalid base key", keyOf(whole), "../x", whole, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.PutAppended(ctx, tc.key, tc.baseKey, tc.data, tc.baseSize, time.Time{}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if objects, _ := bucketContents(t, s); len(objects) != 2 {
		t.Fatalf("refused appends stored %v", objects)
	}
	// A base the store does not hold: the file is stored whole.
	lone := []byte("a base that was never stored, then a signature")
	if _, err := s.PutAppended(ctx, keyOf(lone), keyOf(lone[:20]), lone, 20, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := storedBytes(t, s, keyOf(lone)); got != int64(len(lone)) {
		t.Fatalf("without its base: stored %d bytes, want the whole %d", got, len(lone))
	}
}

// TestBrokenAppendedBlobs: metadata that does not add up, and parts that
// are gone or not the size recorded, give a clear error, never wrong bytes.
func TestBrokenAppendedBlobs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, streamed, 0)
	rng := rand.New(rand.NewSource(5))
	c := newChain(t, s, rng, 2000, time.Time{})
	c.grow(t, s, rng, 300, time.Time{})
	rootKey := c.keys[0]
	tail := []byte(strings.Repeat("t", 100))
	forged := keyOf([]byte("forged"))
	// partOnly: the metadata is consistent, only reading the broken part
	// fails (the appended bytes alone still read).
	for _, tc := range []struct {
		name, parts, size string
		partOnly          bool
	}{
		{"a loop to itself", forged + ":2000", "2100", false},
		{"a part named twice", rootKey + ":1000," + rootKey + ":1000", "2100", false},
		{"sizes that do not add up", rootKey + ":2000", "2500", false},
		{"a wrong part size", rootKey + ":1900", "2000", true},
		{"a missing part", keyOf([]byte("gone")) + ":2000", "2100", true},
		{"a negative size", rootKey + ":-5", "95", false},
		{"garbage", "no colon here", "2100", false},
		{"no logical size", rootKey + ":2000", "", false},
		{"too many parts", strings.Repeat(rootKey+":1,", MaxAppendDepth) + rootKey + ":1", "117", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			meta := map[string]string{metaParts: tc.parts}
			if tc.size != "" {
				meta[metaSize] = tc.size
			}
			if _, err := s.client.PutObject(ctx, s.cfg.Bucket, contentKey(forged), bytes.NewReader(tail), int64(len(tail)),
				minio.PutObjectOptions{UserMetadata: meta}); err != nil {
				t.Fatal(err)
			}
			ranges := []struct{ off, n int64 }{{0, -1}, {0, 10}, {10, 2050}}
			if !tc.partOnly {
				ranges = append(ranges, struct{ off, n int64 }{2050, 10})
				if _, err := s.Stat(ctx, forged); !errors.Is(err, errBrokenLayout) {
					t.Fatalf("stat: %v", err)
				}
			}
			for _, r := range ranges {
				got, err := read(s, forged, r.off, r.n)
				if err == nil {
					t.Fatalf("range %d+%d read %d bytes", r.off, r.n, len(got))
				}
				if !errors.Is(err, errBrokenLayout) && !strings.Contains(err.Error(), "beyond") {
					t.Fatalf("range %d+%d: unclear error %v", r.off, r.n, err)
				}
			}
		})
	}
	// A part removed behind the store's back.
	_, key := c.last()
	if err := s.removeAllVersions(ctx, contentKey(rootKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := read(s, key, 0, -1); !errors.Is(err, errBrokenLayout) {
		t.Fatalf("read with its root gone: %v", err)
	}
}

// TestAppendingExtendsRetention: the parts an appended blob is built on
// are retained at least as long as it, in the store's mode.
func TestAppendingExtendsRetention(t *testing.T) {
	for _, mode := range []string{"GOVERNANCE", "COMPLIANCE"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t, streamed, 0)
			s.cfg.RetentionMode = mode
			s.mode = minio.RetentionMode(mode)
			rng := rand.New(rand.NewSource(6))
			now := time.Now().Truncate(time.Second)
			day := 24 * time.Hour
			c := newChain(t, s, rng, 5000, now.Add(day))
			c.grow(t, s, rng, 100, now.Add(day))
			c.grow(t, s, rng, 100, now.Add(2*day))
			for i, key := range c.keys {
				m, until, err := s.client.GetObjectRetention(ctx, s.cfg.Bucket, contentKey(key), "")
				if err != nil || m == nil || string(*m) != mode || until == nil || until.Before(now.Add(2*day)) {
					t.Fatalf("file %d: retention %v until %v (%v), want %s until %v", i, m, until, err, mode, now.Add(2*day))
				}
			}
			// A later file retained less long shortens nothing.
			c.grow(t, s, rng, 100, now.Add(day))
			if _, until, err := s.client.GetObjectRetention(ctx, s.cfg.Bucket, contentKey(c.keys[0]), ""); err != nil || until.Before(now.Add(2*day)) {
				t.Fatalf("root retention %v (%v) after a shorter append", until, err)
			}
			if err := s.Delete(ctx, c.keys[0]); err == nil {
				t.Fatal("deleted the retained root")
			}
		})
	}
}

// TestPartsOfAppendedBlobsAreNotDeleted: without retention, Delete refuses
// an object an appended blob is built on, and the sweeper removes an
// unreferenced chain only from its end, never leaving a blob whose parts
// are gone.
func TestPartsOfAppendedBlobsAreNotDeleted(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, streamed, 0)
	rng := rand.New(rand.NewSource(7))
	c := newChain(t, s, rng, 3000, time.Time{})
	c.grow(t, s, rng, 200, time.Time{})
	c.grow(t, s, rng, 200, time.Time{})
	for _, key := range c.keys[:2] {
		if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInUse) {
			t.Fatalf("delete of a part in use: %v", err)
		}
	}
	// Only the last file is referenced: the sweep keeps everything.
	onlyLast := func(_ context.Context, key string) (bool, error) { return key == c.keys[2], nil }
	if n, err := blob.Sweep(ctx, s, onlyLast, -time.Second); err != nil || n != 0 {
		t.Fatalf("sweep removed %d (%v)", n, err)
	}
	whole, key := c.last()
	if got, err := read(s, key, 0, -1); err != nil || !bytes.Equal(got, whole) {
		t.Fatalf("after the sweep: %d bytes (%v)", len(got), err)
	}
	// Nothing referenced: sweeps remove the chain from its end, and every
	// file still there reads back whole after each sweep.
	none := func(context.Context, string) (bool, error) { return false, nil }
	for sweep := 0; ; sweep++ {
		if sweep > len(c.keys) {
			t.Fatal("sweeps did not empty the bucket")
		}
		if _, err := blob.Sweep(ctx, s, none, -time.Second); err != nil {
			t.Fatal(err)
		}
		left := 0
		for i, key := range c.keys {
			got, err := read(s, key, 0, -1)
			if errors.Is(err, blob.ErrNotFound) {
				continue
			}
			left++
			if err != nil || !bytes.Equal(got, c.files[i]) {
				t.Fatalf("sweep %d left file %d unreadable: %v", sweep, i, err)
			}
		}
		if left == 0 {
			break
		}
	}
	if objects, _ := bucketContents(t, s); len(objects) != 0 {
		t.Fatalf("left behind %v", objects)
	}
}

// TestOpenMakesOneRequest: a plain object is read with one GET (the HEAD
// that used to come first is gone), and a missing one is still reported
// as blob.ErrNotFound.
func TestOpenMakesOneRequest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, streamed, 0)
	var requests []string
	s.client.TraceOn(&requestLog{&requests})
	defer s.client.TraceOff()
	data := []byte("một văn bản")
	if _, err := s.PutKnown(ctx, keyOf(data), data, time.Time{}); err != nil {
		t.Fatal(err)
	}
	requests = nil
	if got, err := read(s, keyOf(data), 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %q %v", got, err)
	}
	if len(requests) != 1 || !strings.HasPrefix(requests[0], "GET ") {
		t.Fatalf("open made %v", requests)
	}
	if _, err := s.Open(ctx, keyOf([]byte("missing")), 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("open of a missing object: %v", err)
	}
}

// requestLog collects the request lines minio-go traces.
type requestLog struct{ lines *[]string }

func (r *requestLog) Write(p []byte) (int, error) {
	for _, line := range strings.Split(string(p), "\n") {
		for _, m := range []string{"GET ", "HEAD ", "PUT ", "POST ", "DELETE "} {
			if strings.HasPrefix(line, m) && strings.Contains(line, " HTTP/") {
				*r.lines = append(*r.lines, fmt.Sprint(strings.TrimSpace(line)))
			}
		}
	}
	return len(p), nil
}

// FuzzParseLayout: whatever metadata an object carries, parseLayout gives
// a layout whose parts are valid, distinct, within the cap and add up to
// the logical size, or an error; never a panic.
func FuzzParseLayout(f *testing.F) {
	root := keyOf([]byte("root"))
	self := keyOf([]byte("self"))
	f.Add(root+":1000", "1100", int64(100))
	f.Add(root+":1000,"+keyOf([]byte("a"))+":50", "1150", int64(100))
	f.Add(self+":1", "2", int64(1))
	f.Add(root+":9223372036854775807", "9223372036854775807", int64(1))
	f.Add(",,:", "x", int64(-1))
	f.Fuzz(func(t *testing.T, parts, size string, stored int64) {
		h := http.Header{}
		h.Set(headerParts, parts)
		h.Set(headerSize, size)
		l, err := parseLayout(self, h, stored)
		if err != nil || l == nil {
			return
		}
		if len(l.parts) > MaxAppendDepth+1 || l.parts[len(l.parts)-1].key != self {
			t.Fatalf("layout %+v", l)
		}
		seen := map[string]bool{}
		var sum int64
		for _, p := range l.parts {
			if seen[p.key] || p.size < 0 || blob.ValidKey(p.key) != nil {
				t.Fatalf("part %+v in %+v", p, l)
			}
			seen[p.key] = true
			sum += p.size
		}
		if sum != l.size {
			t.Fatalf("parts add up to %d, not %d", sum, l.size)
		}
	})
}
