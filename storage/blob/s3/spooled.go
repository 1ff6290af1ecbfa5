package s3

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vanthu/vanthu/storage/blob"
)

// SpoolPattern names local temporary files so a restart can sweep them.
const SpoolPattern = "vanthu-spool-*"

const spoolPattern = SpoolPattern

// maxSinglePut is S3's limit for one PUT; larger objects go up in parts.
const maxSinglePut = 5 << 30

// putSpooled receives the whole stream locally, hashing and checking it,
// and then uploads it under its content key.
func (s *Store) putSpooled(ctx context.Context, r io.Reader, opts blob.PutOptions) (blob.Info, error) {
	b, err := blob.Buffer(ctx, r, blob.BufferOptions{PutOptions: opts, Memory: s.mem, Dir: s.cfg.SpoolDir, Pattern: spoolPattern})
	if err != nil {
		return blob.Info{}, err
	}
	defer b.Close()
	if info, err := s.Stat(ctx, b.Key); err == nil {
		return info, nil
	}
	if b.Size > maxSinglePut {
		if _, err := s.uploadFile(ctx, contentKey(b.Key), b, b.Size); err != nil {
			return blob.Info{}, fmt.Errorf("blob put: %w", err)
		}
		return s.statStored(ctx, b.Key, b.Size)
	}
	if err := s.putVerified(ctx, b.Key, io.NewSectionReader(b, 0, b.Size), b.Size); err != nil {
		return blob.Info{}, err
	}
	return blob.Info{Key: b.Key, Size: b.Size, Modified: time.Now()}, nil
}

// putVerified uploads size bytes under the content key in one PUT whose
// signed X-Amz-Content-Sha256 is the key itself: MinIO hashes what arrives
// and refuses to store it unless it matches, so the object at a content key
// is always the content that key names, whatever happened on the way. It
// also spares minio-go a hash of its own (the streaming signature it uses
// on plain HTTP by default hashes every chunk).
func (s *Store) putVerified(ctx context.Context, key string, r io.ReadSeeker, size int64) error {
	_, err := s.core.PutObject(ctx, s.cfg.Bucket, contentKey(key), r, size, "", key, minio.PutObjectOptions{
		ContentType: "application/octet-stream", DisableContentSha256: true,
	})
	if minio.ToErrorResponse(err).Code == "XAmzContentSHA256Mismatch" {
		return fmt.Errorf("blob put %s: %w: MinIO received other bytes", key, blob.ErrDigestMismatch)
	}
	if err != nil {
		return fmt.Errorf("blob put %s: %w", key, err)
	}
	return nil
}
