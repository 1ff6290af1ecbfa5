package pgembed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func exec1(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

func readKept(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil {
		t.Fatalf("reading kept row: %v", err)
	}
	return v
}

func TestStartRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		// privateSocket: the socket path would overflow sun_path, so the
		// server must use a short private directory instead.
		privateSocket bool
	}{
		{"short path", func(t *testing.T) string { return filepath.Join(t.TempDir(), "pg") }, false},
		{"deep path", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), strings.Repeat("thư-mục-rất-dài/", 6), "pg")
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			srv, err := Start(ctx, dir, "vanthu")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.HasPrefix(srv.socketDir, dir); got == tc.privateSocket {
				t.Errorf("socket dir %s inside data dir: %v, want %v", srv.socketDir, got, !tc.privateSocket)
			}
			if !strings.Contains(srv.URL(), "/vanthu?") {
				t.Errorf("URL %s does not name database vanthu", srv.URL())
			}
			exec1(t, srv.URL(), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('đã lưu')")
			srv.Stop()
			if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("postmaster.pid after a clean stop: %v", err)
			}
			if tc.privateSocket {
				if _, err := os.Stat(srv.socketDir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("private socket dir left behind: %v", err)
				}
			}

			srv, err = Start(ctx, dir, "vanthu")
			if err != nil {
				t.Fatalf("restart: %v", err)
			}
			defer srv.Stop()
			if v := readKept(t, srv.URL()); v != "đã lưu" {
				t.Fatalf("after restart: %q", v)
			}
			if log, err := os.ReadFile(filepath.Join(dir, "postgres.log")); err != nil || !strings.Contains(string(log), "database system is ready") {
				t.Errorf("server log in the data dir: %v %q", err, log)
			}
		})
	}
}

func TestListensOnlyOnUnixSocket(t *testing.T) {
	ctx := context.Background()
	srv, err := Start(ctx, filepath.Join(t.TempDir(), "pg"), "vanthu", Setting("fsync", "off"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	conn, err := pgx.Connect(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, c := range []struct{ setting, want string }{
		{"listen_addresses", ""},
		{"unix_socket_permissions", "0700"},
		{"fsync", "off"}, // passed through Setting
	} {
		var got string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", c.setting).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s = %q (%v), want %q", c.setting, got, err, c.want)
		}
	}
	if os.Geteuid() == 0 {
		var owner string
		if err := conn.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&owner); err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(owner, &st); err != nil || st.Uid == 0 {
			t.Errorf("running as root, the data directory must belong to an unprivileged account (uid %d, %v)", st.Uid, err)
		}
	}
}

func TestFindBinDir(t *testing.T) {
	mk := func(t *testing.T, root string, versions map[string][]string) {
		for v, files := range versions {
			d := filepath.Join(root, v, "bin")
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if err := os.WriteFile(filepath.Join(d, f), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	both := []string{"postgres", "initdb"}
	tests := []struct {
		name     string
		versions map[string][]string
		want     string // version directory, or "" for ErrNoBinaries
	}{
		{"none installed", nil, ""},
		{"newest first", map[string][]string{"9.6": both, "15": both, "13": both}, "15"},
		{"version without initdb is skipped", map[string][]string{"16": {"postgres"}, "14": both}, "14"},
		{"only client tools", map[string][]string{"15": {"psql"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			mk(t, root, tc.versions)
			t.Setenv("PATH", t.TempDir())
			old := binGlob
			binGlob = filepath.Join(root, "*", "bin")
			defer func() { binGlob = old }()

			got, err := FindBinDir()
			if tc.want == "" {
				if !errors.Is(err, ErrNoBinaries) {
					t.Fatalf("got %q, %v; want ErrNoBinaries", got, err)
				}
				if !strings.Contains(err.Error(), "apt-get install -y postgresql") {
					t.Fatalf("message does not say how to install: %v", err)
				}
				if _, err := Start(context.Background(), t.TempDir(), "vanthu"); !errors.Is(err, ErrNoBinaries) {
					t.Fatalf("Start without binaries: %v", err)
				}
				return
			}
			if err != nil || got != filepath.Join(root, tc.want, "bin") {
				t.Fatalf("got %q, %v; want version %s", got, err, tc.want)
			}
		})
	}
}

func TestStalePIDFile(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "pg")
	srv, err := Start(ctx, dir, "vanthu")
	if err != nil {
		t.Fatal(err)
	}
	exec1(t, srv.URL(), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('còn')")

	// A second server on the same data while the first runs must be refused.
	old := stalePIDWait
	stalePIDWait = 500 * time.Millisecond
	defer func() { stalePIDWait = old }()
	if second, err := Start(ctx, dir, "vanthu"); err == nil || !strings.Contains(err.Error(), "another server") {
		if second != nil {
			second.Stop()
		}
		t.Fatalf("second server on the same data: %v", err)
	}
	srv.Stop()

	deadPID := func(t *testing.T) int {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		return cmd.Process.Pid
	}
	tests := []struct {
		name string
		pid  func(t *testing.T) int
	}{
		{"process gone", deadPID},
		{"pid reused by another program", func(*testing.T) int { return os.Getpid() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pidFile := filepath.Join(dir, "data", "postmaster.pid")
			content := fmt.Sprintf("%d\n%s\n", tc.pid(t), filepath.Join(dir, "data"))
			if err := os.WriteFile(pidFile, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			srv, err := Start(ctx, dir, "vanthu")
			if err != nil {
				t.Fatalf("start over a stale pid file: %v", err)
			}
			defer srv.Stop()
			if v := readKept(t, srv.URL()); v != "còn" {
				t.Fatalf("data after restart: %q", v)
			}
		})
	}
}

// TestHelperServer is not a test: TestServerDiesWithParent runs the test
// binary again with VANTHU_PGEMBED_HELPER set, and this starts a server there
// and waits to be killed.
func TestHelperServer(t *testing.T) {
	dir := os.Getenv("VANTHU_PGEMBED_HELPER")
	if dir == "" {
		return
	}
	srv, err := Start(context.Background(), dir, "vanthu")
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	exec1(t, srv.URL(), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('sống sót')")
	fmt.Println("READY")
	select {}
}

func TestServerDiesWithParent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pg")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$", "-test.v")
	cmd.Env = append(os.Environ(), "VANTHU_PGEMBED_HELPER="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := sc.Text(); l == "READY" || strings.HasPrefix(l, "ERROR") {
				ready <- l
			}
		}
		close(ready)
	}()
	select {
	case l := <-ready:
		if l != "READY" {
			t.Fatalf("helper: %s", l)
		}
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("helper did not start its server")
	}
	pid, ok := readPID(filepath.Join(dir, "data", "postmaster.pid"))
	if !ok {
		t.Fatal("no postmaster.pid while the helper's server runs")
	}

	// SIGKILL: vanthu gets no chance to stop the server itself.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// Restarting right away must wait for the orphan's shutdown, not fail.
	srv, err := Start(context.Background(), dir, "vanthu")
	if err != nil {
		t.Fatalf("restart after the parent was killed: %v", err)
	}
	defer srv.Stop()
	if alive(pid) {
		t.Fatalf("the killed parent's postgres (pid %d) is still running", pid)
	}
	if v := readKept(t, srv.URL()); v != "sống sót" {
		t.Fatalf("data after the parent was killed: %q", v)
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
