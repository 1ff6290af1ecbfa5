// Package s3 keeps blobs in a MinIO (or other S3-compatible) bucket with
// versioning and object lock, so a retained document version can be neither
// deleted nor overwritten, even by the service itself.
//
// Bucket layout: sha256/<hex> holds content, either whole or, for an
// appended blob (appended.go), the bytes appended to the blobs its metadata
// lists; refs/<base>/<appended> marks a blob in use by an appended one;
// tmp/ holds uploads whose hash is not known yet (streamed mode), removed
// once copied and swept if a crash leaves them. Nothing under sha256/ is
// ever partial.
package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vanthu/vanthu/storage/blob"
)

// Config locates the bucket.
type Config struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	UseSSL    bool
	// RetentionMode is GOVERNANCE (default; an administrator with the bypass
	// permission can still lift it) or COMPLIANCE (nobody can).
	RetentionMode string
	// PartSize is the multipart part size and, when streaming, the one
	// buffer an upload holds; default 16 MiB, at least 5 MiB (S3's minimum).
	PartSize uint64
	// SpoolDir, when set, makes Put receive the whole stream locally
	// (hashing and checking it) and then upload it under its content key in
	// one PUT that MinIO verifies against that key: no server-side copy, but
	// local space for every upload in flight. Uploads are held in memory
	// within BufferMemory and in a file in SpoolDir beyond. Empty (the
	// default) streams straight to a temporary object under tmp/ and copies
	// it server-side once the hash is known, so the service needs no local
	// scratch space.
	SpoolDir string
	// BufferMemory is how many bytes of uploads in flight a spooling store
	// may hold in memory, all uploads together; one upload holds at most
	// half of it, and one that outgrows its share or finds the budget spent
	// goes on in a file. Default 64 MiB; negative: always a file.
	BufferMemory int64
	// Transport carries the requests to the server; nil: minio-go's
	// default. Tests count the requests an operation makes with it.
	Transport http.RoundTripper
}

const (
	contentPrefix = "sha256/"
	tmpPrefix     = "tmp/"
	minPartSize   = 5 << 20
	maxParts      = 10000
)

// Store is a content-addressed blob store in one bucket.
type Store struct {
	client *minio.Client
	core   minio.Core
	cfg    Config
	mode   minio.RetentionMode
	bufs   sync.Pool    // part buffers for streamed uploads
	mem    *blob.Memory // what spooled uploads may hold in memory
}

// New connects and creates the bucket with object lock when it is missing.
func New(ctx context.Context, cfg Config) (*Store, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.UseSSL, Transport: cfg.Transport})
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 16 << 20
	}
	if cfg.PartSize < minPartSize {
		return nil, fmt.Errorf("s3 part size %d: at least %d bytes", cfg.PartSize, minPartSize)
	}
	mode := minio.Governance
	switch strings.ToUpper(cfg.RetentionMode) {
	case "", "GOVERNANCE":
	case "COMPLIANCE":
		mode = minio.Compliance
	default:
		return nil, fmt.Errorf("s3 retention mode %q: want GOVERNANCE or COMPLIANCE", cfg.RetentionMode)
	}
	if cfg.BufferMemory == 0 {
		cfg.BufferMemory = 64 << 20
	}
	s := &Store{client: client, core: minio.Core{Client: client}, cfg: cfg, mode: mode, mem: blob.NewMemory(max(cfg.BufferMemory, 0), max(cfg.BufferMemory, 0)/2)}
	s.bufs.New = func() any { b := make([]byte, cfg.PartSize); return &b }
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 bucket %s: %w", cfg.Bucket, err)
	}
	if !exists {
		if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
			return nil, fmt.Errorf("s3 create bucket %s: %w", cfg.Bucket, err)
		}
	}
	if enabled, _, _, _, err := client.GetObjectLockConfig(ctx, cfg.Bucket); err != nil || enabled != "Enabled" {
		return nil, fmt.Errorf("s3 bucket %s has no object lock; create it with object lock enabled (err: %v)", cfg.Bucket, err)
	}
	return s, nil
}

func contentKey(key string) string { return contentPrefix + key }

// Put stores the stream under its SHA-256. Readers only ever see complete
// objects: an S3 object appears only when its upload completes, an upload
// that fails or is cancelled is aborted, and nothing is written under a
// content key before the hash is known and opts.Check has passed.
func (s *Store) Put(ctx context.Context, r io.Reader, opts blob.PutOptions) (blob.Info, error) {
	if s.cfg.SpoolDir != "" {
		return s.putSpooled(ctx, r, opts)
	}
	return s.putStreamed(ctx, r, opts)
}

// putStreamed uploads to a fresh key under tmp/, hashing on the way, then
// copies server-side to the content key (skipped when that already exists)
// and removes the temporary object.
func (s *Store) putStreamed(ctx context.Context, r io.Reader, opts blob.PutOptions) (blob.Info, error) {
	hr := blob.NewHashingReader(blob.ContextReader(ctx, r), opts.Max)
	tmp := tmpPrefix + time.Now().UTC().Format("20060102T150405") + "-" + randomID()
	up, err := s.uploadStream(ctx, tmp, hr)
	if err != nil {
		if errors.Is(err, blob.ErrTooLarge) {
			return blob.Info{}, blob.ErrTooLarge
		}
		return blob.Info{}, fmt.Errorf("blob put: %w", err)
	}
	defer func() {
		// Remove the temporary version itself, not just hide it behind a
		// delete marker; the sweeper catches what a crash leaves here.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.client.RemoveObject(rctx, s.cfg.Bucket, tmp, minio.RemoveObjectOptions{VersionID: up.VersionID}); err != nil {
			slog.Warn("blob put: temporary object left for the sweeper", "object", tmp, "err", err)
		}
	}()
	if up.Size != hr.N {
		return blob.Info{}, fmt.Errorf("blob put: stored %d bytes, read %d", up.Size, hr.N)
	}
	key := hr.Key()
	if opts.Check != nil {
		ra := &objectReaderAt{ctx: ctx, client: s.client, bucket: s.cfg.Bucket, object: tmp, version: up.VersionID, size: hr.N}
		if err := opts.Check(ra, hr.N); err != nil {
			return blob.Info{}, err
		}
	}
	if err := blob.BeforeStore(ctx, opts, key); err != nil {
		return blob.Info{}, err
	}
	if info, err := s.Stat(ctx, key); err == nil {
		return info, nil
	}
	// ComposeObject is a plain server-side copy up to 5 GiB and a multipart
	// copy beyond, where a single copy request is refused.
	if _, err := s.client.ComposeObject(ctx,
		minio.CopyDestOptions{Bucket: s.cfg.Bucket, Object: contentKey(key)},
		minio.CopySrcOptions{Bucket: s.cfg.Bucket, Object: tmp, VersionID: up.VersionID}); err != nil {
		return blob.Info{}, fmt.Errorf("blob put: copy to content key: %w", err)
	}
	return s.statStored(ctx, key, hr.N)
}

func (s *Store) statStored(ctx context.Context, key string, size int64) (blob.Info, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return blob.Info{}, err
	}
	if info.Size != size {
		return blob.Info{}, fmt.Errorf("blob put: %w: stored %d bytes, read %d", blob.ErrDigestMismatch, info.Size, size)
	}
	return info, nil
}

// uploadStream writes a stream of unknown length to object. A stream that
// fits in one part goes up in a single PUT; a longer one as a multipart
// upload, one pooled part buffer at a time, so memory stays at PartSize
// whatever the length.
func (s *Store) uploadStream(ctx context.Context, object string, r io.Reader) (minio.UploadInfo, error) {
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp
	n, err := io.ReadFull(r, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return s.putSingle(ctx, object, bytes.NewReader(buf[:n]), int64(n))
	case err != nil:
		return minio.UploadInfo{}, err
	}
	first := true
	return s.multipart(ctx, object, func(int) (io.Reader, int64, bool, error) {
		if first {
			first = false
			return bytes.NewReader(buf[:n]), int64(n), false, nil
		}
		n, err := io.ReadFull(r, buf)
		switch {
		case err == io.EOF:
			return nil, 0, true, nil
		case err == io.ErrUnexpectedEOF:
			return bytes.NewReader(buf[:n]), int64(n), false, nil
		case err != nil:
			return nil, 0, false, err
		}
		return bytes.NewReader(buf[:n]), int64(n), false, nil
	})
}

// uploadFile writes size bytes of f to object, reading parts straight from
// the file.
func (s *Store) uploadFile(ctx context.Context, object string, f io.ReaderAt, size int64) (minio.UploadInfo, error) {
	part := int64(s.cfg.PartSize)
	if size <= part {
		return s.putSingle(ctx, object, io.NewSectionReader(f, 0, size), size)
	}
	var off int64
	return s.multipart(ctx, object, func(int) (io.Reader, int64, bool, error) {
		if off >= size {
			return nil, 0, true, nil
		}
		n := min(part, size-off)
		r := io.NewSectionReader(f, off, n)
		off += n
		return r, n, false, nil
	})
}

