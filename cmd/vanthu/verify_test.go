package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/verify/tamper"
)

// TestVerifyMemoryBudget: --memory-budget (VANTHU_VERIFY_BUDGET) bounds the
// decoded stream data; a file that needs more says so in the report's
// language (this one is unsigned, so exit 3; a signed one is INDETERMINATE,
// see tamper's TestDecompressionBombs), and a budget that is not a positive
// number of bytes is a usage error (exit 4).
func TestVerifyMemoryBudget(t *testing.T) {
	plain := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Cong van 9/UBND"})
	bomb, err := tamper.ManyStreamsBomb(plain, 8, 3<<20)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "bom.pdf")
	if err := os.WriteFile(path, bomb, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		env  string
		code int
		want string
	}{
		{[]string{"--lang", "en", "--memory-budget", "2097152"}, "", exitUnsigned, "exceeded the verification's memory budget of 2 MiB"},
		{[]string{"--lang", "vi"}, "VANTHU_VERIFY_BUDGET=2097152", exitUnsigned, "vượt hạn mức bộ nhớ 2 MiB"},
		// Enough for every stream: read in full, nothing refused.
		{[]string{"--lang", "en", "--memory-budget", "67108864"}, "", exitUnsigned, ""},
		{[]string{"--memory-budget", "0"}, "", exitUnreadable, "--memory-budget must be a positive number of bytes"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(append(tc.args, tc.env), " "), func(t *testing.T) {
			cmd := exec.Command(binary(t), append(append([]string{"verify", "--offline"}, tc.args...), path)...)
			cmd.Env = append(os.Environ(), "VANTHU_TRUST=", tc.env)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			if code := cmd.ProcessState.ExitCode(); code != tc.code || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, out.String())
			}
			if tc.want == "" && strings.Contains(out.String(), "budget") {
				t.Fatalf("a refusal with the budget large enough:\n%s", out.String())
			}
		})
	}
}
