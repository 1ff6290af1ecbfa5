package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"testing"
	"testing/iotest"
)

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestCopyHashed(t *testing.T) {
	for _, size := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 5*chunkSize + 123, 9 * chunkSize} {
		data := randomBytes(size, int64(size))
		for name, r := range map[string]io.Reader{
			"whole":       bytes.NewReader(data),
			"4 KB reads":  &smallReads{r: bytes.NewReader(data), n: 4096},
			"half reads":  iotest.HalfReader(bytes.NewReader(data)),
			"data at EOF": iotest.DataErrReader(bytes.NewReader(data)),
		} {
			var out bytes.Buffer
			key, n, err := CopyHashed(context.Background(), &out, r, 0)
			if err != nil || key != hexSum(data) || n != int64(size) || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("%d bytes, %s: key %s n %d err %v, copy equal %v", size, name, key, n, err, bytes.Equal(out.Bytes(), data))
			}
		}
	}
}

func TestCopyHashedFailures(t *testing.T) {
	data := randomBytes(3*chunkSize+5, 1)
	broken := errors.New("connection reset")
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		r    io.Reader
		w    io.Writer
		max  int64
		want error
	}{
		{"over the limit", ctx, bytes.NewReader(data), io.Discard, int64(len(data)) - 1, ErrTooLarge},
		{"at the limit", ctx, bytes.NewReader(data), io.Discard, int64(len(data)), nil},
		{"reader fails", ctx, io.MultiReader(bytes.NewReader(data), iotest.ErrReader(broken)), io.Discard, 0, broken},
		// A multipart body that breaks off mid-part reports
		// io.ErrUnexpectedEOF: it must not pass for the end of the file.
		{"body broke off", ctx, io.MultiReader(bytes.NewReader(data[:100]), iotest.ErrReader(io.ErrUnexpectedEOF)), io.Discard, 0, io.ErrUnexpectedEOF},
		{"writer fails", ctx, bytes.NewReader(data), &failingWriter{after: chunkSize, err: broken}, 0, broken},
		{"cancelled", cancelled, bytes.NewReader(data), io.Discard, 0, context.Canceled},
	} {
		key, _, err := CopyHashed(tc.ctx, tc.w, tc.r, tc.max)
		if tc.want == nil {
			if err != nil || key != hexSum(data) {
				t.Errorf("%s: %s %v", tc.name, key, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) || key != "" {
			t.Errorf("%s: got key %q, err %v; want %v", tc.name, key, err, tc.want)
		}
	}
}

// smallReads returns at most n bytes per Read, as a multipart part does.
type smallReads struct {
	r io.Reader
	n int
}

func (s *smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

type failingWriter struct {
	after int
	err   error
	n     int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.after {
		return 0, w.err
	}
	w.n += len(p)
	return len(p), nil
}