func (s *Store) putSingle(ctx context.Context, object string, r io.Reader, size int64) (minio.UploadInfo, error) {
	return s.client.PutObject(ctx, s.cfg.Bucket, object, r, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream", DisableMultipart: true,
	})
}

// multipart runs one multipart upload whose parts come from next. Any
// failure, a cancelled ctx included, aborts the upload by its own id (a
// concurrent upload of the same bytes is left alone), so no parts linger.
func (s *Store) multipart(ctx context.Context, object string, next func(part int) (r io.Reader, size int64, done bool, err error)) (info minio.UploadInfo, err error) {
	id, err := s.core.NewMultipartUpload(ctx, s.cfg.Bucket, object, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return minio.UploadInfo{}, err
	}
	defer func() {
		if err == nil {
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if aerr := s.core.AbortMultipartUpload(actx, s.cfg.Bucket, object, id); aerr != nil {
			slog.Warn("blob put: abort of a failed upload failed; the sweeper will retry", "object", object, "err", aerr)
		}
	}()
	var parts []minio.CompletePart
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return minio.UploadInfo{}, err
		}
		r, size, done, err := next(n)
		if err != nil {
			return minio.UploadInfo{}, err
		}
		if done {
			break
		}
		if n > maxParts {
			return minio.UploadInfo{}, fmt.Errorf("more than %d parts of %d bytes: raise the part size", maxParts, s.cfg.PartSize)
		}
		p, err := s.core.PutObjectPart(ctx, s.cfg.Bucket, object, id, n, r, size, minio.PutObjectPartOptions{})
		if err != nil {
			return minio.UploadInfo{}, fmt.Errorf("part %d: %w", n, err)
		}
		parts = append(parts, minio.CompletePart{
			PartNumber: n, ETag: p.ETag,
			ChecksumCRC32: p.ChecksumCRC32, ChecksumCRC32C: p.ChecksumCRC32C, ChecksumSHA1: p.ChecksumSHA1,
			ChecksumSHA256: p.ChecksumSHA256, ChecksumCRC64NVME: p.ChecksumCRC64NVME,
		})
	}
	info, err = s.core.CompleteMultipartUpload(ctx, s.cfg.Bucket, object, id, parts, minio.PutObjectOptions{})
	if err != nil {
		return minio.UploadInfo{}, err
	}
	if info.Size == 0 {
		// CompleteMultipartUpload does not report the size.
		st, err := s.client.StatObject(ctx, s.cfg.Bucket, object, minio.StatObjectOptions{VersionID: info.VersionID})
		if err != nil {
			return minio.UploadInfo{}, fmt.Errorf("stat after upload: %w", err)
		}
		info.Size = st.Size
	}
	return info, nil
}

// objectReaderAt reads one object version with ranged GETs, so a check can
// look at head and tail of a temporary object without downloading it.
type objectReaderAt struct {
	ctx     context.Context
	client  *minio.Client
	bucket  string
	object  string
	version string
	size    int64
}

func (o *objectReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("blob read: negative offset")
	}
	if off >= o.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), o.size-off)
	if want == 0 {
		return 0, nil
	}
	opts := minio.GetObjectOptions{VersionID: o.version}
	if err := opts.SetRange(off, off+want-1); err != nil {
		return 0, err
	}
	obj, err := o.client.GetObject(o.ctx, o.bucket, o.object, opts)
	if err != nil {
		return 0, fmt.Errorf("blob read: %w", err)
	}
	defer obj.Close()
	n, err := io.ReadFull(obj, p[:want])
	if err != nil {
		return n, fmt.Errorf("blob read: %w", err)
	}
	if want < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Open makes one GET: a plain object is read from its response (a missing
// one is reported from it too, with no HEAD first), and an appended blob's
// response names its parts, which are then read together (openAppended).
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := blob.ValidKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("blob open: negative offset %d", offset)
	}
	if length == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	opts := minio.GetObjectOptions{}
	ranged := offset > 0 || length >= 0
	if ranged {
		end := int64(0)
		if length >= 0 {
			end = offset + length - 1
		}
		if err := opts.SetRange(offset, end); err != nil {
			return nil, fmt.Errorf("blob open: %w", err)
		}
	}
	body, info, h, err := s.core.GetObject(ctx, s.cfg.Bucket, contentKey(key), opts)
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "NoSuchKey":
			return nil, blob.ErrNotFound
		case "InvalidRange":
			// Past the end of what is stored: an appended blob's tail is
			// shorter than its logical bytes, so ask what this is.
			return s.openByLayout(ctx, key, offset, length)
		}
		return nil, fmt.Errorf("blob open: %w", err)
	}
	l, err := parseLayout(key, h, storedSize(info, h))
	if err != nil {
		body.Close()
		return nil, fmt.Errorf("blob open: %w", err)
	}
	if l == nil {
		return body, nil
	}
	if ranged {
		// The range asked was of the logical bytes, not of this tail.
		body.Close()
		return s.openAppended(ctx, l, offset, length, nil)
	}
	return s.openAppended(ctx, l, offset, length, body)
}

