package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeRecoversFromKilledDatabase kills the embedded postmaster with
// SIGKILL: the API answers 503 problem+json with Retry-After (never 500)
// while it is gone, /healthz keeps answering, serve restarts PostgreSQL
// (logged) and the API works again without a restart of serve.
func TestServeRecoversFromKilledDatabase(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "var")
	s := startService(t, dataDir)
	token := newDrafter(t, s.url, readToken(t, dataDir))
	list := func() (int, http.Header, []byte) {
		req, _ := http.NewRequest("GET", s.url+"/api/v1/documents", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("the service stopped answering: %v\n%s", err, s.logs)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	if status, _, b := list(); status != 200 {
		t.Fatalf("before: %d %s", status, b)
	}

	pidFile := filepath.Join(dataDir, "pg", "data", "postmaster.pid")
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	unavailable := 0
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, hdr, b := list()
		if status == 200 && unavailable > 0 {
			break
		}
		switch status {
		case http.StatusServiceUnavailable:
			var p struct{ Type string }
			if json.Unmarshal(b, &p) != nil || p.Type != "/problems/database-unavailable" || hdr.Get("Retry-After") == "" || hdr.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("503 without the problem or Retry-After: %v %s", hdr, b)
			}
			unavailable++
		case http.StatusOK:
			// Answered before the pool noticed: the next try will.
		default:
			t.Fatalf("while the database was down: %d %s\n%s", status, b, s.logs)
		}
		if resp, err := http.Get(s.url + "/healthz"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("/healthz while the database was down: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API did not recover within two minutes (%d answers 503)\n%s", unavailable, s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The supervisor logs the restart once its start returns, which may be
	// just after the API got its first connection: wait for the lines.
	for _, want := range []string{"embedded postgres exited; restarting it", "embedded postgres restarted"} {
		logged := time.Now().Add(time.Minute)
		for !strings.Contains(s.logs.String(), want) && time.Now().Before(logged) {
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(s.logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, s.logs)
		}
	}
	s.stop(t)
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Fatalf("PostgreSQL still running after the service stopped: %v", err)
	}
}
