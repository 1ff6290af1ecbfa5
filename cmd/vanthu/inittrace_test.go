package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// maxInitBytes is what one package's init may allocate. Every vanthu process
// (version, verify of one file, migrate) runs every init of the binary, so
// work done there is paid by all of them; anything bigger than tables belongs
// behind a sync.Once on first use.
const maxInitBytes = 1 << 20

// initLine is one line of GODEBUG=inittrace=1:
// "init <pkg> @<t> ms, <t> ms clock, <N> bytes, <M> allocs".
var initLine = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, [0-9.]+ ms clock, ([0-9]+) bytes, ([0-9]+) allocs$`)

// TestPackageInitAllocatesLittle runs the built binary with
// GODEBUG=inittrace=1 and fails when any package's init allocates more than
// maxInitBytes. It counts bytes, not time, so a busy machine cannot make it
// flake.
func TestPackageInitAllocatesLittle(t *testing.T) {
	cmd := exec.Command(binary(t), "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("vanthu version: %v\n%s%s", err, out, stderr.Bytes())
	}
	inits := parseInitTrace(t, stderr.Bytes())
	if len(inits) < 10 {
		t.Fatalf("inittrace gave %d package inits; is GODEBUG=inittrace=1 honoured?\n%s", len(inits), stderr.Bytes())
	}
	for pkg, n := range inits {
		if n > maxInitBytes {
			t.Errorf("init of %s allocates %d bytes (limit %d): move the work behind a sync.Once", pkg, n, maxInitBytes)
		}
	}
	if _, ok := inits["github.com/vanthu/vanthu/accounts"]; !ok {
		t.Errorf("no init line for the accounts package; the trace format may have changed:\n%s", stderr.Bytes())
	}
}

// parseInitTrace returns the bytes each package's init allocated.
func parseInitTrace(t *testing.T, trace []byte) map[string]int64 {
	t.Helper()
	inits := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(trace))
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil {
			t.Fatalf("inittrace line %q: %v", sc.Text(), err)
		}
		inits[m[1]] += n
	}
	return inits
}

func TestParseInitTrace(t *testing.T) {
	trace := []byte("init internal/bytealg @0.008 ms, 0.004 ms clock, 0 bytes, 0 allocs\n" +
		"init github.com/vanthu/vanthu/accounts @68 ms, 852 ms clock, 67115696 bytes, 75 allocs\n" +
		"vanthu dev (go1.27.4)\n")
	got := parseInitTrace(t, trace)
	want := map[string]int64{"internal/bytealg": 0, "github.com/vanthu/vanthu/accounts": 67115696}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %d, want %d", k, got[k], v)
		}
	}
}
