// Accept certificates with negative serial numbers (older CAs issued them;
// `vanthu verify` reports each one as a warning), as the service binary does.
//go:debug x509negativeserial=1

// Command vanthu-cli is the `vanthu` that users and auditors run: a small
// static binary (no cgo, no database, PKCS#11, object storage or web
// packages, no net/http) that carries `vanthu verify` and `vanthu version`
// itself and hands every other subcommand to the service binary installed
// beside it (vanthu-service, built from cmd/vanthu), which replaces this
// process. A verification that needs revocation data from the network
// (not --offline, and a certificate whose status the file does not
// answer) is handed over the same way.
//
// Why two binaries: Go runs the package initialisers of everything a binary
// links before main, and the service links ≈ 440 packages (PostgreSQL,
// MinIO, Prometheus, PKCS#11 through cgo, the web pages). A one-file
// verification is mostly start-up, so it is started from a binary that
// links only the verifier (`make build` installs both; BENCHMARKS.md has
// the figures).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/vanthu/vanthu/internal/verifycli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// serviceBinary is the name of the full binary this one hands the other
// subcommands to; VANTHU_SERVICE_BIN overrides where it is looked for.
const serviceBinary = "vanthu-service"

// own are the subcommands this binary runs itself.
var own = map[string]bool{"verify": true, "version": true}

func main() {
	if sub := subcommand(os.Args[1:]); !own[sub] {
		path, err := findService()
		if err == nil {
			err = syscall.Exec(path, append([]string{path}, os.Args[1:]...), os.Environ())
			fmt.Fprintf(os.Stderr, "vanthu: starting %s: %v\n", path, err)
			os.Exit(1)
		}
		if sub != "" && sub != "help" && sub != "completion" {
			fmt.Fprintf(os.Stderr, "vanthu: %q is a subcommand of the service binary: %v\n", sub, err)
			os.Exit(1)
		}
		// `vanthu`, `vanthu --help` without the service binary: this
		// binary's own help, which lists what it can do alone.
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})))
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs this binary's own subcommands (and its help) and returns the
// exit status. Flags are parsed with pflag alone: a command framework's
// package inits and command tree cost every start (cobra with its
// templates and regular expressions was ≈ 5 % of a `vanthu version`).
func run(args []string, stdout, stderr io.Writer) int {
	sub := subcommand(args)
	if sub != "" {
		args = slices.Delete(slices.Clone(args), slices.Index(args, sub), slices.Index(args, sub)+1)
	}
	switch sub {
	case "verify":
		v := &verifycli.Verify{Handoff: handOffOnline}
		f := pflag.NewFlagSet("verify", pflag.ContinueOnError)
		f.SetOutput(io.Discard)
		v.Flags(f)
		if err := f.Parse(args); err != nil {
			if errors.Is(err, pflag.ErrHelp) {
				fmt.Fprintf(stdout, "%s\n\nUsage:\n  vanthu %s\n\nFlags:\n%s", verifycli.Long, verifycli.Use, f.FlagUsages())
				return 0
			}
			fmt.Fprintf(stderr, "vanthu verify: %v (vanthu verify --help lists the flags)\n", err)
			return verifycli.ExitUnreadable
		}
		err := v.Run(context.Background(), stdout, stderr, f.Args())
		if err == nil {
			return 0
		}
		fmt.Fprintln(stderr, "vanthu:", strings.Join(strings.Fields(err.Error()), " "))
		if e, ok := err.(interface{ ExitCode() int }); ok {
			return e.ExitCode()
		}
		return 1
	case "version":
		if len(args) > 0 && !slices.Contains(args, "--help") && !slices.Contains(args, "-h") {
			fmt.Fprintf(stderr, "vanthu version: takes no arguments, got %q\n", args)
			return 1
		}
		fmt.Fprintf(stdout, "vanthu %s (%s)\n", version, runtime.Version())
		return 0
	}
	// `vanthu`, `vanthu --help`, `vanthu help` without the service binary:
	// what this binary can do alone.
	fmt.Fprintf(stdout, `vanthu: document service for paperless government offices (verification and
version; the service binary %s does the rest)

Usage:
  vanthu [command]

Commands:
  verify      %s
  version     Print the version of vanthu

Use "vanthu verify --help" for the flags of verify.
`, serviceBinary, verifycli.Short)
	return 0
}

// handOffOnline runs the command line again in the service binary, which
// can fetch OCSP responses and CRLs: this binary does not link net/http and
// crypto/tls (their package inits would cost every one-file verification),
// so a verification that needs revocation data the file does not carry,
// and was not told --offline, continues there. It returns only if the
// service binary could not be started.
func handOffOnline() error {
	path, err := findService()
	if err != nil {
		return err
	}
	err = syscall.Exec(path, append([]string{path}, os.Args[1:]...), os.Environ())
	return fmt.Errorf("starting %s: %w", path, err)
}

// subcommand is the first argument that is not a flag ("" if none). The
// root command has no flags of its own besides --help, so the first word
// is the subcommand.
func subcommand(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

// findService locates the service binary: VANTHU_SERVICE_BIN, else
// vanthu-service in the directory of this executable (symlinks resolved).
func findService() (string, error) {
	if p := os.Getenv("VANTHU_SERVICE_BIN"); p != "" {
		return p, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locating %s: %w", serviceBinary, err)
	}
	if r, err := filepath.EvalSymlinks(self); err == nil {
		self = r
	}
	p := filepath.Join(filepath.Dir(self), serviceBinary)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found beside %s (`make build` installs both): %w", serviceBinary, self, err)
	}
	return p, nil
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("VANTHU_LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}
