package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/ltv"
)

// The start-up budget of the binary that runs `vanthu verify`: every
// one-file verification pays it. Counts, not times, so a busy machine cannot
// make these tests flake. Today: 70 package inits, ≈ 35 KB (before online
// revocation and cobra moved out: 96, 62 KB; the service binary: 198
// inits, 1.3 MB).
const (
	maxInits     = 85
	maxInitBytes = 128 << 10
)

// unlinked are standard packages the binary must not link: the network
// client stack, whose package inits and pages every process would pay for
// revocation checks that only an online verification makes (it is handed
// to the service binary, see handOffOnline).
// And a command framework: cobra, its text/template and regexp package
// inits and command tree, for two subcommands that pflag parses alone.
var unlinked = []string{"net/http", "crypto/tls", "github.com/vanthu/vanthu/signing/verify/chain/online",
	"github.com/spf13/cobra", "text/template", "regexp"}

// linked are the only modules besides the standard library and this one
// that the binary may link: what the verifier needs. A new one must be
// added here on purpose, after checking what its package inits cost.
var linked = map[string]bool{
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

// TestMain removes the built binary. (The dev PKI these tests use needs
// no testharness.Main: it stops at its test's cleanup.)
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

	list := exec.Command("go", "list", "-deps", ".")
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	deps, err := list.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range unlinked {
		if slices.Contains(strings.Fields(string(deps)), p) {
			t.Errorf("links %s: online revocation fetching belongs to the service binary (chain/online)", p)
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
	if out, code = run(nil, "verify", "--no-such-flag", pdfPath); code != 4 || !strings.Contains(out, "unknown flag: --no-such-flag") {
		t.Errorf("verify with an unknown flag: exit %d, %q; want 4", code, out)
	}
	if out, code = run(nil, "verify", "--help"); code != 0 || !strings.Contains(out, "--memory-budget") || !strings.Contains(out, "Exit status") {
		t.Errorf("verify --help: exit %d, %q", code, out)
	}
	// Flags after the paths, as cobra accepted them.
	if out, code = run(nil, "verify", pdfPath, "--offline", "--lang", "en"); code != 3 || !strings.Contains(out, "UNSIGNED") {
		t.Errorf("verify PATH --offline: exit %d, %q", code, out)
	}
}

// TestHandsOverOnlineVerification: this binary verifies with the revocation
// data a file carries; when a certificate's status needs an online answer
// and --offline was not given, the whole command runs in the service
// binary (which fetches OCSP and CRLs), with the arguments as given and
// nothing printed twice. A file whose data answers, an untrusted chain and
// --offline stay here. Without the service binary, the offline result is
// printed with a warning.
func TestHandsOverOnlineVerification(t *testing.T) {
	pki := testharness.DevPKI(t)
	key, err := pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, testpdf.Bytes(testpdf.Options{Pages: 1, Text: "QUYET DINH so 12/QD-UBND"}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bb := filepath.Join(dir, "bb.pdf") // no revocation data: needs the responder
	if err := signing.SignFile(ctx, in, bb, key, signing.Options{Level: signing.LevelBB}); err != nil {
		t.Fatal(err)
	}
	lt := filepath.Join(dir, "lt.pdf") // its DSS answers for every certificate
	if err := signing.SignFile(ctx, in, lt, key, signing.Options{Level: signing.LevelBLT, TSAURL: pki.TSAURL(),
		Extender: &ltv.Extender{Options: ltv.Options{Roots: []*x509.Certificate{pki.Root()}}, TSA: ltv.TSA{URL: pki.TSAURL()}}}); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(pki.Dir(), "root-ca.pem")

	alone := filepath.Join(t.TempDir(), "vanthu") // no service binary beside it
	withStub := filepath.Join(t.TempDir(), "vanthu")
	data, err := os.ReadFile(build(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{alone, withStub} {
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stub := "#!/bin/sh\necho \"service: $*\"\nexit 7\n"
	if err := os.WriteFile(filepath.Join(filepath.Dir(withStub), serviceBinary), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(bin string, env []string, args ...string) (stdout, stderr string, code int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return o.String(), e.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return o.String(), e.String(), 0
	}

	for _, tc := range []struct {
		name     string
		env      []string
		args     []string
		handsOff bool
		code     int    // when not handed off
		contains string // in the output, when not handed off
	}{
		{"online, no revocation data in the file", nil, []string{"verify", "--trust", root, "--lang", "en", bb}, true, 0, ""},
		{"online, two files, one needs the responder", nil, []string{"verify", "--trust", root, lt, bb}, true, 0, ""},
		{"online, the file's DSS answers", nil, []string{"verify", "--trust", root, "--lang", "en", lt}, false, 0, "VALID"},
		{"online, nothing trusted: no revocation question", nil, []string{"verify", "--lang", "en", bb}, false, 2, "INDETERMINATE"},
		{"--offline", nil, []string{"verify", "--offline", "--trust", root, "--lang", "en", bb}, false, 2, "offline: online OCSP/CRL not consulted"},
		{"VANTHU_OFFLINE=1", []string{"VANTHU_OFFLINE=1"}, []string{"verify", "--trust", root, "--lang", "en", bb}, false, 2, "offline: online OCSP/CRL not consulted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(withStub, tc.env, tc.args...)
			if tc.handsOff {
				if want := "service: " + strings.Join(tc.args, " ") + "\n"; code != 7 || out != want || errOut != "" {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit 7 and %q alone", code, out, errOut, want)
				}
				return
			}
			if code != tc.code || strings.Contains(out, "service:") || !strings.Contains(out, tc.contains) {
				t.Errorf("exit %d (want %d), %q (want %q, not handed over)\n%s", code, tc.code, out, tc.contains, errOut)
			}
		})
	}

	t.Run("without the service binary", func(t *testing.T) {
		out, errOut, code := run(alone, nil, "verify", "--trust", root, "--lang", "en", bb)
		if code != 2 || !strings.Contains(out, "INDETERMINATE") || !strings.Contains(out, "not asked") ||
			!strings.Contains(errOut, "could not be started") || strings.Count(out, bb) != 1 {
			t.Errorf("exit %d, stdout %q, stderr %q; want the offline result once, INDETERMINATE, with a warning", code, out, errOut)
		}
	})

	t.Run("the service binary verifies online", func(t *testing.T) {
		d := filepath.Dir(alone)
		cmd := exec.Command("go", "build", "-o", filepath.Join(d, serviceBinary), "../vanthu")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ../vanthu: %v\n%s", err, b)
		}
		defer os.Remove(filepath.Join(d, serviceBinary))
		out, errOut, code := run(alone, nil, "verify", "--trust", root, "--format", "json", bb)
		if code != 0 || !strings.Contains(out, `"verdict":"VALID"`) || !strings.Contains(out, `"source":"online-ocsp"`) {
			t.Errorf("exit %d, stdout %q, stderr %q; want VALID through the dev PKI's OCSP responder", code, out, errOut)
		}
	})
}
