package main

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
)

// The start-up budget of the binary that runs `vanthu verify`: every
// one-file verification pays it. Counts, not times, so a busy machine cannot
// make these tests flake. Today: 96 package inits, 62 KB (the service
// binary: 198 inits, 1.3 MB).
const (
	maxInits     = 120
	maxInitBytes = 256 << 10
)

// linked are the only modules besides the standard library and this one
// that the binary may link: what the verifier needs. A new one must be
// added here on purpose, after checking what its package inits cost.
var linked = map[string]bool{
	"github.com/spf13/cobra":         true,
	"github.com/spf13/pflag":         true,
	"github.com/go-fonts/liberation": true, // the PDF report's font
	"golang.org/x/crypto":            true, // OCSP
	"golang.org/x/image":             true, // font metrics for the PDF report
	"golang.org/x/text":              true,
}

var built string

// build compiles the command the way `make build` does (static, no cgo)
// into its own directory, once per test run.
func build(t *testing.T) string {
	t.Helper()
	if built != "" {
		return built
	}
	dir, err := os.MkdirTemp("", "vanthu-cli-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "vanthu")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	built = out
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built != "" {
		os.RemoveAll(filepath.Dir(built))
	}
	os.Exit(code)
}

// TestStartsSmall: the binary is static (no dynamic loader, no libc), links
// only the verifier's modules, and its package inits are few and allocate
// little.
func TestStartsSmall(t *testing.T) {
	bin := build(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary asks for a dynamic loader: build it with CGO_ENABLED=0")
		}
	}
	f.Close()

	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range info.Deps {
		if !linked[d.Path] {
			t.Errorf("links module %s: every package init it brings runs before each verification (see the linked list)", d.Path)
		}
	}

	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "vanthu ") {
		t.Fatalf("vanthu version: %v\n%s%s", err, out, stderr.Bytes())
	}
	n, total := initTotals(t, stderr.Bytes())
	if n < 10 {
		t.Fatalf("inittrace gave %d package inits; is GODEBUG=inittrace=1 honoured?\n%s", n, stderr.Bytes())
	}
	if n > maxInits {
		t.Errorf("%d package inits run at start-up (limit %d)", n, maxInits)
	}
	if total > maxInitBytes {
		t.Errorf("package inits allocate %d bytes together (limit %d): move the work behind a sync.Once", total, maxInitBytes)
	}
	t.Logf("%d package inits, %d bytes", n, total)
}

var initLine = regexp.MustCompile(`^init \S+ @[0-9.]+ ms, [0-9.]+ ms clock, ([0-9]+) bytes, [0-9]+ allocs$`)

// initTotals counts the package inits of a GODEBUG=inittrace=1 trace and
// the bytes they allocate.
func initTotals(t *testing.T, trace []byte) (n int, bytes int64) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(string(trace)))
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		b, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			t.Fatalf("inittrace line %q: %v", sc.Text(), err)
		}
		n++
		bytes += b
	}
	return n, bytes
}

// TestHandsOverOtherSubcommands: anything but verify and version runs in
// the service binary beside this one, with the arguments as given; without
// it, a clear error (and its own help for `vanthu --help`).
func TestHandsOverOtherSubcommands(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	front := filepath.Join(dir, "vanthu")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(front, data, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(env []string, args ...string) (string, int) {
		cmd := exec.Command(front, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return string(out), 0
	}

	out, code := run(nil, "migrate", "--database-url", "x")
	if code != 1 || !strings.Contains(out, `"migrate" is a subcommand of the service binary`) || !strings.Contains(out, "vanthu-service not found") {
		t.Errorf("without the service binary: exit %d, %q", code, out)
	}
	out, code = run(nil, "--help")
	if code != 0 || !strings.Contains(out, "verify") {
		t.Errorf("--help without the service binary: exit %d, %q", code, out)
	}

	service := filepath.Join(dir, serviceBinary)
	script := "#!/bin/sh\necho \"service: $*\"\nexit 7\n"
	if err := os.WriteFile(service, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"migrate", "--database-url", "x y"}, {"--help"}, {}, {"serve", "--demo"}} {
		out, code = run(nil, args...)
		if want := "service: " + strings.Join(args, " ") + "\n"; code != 7 || out != want {
			t.Errorf("%q: exit %d, %q; want exit 7, %q", args, code, out, want)
		}
	}
	other := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(other, []byte("#!/bin/sh\necho elsewhere\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, _ = run([]string{"VANTHU_SERVICE_BIN=" + other}, "admin"); out != "elsewhere\n" {
		t.Errorf("VANTHU_SERVICE_BIN: %q", out)
	}

	// Its own subcommands never reach the service binary.
	out, code = run(nil, "version")
	if code != 0 || !strings.HasPrefix(out, "vanthu ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	pdfPath := filepath.Join(dir, "unsigned.pdf")
	if err := os.WriteFile(pdfPath, testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Cong van 9/UBND"}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code = run(nil, "verify", "--offline", "--lang", "en", pdfPath)
	if code != 3 || strings.Contains(out, "service:") || !strings.Contains(out, "UNSIGNED") {
		t.Errorf("verify of an unsigned file: exit %d (want 3, UNSIGNED), %q", code, out)
	}
	if _, code = run(nil, "verify", "--memory-budget", "0", pdfPath); code != 4 {
		t.Errorf("verify with a bad flag: exit %d, want 4", code)
	}
}
