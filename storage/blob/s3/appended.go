package s3

// Appended blobs (blob.AppendPutter). A signed or issued PDF is the version
// before it with an incremental update appended, so such a file is stored
// as only the appended bytes under its own content key, with user metadata
// naming what comes before them:
//
//	X-Amz-Meta-Vanthu-Parts: <key>:<stored size>,<key>:<stored size>,...
//	X-Amz-Meta-Vanthu-Size:  <logical size>
//
// Parts is the flattened list from the root (a whole object) through every
// appended object before this one, so a reader learns the whole layout
// from the one response it already gets and fetches the parts in
// parallel, never walking a chain. Each part is read by its stored bytes
// (an appended part's own tail), and every size is checked while reading.
//
// Protection: an appended object's retention never outlasts its parts'
// (PutAppended extends theirs), and PutAppended leaves a marker
// refs/<base>/<appended> that makes Delete of the base refuse (ErrInUse)
// while the appended object exists, which keeps a store without retention,
// and its sweeper, safe too. A base cannot go while a blob built on it
// exists, and by induction neither can any earlier part.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vanthu/vanthu/storage/blob"
)

const (
	// MaxAppendDepth is how many objects an appended blob may be built on
	// (its root included); a file appended to a deeper chain is stored
	// whole. It bounds the parts one read fetches and the metadata's size
	// (S3 allows 2 KB of user metadata; 16 parts take about 1.2 KB).
	MaxAppendDepth = 16

	refsPrefix  = "refs/"
	metaParts   = "Vanthu-Parts"
	metaSize    = "Vanthu-Size"
	headerParts = "X-Amz-Meta-" + metaParts
	headerSize  = "X-Amz-Meta-" + metaSize
	// refGrace is how long a marker counts as in use even though its
	// appended object is not there: the PUT that makes it may still be
	// travelling.
	refGrace = time.Hour
)

// part is one stored object of an appended blob and how many bytes it
// holds.
type part struct {
	key  string
	size int64
}

// layout is how an appended blob's logical bytes are stored: parts in
// order, the appended object itself last.
type layout struct {
	parts []part
	size  int64
}

// errBrokenLayout marks metadata or parts that do not add up.
var errBrokenLayout = errors.New("appended blob is broken")

// parseLayout reads an appended object's metadata from the headers of a
// response about key, whose stored size is stored. A plain object gives
// nil.
func parseLayout(key string, h http.Header, stored int64) (*layout, error) {
	raw := h.Get(headerParts)
	if raw == "" {
		return nil, nil
	}
	size, err := strconv.ParseInt(h.Get(headerSize), 10, 64)
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("blob %s: %w: logical size %q", key, errBrokenLayout, h.Get(headerSize))
	}
	items := strings.Split(raw, ",")
	if len(items) > MaxAppendDepth {
		return nil, fmt.Errorf("blob %s: %w: %d parts, at most %d", key, errBrokenLayout, len(items), MaxAppendDepth)
	}
	l := &layout{size: size}
	seen := map[string]bool{key: true}
	var sum int64
	for _, it := range items {
		k, n, ok := strings.Cut(it, ":")
		sz, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil || sz <= 0 || blob.ValidKey(k) != nil {
			return nil, fmt.Errorf("blob %s: %w: part %q", key, errBrokenLayout, it)
		}
		if seen[k] {
			return nil, fmt.Errorf("blob %s: %w: part %s named twice (a loop)", key, errBrokenLayout, k)
		}
		seen[k] = true
		if sum > size-sz {
			return nil, fmt.Errorf("blob %s: %w: parts longer than the logical size %d", key, errBrokenLayout, size)
		}
		sum += sz
		l.parts = append(l.parts, part{k, sz})
	}
	if stored < 0 || sum+stored != size {
		return nil, fmt.Errorf("blob %s: %w: parts of %d bytes and %d stored make %d, not %d", key, errBrokenLayout, sum, stored, sum+stored, size)
	}
	l.parts = append(l.parts, part{key, stored})
	return l, nil
}

