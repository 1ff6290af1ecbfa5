package register

import (
	"bytes"
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
