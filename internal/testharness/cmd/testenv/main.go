// Command testenv starts the shared test services (one PostgreSQL cluster, one
// MinIO server), runs the command given after "--" with them in its
// environment, stops them and exits with the command's status.
//
//	go run ./internal/testharness/cmd/testenv -- go test -race ./...
//
// SIGINT and SIGTERM are passed on to the command; the services are torn down
// once it has exited, so an interrupted run leaves nothing behind.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: testenv -- COMMAND [ARG...]")
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(args, sigs, os.Stderr))
}

// run starts the services, runs args and returns the exit status to use.
func run(args []string, sigs <-chan os.Signal, logw io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	type started struct {
		svc *testharness.Services
		err error
	}
	ready := make(chan started, 1)
	go func() {
		svc, err := testharness.StartServices(ctx)
		ready <- started{svc, err}
	}()
	var svc *testharness.Services
	select {
	case r := <-ready:
		if r.err != nil {
			fmt.Fprintln(logw, "testenv:", r.err)
			return 1
		}
		svc = r.svc
	case sig := <-sigs:
		// Interrupted while starting: stop whatever came up.
		cancel()
		if r := <-ready; r.svc != nil {
			r.svc.Stop()
		}
		return exitForSignal(sig)
	}
	defer svc.Stop()
	fmt.Fprintln(logw, "testenv:", svc)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), svc.Env()...)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(logw, "testenv:", err)
		return 1
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			_ = cmd.Process.Signal(sig)
		case err := <-exited:
			return exitStatus(err, logw)
		}
	}
}

// exitStatus maps the command's end to ours, the way a shell does: its exit
// code, or 128 plus the signal that killed it.
func exitStatus(err error, logw io.Writer) int {
	if err == nil {
		return 0
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	}
	fmt.Fprintln(logw, "testenv:", err)
	return 1
}

func exitForSignal(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