// encode is the metadata of a blob appended after the blob l describes.
func (l *layout) encode() map[string]string {
	items := make([]string, len(l.parts))
	for i, p := range l.parts {
		items[i] = p.key + ":" + strconv.FormatInt(p.size, 10)
	}
	return map[string]string{metaParts: strings.Join(items, ",")}
}

// storedSize is the whole stored size of the object a GET answered, ranged
// or not.
func storedSize(info minio.ObjectInfo, h http.Header) int64 {
	cr := h.Get("Content-Range")
	if cr == "" {
		return info.Size
	}
	if _, total, ok := strings.Cut(cr, "/"); ok {
		if n, err := strconv.ParseInt(total, 10, 64); err == nil {
			return n
		}
	}
	return -1
}

// retainedUntil is the retention a response reports (zero: none).
func retainedUntil(h http.Header) time.Time {
	t, _ := time.Parse(time.RFC3339, h.Get("X-Amz-Object-Lock-Retain-Until-Date"))
	return t
}

// PutAppended stores whole under key as baseKey's bytes (whole[:baseSize])
// followed by only whole[baseSize:]; see blob.AppendPutter. One HEAD of
// the base, then in parallel: the PUT of the appended bytes (retained
// from its first moment), the marker that protects the base, and the
// retention of each earlier part that is retained less long than until.
func (s *Store) PutAppended(ctx context.Context, key, baseKey string, whole []byte, baseSize int64, until time.Time) (blob.Info, error) {
	if err := blob.ValidKey(key); err != nil {
		return blob.Info{}, err
	}
	if err := blob.ValidKey(baseKey); err != nil {
		return blob.Info{}, err
	}
	if baseSize <= 0 || baseSize >= int64(len(whole)) {
		return blob.Info{}, fmt.Errorf("blob put %s: base size %d outside the %d bytes", key, baseSize, len(whole))
	}
	// One pass: the base's hash on the way to the whole's.
	h := sha256.New()
	h.Write(whole[:baseSize])
	if got := hex.EncodeToString(h.Sum(nil)); got != baseKey {
		return blob.Info{}, fmt.Errorf("blob put %s: %w: the first %d bytes are not %s", key, blob.ErrDigestMismatch, baseSize, baseKey)
	}
	h.Write(whole[baseSize:])
	if got := hex.EncodeToString(h.Sum(nil)); got != key {
		return blob.Info{}, fmt.Errorf("blob put: %w: the bytes are not %s", blob.ErrDigestMismatch, key)
	}
	info, err := s.putTail(ctx, key, baseKey, baseSize, whole[baseSize:], until)
	if errors.Is(err, blob.ErrNeedWhole) {
		return s.PutKnown(ctx, key, whole, until)
	}
	return info, err
}

// PutTail stores the appended blob key as baseKey's baseSize bytes
// followed by tail, the caller having checked that they hash to key (see
// blob.TailPutter): only tail is sent, and nothing of the whole is hashed
// again. When the base is missing or its chain is as deep as the store
// allows, it stores nothing and returns blob.ErrNeedWhole.
func (s *Store) PutTail(ctx context.Context, key, baseKey string, baseSize int64, tail []byte, until time.Time) (blob.Info, error) {
	if err := blob.ValidKey(key); err != nil {
		return blob.Info{}, err
	}
	if err := blob.ValidKey(baseKey); err != nil {
		return blob.Info{}, err
	}
	if baseSize <= 0 || len(tail) == 0 {
		return blob.Info{}, fmt.Errorf("blob put %s: base of %d bytes and %d appended", key, baseSize, len(tail))
	}
	return s.putTail(ctx, key, baseKey, baseSize, tail, until)
}

// putTail is PutAppended after its digest checks: one HEAD of the base,
// then the parallel PUTs.
func (s *Store) putTail(ctx context.Context, key, baseKey string, baseSize int64, tail []byte, until time.Time) (blob.Info, error) {
	st, err := s.client.StatObject(ctx, s.cfg.Bucket, contentKey(baseKey), minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return blob.Info{}, fmt.Errorf("blob put %s: base %s is not stored: %w", key, baseKey, blob.ErrNeedWhole) // nothing to build on
		}
		return blob.Info{}, fmt.Errorf("blob put %s: base %s: %w", key, baseKey, err)
	}
	base, err := parseLayout(baseKey, st.Headers, st.Size)
	if err != nil {
		return blob.Info{}, fmt.Errorf("blob put %s: %w", key, err)
	}
	if base == nil {
		base = &layout{parts: []part{{baseKey, st.Size}}, size: st.Size}
	}
	if base.size != baseSize {
		return blob.Info{}, fmt.Errorf("blob put %s: %w: base %s holds %d bytes, not %d", key, blob.ErrDigestMismatch, baseKey, base.size, baseSize)
	}
	if len(base.parts) >= MaxAppendDepth {
		return blob.Info{}, fmt.Errorf("blob put %s: base %s is %d parts deep: %w", key, baseKey, len(base.parts), blob.ErrNeedWhole)
	}
	meta := base.encode()
	meta[metaSize] = strconv.FormatInt(baseSize+int64(len(tail)), 10)
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true, UserMetadata: meta}
	if !until.IsZero() {
		opts.Mode, opts.RetainUntilDate = s.mode, until.UTC()
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(base.parts)+2)
	do := func(fn func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- fn() }()
	}
	var up minio.UploadInfo
	do(func() (err error) {
		up, err = s.client.PutObject(ctx, s.cfg.Bucket, contentKey(key), bytes.NewReader(tail), int64(len(tail)), opts)
		return err
	})
	do(func() error {
		_, err := s.client.PutObject(ctx, s.cfg.Bucket, refKey(baseKey, key), bytes.NewReader(nil), 0,
			minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true})
		return err
	})
	// The parts are retained at least as long as the base (this invariant
	// is what every PutAppended keeps), so a base retained long enough
	// means every part is.
	if !until.IsZero() && retainedUntil(st.Headers).Before(until) {
		for _, p := range base.parts {
			if p.key == baseKey {
				// The HEAD above already said the base needs it.
				do(func() error { return s.retainVersion(ctx, baseKey, st.VersionID, until) })
				continue
			}
			do(func() error { return s.Retain(ctx, p.key, until) })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return blob.Info{}, fmt.Errorf("blob put %s appended to %s: %w", key, baseKey, err)
		}
	}
	if up.Size != int64(len(tail)) {
		return blob.Info{}, fmt.Errorf("blob put: %w: stored %d bytes, sent %d", blob.ErrDigestMismatch, up.Size, len(tail))
	}
	return blob.Info{Key: key, Size: baseSize + int64(len(tail)), Modified: up.LastModified}, nil
}

func refKey(base, appended string) string { return refsPrefix + base + "/" + appended }

// openAppended reads offset..offset+length (length < 0: to the end) of
// the appended blob l describes. Every part it needs is requested at once;
// tail, when not nil, is the appended object's own bytes already being
// read (the whole of them).
func (s *Store) openAppended(ctx context.Context, l *layout, offset, length int64, tail io.ReadCloser) (io.ReadCloser, error) {
	end := l.size
	if length >= 0 && offset+length < end {
		end = offset + length
	}
	if offset >= l.size {
		if tail != nil {
			tail.Close()
		}
		return nil, fmt.Errorf("blob open: offset %d beyond the %d bytes", offset, l.size)
	}
	type segment struct {
		p        part
		from, to int64 // within the part
	}
	var segs []segment
	var at int64
	for _, p := range l.parts {
		from, to := max(offset-at, 0), min(end-at, p.size)
		if from < to {
			segs = append(segs, segment{p, from, to})
		}
		at += p.size
	}
	readers := make([]io.ReadCloser, len(segs))
	errs := make([]error, len(segs))
	var wg sync.WaitGroup
	for i, sg := range segs {
		last := sg.p.key == l.parts[len(l.parts)-1].key
		if last && tail != nil {
			readers[i] = &sizedReader{rc: tail, key: sg.p.key, left: sg.to - sg.from}
			tail = nil
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			readers[i], errs[i] = s.openPart(ctx, sg.p, sg.from, sg.to)
		}()
	}
	wg.Wait()
	if tail != nil {
		tail.Close()
	}
	if err := errors.Join(errs...); err != nil {
		for _, r := range readers {
			if r != nil {
				r.Close()
			}
		}
		return nil, err
	}
	return &chainReader{readers: readers}, nil
}

// openPart requests bytes from..to of one part and checks the part's
// stored size against the layout.
func (s *Store) openPart(ctx context.Context, p part, from, to int64) (io.ReadCloser, error) {
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(from, to-1); err != nil {
		return nil, fmt.Errorf("blob open: %w", err)
	}
	body, info, h, err := s.core.GetObject(ctx, s.cfg.Bucket, contentKey(p.key), opts)
	if err != nil {
		if code := minio.ToErrorResponse(err).Code; code == "NoSuchKey" || code == "InvalidRange" {
			return nil, fmt.Errorf("blob open: %w: part %s of %d bytes: %s", errBrokenLayout, p.key, p.size, code)
		}
		return nil, fmt.Errorf("blob open part %s: %w", p.key, err)
	}
	if n := storedSize(info, h); n != p.size {
		body.Close()
		return nil, fmt.Errorf("blob open: %w: part %s holds %d bytes, not %d", errBrokenLayout, p.key, n, p.size)
	}
	return &sizedReader{rc: body, key: p.key, left: to - from}, nil
}

// sizedReader yields exactly left bytes of a part or fails.
type sizedReader struct {
	rc   io.ReadCloser
	key  string
	left int64
}

func (r *sizedReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.rc.Read(p)
	r.left -= int64(n)
	switch {
	case err == io.EOF && r.left > 0:
		return n, fmt.Errorf("blob read: %w: part %s ended %d bytes early", errBrokenLayout, r.key, r.left)
	case err == io.EOF:
		return n, nil
	}
	return n, err
}

func (r *sizedReader) Close() error { return r.rc.Close() }

// chainReader reads its readers one after the other and closes them all.
type chainReader struct {
	readers []io.ReadCloser
	i       int
}

func (c *chainReader) Read(p []byte) (int, error) {
	for c.i < len(c.readers) {
		n, err := c.readers[c.i].Read(p)
		if err == io.EOF {
			c.readers[c.i].Close()
			c.i++
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
	return 0, io.EOF
}

func (c *chainReader) Close() error {
	var errs []error
	for ; c.i < len(c.readers); c.i++ {
		errs = append(errs, c.readers[c.i].Close())
	}
	return errors.Join(errs...)
}

// checkNotInUse refuses (blob.ErrInUse) when an appended blob built on key
// exists or may be being stored; markers of appended blobs long gone are
// removed on the way.
func (s *Store) checkNotInUse(ctx context.Context, key string) error {
	prefix := refsPrefix + key + "/"
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			return fmt.Errorf("blob delete %s: %w", key, o.Err)
		}
		appended := strings.TrimPrefix(o.Key, prefix)
		if _, err := s.client.StatObject(ctx, s.cfg.Bucket, contentKey(appended), minio.StatObjectOptions{}); err == nil {
			return fmt.Errorf("blob %s: %w %s", key, blob.ErrInUse, appended)
		} else if minio.ToErrorResponse(err).Code != "NoSuchKey" {
			return fmt.Errorf("blob delete %s: %w", key, err)
		}
		if time.Since(o.LastModified) < refGrace {
			return fmt.Errorf("blob %s: %w %s being stored", key, blob.ErrInUse, appended)
		}
		if err := s.client.RemoveObject(ctx, s.cfg.Bucket, o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID}); err != nil {
			return fmt.Errorf("blob delete %s: stale marker: %w", key, err)
		}
	}
	return nil
}

var (
	_ blob.AppendPutter = (*Store)(nil)
	_ blob.TailPutter   = (*Store)(nil)
)
