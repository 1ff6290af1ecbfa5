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
	"runtime"
	"strconv"
	"strings"
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

	// EnvDurablePostgres, set to 1, starts the cluster with fsync,
	// synchronous_commit and full_page_writes on, as a production server
	// runs. Benchmarks that compare work committed to PostgreSQL with
	// work written elsewhere (MinIO fsyncs every object) use it, so a
	// commit costs what it costs in production.
	EnvDurablePostgres = "VANTHU_TEST_PG_DURABLE"
)

// Services are the shared PostgreSQL cluster and MinIO server of one run.
type Services struct {
	PostgresURL string // maintenance database of the cluster
	S3Endpoint  string
	S3AccessKey string
	S3SecretKey string

	pg          *pgembed.Server
	minio       *exec.Cmd
	minioExited chan struct{}
	dirs        []string
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

// String says where the services run, for logs; it leaves out the secret key.
func (s *Services) String() string {
	return fmt.Sprintf("postgres %s, minio %s", strings.SplitN(s.PostgresURL, "?", 2)[0], s.S3Endpoint)
}

// StartServices starts a throwaway PostgreSQL cluster and a MinIO server.
func StartServices(ctx context.Context) (*Services, error) {
	s := &Services{}
	if err := s.startPostgres(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.startMinIO(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// startPostgres starts a cluster in a temporary directory. Durability is
// switched off unless $VANTHU_TEST_PG_DURABLE is 1: the cluster is thrown
// away and the machine is shared.
func (s *Services) startPostgres(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "vanthu-test-pg-")
	if err != nil {
		return fmt.Errorf("test postgres: %w", err)
	}
	s.dirs = append(s.dirs, dir)
	durable := "off"
	if os.Getenv(EnvDurablePostgres) == "1" {
		durable = "on"
	}
	s.pg, err = pgembed.Start(ctx, dir, "postgres",
		pgembed.Setting("fsync", durable),
		pgembed.Setting("synchronous_commit", durable),
		pgembed.Setting("full_page_writes", durable))
	if err != nil {
		return fmt.Errorf("test postgres: %w", err)
	}
	s.PostgresURL = s.pg.AdminURL()
	return nil
}

// MinIOBinary is where the MinIO server is expected: $VANTHU_MINIO_BIN, else
// the tools directory that `make minio` fills.
func MinIOBinary() (string, error) {
	p := os.Getenv("VANTHU_MINIO_BIN")
	if p == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("MinIO server: no home directory to find it in (set VANTHU_MINIO_BIN): %w", err)
		}
		p = filepath.Join(home, ".cache", "vanthu-tools", "minio")
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("MinIO server not found at %s: run `make minio`", p)
	}
	return p, nil
}

// startMinIO runs a single-drive MinIO on a free loopback port with random
// root credentials.
func (s *Services) startMinIO(ctx context.Context) error {
	bin, err := MinIOBinary()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "vanthu-test-minio-")
	if err != nil {
		return fmt.Errorf("test minio: %w", err)
	}
	s.dirs = append(s.dirs, dir)
	logPath := filepath.Join(dir, "minio.log")
	// A free port can be taken by someone else between our probe and MinIO's
	// bind; try a few.
	for attempt := 0; ; attempt++ {
		err = s.runMinIO(ctx, bin, filepath.Join(dir, "data"), logPath)
		if err == nil || attempt == 2 || ctx.Err() != nil || !errors.Is(err, errMinIOExited) {
			return err
		}
	}
}

var errMinIOExited = errors.New("minio exited during start-up")

func (s *Services) runMinIO(ctx context.Context, bin, dataDir, logPath string) error {
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
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("test minio: %w", err)
	}
	cmd := exec.Command(bin, "server", "--quiet", "--address", s.S3Endpoint,
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort), dataDir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.S3AccessKey, "MINIO_ROOT_PASSWORD="+s.S3SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		// Pdeathsig follows the forking thread, not the process
		// (go.dev/issue/27505): fork from a thread that lives as long as MinIO.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			_ = cmd.Wait()
		}
		logFile.Close()
		close(exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start minio: %w", err)
	}
	s.minio, s.minioExited = cmd, exited

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := client.Get("http://" + s.S3Endpoint + "/minio/health/live"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			s.minio = nil
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("%w: %s", errMinIOExited, lastLines(string(log), 10))
		case <-ctx.Done():
			s.stopMinIO()
			return fmt.Errorf("test minio: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.stopMinIO()
	return fmt.Errorf("minio did not become live within 60s (log: %s)", logPath)
}

func (s *Services) stopMinIO() {
	if s.minio == nil {
		return
	}
	_ = s.minio.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.minioExited:
	case <-time.After(10 * time.Second):
		_ = s.minio.Process.Kill()
		<-s.minioExited
	}
	s.minio = nil
}

// Stop ends both servers and removes their data.
func (s *Services) Stop() {
	s.stopMinIO()
	if s.pg != nil {
		s.pg.Stop()
		s.pg = nil
	}
	for _, d := range s.dirs {
		_ = os.RemoveAll(d)
	}
	s.dirs = nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
