package pgembed

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "pg")
	srv, err := Start(ctx, dir, "vanthu")
	if err != nil {
		t.Fatal(err)
	}
	exec := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('đã lưu')")
	srv.Stop()

	srv, err = Start(ctx, dir, "vanthu")
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer srv.Stop()
	conn, err := pgx.Connect(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "đã lưu" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}

func TestMissingBinariesNamesPackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := FindBinDir(); err != nil && err != ErrNoBinaries {
		t.Fatalf("unexpected error %v", err)
	}
	if !strings.Contains(ErrNoBinaries.Error(), "apt-get install -y postgresql") {
		t.Fatalf("message does not name the package: %v", ErrNoBinaries)
	}
}

func TestStalePIDFileIsRemoved(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "pg")
	srv, err := Start(ctx, dir, "vanthu")
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	// Simulate a server killed with its parent: a postmaster.pid naming a dead process.
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	if err := os.WriteFile(pidFile, []byte("999999\n"+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err = Start(ctx, dir, "vanthu")
	if err != nil {
		t.Fatalf("start after stale pid file: %v", err)
	}
	srv.Stop()
}
