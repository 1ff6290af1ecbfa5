package staged_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/blobtest"
	"github.com/vanthu/vanthu/storage/blob/s3"
	"github.com/vanthu/vanthu/storage/blob/staged"
)

func TestMain(m *testing.M) {
	if spec := killHelperSpec(); spec != "" {
		runKillHelper(spec)
	}
	testharness.Main(m)
}

// counter counts the requests that reach MinIO.
type counter struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

type env struct {
	t     *testing.T
	ctx   context.Context
	url   string
	pool  *pgxpool.Pool
	s3cfg s3.Config
	raw   *s3.Store // straight to MinIO
	reqs  *counter  // requests raw makes
	store *staged.Store
}

func fastBackoff(int) time.Duration { return 100 * time.Millisecond }

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	url := testharness.Postgres(t)
	if err := storage.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	mc := testharness.MinIO(t)
	e := &env{t: t, ctx: ctx, url: url, pool: pool, reqs: &counter{next: http.DefaultTransport.(*http.Transport).Clone()}}
	e.s3cfg = s3.Config{Endpoint: mc.Endpoint, AccessKey: mc.AccessKey, SecretKey: mc.SecretKey, Bucket: mc.Bucket}
	cfg := e.s3cfg
	cfg.Transport = e.reqs
	if e.raw, err = s3.New(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	e.store = e.newStore(e.raw)
	return e
}

// newStore wraps inner; its mover is not started.
func (e *env) newStore(inner blob.Store) *staged.Store {
	e.t.Helper()
	st, err := staged.New(inner, e.pool, staged.Options{Lead: true, Backoff: fastBackoff, PollInterval: 100 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) start(st *staged.Store) {
	e.t.Helper()
	if err := st.Start(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		st.Stop(ctx)
	})
}

// update is a base stored in MinIO and an update appended to it.
type update struct {
	base, whole []byte
	a           staged.Append
}

func (e *env) newUpdate(seed int64, baseSize, tailSize int) update {
	e.t.Helper()
	rnd := rand.New(rand.NewSource(seed))
	whole := make([]byte, baseSize+tailSize)
	rnd.Read(whole)
	base := whole[:baseSize]
	bsum := sha256.Sum256(base)
	baseKey := hex.EncodeToString(bsum[:])
	if _, err := e.raw.PutKnown(e.ctx, baseKey, base, time.Time{}); err != nil {
		e.t.Fatal(err)
	}
	return update{base: base, whole: whole, a: appendOf(e.t, whole, baseSize)}
}

func appendOf(t *testing.T, whole []byte, baseSize int) staged.Append {
	h := sha256.New()
	h.Write(whole[:baseSize])
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	bsum, wsum := sha256.Sum256(whole[:baseSize]), sha256.Sum256(whole)
	return staged.Append{Key: hex.EncodeToString(wsum[:]), BaseKey: hex.EncodeToString(bsum[:]), BaseSize: int64(baseSize),
		BaseState: state, Tail: whole[baseSize:], Until: time.Now().Add(time.Hour)}
}

func (e *env) stage(st *staged.Store, a staged.Append) error {
	return pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error { return st.Stage(e.ctx, tx, a) })
}

