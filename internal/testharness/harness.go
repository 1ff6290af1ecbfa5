package testharness

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

var (
	shared     *Services
	sharedErr  error
	sharedOnce sync.Once
)

// Main is the body of a package's TestMain: it runs the tests and, if this
// process had to start its own services, stops them afterwards.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// services returns the run's shared services: those `make test` passed in the
// environment, or ones this process starts on first use.
func services(t testing.TB) *Services {
	t.Helper()
	if u := os.Getenv(EnvPostgresURL); u != "" {
		return &Services{
			PostgresURL: u,
			S3Endpoint:  os.Getenv(EnvS3Endpoint),
			S3AccessKey: os.Getenv(EnvS3AccessKey),
			S3SecretKey: os.Getenv(EnvS3SecretKey),
		}
	}
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared, sharedErr = StartServices(ctx)
	})
	if sharedErr != nil {
		t.Fatalf("test services: %v", sharedErr)
	}
	return shared
}

// Postgres creates an empty database for this test and returns its URL; the
// database is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	svc := services(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, svc.PostgresURL)
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer conn.Close(ctx)
	name := "t_" + randomHex(8)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, svc.PostgresURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(svc.PostgresURL)
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

// MinIO creates a bucket with versioning and object lock for this test.
// Objects under retention outlive the test; the server's data directory is
// removed at the end of the run.
func MinIO(t testing.TB) S3Config {
	t.Helper()
	svc := services(t)
	cfg := S3Config{Endpoint: svc.S3Endpoint, AccessKey: svc.S3AccessKey, SecretKey: svc.S3SecretKey, Bucket: "t-" + randomHex(8)}
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatalf("minio client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatalf("create test bucket: %v", err)
	}
	return cfg
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

// Describe is used in failure messages to say where the shared services run.
func (s *Services) String() string {
	return fmt.Sprintf("postgres %s, minio %s", strings.SplitN(s.PostgresURL, "?", 2)[0], s.S3Endpoint)
}
