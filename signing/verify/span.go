package verify

import (
	"errors"
	"io"
)

// memReader is file content already in memory (the mapping openStructure
// made). Reading from it through span costs no copy and no allocation,
// which matters for a one-file `vanthu verify`: in a fresh process every
// newly touched heap page is a page fault, and the scans below used to
// allocate a buffer per signature as large as the rest of the file.
type memReader []byte

func (m memReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// span returns the n bytes of r at off (fewer at the end of the data). For
// a memReader the result aliases the mapping and is valid only until
// Verify returns: callers must copy what they keep.
func span(r io.ReaderAt, off, n int64) ([]byte, error) {
	if m, ok := r.(memReader); ok {
		if off < 0 || off > int64(len(m)) {
			return nil, io.EOF
		}
		return m[off:min(off+n, int64(len(m)))], nil
	}
	buf := make([]byte, n)
	k, err := r.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf[:k], nil
}
