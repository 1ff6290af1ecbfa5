package signing

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/devpki"
)

// TestCheckLocked: which signatures forbid another one, and that Sign
// refuses them unless forced.
func TestCheckLocked(t *testing.T) {
	dir := t.TempDir()
	plain := writePDF(t, dir, testpdf.Options{Pages: 1}, false)
	sign := func(in, name, key string, o Options) string {
		out := filepath.Join(dir, name)
		if err := SignFile(context.Background(), in, out, pkiKey(t, key), o); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out
	}
	approved := sign(plain, "approved.pdf", devpki.Official, Options{Name: "Nguyễn Văn An"})
	p2 := sign(plain, "p2.pdf", devpki.Official, Options{Certify: 2})
	p1 := sign(plain, "p1.pdf", devpki.Official, Options{Certify: 1, Name: "Nguyễn Văn An"})
	sealed := sign(approved, "sealed.pdf", devpki.Seal, Options{Lock: true, Name: "Ủy ban nhân dân tỉnh Mẫu"})
	cases := []struct {
		name, file string
		want       string // "" when another signature is allowed
	}{
		{"unsigned", plain, ""},
		{"approved", approved, ""},
		{"certified P=2", p2, ""},
		{"certified P=1", p1, "DocMDP P=1"},
		{"sealed with every field locked", sealed, `"Signature2" by Ủy ban nhân dân tỉnh Mẫu locks every field`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckLocked(bytes.NewReader(b), int64(len(b)))
			if c.want == "" {
				if err != nil {
					t.Fatalf("CheckLocked: %v", err)
				}
				if src, err := OpenSource(bytes.NewReader(b), int64(len(b))); err != nil || src.CheckLocked() != nil {
					t.Fatalf("OpenSource: %v, CheckLocked: %v", err, src.CheckLocked())
				}
				return
			}
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CheckLocked: %v, want ErrLocked saying %q", err, c.want)
			}
			// An opened Source says the same and refuses the same.
			src, err := OpenSource(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if err := src.CheckLocked(); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Source.CheckLocked: %v, want ErrLocked saying %q", err, c.want)
			}
			var buf Buffer
			if err := src.Sign(context.Background(), &buf, pkiKey(t, devpki.Deputy), Options{}); !errors.Is(err, ErrLocked) || len(buf.Bytes()) != 0 {
				t.Fatalf("Source.Sign on a locked document: %v (%d bytes written), want ErrLocked and nothing", err, len(buf.Bytes()))
			}
			out := filepath.Join(t.TempDir(), "again.pdf")
			if err := SignFile(context.Background(), c.file, out, pkiKey(t, devpki.Deputy), Options{}); !errors.Is(err, ErrLocked) {
				t.Fatalf("Sign on a locked document: %v, want ErrLocked", err)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatal("a refused signature left its output")
			}
			if err := SignFile(context.Background(), c.file, out, pkiKey(t, devpki.Deputy), Options{Force: true}); err != nil {
				t.Fatalf("forced: %v", err)
			}
		})
	}
}
