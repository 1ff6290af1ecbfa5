// Package staged owns the write-ahead of appended versions: the
// incremental update a signature or an issue appends to the version before
// it is written into PostgreSQL (table staged_blobs) in the transaction
// that records the new version, and a River job inserted in that same
// transaction moves it into the blob store right after the commit, then
// deletes the row.
//
// Why PostgreSQL holds an update for a moment: the blob store (MinIO)
// holds every document's bytes (DESIGN.md), and before this a signature's
// commit waited for its update's fsynced PUT, the marker that protects its
// base and the base's retention, together the largest part of a signature
// through the API. The update is a few tens of kilobytes; written into the
// transaction that commits anyway, it costs one more fsynced write of
// that size in the commit PostgreSQL makes. The row lives from the commit
// until the move, a few milliseconds normally, as long as MinIO is
// unreachable otherwise (the job retries with backoff), and across a crash
// (the job is in the same database).
//
// Reading: Store wraps the service's blob.Store, and everything reads
// documents' bytes through it. Open and Stat of a key the store does not
// hold are answered, while its row exists, from the base (read through
// Store, so a base staged itself is found too) followed by the row's tail.
// Every other call is forwarded.
//
// Pinning: storage.BlobReferenced counts a row's key and base, so the
// sweeper and the discard of an uncommitted version leave them, and
// Store.Delete refuses them (blob.ErrInUse) while the row exists. Once
// moved, the blob store's own protection of an appended blob's base takes
// over (blob.AppendPutter).
package staged

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/vanthu/vanthu/storage/blob"
)

// DefaultMaxTail is the largest update staged by default: larger ones are
// put into the blob store before the commit, as before.
const DefaultMaxTail = 8 << 20

// ErrNotStaged is returned by Stage for an update it does not take (too
// large, or a store that cannot build an appended blob): the caller puts
// the file the ordinary way.
var ErrNotStaged = errors.New("update not staged")

// Append is an incremental update to stage: the whole file Key is the
// blob BaseKey (BaseSize bytes) followed by Tail.
type Append struct {
	Key      string
	BaseKey  string
	BaseSize int64
	// BaseState is crypto/sha256's marshalled state after the base's
	// bytes (signing.Known.State): Tail is checked against Key by hashing
	// Tail alone.
	BaseState []byte
	Tail      []byte
	// Until is how long the moved blob is retained (zero: not retained).
	Until time.Time
}

// Size is the whole file's size.
func (a Append) Size() int64 { return a.BaseSize + int64(len(a.Tail)) }

// check refuses an update whose bytes do not hash to its key
// (blob.ErrDigestMismatch): the base state must be for BaseSize bytes that
// hash to BaseKey, and continue with Tail to Key.
func (a Append) check() error {
	if err := blob.ValidKey(a.Key); err != nil {
		return err
	}
	if err := blob.ValidKey(a.BaseKey); err != nil {
		return err
	}
	if a.BaseSize <= 0 || len(a.Tail) == 0 || a.Key == a.BaseKey {
		return fmt.Errorf("staged update %s: base of %d bytes and %d appended: %w", a.Key, a.BaseSize, len(a.Tail), blob.ErrDigestMismatch)
	}
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(a.BaseState); err != nil {
		return fmt.Errorf("staged update %s: base state: %v: %w", a.Key, err, blob.ErrDigestMismatch)
	}
	// The state's last 8 bytes are the length it consumed.
	if n := len(a.BaseState); n < 8 || binary.BigEndian.Uint64(a.BaseState[n-8:]) != uint64(a.BaseSize) {
		return fmt.Errorf("staged update %s: the base state is not for %d bytes: %w", a.Key, a.BaseSize, blob.ErrDigestMismatch)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.BaseKey {
		return fmt.Errorf("staged update %s: the base state is not %s's: %w", a.Key, a.BaseKey, blob.ErrDigestMismatch)
	}
	h.Write(a.Tail)
	if got := hex.EncodeToString(h.Sum(nil)); got != a.Key {
		return fmt.Errorf("staged update: %w: the base and the update are not %s", blob.ErrDigestMismatch, a.Key)
	}
	return nil
}

// Options shape a Store.
type Options struct {
	// MaxTail is the largest update staged (zero: DefaultMaxTail;
	// negative: none is, for a store that keeps every version whole, such
	// as a local disk; rows already staged are still read and moved).
	MaxTail int
	// Backoff is how long the nth failed move waits before the next
	// (nil: doubling from one second up to five minutes).
	Backoff func(attempt int) time.Duration
	// Lead lets the mover's job queue client be elected the queue's leader
	// (which promotes retried jobs and rescues stuck ones). The service
	// leaves it false: the notification engine's client leads and runs the
	// periodic jobs only a leader enqueues. A process with no other River
	// client (tests, tools) sets it.
	Lead bool
	// PollInterval is how often the mover polls for jobs besides
	// PostgreSQL's notifications (zero: River's default).
	PollInterval time.Duration
}

// Store is a blob.Store that answers reads of staged updates and stages
// them (Stage).
type Store struct {
	blob.Store
	pool    *pgxpool.Pool
	client  *river.Client[pgx.Tx]
	maxTail int
	queue   *pgxpool.Pool // the job queue's own connections
}

// New wraps store: pool is the service's database (rows are read on it),
// whose job queue the mover uses with a small pool of its own.
func New(store blob.Store, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if opts.MaxTail == 0 {
		opts.MaxTail = DefaultMaxTail
	}
	if opts.Backoff == nil {
		opts.Backoff = defaultBackoff
	}
	s := &Store{Store: store, pool: pool, maxTail: opts.MaxTail}
	pc := pool.Config()
	pc.MaxConns, pc.MinConns = 2, 0
	queue, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("staged blobs: job queue pool: %w", err)
	}
	s.queue = queue
	if s.client, err = newClient(s, queue, opts); err != nil {
		queue.Close()
		return nil, err
	}
	return s, nil
}

