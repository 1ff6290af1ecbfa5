package signing

import (
	"context"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

const (
	copyChunk    = 1 << 20
	copyInFlight = 4
)

// chunkPool keeps copy buffers between signatures: bulk signing would
// otherwise allocate and zero 4 MB per document.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, copyChunk); return &b }}

// copyInput writes in[0:size) to out and into h in one pass through user
// space, writing and hashing on overlapping goroutines.
//
// Copying file to file in the kernel (copy_file_range) while hashing the
// input with ReadAt was measured and dropped: on ext4 it is an in-kernel
// page copy, not a reflink, so it saves nothing while the input still has to
// be read for the hash, and it was about 15% slower at 20 MB than writing
// the chunks already read for hashing.
func copyInput(ctx context.Context, out io.Writer, h hash.Hash, in io.ReaderAt, size int64) error {
	return copyHashing(ctx, out, h, io.NewSectionReader(in, 0, size))
}

// preallocate reserves n bytes for out from its current position when it is
// a file (fallocate, keeping the size), and returns a function that gives
// back whatever was not written, for the error path. A full disk fails
// here, before anything is signed, rather than at writeback; and the file
// system does not delay allocation, so ext4 does not flush a truncated and
// rewritten output on close, which a later truncation would wait for. File
// systems without fallocate are written as before.
func preallocate(out io.Writer, n int64) (release func(), err error) {
	release = func() {}
	f, ok := out.(*os.File)
	if !ok || n <= 0 {
		return release, nil
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return release, nil // a pipe or other unseekable file
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return release, nil
	}
	fallocate := func(mode uint32, off, n int64) (ferr error) {
		if err := sc.Control(func(fd uintptr) {
			for {
				if ferr = unix.Fallocate(int(fd), mode, off, n); ferr != unix.EINTR {
					return
				}
			}
		}); err != nil {
			return err
		}
		return ferr
	}
	switch ferr := fallocate(unix.FALLOC_FL_KEEP_SIZE, off, n); ferr {
	case nil:
	case unix.ENOSPC, unix.EDQUOT, unix.EFBIG:
		return release, fmt.Errorf("signing: reserve %d bytes for the output: %w", n, ferr)
	default:
		return release, nil // not supported here: allocate as we write
	}
	return func() {
		// Blocks past the end of what was written stay allocated (with
		// KEEP_SIZE) until the file is truncated; truncating to its own
		// size frees them.
		if st, err := f.Stat(); err == nil && st.Size() < off+n {
			_ = f.Truncate(st.Size())
		}
	}, nil
}

// hashRange hashes in[0:size): one goroutine reads ahead with ReadAt while
// the caller's hashes, with at most four pooled chunks in flight.
func hashRange(ctx context.Context, h hash.Hash, in io.ReaderAt, size int64) error {
	free := make(chan *[]byte, copyInFlight)
	for i := 0; i < cap(free); i++ {
		free <- chunkPool.Get().(*[]byte)
	}
	type chunk struct {
		b   *[]byte
		n   int
		err error
	}
	full := make(chan chunk, cap(free))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(full)
		for off := int64(0); off < size; {
			var bp *[]byte
			select {
			case bp = <-free:
			case <-stop:
				return
			}
			b := (*bp)[:min(int64(len(*bp)), size-off)]
			n, err := in.ReadAt(b, off)
			if n == len(b) {
				err = nil
			} else if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			full <- chunk{bp, n, err}
			if err != nil {
				return
			}
			off += int64(n)
		}
	}()
	err := func() error {
		for c := range full {
			if c.err != nil {
				free <- c.b
				return fmt.Errorf("signing: read input: %w", c.err)
			}
			h.Write((*c.b)[:c.n])
			free <- c.b
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	}()
	close(stop)
	for c := range full { // drain if we stopped early
		free <- c.b
	}
	wg.Wait()
	for i := 0; i < cap(free); i++ {
		chunkPool.Put(<-free)
	}
	return err
}

// copyHashing copies src to out and into h. Hashing runs on its own
// goroutine, overlapped with reading and writing, so signing a large file
// costs about what hashing it does; at most four chunks are in flight.
func copyHashing(ctx context.Context, out io.Writer, h hash.Hash, src io.Reader) error {
	free := make(chan []byte, copyInFlight)
	for i := 0; i < cap(free); i++ {
		free <- *chunkPool.Get().(*[]byte)
	}
	defer func() {
		for i := 0; i < cap(free); i++ {
			b := <-free
			chunkPool.Put(&b)
		}
	}()
	full := make(chan []byte, cap(free))
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for b := range full {
			h.Write(b)
			free <- b[:cap(b)]
		}
	}()
	err := func() error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			buf := <-free
			n, rerr := io.ReadFull(src, buf)
			if n > 0 {
				full <- buf[:n]
				if _, err := out.Write(buf[:n]); err != nil {
					return fmt.Errorf("signing: write output: %w", err)
				}
			} else {
				free <- buf
			}
			if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
				return nil
			}
			if rerr != nil {
				return fmt.Errorf("signing: read input: %w", rerr)
			}
		}
	}()
	close(full)
	<-hashed
	return err
}
