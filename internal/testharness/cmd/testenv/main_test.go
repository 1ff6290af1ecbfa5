package main

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
)

// envFile parses the `env` output a child wrote.
func envFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("child did not record its environment: %v", err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// assertTornDown checks that the services a child was given are gone.
func assertTornDown(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range []string{testharness.EnvPostgresURL, testharness.EnvS3Endpoint, testharness.EnvS3AccessKey, testharness.EnvS3SecretKey} {
		if env[k] == "" {
			t.Fatalf("child environment lacks %s", k)
		}
	}
	u, err := url.Parse(env[testharness.EnvPostgresURL])
	if err != nil {
		t.Fatal(err)
	}
	if sock := u.Query().Get("host"); sock == "" {
		t.Errorf("postgres URL %s has no socket directory", u)
	} else if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("postgres socket directory %s still there: %v", sock, err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	if resp, err := client.Get("http://" + env[testharness.EnvS3Endpoint] + "/minio/health/live"); err == nil {
		resp.Body.Close()
		t.Errorf("minio at %s still answers", env[testharness.EnvS3Endpoint])
	}
}

func TestRunPassesServicesAndStatus(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   int
	}{
		{"exit code", `env > "$F"; exit 7`, 7},
		{"killed by a signal", `env > "$F"; kill -TERM $$`, 128 + int(syscall.SIGTERM)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "env")
			t.Setenv("F", f)
			var log bytes.Buffer
			if got := run([]string{"sh", "-c", tc.script}, nil, &log); got != tc.want {
				t.Fatalf("status %d, want %d; log: %s", got, tc.want, log.String())
			}
			env := envFile(t, f)
			if strings.Contains(log.String(), env[testharness.EnvS3SecretKey]) {
				t.Error("the log shows the MinIO secret key")
			}
			assertTornDown(t, env)
		})
	}
}

func TestSIGTERMTearsDown(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "testenv")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f := filepath.Join(t.TempDir(), "env")
	cmd := exec.Command(bin, "--", "sh", "-c", `env > "$F.tmp"; mv "$F.tmp" "$F"; exec sleep 300`)
	cmd.Env = append(os.Environ(), "F="+f)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(f); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("child never ran; testenv said: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := cmd.ProcessState.ExitCode(); code != 128+int(syscall.SIGTERM) {
			t.Errorf("exit status %d (%v), want %d; stderr: %s", code, err, 128+int(syscall.SIGTERM), stderr.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("testenv did not exit after SIGTERM")
	}
	assertTornDown(t, envFile(t, f))
}
