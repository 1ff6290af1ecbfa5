package metrics

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/vanthu/vanthu/storage/blob"
)

// Blobs wraps a blob store so that each of its operations is counted and
// timed (vanthu_blob_operations_total, vanthu_blob_operation_duration_seconds).
// The wrapper offers the optional interfaces the store offers
// (blob.KnownPutter, blob.AppendPutter) and no others: callers choose
// their fast paths by asserting them, so hiding one would silently slow
// the service down.
func Blobs(s blob.Store) blob.Store {
	m := measuredStore{s}
	if ap, ok := s.(blob.AppendPutter); ok {
		return measuredAppender{measuredKnown{m, ap}, ap}
	}
	if kp, ok := s.(blob.KnownPutter); ok {
		return measuredKnown{m, kp}
	}
	return m
}

type measuredStore struct{ blob.Store }

type measuredKnown struct {
	measuredStore
	kp blob.KnownPutter
}

type measuredAppender struct {
	measuredKnown
	ap blob.AppendPutter
}

func (m measuredKnown) PutKnown(ctx context.Context, key string, data []byte, until time.Time) (info blob.Info, err error) {
	defer func(start time.Time) { observeBlob("put_known", start, err) }(time.Now())
	return m.kp.PutKnown(ctx, key, data, until)
}

func (m measuredAppender) PutAppended(ctx context.Context, key, baseKey string, whole []byte, baseSize int64, until time.Time) (info blob.Info, err error) {
	defer func(start time.Time) { observeBlob("put_appended", start, err) }(time.Now())
	return m.ap.PutAppended(ctx, key, baseKey, whole, baseSize, until)
}

// PutTail forwards blob.TailPutter; a store without it is asked for the
// whole file (blob.ErrNeedWhole), which its PutAppended takes.
func (m measuredAppender) PutTail(ctx context.Context, key, baseKey string, baseSize int64, tail []byte, until time.Time) (info blob.Info, err error) {
	tp, ok := m.ap.(blob.TailPutter)
	if !ok {
		return blob.Info{}, fmt.Errorf("blob put %s: %w", key, blob.ErrNeedWhole)
	}
	defer func(start time.Time) { observeBlob("put_tail", start, err) }(time.Now())
	return tp.PutTail(ctx, key, baseKey, baseSize, tail, until)
}

func observeBlob(op string, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	blobOps.WithLabelValues(op, outcome).Inc()
	blobDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (m measuredStore) Put(ctx context.Context, r io.Reader, opts blob.PutOptions) (info blob.Info, err error) {
	defer func(start time.Time) { observeBlob("put", start, err) }(time.Now())
	return m.Store.Put(ctx, r, opts)
}

func (m measuredStore) Open(ctx context.Context, key string, offset, length int64) (rc io.ReadCloser, err error) {
	defer func(start time.Time) { observeBlob("open", start, err) }(time.Now())
	return m.Store.Open(ctx, key, offset, length)
}

func (m measuredStore) Stat(ctx context.Context, key string) (info blob.Info, err error) {
	defer func(start time.Time) { observeBlob("stat", start, err) }(time.Now())
	return m.Store.Stat(ctx, key)
}

func (m measuredStore) Delete(ctx context.Context, key string) (err error) {
	defer func(start time.Time) { observeBlob("delete", start, err) }(time.Now())
	return m.Store.Delete(ctx, key)
}

func (m measuredStore) Retain(ctx context.Context, key string, until time.Time) (err error) {
	defer func(start time.Time) { observeBlob("retain", start, err) }(time.Now())
	return m.Store.Retain(ctx, key, until)
}

func (m measuredStore) List(ctx context.Context, fn func(blob.Info) error) (err error) {
	defer func(start time.Time) { observeBlob("list", start, err) }(time.Now())
	return m.Store.List(ctx, fn)
}

func (m measuredStore) SweepTemporary(ctx context.Context, grace time.Duration) (n int, err error) {
	defer func(start time.Time) { observeBlob("sweep_temporary", start, err) }(time.Now())
	return m.Store.SweepTemporary(ctx, grace)
}

func (m measuredStore) Ping(ctx context.Context) (err error) {
	defer func(start time.Time) { observeBlob("ping", start, err) }(time.Now())
	return m.Store.Ping(ctx)
}