func (e *env) rows() int {
	var n int
	if err := e.pool.QueryRow(e.ctx, "SELECT count(*) FROM staged_blobs").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// waitMoved waits until no update is staged any more (the mover works on
// a busy machine: the wait is generous, what is asserted is the result).
func (e *env) waitMoved() {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for e.rows() > 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d staged updates not moved", e.rows())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func read(t *testing.T, s blob.Store, key string, off, n int64) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key, off, n)
	if err != nil {
		t.Fatalf("open %s at %d+%d: %v", key, off, n, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

// checkReads reads u's whole file, ranges across the base and the update,
// and its Stat through s.
func checkReads(t *testing.T, s blob.Store, u update) {
	t.Helper()
	size := int64(len(u.whole))
	bs := u.a.BaseSize
	for _, r := range []struct{ off, n int64 }{{0, -1}, {0, 10}, {bs - 5, 10}, {bs, -1}, {bs + 3, 100}, {size - 1, -1}, {100, bs}, {0, size + 50}} {
		want := u.whole[r.off:]
		if r.n >= 0 && r.n < int64(len(want)) {
			want = want[:r.n]
		}
		if got := read(t, s, u.a.Key, r.off, r.n); !bytes.Equal(got, want) {
			t.Fatalf("range %d+%d: %d bytes, want %d (equal: %v)", r.off, r.n, len(got), len(want), bytes.Equal(got, want))
		}
	}
	info, err := s.Stat(context.Background(), u.a.Key)
	if err != nil || info.Size != size || info.Key != u.a.Key {
		t.Fatalf("stat: %+v %v, want %d bytes", info, err, size)
	}
}

func TestReadYourWriteBeforeTheMove(t *testing.T) {
	e := newEnv(t)
	u := e.newUpdate(1, 300<<10, 48<<10)
	before := e.reqs.n.Load()
	if err := e.stage(e.store, u.a); err != nil {
		t.Fatal(err)
	}
	// Staging is the whole of the commit's work: no request to MinIO.
	if n := e.reqs.n.Load() - before; n != 0 {
		t.Fatalf("staging made %d requests to MinIO, want none", n)
	}
	if _, err := e.raw.Stat(e.ctx, u.a.Key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("MinIO has the staged file before its move: %v", err)
	}
	checkReads(t, e.store, u)
	// A second update staged on the first, itself staged: read through both.
	next := append(bytes.Clone(u.whole), []byte("\n%% next update\n")...)
	a2 := appendOf(t, next, len(u.whole))
	if err := e.stage(e.store, a2); err != nil {
		t.Fatal(err)
	}
	checkReads(t, e.store, update{base: u.whole, whole: next, a: a2})
	// Staging the same update again writes it once.
	if err := e.stage(e.store, u.a); err != nil {
		t.Fatal(err)
	}
	if n := e.rows(); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
	// Both move, base first: two objects, each only its update.
	objects := blobtest.Objects(t, e.raw)
	e.start(e.store)
	e.waitMoved()
	stored, logical := blobtest.NewBytes(t, e.raw, objects)
	if want := int64(len(u.a.Tail) + len(a2.Tail)); stored != want || logical != int64(len(u.whole)+len(next)) {
		t.Fatalf("moved objects hold %d bytes reading as %d, want %d and %d", stored, logical, want, len(u.whole)+len(next))
	}
	if n := len(blobtest.Objects(t, e.raw)) - len(objects); n != 2 {
		t.Fatalf("%d new objects, want 2", n)
	}
	checkReads(t, e.raw, u)
	checkReads(t, e.raw, update{base: u.whole, whole: next, a: a2})
}

// A tail is stored as it is, out of line: PostgreSQL does not spend the
// transaction's time trying to compress it (a signature's update is
// mostly deflated images and the CMS's hex), even when part of it would
// compress, as the PDF dictionaries and a CMS's padding do.
func TestATailIsStoredUncompressed(t *testing.T) {
	e := newEnv(t)
	u := e.newUpdate(7, 300<<10, 48<<10)
	next := append(bytes.Clone(u.whole), bytes.Repeat([]byte("0"), 32<<10)...)
	a := appendOf(t, next, len(u.whole))
	if err := e.stage(e.store, a); err != nil {
		t.Fatal(err)
	}
	var stored, length int
	if err := e.pool.QueryRow(e.ctx, "SELECT pg_column_size(tail), length(tail) FROM staged_blobs WHERE key = $1", a.Key).Scan(&stored, &length); err != nil {
		t.Fatal(err)
	}
	if length != len(a.Tail) || stored != length {
		t.Fatalf("a tail of %d bytes is stored in %d (length %d): compressed", len(a.Tail), stored, length)
	}
}

func TestTheMoveMakesOneObjectAndRemovesTheRow(t *testing.T) {
	e := newEnv(t)
	u := e.newUpdate(2, 1<<20, 48<<10)
	if err := e.stage(e.store, u.a); err != nil {
		t.Fatal(err)
	}
	objects := blobtest.Objects(t, e.raw)
	before := e.reqs.n.Load()
	e.start(e.store)
	e.waitMoved()
	// The move: the base's HEAD, the update's PUT, the marker's PUT and
	// the base's retention (its PUT of the lock configuration); the whole
	// megabyte is neither sent nor read back.
	if n := e.reqs.n.Load() - before; n > 4 {
		t.Fatalf("the move made %d requests to MinIO, want at most 4", n)
	}
	after := blobtest.Objects(t, e.raw)
	if len(after) != len(objects)+1 || after[u.a.Key] != int64(len(u.a.Tail)) {
		t.Fatalf("objects after the move: %v (before %v)", after, objects)
	}
	checkReads(t, e.store, u)
	// The old way, for the count: the same file put before the commit.
	v := e.newUpdate(3, 1<<20, 48<<10)
	before = e.reqs.n.Load()
	if _, err := blob.PutKnownAfter(e.ctx, e.raw, v.a.Key, v.whole, v.a.BaseKey, bytes.NewReader(v.base), v.a.BaseSize, v.a.Until); err != nil {
		t.Fatal(err)
	}
	if n := e.reqs.n.Load() - before; n < 3 {
		t.Fatalf("a put before the commit made %d requests, expected at least 3 (HEAD, PUT, marker)", n)
	} else {
		t.Logf("requests to MinIO before the commit: %d put in place, 0 staged", n)
	}
}

func TestAWrongUpdateIsRefusedBeforeTheCommit(t *testing.T) {
	e := newEnv(t)
	u := e.newUpdate(4, 64<<10, 8<<10)
	bad := func(f func(a *staged.Append)) staged.Append {
		a := u.a
		a.Tail = bytes.Clone(a.Tail)
		f(&a)
		return a
	}
	for name, a := range map[string]staged.Append{
		"tail changed":   bad(func(a *staged.Append) { a.Tail[100] ^= 1 }),
		"tail cut":       bad(func(a *staged.Append) { a.Tail = a.Tail[:len(a.Tail)-1] }),
		"other base":     bad(func(a *staged.Append) { a.BaseKey = a.Key }),
		"state of other": bad(func(a *staged.Append) { a.BaseState = appendOf(t, u.whole, 1000).BaseState }),
		"size wrong":     bad(func(a *staged.Append) { a.BaseSize-- }),
		"no state":       bad(func(a *staged.Append) { a.BaseState = nil }),
	} {
		if err := e.stage(e.store, a); !errors.Is(err, blob.ErrDigestMismatch) {
			t.Errorf("%s: %v, want a digest mismatch", name, err)
		}
	}
	var jobs int
	if err := e.pool.QueryRow(e.ctx, "SELECT count(*) FROM river_job").Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if n := e.rows(); n != 0 || jobs != 0 {
		t.Fatalf("%d rows and %d jobs after refusals", n, jobs)
	}
	// Too large for the store's limit: not staged, the caller puts it.
	small, err := staged.New(e.raw, e.pool, staged.Options{MaxTail: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.stage(small, u.a); !errors.Is(err, staged.ErrNotStaged) {
		t.Fatalf("an update over the limit: %v", err)
	}
}

func TestAStagedRowPinsItsBase(t *testing.T) {
	e := newEnv(t)
	u := e.newUpdate(5, 64<<10, 8<<10)
	if err := e.stage(e.store, u.a); err != nil {
		t.Fatal(err)
	}
	referenced := func(ctx context.Context, key string) (bool, error) { return storage.BlobReferenced(ctx, e.pool, key) }
	for _, key := range []string{u.a.BaseKey, u.a.Key} {
		if ok, err := referenced(e.ctx, key); err != nil || !ok {
			t.Fatalf("%s not referenced while staged: %v", key, err)
		}
		if err := e.store.Delete(e.ctx, key); !errors.Is(err, blob.ErrInUse) {
			t.Fatalf("delete of %s while staged: %v", key, err)
		}
	}
	// The sweeper, even with no grace, passes the base over.
	if _, err := blob.Sweep(e.ctx, e.store, referenced, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.raw.Stat(e.ctx, u.a.BaseKey); err != nil {
		t.Fatalf("the base of a staged update was swept: %v", err)
	}
	checkReads(t, e.store, u)
	e.start(e.store)
	e.waitMoved()
	// Moved: the store's own marker protects the base.
	if err := e.store.Delete(e.ctx, u.a.BaseKey); !errors.Is(err, blob.ErrInUse) && !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("delete of the base of a moved update: %v", err)
	}
	checkReads(t, e.store, u)
}

// gate is a TCP proxy in front of MinIO that can be shut (MinIO down for
// the client: connections refused, those open cut) and opened again on
// the same address.
type gate struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newGate(t *testing.T, target string) *gate {
	g := &gate{t: t, target: target}
	g.open("127.0.0.1:0")
	t.Cleanup(g.shut)
	return g
}

func (g *gate) open(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		g.t.Fatal(err)
	}
	g.mu.Lock()
	g.ln, g.addr = ln, ln.Addr().String()
	g.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", g.target)
			if err != nil {
				c.Close()
				continue
			}
			g.mu.Lock()
			g.conns = append(g.conns, c, up)
			g.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (g *gate) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln != nil {
		g.ln.Close()
		g.ln = nil
	}
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
}

func TestTheMoveIsRetriedWhileTheStoreIsDown(t *testing.T) {
	e := newEnv(t)
	u := e.newUpdate(6, 200<<10, 30<<10)
	g := newGate(t, e.s3cfg.Endpoint)
	cfg := e.s3cfg
	cfg.Endpoint = g.addr
	through, err := s3.New(e.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mover := e.newStore(through)
	g.shut()
	if err := e.stage(mover, u.a); err != nil {
		t.Fatal(err)
	}
	e.start(mover)
	// Wait for failed attempts; reads (through MinIO, which the readers
	// reach) stay right throughout.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var errs int
		if err := e.pool.QueryRow(e.ctx, "SELECT coalesce(max(cardinality(errors)), 0) FROM river_job WHERE kind = 'blob_move'").Scan(&errs); err != nil {
			t.Fatal(err)
		}
		checkReads(t, e.store, u)
		if errs >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the move was not retried (%d errors)", errs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := e.rows(); n != 1 {
		t.Fatalf("%d rows while the store is down", n)
	}
	// MinIO is back: the job's next attempt moves the update.
	objects := blobtest.Objects(t, e.raw)
	g.open(g.addr)
	e.waitMoved()
	after := blobtest.Objects(t, e.raw)
	if len(after) != len(objects)+1 || after[u.a.Key] != int64(len(u.a.Tail)) {
		t.Fatalf("objects after the move: %v (before %v)", after, objects)
	}
	checkReads(t, e.raw, u)
}

func TestAMoveAlreadyDoneIsNotRepeated(t *testing.T) {
	e := newEnv(t)
	u := e.newUpdate(7, 64<<10, 8<<10)
	// The update reached MinIO but the row was not deleted (a crash
	// between the two): the job's next attempt finds it stored.
	if _, err := e.raw.PutTail(e.ctx, u.a.Key, u.a.BaseKey, u.a.BaseSize, u.a.Tail, u.a.Until); err != nil {
		t.Fatal(err)
	}
	if err := e.stage(e.store, u.a); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(e.ctx, "UPDATE river_job SET attempt = 1, errors = ARRAY['{}'::jsonb] WHERE kind = 'blob_move'"); err != nil {
		t.Fatal(err)
	}
	before := e.reqs.n.Load()
	e.start(e.store)
	e.waitMoved()
	// One HEAD of the update found it; no PUT.
	if n := e.reqs.n.Load() - before; n != 1 {
		t.Fatalf("a move already done made %d requests, want the one HEAD", n)
	}
	checkReads(t, e.store, u)
}

// TestAMoveJobInsertedBeforeTheKeyIsKnown: a job that names the base,
// inserted in the transaction before its update is staged (as an issue
// inserts it before the seal is signed), moves the update once the
// transaction commits; one whose transaction staged nothing finds nothing.
func TestAMoveJobInsertedBeforeTheKeyIsKnown(t *testing.T) {
	e := newEnv(t)
	u := e.newUpdate(4, 1<<20, 48<<10)
	err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		if err := e.store.InsertMoveOnto(e.ctx, tx, u.a.BaseKey); err != nil {
			return err
		}
		b := &pgx.Batch{}
		if err := e.store.Queue(b, u.a); err != nil {
			return err
		}
		return tx.SendBatch(e.ctx, b).Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.rows(); n != 1 {
		t.Fatalf("%d rows staged, want 1", n)
	}
	// A job onto a base nothing was staged on.
	other := e.newUpdate(5, 1<<20, 48<<10)
	if err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error { return e.store.InsertMoveOnto(e.ctx, tx, other.a.BaseKey) }); err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error { return e.store.InsertMoveOnto(e.ctx, tx, "not a key") }); err == nil {
		t.Error("a move job onto a base that is no key was inserted")
	}
	objects := blobtest.Objects(t, e.raw)
	e.start(e.store)
	e.waitMoved()
	after := blobtest.Objects(t, e.raw)
	if len(after) != len(objects)+1 || after[u.a.Key] != int64(len(u.a.Tail)) {
		t.Fatalf("objects after the move: %v (before %v)", after, objects)
	}
	checkReads(t, e.store, u)
}
