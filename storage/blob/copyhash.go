package blob

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/vanthu/vanthu/internal/prefixdigest"
)

// Chunks of the receive pipeline: large, so that the file sees few writes (a
// multipart part yields at most 4 KB per Read); few, so that an upload holds
// little memory whatever its size.
const (
	chunkSize   = 1 << 20
	chunksInUse = 4
)

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// chunk is one buffer on its way to the hasher and the writer; whichever of
// the two is done with it last puts it back on the free list.
type chunk struct {
	buf  *[]byte
	n    int
	refs atomic.Int32
}

// CopyHashed copies r to w and returns the hex SHA-256 and the length of
// what it copied. Reading, hashing and writing run concurrently, one
// goroutine each, on chunks of 1 MiB (at most four in flight, pooled). It
// fails with ErrTooLarge once more than max bytes arrived (max <= 0: no
// limit), with ctx's error once ctx ends, and with the first error of r or
// w; after an error w may hold any prefix of the stream.
func CopyHashed(ctx context.Context, w io.Writer, r io.Reader, max int64) (key string, n int64, err error) {
	states, n, err := copyHashed(ctx, w, r, max)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(states.Sum[:]), n, nil
}

// copyHashed is CopyHashed keeping the SHA-256's state after every chunk,
// so that a verifier of the copy resumes from them instead of hashing the
// bytes again (see Buffered.SHA256States).
func copyHashed(ctx context.Context, w io.Writer, r io.Reader, max int64) (states *prefixdigest.States, n int64, err error) {
	free := make(chan *chunk, chunksInUse)
	for range chunksInUse {
		free <- &chunk{buf: chunkPool.Get().(*[]byte)}
	}
	defer func() {
		for range chunksInUse {
			chunkPool.Put((<-free).buf)
		}
	}()
	release := func(c *chunk) {
		if c.refs.Add(-1) == 0 {
			free <- c
		}
	}
	hashq, writeq := make(chan *chunk, chunksInUse), make(chan *chunk, chunksInUse)
	h := prefixdigest.NewRecorder(chunkSize)
	var writeErr error
	writeFailed := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for c := range hashq {
			h.Write((*c.buf)[:c.n])
			release(c)
		}
	}()
	go func() {
		defer wg.Done()
		for c := range writeq {
			if writeErr == nil {
				if _, writeErr = w.Write((*c.buf)[:c.n]); writeErr != nil {
					close(writeFailed)
				}
			}
			release(c)
		}
	}()
	n, err = readChunks(ctx, r, max, free, writeFailed, func(c *chunk) {
		c.refs.Store(2)
		hashq <- c
		writeq <- c
	})
	close(hashq)
	close(writeq)
	wg.Wait()
	switch {
	case writeErr != nil:
		return nil, n, fmt.Errorf("write: %w", writeErr)
	case err != nil:
		return nil, n, err
	}
	return h.States(), n, nil
}

// readChunks fills free chunks from r and hands each non-empty one to send,
// until r ends (nil), fails, sends more than max bytes, ctx ends or stop is
// closed (nil: the caller has the reason).
func readChunks(ctx context.Context, r io.Reader, max int64, free chan *chunk, stop <-chan struct{}, send func(*chunk)) (int64, error) {
	var n int64
	for {
		select {
		case <-stop:
			return n, nil
		default:
		}
		// Checked first: a select with a free chunk ready too would pick
		// either at random, and a cancelled upload could run to its end.
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var c *chunk
		select {
		case c = <-free:
		case <-ctx.Done():
			return n, ctx.Err()
		case <-stop:
			return n, nil
		}
		m, err := fill(r, *c.buf)
		n += int64(m)
		if max > 0 && n > max {
			free <- c
			return n, ErrTooLarge
		}
		if m > 0 {
			c.n = m
			send(c)
		} else {
			free <- c
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// fill reads until p is full or r fails. Unlike io.ReadFull it passes r's
// errors on unchanged, so a clean io.EOF stays distinguishable from a body
// that broke off (io.ErrUnexpectedEOF from a multipart reader).
func fill(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
