package documents

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// A signed PDF must be recognised whatever the read sizes, including when
// "/ByteRange" straddles two reads.
func TestSignatureSpotter(t *testing.T) {
	signed := append(bytes.Repeat([]byte("x"), 4093), []byte("/ByteRange [0 1 2 3]")...)
	for _, tc := range []struct {
		name string
		r    func(io.Reader) io.Reader
		data []byte
		want bool
	}{
		{"whole", func(r io.Reader) io.Reader { return r }, signed, true},
		{"one byte reads", iotest.OneByteReader, signed, true},
		{"half reads", iotest.HalfReader, signed, true},
		{"4 KB reads across the marker", func(r io.Reader) io.Reader { return &chunked{r, 4096} }, signed, true},
		{"unsigned", iotest.HalfReader, bytes.Repeat([]byte("/ByteRang "), 1000), false},
	} {
		s := &signatureSpotter{r: tc.r(bytes.NewReader(tc.data))}
		got, err := io.ReadAll(s)
		if err != nil || !bytes.Equal(got, tc.data) {
			t.Fatalf("%s: the spotter changed the stream (%v)", tc.name, err)
		}
		if s.found != tc.want {
			t.Errorf("%s: found=%v, want %v", tc.name, s.found, tc.want)
		}
	}
}

type chunked struct {
	r io.Reader
	n int
}

func (c *chunked) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }
