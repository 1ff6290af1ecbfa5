package verify

import (
	"crypto"
	"encoding"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/vanthu/vanthu/internal/prefixdigest"
)

// KnownSHA256 is what a caller that read the file before the verifier (the
// service, which hashed an upload while spooling it) passes through the
// io.ReaderAt it gives Verify: the SHA-256 states of exactly those bytes,
// from which the report's digest and the signatures' prefixes resume.
type KnownSHA256 interface {
	SHA256States() *prefixdigest.States
}

// fileBacked is a reader over a temporary file (the service's spooled
// upload), which Verify maps like an *os.File; a nil File means the bytes
// are elsewhere.
type fileBacked interface {
	File() *os.File
}

// rangeDigests hashes the signed byte ranges and the whole file. Every
// signature's first range starts at offset 0, and a later signature's
// first range covers the earlier ones' (incremental updates append), so
// the hash's state at the end of each first range is kept and the next
// resumes from it: a file's bytes are hashed about once for all its
// signatures and the report's SHA-256 (one pass per digest algorithm), not
// once per signature.
type rangeDigests struct {
	r     io.ReaderAt
	size  int64
	known *prefixdigest.States // nil unless the caller hashed these bytes
	// prefixes holds, per algorithm, marshalled states at ascending
	// offsets.
	prefixes map[crypto.Hash][]prefixState
	sums     map[string][]byte // finished digests by algorithm and ranges
	buf      []byte
	hashed   int64 // bytes read and hashed, which the tests bound
}

type prefixState struct {
	off int64
	bin []byte
}

// maxPrefixStates bounds the states kept per algorithm (≈ 100–200 bytes
// each); beyond it a prefix is still resumed, just not remembered.
const maxPrefixStates = 2 * maxSignatures

func newRangeDigests(r io.ReaderAt, size int64, known *prefixdigest.States) *rangeDigests {
	if known != nil && known.Size != size {
		known = nil
	}
	return &rangeDigests{r: r, size: size, known: known, prefixes: map[crypto.Hash][]prefixState{}, sums: map[string][]byte{}}
}

// fileSHA256 is the digest of the whole file.
func (d *rangeDigests) fileSHA256() ([]byte, error) {
	if d.known != nil {
		return d.known.Sum[:], nil
	}
	h, err := d.prefix(crypto.SHA256, d.size)
	if err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// digest is the digest of the ranges br (offset, length pairs) with h.
func (d *rangeDigests) digest(br []int64, h crypto.Hash) ([]byte, error) {
	if !h.Available() {
		return nil, fmt.Errorf("hash %v not available", h)
	}
	for i := 0; i+1 < len(br); i += 2 {
		if br[i] < 0 || br[i+1] < 0 || br[i] > d.size || br[i+1] > d.size-br[i] {
			return nil, fmt.Errorf("read signed range: [%d, +%d) outside the file", br[i], br[i+1])
		}
	}
	key := rangesKey(h, br)
	if sum, ok := d.sums[key]; ok {
		return sum, nil
	}
	var x hash.Hash
	rest := br
	if len(br) >= 2 && br[0] == 0 {
		var err error
		if x, err = d.prefix(h, br[1]); err != nil {
			return nil, err
		}
		rest = br[2:]
	} else {
		x = h.New()
	}
	for i := 0; i+1 < len(rest); i += 2 {
		if err := d.write(x, rest[i], rest[i]+rest[i+1]); err != nil {
			return nil, err
		}
	}
	sum := x.Sum(nil)
	if len(d.sums) < maxPrefixStates {
		d.sums[key] = sum
	}
	return sum, nil
}

func rangesKey(h crypto.Hash, br []int64) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(h)))
	for _, n := range br {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(n, 10))
	}
	return b.String()
}

// prefix returns h holding the digest of the bytes [0, end), resumed from
// the nearest known or kept state before end, and keeps its state at end.
func (d *rangeDigests) prefix(h crypto.Hash, end int64) (hash.Hash, error) {
	x, from := h.New(), int64(0)
	states := d.prefixes[h]
	i := sort.Search(len(states), func(i int) bool { return states[i].off > end }) - 1
	if i >= 0 {
		if err := x.(encoding.BinaryUnmarshaler).UnmarshalBinary(states[i].bin); err == nil {
			from = states[i].off
		} else {
			x = h.New()
		}
	}
	if h == crypto.SHA256 && d.known != nil {
		if k, off := d.known.Resume(end); off > from {
			x, from = k, off
		}
	}
	if err := d.write(x, from, end); err != nil {
		return nil, err
	}
	if from == end || len(states) >= maxPrefixStates {
		return x, nil
	}
	m, ok := x.(encoding.BinaryMarshaler)
	if !ok {
		return x, nil
	}
	bin, err := m.MarshalBinary()
	if err != nil {
		return x, nil
	}
	j := i + 1
	states = append(states, prefixState{})
	copy(states[j+1:], states[j:])
	states[j] = prefixState{off: end, bin: bin}
	d.prefixes[h] = states
	return x, nil
}

// write hashes the file's bytes [from, to).
func (d *rangeDigests) write(w io.Writer, from, to int64) error {
	if from >= to {
		return nil
	}
	d.hashed += to - from
	if m, ok := d.r.(memReader); ok {
		w.Write(m[from:to])
		return nil
	}
	if d.buf == nil {
		d.buf = make([]byte, 256<<10)
	}
	if _, err := io.CopyBuffer(w, io.NewSectionReader(d.r, from, to-from), d.buf); err != nil {
		return fmt.Errorf("read signed range: %w", err)
	}
	return nil
}
