package blob

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vanthu/vanthu/internal/prefixdigest"
)

// Memory is a budget of pooled 1 MiB chunks shared by the uploads a store
// buffers at one time. An upload that finds the budget spent, or outgrows its
// own share, goes on in a temporary file.
type Memory struct {
	tokens    chan struct{}
	perUpload int64
}

// NewMemory allows total bytes of buffered uploads at once, at most
// perUpload of them for one upload. Zero total means every upload goes to a
// file.
func NewMemory(total, perUpload int64) *Memory {
	return &Memory{tokens: make(chan struct{}, total/chunkSize), perUpload: perUpload}
}

func (m *Memory) take() bool {
	if m == nil {
		return false
	}
	select {
	case m.tokens <- struct{}{}:
		return true
	default:
		return false
	}
}

func (m *Memory) give(n int) {
	for range n {
		<-m.tokens
	}
}

// BufferOptions shape one Buffer.
type BufferOptions struct {
	PutOptions
	Memory *Memory
	// Dir and Pattern name the temporary file of an upload that does not
	// stay in memory.
	Dir, Pattern string
}

// Buffered is a complete, hashed and checked stream, in memory or in a
// temporary file; Close releases either.
type Buffered struct {
	Key    string
	Size   int64
	sink   *spillWriter
	states *prefixdigest.States
}

// SHA256States are the hash's states captured every 1 MiB while the bytes
// were buffered: the verifier resumes from them (signing/verify
// KnownSHA256) instead of hashing the file again.
func (b *Buffered) SHA256States() *prefixdigest.States { return b.states }

// ReadAt reads the buffered bytes.
func (b *Buffered) ReadAt(p []byte, off int64) (int, error) { return b.sink.ReadAt(p, off) }

// File is the temporary file holding the bytes, or nil when they are in
// memory.
func (b *Buffered) File() *os.File { return b.sink.file }

// Close frees the memory and removes the temporary file.
func (b *Buffered) Close() { b.sink.close() }

// Buffer reads r to its end, hashing it on the way (see CopyHashed), keeps
// it in memory while opts.Memory allows and in a temporary file beyond, then
// runs the caller's check. Nothing is synced to disk: the buffer is scratch
// space for an upload that goes elsewhere. On error nothing is left behind.
func Buffer(ctx context.Context, r io.Reader, opts BufferOptions) (*Buffered, error) {
	w := &spillWriter{mem: opts.Memory, dir: opts.Dir, pattern: opts.Pattern}
	states, n, err := copyHashed(ctx, w, ContextReader(ctx, r), opts.Max)
	if err != nil {
		w.close()
		if errors.Is(err, ErrTooLarge) {
			return nil, ErrTooLarge
		}
		return nil, fmt.Errorf("buffer upload: %w", err)
	}
	key := hex.EncodeToString(states.Sum[:])
	b := &Buffered{Key: key, Size: n, sink: w, states: states}
	if opts.Check != nil {
		if err := opts.Check(b, n); err != nil {
			w.close()
			return nil, err
		}
	}
	if err := opts.beforeStore(ctx, key); err != nil {
		w.close()
		return nil, err
	}
	return b, nil
}

// spillWriter keeps what is written in pooled chunks while its Memory
// allows, then moves it to a temporary file and writes there.
type spillWriter struct {
	mem          *Memory
	dir, pattern string
	held         int       // chunks taken from mem
	chunks       []*[]byte // full but for the last
	size         int64
	file         *os.File
}

func (w *spillWriter) Write(p []byte) (int, error) {
	if w.file == nil && !w.keep(len(p)) {
		if err := w.spill(); err != nil {
			return 0, err
		}
	}
	if w.file != nil {
		n, err := w.file.Write(p)
		w.size += int64(n)
		return n, err
	}
	for rest := p; len(rest) > 0; {
		used := int(w.size % chunkSize)
		if used == 0 {
			w.chunks = append(w.chunks, chunkPool.Get().(*[]byte))
		}
		n := copy((*w.chunks[len(w.chunks)-1])[used:], rest)
		rest = rest[n:]
		w.size += int64(n)
	}
	return len(p), nil
}

// keep reports whether n more bytes may stay in memory, taking the chunks
// they need from the budget.
func (w *spillWriter) keep(n int) bool {
	need := w.size + int64(n)
	if w.mem == nil || need > w.mem.perUpload {
		return false
	}
	for ; int64(w.held)*chunkSize < need; w.held++ {
		if !w.mem.take() {
			return false
		}
	}
	return true
}

// spill moves the bytes so far to a new temporary file and frees their memory.
func (w *spillWriter) spill() error {
	f, err := os.CreateTemp(w.dir, w.pattern)
	if err != nil {
		return fmt.Errorf("buffer upload: %w", err)
	}
	w.file = f
	for i, c := range w.chunks {
		end := min(chunkSize, w.size-int64(i)*chunkSize)
		if _, err := f.Write((*c)[:end]); err != nil {
			return fmt.Errorf("buffer upload: %w", err)
		}
	}
	w.freeMemory()
	return nil
}

func (w *spillWriter) freeMemory() {
	for _, c := range w.chunks {
		chunkPool.Put(c)
	}
	w.chunks = nil
	if w.held > 0 {
		w.mem.give(w.held)
		w.held = 0
	}
}

func (w *spillWriter) ReadAt(p []byte, off int64) (int, error) {
	if w.file != nil {
		return w.file.ReadAt(p, off)
	}
	if off < 0 {
		return 0, errors.New("buffer read: negative offset")
	}
	n := 0
	for n < len(p) && off < w.size {
		c := *w.chunks[off/chunkSize]
		end := min(int64(len(c)), w.size-off/chunkSize*chunkSize)
		m := copy(p[n:], c[off%chunkSize:end])
		n += m
		off += int64(m)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (w *spillWriter) close() {
	w.freeMemory()
	if w.file != nil {
		w.file.Close()
		os.Remove(w.file.Name())
	}
}
