package register

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/vanthu/vanthu/signing"
)

// The seal's signature reserves room in the PDF for its CMS (/Contents,
// written as hex). signing's estimate is generous for any chain and TSA
// token (about 18 KB for a seal at B-T, 36 KB of hex), while the CMS a
// seal's key makes at a level with a TSA is about the same size at every
// issue. Each issue's update is written ahead into PostgreSQL
// (storage/blob/staged) and kept in the blob store, so the zeros left over
// cost WAL, the durable commit's wait and bytes stored on every issue.
// The size of the last CMS with the same key, level and TSA, plus a
// margin, is reserved instead; the first issue (and the one after a
// restart) reserves the estimate.

// cmsMargin is the room reserved beyond the last CMS: the TSA token's
// serial number, nonce and time and the signatures' DER integers vary by
// a few bytes from one signature to the next.
const cmsMargin = 1024

// maxLearnedCMS bounds the sizes kept (one per seal key, level and TSA).
const maxLearnedCMS = 1024

// cmsSizes are the sizes of the seals' last CMSs, by cmsKey.
type cmsSizes struct {
	mu   sync.Mutex
	last map[string]int
}

// learnedCMS is what the issues of this process have learned.
var learnedCMS = &cmsSizes{last: map[string]int{}}

// cmsKey names what the CMS's size depends on: the key (its certificate's
// fingerprint), the level and the TSA.
func cmsKey(fingerprint string, level signing.Level, tsaURL string) string {
	return fingerprint + "\x00" + string(level) + "\x00" + tsaURL
}

// reserve is the /Contents size to reserve for a CMS of key, for
// signing.Options.ContentsSize (0: signing's estimate, nothing learned).
func (c *cmsSizes) reserve(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.last[key]; n > 0 {
		return n + cmsMargin
	}
	return 0
}

// learn keeps the size of the CMS the incremental update of a signature
// carries, for the next signature of key.
func (c *cmsSizes) learn(key string, update []byte) {
	n, ok := cmsLength(update)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.last[key]; known || len(c.last) < maxLearnedCMS {
		c.last[key] = n
	}
}

// forget drops what was learned for key (its CMS outgrew the room: a
// new TSA certificate, a longer chain).
func (c *cmsSizes) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.last, key)
}

// cmsLength is the length in bytes of the CMS in the signature dictionary
// of a signature's incremental update: the hex digits of its /Contents
// without the zeros that pad the reserved room. A CMS whose DER ends in
// zero bytes is counted a few bytes short, which cmsMargin covers.
func cmsLength(update []byte) (int, bool) {
	const open = "/Contents <"
	at := bytes.LastIndex(update, []byte(open))
	if at < 0 {
		return 0, false
	}
	digits := update[at+len(open):]
	end := bytes.IndexByte(digits, '>')
	if end < 0 || end%2 != 0 {
		return 0, false
	}
	digits = digits[:end]
	n := len(digits)
	for n >= 2 && digits[n-1] == '0' && digits[n-2] == '0' {
		n -= 2
	}
	if n == 0 {
		return 0, false
	}
	return n / 2, true
}

// sign seals j's version into out with room for a CMS the size of the
// last one of the seal's key, level and TSA (learnedCMS), and keeps the
// size of this one. A CMS that outgrows that room is made again, out
// emptied, with signing's estimate.
func (j *sealJob) sign(ctx context.Context, out sealOutput, opts signing.Options, tsaURL string) error {
	learned := cmsKey(j.fingerprint, opts.Level, tsaURL)
	opts.ContentsSize = learnedCMS.reserve(learned)
	err := j.src.Sign(ctx, out, j.key, opts)
	if errors.Is(err, signing.ErrContentsTooSmall) && opts.ContentsSize > 0 {
		learnedCMS.forget(learned)
		if err := out.restart(); err != nil {
			return fmt.Errorf("sealed file: %w", err)
		}
		opts.ContentsSize = 0
		err = j.src.Sign(ctx, out, j.key, opts)
	}
	if err != nil {
		return err
	}
	update, err := out.update(j.size)
	if err != nil {
		return fmt.Errorf("sealed file: %w", err)
	}
	learnedCMS.learn(learned, update)
	return nil
}

// sealOutput is where sign writes a seal: emptied for a second attempt,
// and its incremental update read back.
type sealOutput interface {
	signing.Output
	restart() error
	// update is what was written after the first base bytes.
	update(base int64) ([]byte, error)
}

// sealBuffer is a seal written in memory.
type sealBuffer struct {
	*signing.Buffer
	capacity int
}

// newSealBuffer is an empty sealBuffer of capacity bytes, enough for the
// whole sealed file so it is never grown.
func newSealBuffer(capacity int) *sealBuffer {
	return &sealBuffer{Buffer: signing.NewBuffer(capacity), capacity: capacity}
}

func (b *sealBuffer) restart() error {
	*b = *newSealBuffer(b.capacity)
	return nil
}

func (b *sealBuffer) update(base int64) ([]byte, error) {
	if all := b.Bytes(); int64(len(all)) > base {
		return all[base:], nil
	}
	return nil, errors.New("nothing appended")
}

// sealFile is a seal written into a temporary file.
type sealFile struct{ *os.File }

func (f sealFile) restart() error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

func (f sealFile) update(base int64) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() <= base {
		return nil, errors.New("nothing appended")
	}
	b := make([]byte, info.Size()-base)
	if _, err := f.ReadAt(b, base); err != nil {
		return nil, err
	}
	return b, nil
}