// openByLayout opens a range the first GET found beyond what the object
// stores: an appended blob's logical bytes, or an error.
func (s *Store) openByLayout(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	st, err := s.client.StatObject(ctx, s.cfg.Bucket, contentKey(key), minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, blob.ErrNotFound
		}
		return nil, fmt.Errorf("blob open: %w", err)
	}
	l, err := parseLayout(key, st.Headers, st.Size)
	if err != nil {
		return nil, fmt.Errorf("blob open: %w", err)
	}
	if l == nil {
		return nil, fmt.Errorf("blob open: offset %d beyond the %d bytes", offset, st.Size)
	}
	return s.openAppended(ctx, l, offset, length, nil)
}

// Stat reports the logical size: an appended blob's whole bytes, not
// what its object stores.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if err := blob.ValidKey(key); err != nil {
		return blob.Info{}, err
	}
	st, err := s.client.StatObject(ctx, s.cfg.Bucket, contentKey(key), minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return blob.Info{}, blob.ErrNotFound
		}
		return blob.Info{}, fmt.Errorf("blob stat: %w", err)
	}
	size := st.Size
	l, err := parseLayout(key, st.Headers, st.Size)
	if err != nil {
		return blob.Info{}, fmt.Errorf("blob stat: %w", err)
	}
	if l != nil {
		size = l.size
	}
	return blob.Info{Key: key, Size: size, Modified: st.LastModified}, nil
}

// Delete removes every version of the object unless one is under
// retention or an appended blob is built on it (blob.ErrInUse). Removing
// an appended blob removes the marker that protected its base.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidKey(key); err != nil {
		return err
	}
	if err := s.checkNotInUse(ctx, key); err != nil {
		return err
	}
	var base string
	if st, err := s.client.StatObject(ctx, s.cfg.Bucket, contentKey(key), minio.StatObjectOptions{}); err == nil {
		// A broken layout is no reason to keep the object; its marker is
		// then left for the base's own Delete to find stale.
		if l, err := parseLayout(key, st.Headers, st.Size); err == nil && l != nil {
			base = l.parts[len(l.parts)-2].key
		}
	}
	if err := s.removeAllVersions(ctx, contentKey(key)); err != nil {
		return err
	}
	if base != "" {
		if err := s.removeAllVersions(ctx, refKey(base, key)); err != nil {
			return err
		}
	}
	return nil
}

// removeAllVersions checks every version for retention before removing any,
// so a refused delete leaves the object exactly as it was.
func (s *Store) removeAllVersions(ctx context.Context, object string) error {
	var versions []string
	for v := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: object, WithVersions: true}) {
		if v.Err != nil {
			return fmt.Errorf("blob delete: %w", v.Err)
		}
		if v.Key != object {
			continue
		}
		if !v.IsDeleteMarker {
			mode, until, err := s.client.GetObjectRetention(ctx, s.cfg.Bucket, object, v.VersionID)
			if err != nil && minio.ToErrorResponse(err).Code != "NoSuchObjectLockConfiguration" {
				return fmt.Errorf("blob delete %s: retention: %w", object, err)
			}
			if mode != nil && until != nil && time.Now().Before(*until) {
				return fmt.Errorf("blob %s: %w until %s", object, blob.ErrRetained, until.Format(time.RFC3339))
			}
		}
		versions = append(versions, v.VersionID)
	}
	for _, id := range versions {
		if err := s.client.RemoveObject(ctx, s.cfg.Bucket, object, minio.RemoveObjectOptions{VersionID: id}); err != nil {
			if minio.ToErrorResponse(err).Code == "AccessDenied" || minio.ToErrorResponse(err).Code == "ObjectLocked" {
				return fmt.Errorf("blob %s: %w: %v", object, blob.ErrRetained, err)
			}
			return fmt.Errorf("blob delete %s: %w", object, err)
		}
	}
	return nil
}

