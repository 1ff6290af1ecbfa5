package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/prefixdigest"
)

// directDigest hashes the ranges the plain way, for comparison.
func directDigest(data []byte, br []int64, h crypto.Hash) []byte {
	x := h.New()
	for i := 0; i+1 < len(br); i += 2 {
		x.Write(data[br[i] : br[i]+br[i+1]])
	}
	return x.Sum(nil)
}

func TestRangeDigestsMatchDirectHashing(t *testing.T) {
	data := make([]byte, 300<<10)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(rng.UintN(256))
	}
	rec := prefixdigest.NewRecorder(64 << 10)
	rec.Write(data)
	known := rec.States()
	n := int64(len(data))
	// Asked in an order that makes a later prefix resume from an earlier
	// one, an earlier from nothing kept, and ranges that do not start at 0.
	ranges := [][]int64{
		{0, 200 << 10, 210 << 10, 5000},
		{0, 1000, 2000, 3000},
		{0, 100 << 10, 101 << 10, 199 << 10},
		{0, 200 << 10, 210 << 10, 5000}, // again: the kept digest
		{17, 100, 5000, 100},
		{0, n},
		{0, 0, 10, 10},
	}
	for _, withKnown := range []bool{false, true} {
		for _, r := range []interface {
			ReadAt([]byte, int64) (int, error)
		}{memReader(data), bytes.NewReader(data)} {
			var k *prefixdigest.States
			if withKnown {
				k = known
			}
			d := newRangeDigests(r, n, k)
			for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512, crypto.SHA1} {
				for _, br := range ranges {
					got, err := d.digest(br, h)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, directDigest(data, br, h)) {
						t.Errorf("known %v, %T, %v %v: digest differs from hashing the ranges", withKnown, r, h, br)
					}
				}
			}
			sum, err := d.fileSHA256()
			if want := sha256.Sum256(data); err != nil || !bytes.Equal(sum, want[:]) {
				t.Errorf("known %v, %T: file digest %x, %v", withKnown, r, sum, err)
			}
		}
	}
}

func TestRangeDigestsRefuseRangesOutsideTheFile(t *testing.T) {
	d := newRangeDigests(memReader(make([]byte, 100)), 100, nil)
	for _, br := range [][]int64{{0, 101}, {-1, 10}, {50, 60}, {0, 10, 1 << 62, 1 << 62}, {0, -5}} {
		if _, err := d.digest(br, crypto.SHA256); err == nil {
			t.Errorf("%v: no error", br)
		}
	}
}

// TestSignaturesHashTheFileOnce: a five-signature file with a document
// timestamp (six incremental revisions) costs about one pass over its
// bytes for all six digests and the report's SHA-256, where hashing each
// signature's ranges anew cost one pass per signature plus one for the
// file. With the states of a caller that hashed the file already (the
// service's spooled upload), only the bytes after the last captured state
// and the signatures' tails are hashed.
func TestSignaturesHashTheFileOnce(t *testing.T) {
	dir := corpusDir(t)
	file := "esig-dss/pades-5-signatures-and-1-document-timestamp.pdf"
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), bytes.NewReader(data), int64(len(data)), corpusOptions(t, dir, file))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signatures) != 6 {
		t.Fatalf("%d signatures, want 6", len(rep.Signatures))
	}
	if want := sha256.Sum256(data); rep.SHA256 != hexString(want[:]) {
		t.Fatalf("report SHA-256 %s is not the file's", rep.SHA256)
	}
	size := int64(len(data))
	var tails, naive int64
	for _, s := range rep.Signatures {
		br := s.ByteRange
		tails += br[3]
		naive += br[1] + br[3]
	}
	naive += size
	const every = 64 << 10
	rec := prefixdigest.NewRecorder(every)
	rec.Write(data)
	for _, tc := range []struct {
		name  string
		known *prefixdigest.States
		limit int64
	}{
		{"alone", nil, size + tails},
		// Each signature resumes at most one interval before its range.
		{"with the upload's states", rec.States(), int64(len(rep.Signatures))*every + tails},
	} {
		d := newRangeDigests(memReader(data), size, tc.known)
		for _, s := range rep.Signatures {
			got, err := d.digest(s.ByteRange, crypto.SHA256)
			if err != nil || !bytes.Equal(got, directDigest(data, s.ByteRange, crypto.SHA256)) {
				t.Fatalf("%s: digest of %v wrong (%v)", tc.name, s.ByteRange, err)
			}
		}
		if _, err := d.fileSHA256(); err != nil {
			t.Fatal(err)
		}
		if d.hashed > tc.limit {
			t.Errorf("%s: hashed %d bytes of a %d-byte file, want at most %d (one digest per signature: %d)", tc.name, d.hashed, size, tc.limit, naive)
		}
		t.Logf("%s: hashed %d bytes of %d (one pass per signature and the file: %d)", tc.name, d.hashed, size, naive)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// TestKnownStatesSpareTheBytes: a 4 MiB upload whose states were captured
// every 64 KiB while it was spooled, with one signature over all but its
// /Contents gap: the verifier hashes less than one interval plus the range
// after the gap, and takes the file's digest as given.
func TestKnownStatesSpareTheBytes(t *testing.T) {
	const every = 64 << 10
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
	rec := prefixdigest.NewRecorder(every)
	rec.Write(data)
	n := int64(len(data))
	br := []int64{0, n - 50000, n - 30000, 30000}
	d := newRangeDigests(memReader(data), n, rec.States())
	got, err := d.digest(br, crypto.SHA256)
	if err != nil || !bytes.Equal(got, directDigest(data, br, crypto.SHA256)) {
		t.Fatalf("digest wrong (%v)", err)
	}
	sum, _ := d.fileSHA256()
	if want := sha256.Sum256(data); !bytes.Equal(sum, want[:]) {
		t.Fatal("file digest wrong")
	}
	if d.hashed >= every+30000 {
		t.Errorf("hashed %d bytes, want under %d", d.hashed, every+30000)
	}
	// States of other bytes (another size) are not used.
	d = newRangeDigests(memReader(data[:n-1]), n-1, rec.States())
	if sum, _ := d.fileSHA256(); !bytes.Equal(sum, directDigest(data, []int64{0, n - 1}, crypto.SHA256)) {
		t.Fatal("states of a longer stream were used")
	}
}
