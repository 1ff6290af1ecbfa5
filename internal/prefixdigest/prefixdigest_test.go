package prefixdigest

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

func TestResumeGivesThePrefixDigest(t *testing.T) {
	const every = 64 << 10
	data := make([]byte, 5*every+123)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.UintN(256))
	}
	rec := NewRecorder(every)
	// Odd write sizes, as a multipart reader hands them over.
	for p := data; len(p) > 0; {
		k := min(len(p), 4093)
		rec.Write(p[:k])
		p = p[k:]
	}
	s := rec.States()
	if s.Size != int64(len(data)) || s.Sum != sha256.Sum256(data) {
		t.Fatalf("size %d sum %x: not the stream's", s.Size, s.Sum)
	}
	if s.Len() != 5 {
		t.Fatalf("%d states, want one at each of the 5 multiples of %d", s.Len(), every)
	}
	for _, tc := range []struct {
		end, wantOff int64
	}{
		{0, 0}, {1, 0}, {every - 1, 0}, {every, every}, {every + 1, every},
		{3*every + 7, 3 * every}, {int64(len(data)), 5 * every},
	} {
		h, off := s.Resume(tc.end)
		if off != tc.wantOff {
			t.Errorf("Resume(%d) at %d, want %d", tc.end, off, tc.wantOff)
		}
		h.Write(data[off:tc.end])
		if want := sha256.Sum256(data[:tc.end]); !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("Resume(%d) then the rest: not the digest of the prefix", tc.end)
		}
	}
}

func TestNilStatesResumeFromTheStart(t *testing.T) {
	var s *States
	h, off := s.Resume(1 << 20)
	if off != 0 || h.Size() != sha256.Size {
		t.Fatalf("nil states resumed at %d", off)
	}
}

func TestRecorderEveryHasAFloor(t *testing.T) {
	rec := NewRecorder(1)
	rec.Write(make([]byte, 200<<10))
	if n := rec.States().Len(); n != 3 {
		t.Fatalf("%d states for 200 KiB, want 3 (one per 64 KiB)", n)
	}
}
