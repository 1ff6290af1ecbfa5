package testharness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/vanthu/vanthu/storage/pgembed"
)

// Environment variables through which `make test` hands the shared services to
// every package's test binary.
const (
	EnvPostgresURL = "VANTHU_TEST_PG_URL"
	EnvS3Endpoint  = "VANTHU_TEST_S3_ENDPOINT"
	EnvS3AccessKey = "VANTHU_TEST_S3_ACCESS_KEY"
	EnvS3SecretKey = "VANTHU_TEST_S3_SECRET_KEY"
)

// Services are the shared PostgreSQL cluster and MinIO server of one run.
type Services struct {
	PostgresURL string // maintenance database of the cluster
	S3Endpoint  string
	S3AccessKey string
	S3SecretKey string

	pg    *pgembed.Server
	minio *exec.Cmd
	dirs  []string
}

// Env returns the variables that pass the services to child processes.
func (s *Services) Env() []string {
	return []string{
		EnvPostgresURL + "=" + s.PostgresURL,
		EnvS3Endpoint + "=" + s.S3Endpoint,
		EnvS3AccessKey + "=" + s.S3AccessKey,
		EnvS3SecretKey + "=" + s.S3SecretKey,
	}
}

// StartServices starts a throwaway PostgreSQL cluster and a MinIO server.
func StartServices(ctx context.Context) (*Services, error) {
	s := &Services{}
	pgDir, err := os.MkdirTemp("", "vanthu-test-pg-")
	if err != nil {
		return nil, err
	}
	s.dirs = append(s.dirs, pgDir)
	if s.pg, err = pgembed.Start(ctx, pgDir, "postgres"); err != nil {
		s.Stop()
		return nil, fmt.Errorf("test postgres: %w", err)
	}
	s.PostgresURL = s.pg.AdminURL()
	if err := s.startMinIO(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// MinIOBinary is where the MinIO server is expected: $VANTHU_MINIO_BIN, else
// the tools directory that `make minio` fills.
func MinIOBinary() (string, error) {
	p := os.Getenv("VANTHU_MINIO_BIN")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "vanthu-tools", "minio")
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("MinIO server not found at %s: build it with `make minio`", p)
	}
	return p, nil
}

func (s *Services) startMinIO(ctx context.Context) error {
	bin, err := MinIOBinary()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "vanthu-test-minio-")
	if err != nil {
		return err
	}
	s.dirs = append(s.dirs, dir)
	port, err := freePort()
	if err != nil {
		return err
	}
	consolePort, err := freePort()
	if err != nil {
		return err
	}
	s.S3Endpoint = "127.0.0.1:" + strconv.Itoa(port)
	s.S3AccessKey = "vanthu" + randomHex(4)
	s.S3SecretKey = randomHex(20)
	cmd := exec.Command(bin, "server", "--quiet", "--address", s.S3Endpoint, "--console-address", "127.0.0.1:"+strconv.Itoa(consolePort), filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+s.S3AccessKey, "MINIO_ROOT_PASSWORD="+s.S3SecretKey, "MINIO_BROWSER=off", "MINIO_UPDATE=off")
	logFile, err := os.Create(filepath.Join(dir, "minio.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start minio: %w", err)
	}
	s.minio = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.S3Endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			s.minio = nil
			log, _ := os.ReadFile(filepath.Join(dir, "minio.log"))
			return fmt.Errorf("minio exited during start-up: %v: %s", err, log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("minio did not become live within 60s")
}

// Stop ends both servers and removes their data.
func (s *Services) Stop() {
	if s.minio != nil && s.minio.Process != nil {
		_ = s.minio.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _, _ = s.minio.Process.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.minio.Process.Kill()
		}
	}
	if s.pg != nil {
		s.pg.Stop()
	}
	for _, d := range s.dirs {
		_ = os.RemoveAll(d)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