func defaultBackoff(attempt int) time.Duration {
	d := time.Second
	for i := 1; i < attempt && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// CanStage reports whether Stage takes an update of n bytes: the wrapped
// store builds appended blobs (blob.AppendPutter) and n is within the
// limit.
func (s *Store) CanStage(n int) bool {
	_, ok := s.Store.(blob.AppendPutter)
	return ok && n > 0 && n <= s.maxTail
}

// Stage writes a in tx, with the job that moves it into the blob store
// once tx commits. a's bytes are checked against its key first: a
// mismatch is refused (blob.ErrDigestMismatch) and nothing is written.
// Staging the same update twice writes it once.
func (s *Store) Stage(ctx context.Context, tx pgx.Tx, a Append) error {
	b := &pgx.Batch{}
	if err := s.Queue(b, a); err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("staged update %s: %w", a.Key, err)
	}
	return s.InsertMove(ctx, tx, a.Key)
}

// Queue is Stage's row, checked as Stage checks it, queued in b for a
// caller that sends its own writes in one round trip; the caller then
// calls InsertMove in the same transaction.
func (s *Store) Queue(b *pgx.Batch, a Append) error {
	if !s.CanStage(len(a.Tail)) {
		return fmt.Errorf("staged update %s of %d bytes: %w", a.Key, len(a.Tail), ErrNotStaged)
	}
	if err := a.check(); err != nil {
		return err
	}
	var until *time.Time
	if !a.Until.IsZero() {
		u := a.Until.UTC()
		until = &u
	}
	b.Queue(`INSERT INTO staged_blobs (key, base_key, base_size, base_state, tail, retain_until)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING`,
		a.Key, a.BaseKey, a.BaseSize, a.BaseState, a.Tail, until)
	return nil
}

// InsertMove inserts, in tx, the job that moves the update staged under
// key into the blob store once tx commits.
func (s *Store) InsertMove(ctx context.Context, tx pgx.Tx, key string) error {
	if _, err := s.client.InsertTx(ctx, tx, moveArgs{Key: key}, nil); err != nil {
		return fmt.Errorf("staged update %s: move job: %w", key, err)
	}
	return nil
}

// InsertMoveOnto inserts, in tx, the job that moves every update staged
// onto base (in tx, or in another transaction) into the blob store once
// tx commits: a caller that knows the base before the update's key (an
// issue, before the seal is signed) inserts it ahead, and stages with
// Queue alone. A job that finds nothing staged is done.
func (s *Store) InsertMoveOnto(ctx context.Context, tx pgx.Tx, base string) error {
	if err := blob.ValidKey(base); err != nil {
		return err
	}
	if _, err := s.client.InsertTx(ctx, tx, moveArgs{Onto: base}, nil); err != nil {
		return fmt.Errorf("staged updates onto %s: move job: %w", base, err)
	}
	return nil
}

// Remember hands the whole bytes of a staged update, checked against
// its key, to the wrapped store's memory (blob.Rememberer) so the reads
// that follow reach neither PostgreSQL nor the store. Bytes remembered for
// a version that then does not commit are harmless: a key names its bytes.
func (s *Store) Remember(key string, whole []byte) {
	if r, ok := s.Store.(blob.Rememberer); ok {
		r.Remember(key, whole)
	}
}

// row is a staged update as read back.
type row struct {
	Append
	created time.Time
}

