package testharness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func TestMain(m *testing.M) { Main(m) }

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, postgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestEachTestGetsItsOwnDatabase(t *testing.T) {
	ctx := context.Background()
	var names []string
	t.Run("inner", func(t *testing.T) {
		a, b := Postgres(t), Postgres(t)
		if a == b {
			t.Fatal("two calls returned the same database")
		}
		for _, u := range []string{a, b} {
			conn, err := pgx.Connect(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			var db string
			err = conn.QueryRow(ctx, "SELECT current_database()").Scan(&db)
			if err == nil {
				// Each database starts empty and is writable.
				_, err = conn.Exec(ctx, "CREATE TABLE t (v int)")
			}
			conn.Close(ctx)
			if err != nil || !strings.HasPrefix(db, "t_") {
				t.Fatalf("database %q, %v", db, err)
			}
			names = append(names, db)
		}
	})
	if len(names) != 2 {
		t.Fatalf("inner test made %d databases", len(names))
	}
	for _, n := range names {
		if databaseExists(t, n) {
			t.Errorf("database %s survived its test", n)
		}
	}
}

func TestBucketHasObjectLockAndIsRemoved(t *testing.T) {
	var cfg S3Config
	t.Run("inner", func(t *testing.T) {
		cfg = MinIO(t)
		client := s3Client(t, cfg)
		ctx := context.Background()
		enabled, _, _, _, err := client.GetObjectLockConfig(ctx, cfg.Bucket)
		if err != nil || enabled != "Enabled" {
			t.Fatalf("object lock %q, %v", enabled, err)
		}
		v, err := client.GetBucketVersioning(ctx, cfg.Bucket)
		if err != nil || !v.Enabled() {
			t.Fatalf("versioning %+v, %v", v, err)
		}
		// A retained object must not stop the cleanup (GOVERNANCE is bypassed).
		info, err := client.PutObject(ctx, cfg.Bucket, "x", strings.NewReader("giữ lại"), -1, minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mode, until := minio.Governance, time.Now().Add(time.Hour)
		if err := client.PutObjectRetention(ctx, cfg.Bucket, "x", minio.PutObjectRetentionOptions{VersionID: info.VersionID, Mode: &mode, RetainUntilDate: &until}); err != nil {
			t.Fatal(err)
		}
	})
	if ok, err := s3Client(t, cfg).BucketExists(context.Background(), cfg.Bucket); err != nil || ok {
		t.Fatalf("bucket %s after its test: exists %v, %v", cfg.Bucket, ok, err)
	}
}

func s3Client(t *testing.T, cfg S3Config) *minio.Client {
	t.Helper()
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fatalTB records Fatalf instead of failing the real test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// capture runs fn with a TB whose Fatalf ends fn and is returned.
func capture(t *testing.T, fn func(tb testing.TB)) (fatal string) {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(tb)
	}()
	<-done
	return tb.msg
}

func TestTool(t *testing.T) {
	tests := []struct {
		name, cmd, pkg string
		wantFatal      string
	}{
		{"installed", "sh", "dash", ""},
		{"missing", "vanthu-no-such-tool", "vanthu-pkg", "install it with: apt-get install -y vanthu-pkg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var path string
			fatal := capture(t, func(tb testing.TB) { path = Tool(tb, tc.cmd, tc.pkg) })
			if tc.wantFatal == "" {
				if fatal != "" || filepath.Base(path) != tc.cmd {
					t.Fatalf("path %q, fatal %q", path, fatal)
				}
				return
			}
			if !strings.Contains(fatal, tc.wantFatal) {
				t.Fatalf("fatal %q, want it to contain %q", fatal, tc.wantFatal)
			}
		})
	}
}

func TestMinIOBinary(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "minio-noexec")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "minio")
	if err := os.WriteFile(good, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bin string
		ok        bool
	}{
		{"missing", filepath.Join(dir, "nope"), false},
		{"directory", dir, false},
		{"not executable", notExec, false},
		{"present", good, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("VANTHU_MINIO_BIN", tc.bin)
			p, err := MinIOBinary()
			if tc.ok {
				if err != nil || p != tc.bin {
					t.Fatalf("%q, %v", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "run `make minio`") {
				t.Fatalf("want an error telling to run `make minio`, got %v", err)
			}
		})
	}
}

func TestStartServicesAndStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := StartServices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			s.Stop()
		}
	}()
	env := strings.Join(s.Env(), "\n")
	for _, k := range []string{EnvPostgresURL, EnvS3Endpoint, EnvS3AccessKey, EnvS3SecretKey} {
		if !strings.Contains(env, k+"=") {
			t.Errorf("Env lacks %s", k)
		}
	}
	if strings.Contains(s.String(), s.S3SecretKey) {
		t.Error("String() shows the secret key")
	}
	if !strings.HasPrefix(s.S3Endpoint, "127.0.0.1:") {
		t.Errorf("minio listens on %s, want loopback", s.S3Endpoint)
	}
	conn, err := pgx.Connect(ctx, s.PostgresURL)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	dirs := append([]string(nil), s.dirs...)
	s.Stop()
	stopped = true
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", d, err)
		}
	}
	client := &http.Client{Timeout: 2 * time.Second}
	if resp, err := client.Get("http://" + s.S3Endpoint + "/minio/health/live"); err == nil {
		resp.Body.Close()
		t.Error("minio still answers after Stop")
	}
	if conn, err := pgx.Connect(ctx, s.PostgresURL); err == nil {
		conn.Close(ctx)
		t.Error("postgres still accepts connections after Stop")
	}
}
