// Accept certificates with negative serial numbers (older CAs issued them;
// `vanthu verify` reports each one as a warning). go.mod sets the same for
// the test binaries.
//go:debug x509negativeserial=1

// Command vanthu is the one binary of the vanthu document service: the HTTP
// service, its database migrations, signing, verification, the development PKI
// and the administration tools. Each subcommand lives in its own file and
// registers itself with the root command.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

var rootCmd = &cobra.Command{
	Use:           "vanthu",
	Short:         "Document service for paperless government offices",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})))
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "vanthu:", oneLine(err))
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific process exit status out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the process exit status.
func (e *exitError) ExitCode() int { return e.code }

// exitCode is the status an error asks for (exitError here, verifycli's for
// `vanthu verify`), else 1.
func exitCode(err error) int {
	if e, ok := err.(interface{ ExitCode() int }); ok {
		return e.ExitCode()
	}
	return 1
}

// oneLine keeps failure messages on a single line so scripts can log them.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("VANTHU_LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// envOr returns the VANTHU_* environment variable name if set, else def; flags
// use it for their defaults so every flag can also come from the environment.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// splitList splits a list of paths (VANTHU_TRUST) the way the system does.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return filepath.SplitList(s)
}
