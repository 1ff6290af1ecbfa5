package s3

import (
	"context"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/blobtest"
)

func TestMain(m *testing.M) { testharness.Main(m) }

func TestContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		cfg := testharness.MinIO(t)
		s, err := New(context.Background(), Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewCreatesLockedBucket(t *testing.T) {
	cfg := testharness.MinIO(t)
	s, err := New(context.Background(), Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket + "-new"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