// lookup reads key's staged row; ok is false when there is none.
func (s *Store) lookup(ctx context.Context, key string) (r row, ok bool, err error) {
	var until *time.Time
	err = s.pool.QueryRow(ctx, `SELECT base_key, base_size, base_state, tail, retain_until, created_at
		FROM staged_blobs WHERE key = $1`, key).Scan(&r.BaseKey, &r.BaseSize, &r.BaseState, &r.Tail, &until, &r.created)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("staged blob %s: %w", key, err)
	}
	r.Key = key
	if until != nil {
		r.Until = *until
	}
	return r, true, nil
}

// Open reads key from the blob store, or, when it is not there yet, from
// its base and its staged update.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	rc, err := s.Store.Open(ctx, key, offset, length)
	if !errors.Is(err, blob.ErrNotFound) {
		return rc, err
	}
	r, ok, lerr := s.lookup(ctx, key)
	if lerr != nil {
		return nil, lerr
	}
	if !ok {
		// Moved between the two looks: the store has it now, or never had.
		return s.Store.Open(ctx, key, offset, length)
	}
	return s.openStaged(ctx, r, offset, length)
}

// openStaged reads offset..offset+length (length < 0: to the end) of a
// staged update's whole file.
func (s *Store) openStaged(ctx context.Context, r row, offset, length int64) (io.ReadCloser, error) {
	size := r.Size()
	if offset < 0 || offset > size {
		return nil, fmt.Errorf("blob open %s: offset %d outside the %d bytes", r.Key, offset, size)
	}
	end := size
	if length >= 0 && offset+length < end {
		end = offset + length
	}
	tailFrom := max(offset-r.BaseSize, 0)
	tailTo := max(end-r.BaseSize, 0)
	tail := io.NopCloser(bytes.NewReader(r.Tail[tailFrom:tailTo]))
	if offset >= r.BaseSize {
		return tail, nil
	}
	base, err := s.Open(ctx, r.BaseKey, offset, min(end, r.BaseSize)-offset)
	if err != nil {
		return nil, fmt.Errorf("blob open %s: base %s: %w", r.Key, r.BaseKey, err)
	}
	return &joined{first: base, rest: tail, r: io.MultiReader(base, tail)}, nil
}

type joined struct {
	first, rest io.Closer
	r           io.Reader
}

func (j *joined) Read(p []byte) (int, error) { return j.r.Read(p) }
func (j *joined) Close() error               { return errors.Join(j.first.Close(), j.rest.Close()) }

// Stat describes key from the blob store, or from its staged row.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	info, err := s.Store.Stat(ctx, key)
	if !errors.Is(err, blob.ErrNotFound) {
		return info, err
	}
	r, ok, lerr := s.lookup(ctx, key)
	if lerr != nil {
		return blob.Info{}, lerr
	}
	if !ok {
		return s.Store.Stat(ctx, key)
	}
	return blob.Info{Key: key, Size: r.Size(), Modified: r.created}, nil
}

// Delete refuses (blob.ErrInUse) a key a staged row needs, as its base or
// as itself; other keys go to the store.
func (s *Store) Delete(ctx context.Context, key string) error {
	var pinned bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staged_blobs WHERE base_key = $1)
		OR EXISTS (SELECT 1 FROM staged_blobs WHERE key = $1)`, key).Scan(&pinned); err != nil {
		return fmt.Errorf("blob delete %s: %w", key, err)
	}
	if pinned {
		return fmt.Errorf("blob %s: %w a staged update", key, blob.ErrInUse)
	}
	return s.Store.Delete(ctx, key)
}

// PutKnown forwards blob.KnownPutter (for a store without it: Put, then
// Retain).
func (s *Store) PutKnown(ctx context.Context, key string, data []byte, until time.Time) (blob.Info, error) {
	if kp, ok := s.Store.(blob.KnownPutter); ok {
		return kp.PutKnown(ctx, key, data, until)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != key {
		return blob.Info{}, fmt.Errorf("blob put: %w: the bytes are not %s", blob.ErrDigestMismatch, key)
	}
	info, err := s.Store.Put(ctx, bytes.NewReader(data), blob.PutOptions{})
	if err != nil || until.IsZero() {
		return info, err
	}
	return info, s.Store.Retain(ctx, key, until)
}

// PutAppended forwards blob.AppendPutter (for a store without it:
// PutKnown).
func (s *Store) PutAppended(ctx context.Context, key, baseKey string, whole []byte, baseSize int64, until time.Time) (blob.Info, error) {
	if ap, ok := s.Store.(blob.AppendPutter); ok {
		return ap.PutAppended(ctx, key, baseKey, whole, baseSize, until)
	}
	return s.PutKnown(ctx, key, whole, until)
}

var (
	_ blob.AppendPutter = (*Store)(nil)
	_ blob.Rememberer   = (*Store)(nil)
)
