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
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// binGlob is where Debian's postgresql packages put the server binaries, one
// directory per major version. A variable so tests can point it elsewhere.
var binGlob = "/usr/lib/postgresql/*/bin"

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries not found (install them with: apt-get install -y postgresql)")

// Server is a running private PostgreSQL. It trusts every local connection:
// it listens on no TCP address, and its socket sits in a 0700 directory that
// only the server's account (and root) can enter.
type Server struct {
	dataDir   string
	socketDir string
	binDir    string
	cmd       *exec.Cmd
	done      chan error
	cred      *syscall.Credential
	settings  []string
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
	dirs, _ := filepath.Glob(binGlob)
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

// Option adjusts how Start runs the server.
type Option func(*Server)

// Setting passes a server configuration parameter (postgres -c name=value),
// for example Setting("fsync", "off") for a throwaway test cluster.
func Setting(name, value string) Option {
	return func(s *Server) { s.settings = append(s.settings, name+"="+value) }
}

// Start initialises dataDir if it is empty, starts the server and waits until it
// accepts connections, then makes sure the database named database exists.
// The server dies with this process if it is killed (the data survives).
func Start(ctx context.Context, dataDir, database string, opts ...Option) (*Server, error) {
	binDir, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	dataDir, err = filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("postgres data dir: %w", err)
	}
	s := &Server{dataDir: dataDir, binDir: binDir, done: make(chan error, 1), Database: database}
	for _, o := range opts {
		o(s)
	}
	if s.cred, err = serverCredential(); err != nil {
		return nil, err
	}
	if err := s.prepareDirs(); err != nil {
		s.removeSocketDir()
		return nil, err
	}
	if err := s.initdb(ctx); err != nil {
		s.removeSocketDir()
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		s.removeSocketDir()
		return nil, err
	}
	if err := s.ensureDatabase(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// removeSocketDir removes the socket directory when it is a private one
// outside the data directory.
func (s *Server) removeSocketDir() {
	if s.socketDir != "" && !strings.HasPrefix(s.socketDir, s.dataDir+string(filepath.Separator)) {
		_ = os.RemoveAll(s.socketDir)
	}
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
				// Search permission only (o+x): nobody can list the directory.
				if err := os.Chmod(d, st.Mode().Perm()|0o001); err != nil {
					return fmt.Errorf("postgres data dir: %s must be searchable by the server's account: %w", d, err)
				}
				slog.Info("embedded postgres: made a parent of the data directory searchable for the server's account", "dir", d)
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
	args := []string{"-D", s.pgdata(), "-U", "vanthu", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"}
	if slices.Contains(s.settings, "fsync=off") {
		// A throwaway cluster: skip flushing the new files, as the server will.
		args = append(args, "--no-sync")
	}
	cmd := s.command(ctx, "initdb", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("postgres initdb: %w: %s", err, lastLines(out.String(), 5))
	}
	return nil
}

func (s *Server) start(ctx context.Context) error {
	if err := s.clearStalePID(ctx); err != nil {
		return err
	}
	logPath := filepath.Join(s.dataDir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("postgres log: %w", err)
	}
	if s.cred != nil {
		_ = logFile.Chown(int(s.cred.Uid), int(s.cred.Gid))
	}
	args := []string{"-D", s.pgdata(),
		"-c", "listen_addresses=", "-c", "unix_socket_directories=" + s.socketDir,
		"-c", "unix_socket_permissions=0700", "-c", "max_connections=200"}
	for _, kv := range s.settings {
		args = append(args, "-c", kv)
	}
	cmd := s.command(context.Background(), "postgres", args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	started := make(chan error, 1)
	go func() {
		// The kernel sends Pdeathsig when the thread that forked the child
		// exits, not the process (go.dev/issue/27505), and Go may retire
		// threads. Forking from a thread locked to this goroutine, which lives
		// exactly as long as the server, makes the signal mean "vanthu died".
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			logFile.Close()
			started <- err
			return
		}
		started <- nil
		s.done <- cmd.Wait()
		logFile.Close()
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("postgres start: %w", err)
	}
	s.cmd = cmd

	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, s.urlFor("postgres"))
		if err == nil {
			conn.Close(ctx)
			slog.Info("embedded postgres ready", "data", s.dataDir, "log", logPath)
			return nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			s.cmd = nil
			return fmt.Errorf("postgres exited during start-up: %v: %s (full log: %s)", err, tailFile(logPath, 5), logPath)
		case <-ctx.Done():
			s.Stop()
			return fmt.Errorf("postgres start: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("postgres did not accept connections within 60s (see %s): %v", logPath, err)
		}
	}
}

// clearStalePID deals with the postmaster.pid of an earlier run. A server
// whose parent was killed got SIGINT through Pdeathsig and may still be in
// its fast shutdown, so it is given time to finish. A file naming a process
// that is gone, or that now belongs to something other than a postgres on
// this data directory (pids are reused, in containers especially), is removed.
func (s *Server) clearStalePID(ctx context.Context) error {
	pidFile := filepath.Join(s.pgdata(), "postmaster.pid")
	deadline := time.Now().Add(stalePIDWait)
	for {
		pid, ok := readPID(pidFile)
		if !ok {
			return nil
		}
		if !s.isOurPostmaster(pid) {
			if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("postgres stale pid file: %w", err)
			}
			slog.Info("embedded postgres: removed a stale postmaster.pid", "pid", pid)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres: another server (pid %d) is running on %s; stop the other vanthu first", pid, s.pgdata())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres start: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stalePIDWait is how long a dying server from an earlier run gets to finish
// its shutdown.
var stalePIDWait = 15 * time.Second

func readPID(pidFile string) (int, bool) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid, err == nil && pid > 0
}

// isOurPostmaster reports whether pid is a live postgres serving this data
// directory.
func (s *Server) isOurPostmaster(pid int) bool {
	if syscall.Kill(pid, 0) != nil && !errors.Is(syscall.Kill(pid, 0), syscall.EPERM) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(cmdline), "\x00")
	if len(args) == 0 || filepath.Base(args[0]) != "postgres" {
		return false
	}
	for _, a := range args {
		if a == s.pgdata() {
			return true
		}
	}
	return false
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
	s.removeSocketDir()
}

// tailFile returns the last n lines of a log file, for error messages.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return lastLines(string(b), n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Restart delays: the first retry after the server died waits
// RestartBackoff, each failure doubles it up to MaxRestartBackoff. A server
// killed with SIGKILL leaves backends that hold its shared memory for a
// moment, so the first attempts may fail.
var (
	RestartBackoff    = time.Second
	MaxRestartBackoff = 30 * time.Second
)

// Supervise restarts the server each time it exits, with backoff, until
// ctx ends; every exit and attempt is logged. It returns once ctx is done;
// call Stop only after it has returned.
func (s *Server) Supervise(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-s.done:
			s.cmd = nil
			logPath := filepath.Join(s.dataDir, "postgres.log")
			slog.Error("embedded postgres exited; restarting it", "err", err, "log", logPath, "last_lines", tailFile(logPath, 3))
			if !s.restart(ctx) {
				return
			}
		}
	}
}

// restart starts the server again, retrying with backoff; false means ctx
// ended first.
func (s *Server) restart(ctx context.Context) bool {
	delay := RestartBackoff
	for attempt := 1; ; attempt++ {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(delay):
		}
		// A start that failed left the exit of its server here.
		select {
		case <-s.done:
		default:
		}
		err := s.start(ctx)
		if err == nil {
			slog.Info("embedded postgres restarted", "attempt", attempt)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		delay = min(2*delay, MaxRestartBackoff)
		slog.Warn("embedded postgres restart failed; retrying", "attempt", attempt, "retry_in", delay, "err", err)
	}
}
