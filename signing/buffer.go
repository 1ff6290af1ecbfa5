package signing

import "fmt"

// Buffer is an Output in memory, for a file small enough to sign without
// a temporary file: written sequentially, then patched in place with the
// CMS. B-LT and B-LTA need an *os.File instead.
type Buffer struct {
	b []byte
}

// NewBuffer returns an empty Buffer with room for capacity bytes.
func NewBuffer(capacity int) *Buffer { return &Buffer{b: make([]byte, 0, capacity)} }

func (b *Buffer) Write(p []byte) (int, error) {
	b.b = append(b.b, p...)
	return len(p), nil
}

// WriteAt overwrites bytes already written; it never extends the buffer.
func (b *Buffer) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(b.b)) {
		return 0, fmt.Errorf("signing: write of %d bytes at %d outside the %d written", len(p), off, len(b.b))
	}
	return copy(b.b[off:], p), nil
}

// Bytes is what was written; it is the buffer's own memory.
func (b *Buffer) Bytes() []byte { return b.b }
