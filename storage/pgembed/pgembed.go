// Package pgembed supervises a private PostgreSQL server for the embedded
// default: it finds the locally installed server binaries, initialises a data
// directory on first use, runs the server on a private unix socket only, and
// stops it cleanly. It is also how the test harness gets its throwaway cluster.
package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries not found (install them with: apt-get install -y postgresql)")

// Server is a running private PostgreSQL.
type Server struct {
	dataDir   string
	socketDir string
	binDir    string
	cmd       *exec.Cmd
	done      chan error
	cred      *syscall.Credential
	Database  string
}

// unixSocketPathMax is the room PostgreSQL has for the socket directory: the
// kernel's sun_path is 108 bytes and the file name ".s.PGSQL.5432" needs 14.
const unixSocketPathMax = 107 - len("/.s.PGSQL.5432")

// FindBinDir returns the directory holding initdb and postgres: PATH first,
// then the newest /usr/lib/postgresql/*/bin.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				return d, nil
			}
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// Start initialises dataDir if it is empty, starts the server and waits until it
// accepts connections, then makes sure the database named database exists.
// The server dies with this process if it is killed (the data survives).
func Start(ctx context.Context, dataDir, database string) (*Server, error) {
	binDir, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	dataDir, err = filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("postgres data dir: %w", err)
	}
	s := &Server{dataDir: dataDir, binDir: binDir, done: make(chan error, 1), Database: database}
	if s.cred, err = serverCredential(); err != nil {
		return nil, err
	}
	if err := s.prepareDirs(); err != nil {
		return nil, err
	}
	if err := s.initdb(ctx); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	if err := s.ensureDatabase(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// serverCredential picks the unprivileged account PostgreSQL runs as when we
// are root, because the server refuses to run with root privileges.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and no unprivileged account (postgres or nobody) to run PostgreSQL as")
}

func (s *Server) prepareDirs() error {
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return fmt.Errorf("postgres data dir: %w", err)
	}
	s.socketDir = filepath.Join(s.dataDir, "run")
	if len(s.socketDir) > unixSocketPathMax {
		// A deep data directory would overflow the socket path: use a short private one.
		dir, err := os.MkdirTemp("", "vanthu-pg-")
		if err != nil {
			return fmt.Errorf("postgres socket dir: %w", err)
		}
		s.socketDir = dir
	}
	if err := os.MkdirAll(s.socketDir, 0o700); err != nil {
		return fmt.Errorf("postgres socket dir: %w", err)
	}
	if s.cred != nil {
		for _, d := range []string{s.dataDir, s.socketDir} {
			if err := chownTree(d, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				return fmt.Errorf("postgres dir ownership: %w", err)
			}
		}
		// The unprivileged server must be able to reach its data through the parents.
		for d := filepath.Dir(s.dataDir); d != "/" && d != "."; d = filepath.Dir(d) {
			if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(d, st.Mode().Perm()|0o001)
			}
		}
	}
	return nil
}

func chownTree(root string, uid, gid int) error {
	return filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) == uid && int(st.Gid) == gid {
			return nil
		}
		return os.Lchown(p, uid, gid)
	})
}

func (s *Server) pgdata() string { return filepath.Join(s.dataDir, "data") }

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "LANG=C.UTF-8")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	return cmd
}

func (s *Server) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(s.pgdata(), "PG_VERSION")); err == nil {
		return nil
	}
	// A half-finished initdb from an interrupted first start leaves a directory
	// without PG_VERSION; start over rather than fail forever.
	if err := os.RemoveAll(s.pgdata()); err != nil {
		return fmt.Errorf("postgres initdb: %w", err)
	}
	var out bytes.Buffer
	cmd := s.command(ctx, "initdb", "-D", s.pgdata(), "-U", "vanthu", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("postgres initdb: %w: %s", err, lastLines(out.String(), 5))
	}
	return nil
}

func (s *Server) start(ctx context.Context) error {
	// A server killed with its parent leaves postmaster.pid behind; PostgreSQL
	// itself checks whether that pid is still a postmaster, so only a file
	// naming a dead process is removed here.
	s.removeStalePID()
	logFile, err := os.OpenFile(filepath.Join(s.dataDir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("postgres log: %w", err)
	}
	if s.cred != nil {
		_ = logFile.Chown(int(s.cred.Uid), int(s.cred.Gid))
	}
	cmd := s.command(context.Background(), "postgres", "-D", s.pgdata(),
		"-c", "listen_addresses=", "-c", "unix_socket_directories="+s.socketDir,
		"-c", "unix_socket_permissions=0700", "-c", "fsync=on", "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("postgres start: %w", err)
	}
	s.cmd = cmd
	go func() { s.done <- cmd.Wait(); logFile.Close() }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, s.urlFor("postgres"))
		if err == nil {
			conn.Close(ctx)
			slog.Info("embedded postgres ready", "data", s.dataDir)
			return nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("postgres exited during start-up (see %s): %v", filepath.Join(s.dataDir, "postgres.log"), err)
		case <-ctx.Done():
			s.Stop()
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("postgres did not accept connections within 60s (see %s): %v", filepath.Join(s.dataDir, "postgres.log"), err)
		}
	}
}

func (s *Server) removeStalePID() {
	pidFile := filepath.Join(s.pgdata(), "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 0 {
		return
	}
	if syscall.Kill(pid, 0) == nil {
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.Contains(cmdline, []byte("postgres")) {
			return
		}
	}
	_ = os.Remove(pidFile)
}

func (s *Server) ensureDatabase(ctx context.Context) error {
	if s.Database == "" || s.Database == "postgres" {
		return nil
	}
	conn, err := pgx.Connect(ctx, s.urlFor("postgres"))
	if err != nil {
		return fmt.Errorf("postgres connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.Database).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.Database}.Sanitize()); err != nil {
			return fmt.Errorf("postgres create database %s: %w", s.Database, err)
		}
	}
	return nil
}

// URL is the connection URL of the server's database (unix socket, no password).
func (s *Server) URL() string { return s.urlFor(s.Database) }

// AdminURL is the connection URL of the maintenance database "postgres".
func (s *Server) AdminURL() string { return s.urlFor("postgres") }

func (s *Server) urlFor(db string) string {
	q := url.Values{"host": {s.socketDir}}
	return (&url.URL{Scheme: "postgres", User: url.User("vanthu"), Path: "/" + db, RawQuery: q.Encode()}).String()
}

// Stop shuts the server down with a fast shutdown and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
	if !strings.HasPrefix(s.socketDir, s.dataDir) {
		_ = os.RemoveAll(s.socketDir)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
