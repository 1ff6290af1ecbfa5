package testharness

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func TestMain(m *testing.M) { Main(m) }

func TestEachTestGetsItsOwnDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := Postgres(t), Postgres(t)
	if a == b {
		t.Fatal("two calls returned the same database")
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || !strings.HasPrefix(db, "t_") {
		t.Fatalf("database %q, %v", db, err)
	}
}

func TestBucketHasObjectLock(t *testing.T) {
	cfg := MinIO(t)
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	enabled, _, _, _, err := client.GetObjectLockConfig(context.Background(), cfg.Bucket)
	if err != nil || enabled != "Enabled" {
		t.Fatalf("object lock %q, %v", enabled, err)
	}
}

func TestToolNamesInstallCommand(t *testing.T) {
	if p := Tool(t, "sh", "dash"); p == "" {
		t.Fatal("sh not found")
	}
}
