package signing

import (
	"context"
	"errors"
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
	// kernelChunk bounds one copy_file_range call, so a cancelled
	// context is noticed within a few milliseconds.
	kernelChunk = 8 << 20
)

// chunkPool keeps copy buffers between signatures: bulk signing would
// otherwise allocate and zero 4 MB per document.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, copyChunk); return &b }}

// copyInput writes in[0:size) to out (at out's current position) and into h.
//
// When both are files the copy stays in the kernel (copy_file_range: a
// reflink or an in-kernel page copy, no trip through user space) on its own
// goroutine, while the input is hashed from the page cache with ReadAt, so
// the cost is about that of hashing alone. Otherwise the bytes go through
// user space once, written and hashed on overlapping goroutines.
func copyInput(ctx context.Context, out io.Writer, h hash.Hash, in io.ReaderAt, size int64) error {
	inF, ok1 := in.(*os.File)
	outF, ok2 := out.(*os.File)
	if ok1 && ok2 && size > 0 {
		copied := make(chan error, 1)
		var n int64
		go func() {
			var err error
			n, err = kernelCopy(ctx, outF, inF, size)
			copied <- err
		}()
		herr := hashRange(ctx, h, in, size)
		cerr := <-copied
		if herr != nil {
			return herr
		}
		if errors.Is(cerr, errNoKernelCopy) && n == 0 {
			// Not supported between these files (another file system,
			// an append-only output, an old kernel): copy in user space.
			return copyPlain(ctx, out, in, size)
		}
		return cerr
	}
	return copyHashing(ctx, out, h, io.NewSectionReader(in, 0, size))
}

var errNoKernelCopy = errors.New("copy_file_range unsupported")

// kernelCopy copies src[0:size) to dst's current position with
// copy_file_range, leaving src's position alone and advancing dst's. It
// returns errNoKernelCopy if the kernel refuses the very first call.
func kernelCopy(ctx context.Context, dst, src *os.File, size int64) (int64, error) {
	sc, err := src.SyscallConn()
	if err != nil {
		return 0, errNoKernelCopy
	}
	dc, err := dst.SyscallConn()
	if err != nil {
		return 0, errNoKernelCopy
	}
	var off, done int64
	for done < size {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		want := min(size-done, kernelChunk)
		var n int
		var cerr error
		err := sc.Control(func(sfd uintptr) {
			err := dc.Control(func(dfd uintptr) {
				for {
					n, cerr = unix.CopyFileRange(int(sfd), &off, int(dfd), nil, int(want), 0)
					if cerr != unix.EINTR {
						return
					}
				}
			})
			if err != nil && cerr == nil {
				cerr = err
			}
		})
		if err != nil && cerr == nil {
			cerr = err
		}
		if cerr != nil {
			if done == 0 {
				switch cerr {
				case unix.ENOSYS, unix.EXDEV, unix.EINVAL, unix.EOPNOTSUPP, unix.EBADF, unix.EPERM, unix.EIO:
					return 0, errNoKernelCopy
				}
			}
			return done, fmt.Errorf("signing: copy input to output: %w", cerr)
		}
		if n == 0 {
			if done == 0 {
				return 0, errNoKernelCopy
			}
			return done, fmt.Errorf("signing: copy input to output: %w", io.ErrUnexpectedEOF)
		}
		done += int64(n)
	}
	return done, nil
}

// copyPlain writes in[0:size) to out through a pooled buffer.
func copyPlain(ctx context.Context, out io.Writer, in io.ReaderAt, size int64) error {
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := (*bp)[:min(int64(len(*bp)), size-off)]
		n, err := in.ReadAt(b, off)
		if n < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("signing: read input: %w", err)
		}
		if _, err := out.Write(b); err != nil {
			return fmt.Errorf("signing: write output: %w", err)
		}
		off += int64(n)
	}
	return nil
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