// PutKnown stores data with one PUT to its content key, with its
// retention when until is set, so the object is locked from its first
// moment. It serves bytes already in memory whose hash the caller
// computed; the key is checked against the bytes first (one more pass over
// memory, well under a millisecond a megabyte), so a wrong key stores
// nothing.
func (s *Store) PutKnown(ctx context.Context, key string, data []byte, until time.Time) (blob.Info, error) {
	if err := blob.ValidKey(key); err != nil {
		return blob.Info{}, err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != key {
		return blob.Info{}, fmt.Errorf("blob put: %w: the bytes are not %s", blob.ErrDigestMismatch, key)
	}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true}
	if !until.IsZero() {
		opts.Mode, opts.RetainUntilDate = s.mode, until.UTC()
	}
	up, err := s.client.PutObject(ctx, s.cfg.Bucket, contentKey(key), bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return blob.Info{}, fmt.Errorf("blob put: %w", err)
	}
	if up.Size != int64(len(data)) {
		return blob.Info{}, fmt.Errorf("blob put: %w: stored %d bytes, sent %d", blob.ErrDigestMismatch, up.Size, len(data))
	}
	return blob.Info{Key: key, Size: up.Size, Modified: up.LastModified}, nil
}

// Retain places an object-lock retention on the object's current version.
func (s *Store) Retain(ctx context.Context, key string, until time.Time) error {
	if err := blob.ValidKey(key); err != nil {
		return err
	}
	st, err := s.client.StatObject(ctx, s.cfg.Bucket, contentKey(key), minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return blob.ErrNotFound
		}
		return fmt.Errorf("blob retain: %w", err)
	}
	if !retainedUntil(st.Headers).Before(until) {
		return nil // already retained long enough (the HEAD says how long)
	}
	return s.retainVersion(ctx, key, st.VersionID, until)
}

// retainVersion places retention until until on one version of key.
func (s *Store) retainVersion(ctx context.Context, key, version string, until time.Time) error {
	until = until.UTC()
	if err := s.client.PutObjectRetention(ctx, s.cfg.Bucket, contentKey(key), minio.PutObjectRetentionOptions{
		VersionID: version, Mode: &s.mode, RetainUntilDate: &until,
	}); err != nil {
		return fmt.Errorf("blob retain: %w", err)
	}
	return nil
}

// List reports every content object with what it stores: an appended
// blob's Size is its appended bytes, not its logical size (Stat says
// that); markers under refs/ are not content and are not listed.
func (s *Store) List(ctx context.Context, fn func(blob.Info) error) error {
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: contentPrefix, Recursive: true}) {
		if o.Err != nil {
			return fmt.Errorf("blob list: %w", o.Err)
		}
		if err := fn(blob.Info{Key: strings.TrimPrefix(o.Key, contentPrefix), Size: o.Size, Modified: o.LastModified}); err != nil {
			return err
		}
	}
	return nil
}

// SweepTemporary removes what interrupted uploads left behind once older
// than grace: temporary objects under tmp/ (every version), multipart uploads
// never completed or aborted, and local spool files.
func (s *Store) SweepTemporary(ctx context.Context, grace time.Duration) (int, error) {
	n := 0
	if s.cfg.SpoolDir != "" {
		spooled, _ := filepath.Glob(filepath.Join(s.cfg.SpoolDir, spoolPattern))
		for _, p := range spooled {
			if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > grace && os.Remove(p) == nil {
				n++
			}
		}
	}
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: tmpPrefix, Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			return n, fmt.Errorf("blob sweep: %w", o.Err)
		}
		if time.Since(o.LastModified) > grace {
			if err := s.client.RemoveObject(ctx, s.cfg.Bucket, o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID}); err != nil {
				return n, fmt.Errorf("blob sweep %s: %w", o.Key, err)
			}
			n++
		}
	}
	// MinIO lists unfinished uploads either for one exact key or for the
	// whole bucket, not by prefix: list them all and pick ours.
	for u := range s.client.ListIncompleteUploads(ctx, s.cfg.Bucket, "", true) {
		if u.Err != nil {
			return n, fmt.Errorf("blob sweep: %w", u.Err)
		}
		ours := strings.HasPrefix(u.Key, tmpPrefix) || strings.HasPrefix(u.Key, contentPrefix)
		if ours && time.Since(u.Initiated) > grace {
			if err := s.core.AbortMultipartUpload(ctx, s.cfg.Bucket, u.Key, u.UploadID); err != nil {
				return n, fmt.Errorf("blob sweep %s: %w", u.Key, err)
			}
			n++
		}
	}
	return n, nil
}

func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("s3 ping: %w", err)
	}
	if !ok {
		return fmt.Errorf("s3 bucket %s does not exist", s.cfg.Bucket)
	}
	return nil
}

var _ blob.KnownPutter = (*Store)(nil)
