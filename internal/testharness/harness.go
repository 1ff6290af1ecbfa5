package testharness

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The services this test binary started itself, because the environment
// named none. PostgreSQL and MinIO start separately, on first use, so a
// package that needs only one does not pay for the other.
var (
	own      Services
	pgOnce   sync.Once
	pgErr    error
	s3Once   sync.Once
	s3Err    error
	ownMu    sync.Mutex
	ownInUse bool
)

// Main is the body of a package's TestMain: it runs the tests, stops the
// services this process had to start, and exits with the tests' status.
func Main(m *testing.M) {
	code := m.Run()
	ownMu.Lock()
	if ownInUse {
		own.Stop()
	}
	ownMu.Unlock()
	os.Exit(code)
}

// postgresURL is the maintenance URL of the run's cluster.
func postgresURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvPostgresURL); u != "" {
		return u
	}
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		ownMu.Lock()
		defer ownMu.Unlock()
		ownInUse = true
		pgErr = own.startPostgres(ctx)
	})
	if pgErr != nil {
		t.Fatalf("test postgres: %v", pgErr)
	}
	return own.PostgresURL
}

// s3Server returns the endpoint and root credentials of the run's MinIO.
func s3Server(t testing.TB) (endpoint, access, secret string) {
	t.Helper()
	if e := os.Getenv(EnvS3Endpoint); e != "" {
		return e, os.Getenv(EnvS3AccessKey), os.Getenv(EnvS3SecretKey)
	}
	s3Once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		ownMu.Lock()
		defer ownMu.Unlock()
		ownInUse = true
		s3Err = own.startMinIO(ctx)
	})
	if s3Err != nil {
		t.Fatalf("test minio: %v", s3Err)
	}
	return own.S3Endpoint, own.S3AccessKey, own.S3SecretKey
}

// Postgres creates an empty database for this test and returns its URL; the
// database is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := postgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer conn.Close(ctx)
	name := "t_" + randomHex(8)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// FORCE: a pool the test forgot to close must not keep the database.
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("test postgres url: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// S3Config locates one bucket on the shared MinIO server.
type S3Config struct {
	Endpoint, AccessKey, SecretKey, Bucket string
	UseSSL                                 bool
}

// MinIO creates a bucket with object lock (which implies versioning) for this
// test. At cleanup its objects are removed, bypassing GOVERNANCE retention;
// a bucket holding COMPLIANCE-retained objects stays until the server's data
// directory is removed at the end of the run.
func MinIO(t testing.TB) S3Config {
	t.Helper()
	endpoint, access, secret := s3Server(t)
	cfg := S3Config{Endpoint: endpoint, AccessKey: access, SecretKey: secret, Bucket: "t-" + randomHex(8)}
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatalf("minio client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatalf("create test bucket: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := emptyAndRemoveBucket(ctx, client, cfg.Bucket); err != nil {
			t.Logf("remove test bucket %s: %v", cfg.Bucket, err)
		}
	})
	return cfg
}

func emptyAndRemoveBucket(ctx context.Context, client *minio.Client, bucket string) error {
	for u := range client.ListIncompleteUploads(ctx, bucket, "", true) {
		if u.Err == nil {
			_ = client.RemoveIncompleteUpload(ctx, bucket, u.Key)
		}
	}
	objects := make(chan minio.ObjectInfo)
	go func() {
		defer close(objects)
		for o := range client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
			if o.Err != nil {
				return
			}
			objects <- o
		}
	}()
	var errs []error
	for e := range client.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{GovernanceBypass: true}) {
		errs = append(errs, e.Err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return client.RemoveBucket(ctx, bucket)
}

// Tool returns the path of an external command, or fails the test with the
// command that installs it.
func Tool(t testing.TB, name, debPkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed by this test; install it with: apt-get install -y %s", name, debPkg)
	}
	return p
}
