// Package s3 keeps blobs in a MinIO (or other S3-compatible) bucket with
// versioning and object lock, so a retained document version can be neither
// deleted nor overwritten, even by the service itself.
package s3

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
	// PartSize is the multipart part size; default 16 MiB.
	PartSize uint64
	// SpoolDir holds uploads while they are hashed; default the system's
	// temporary directory.
	SpoolDir string
}

const contentPrefix = "sha256/"

// Store is a content-addressed blob store in one bucket.
type Store struct {
	client *minio.Client
	cfg    Config
	mode   minio.RetentionMode
}

// New connects and creates the bucket with object lock when it is missing.
func New(ctx context.Context, cfg Config) (*Store, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.UseSSL})
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 16 << 20
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
	mode := minio.Governance
	switch strings.ToUpper(cfg.RetentionMode) {
	case "", "GOVERNANCE":
	case "COMPLIANCE":
		mode = minio.Compliance
	default:
		return nil, fmt.Errorf("s3 retention mode %q: want GOVERNANCE or COMPLIANCE", cfg.RetentionMode)
	}
	s := &Store{client: client, cfg: cfg, mode: mode}
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

// Put spools the stream to a local temporary file while hashing it, then
// uploads the file under its content key. The object appears only when the
// upload completes (an unfinished multipart upload is never readable), no
// server-side copy is needed, and parts are sent in parallel straight from
// the file, so memory stays small whatever the size.
func (s *Store) Put(ctx context.Context, r io.Reader, opts blob.PutOptions) (blob.Info, error) {
	sp, err := blob.Spool(ctx, s.cfg.SpoolDir, spoolPattern, r, opts)
	if err != nil {
		return blob.Info{}, err
	}
	defer sp.Close()
	if info, err := s.Stat(ctx, sp.Key); err == nil {
		return info, nil
	}
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, contentKey(sp.Key), io.NewSectionReader(sp.File, 0, sp.Size), sp.Size, minio.PutObjectOptions{
		PartSize:    s.cfg.PartSize,
		ContentType: "application/octet-stream",
	}); err != nil {
		return blob.Info{}, fmt.Errorf("blob put: %w", err)
	}
	info, err := s.Stat(ctx, sp.Key)
	if err != nil {
		return blob.Info{}, err
	}
	if info.Size != sp.Size {
		return blob.Info{}, fmt.Errorf("blob put: %w: stored %d bytes, read %d", blob.ErrDigestMismatch, info.Size, sp.Size)
	}
	return info, nil
}

// spoolPattern names local temporary files so a restart can sweep them.
const spoolPattern = "vanthu-spool-*"

func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := blob.ValidKey(key); err != nil {
		return nil, err
	}
	opts := minio.GetObjectOptions{}
	if offset > 0 || length >= 0 {
		end := int64(0)
		if length >= 0 {
			end = offset + length - 1
			if length == 0 {
				return io.NopCloser(strings.NewReader("")), nil
			}
		}
		if err := opts.SetRange(offset, end); err != nil {
			return nil, fmt.Errorf("blob open: %w", err)
		}
	}
	if _, err := s.Stat(ctx, key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, contentKey(key), opts)
	if err != nil {
		return nil, fmt.Errorf("blob open: %w", err)
	}
	return obj, nil
}

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
	return blob.Info{Key: key, Size: st.Size, Modified: st.LastModified}, nil
}

// Delete removes every version of the object unless one is under retention.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidKey(key); err != nil {
		return err
	}
	return s.removeAllVersions(ctx, contentKey(key))
}

func (s *Store) removeAllVersions(ctx context.Context, object string) error {
	for v := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: object, WithVersions: true}) {
		if v.Err != nil {
			return fmt.Errorf("blob delete: %w", v.Err)
		}
		if v.Key != object {
			continue
		}
		if !v.IsDeleteMarker {
			mode, until, err := s.client.GetObjectRetention(ctx, s.cfg.Bucket, object, v.VersionID)
			if err == nil && mode != nil && until != nil && time.Now().Before(*until) {
				return fmt.Errorf("blob %s: %w until %s", object, blob.ErrRetained, until.Format(time.RFC3339))
			}
		}
		if err := s.client.RemoveObject(ctx, s.cfg.Bucket, object, minio.RemoveObjectOptions{VersionID: v.VersionID}); err != nil {
			return fmt.Errorf("blob delete %s: %w", object, err)
		}
	}
	return nil
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
	if _, cur, err := s.client.GetObjectRetention(ctx, s.cfg.Bucket, contentKey(key), st.VersionID); err == nil && cur != nil && !cur.Before(until) {
		return nil
	}
	until = until.UTC()
	if err := s.client.PutObjectRetention(ctx, s.cfg.Bucket, contentKey(key), minio.PutObjectRetentionOptions{
		VersionID: st.VersionID, Mode: &s.mode, RetainUntilDate: &until,
	}); err != nil {
		return fmt.Errorf("blob retain: %w", err)
	}
	return nil
}

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

// SweepTemporary removes spool files and aborts multipart uploads that a
// killed process left behind.
func (s *Store) SweepTemporary(ctx context.Context, grace time.Duration) (int, error) {
	n := 0
	spooled, _ := filepath.Glob(filepath.Join(s.cfg.SpoolDir, spoolPattern))
	for _, p := range spooled {
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > grace && os.Remove(p) == nil {
			n++
		}
	}
	for u := range s.client.ListIncompleteUploads(ctx, s.cfg.Bucket, contentPrefix, true) {
		if u.Err != nil {
			return n, fmt.Errorf("blob sweep: %w", u.Err)
		}
		if time.Since(u.Initiated) > grace {
			if err := s.client.RemoveIncompleteUpload(ctx, s.cfg.Bucket, u.Key); err == nil {
				n++
			}
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
