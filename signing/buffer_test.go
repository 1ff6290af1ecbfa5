package signing

import (
	"bytes"
	"testing"
)

func TestBufferPatchesOnlyWhatWasWritten(t *testing.T) {
	b := NewBuffer(4)
	for _, s := range []string{"%PDF-", "<0000>", " end"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("write %q: %d %v", s, n, err)
		}
	}
	if n, err := b.WriteAt([]byte("ABCD"), 6); n != 4 || err != nil {
		t.Fatalf("patch: %d %v", n, err)
	}
	if got := b.Bytes(); !bytes.Equal(got, []byte("%PDF-<ABCD> end")) {
		t.Fatalf("got %q", got)
	}
	for _, tc := range []struct {
		off int64
		p   string
	}{{-1, "x"}, {14, "xy"}, {15, "x"}, {1 << 40, "x"}} {
		if _, err := b.WriteAt([]byte(tc.p), tc.off); err == nil {
			t.Errorf("write of %q at %d beyond the written bytes was accepted", tc.p, tc.off)
		}
	}
	if got := b.Bytes(); !bytes.Equal(got, []byte("%PDF-<ABCD> end")) {
		t.Fatalf("a refused write changed the bytes: %q", got)
	}
}
