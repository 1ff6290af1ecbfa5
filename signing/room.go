package signing

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"sync"
)

// A signature reserves room in the PDF for its CMS (/Contents, written as
// hex). contentsEstimate is generous for any chain and TSA token (about
// 18 KB at B-T, 36 KB of hex), while the CMS one key makes at one level
// with one TSA is about the same size every time. The zeros left over are
// bytes of every signed version: written, hashed, kept in the blob store
// and, where an update is written ahead into PostgreSQL
// (storage/blob/staged), WAL and the durable commit's wait. A one-step
// signature (Sign, Source.Sign) therefore reserves the size of the last
// CMS of the same key, level, TSA, hash and padding, plus ContentsMargin;
// the first signature of a key in a process (and the one after a CMS
// outgrew its room) reserves the estimate. A CMS that outgrows the room
// learned is made again with the estimate, the output emptied: this needs
// an output that can be emptied (an *os.File at a seekable position, a
// *Buffer); any other output gets the estimate. A two-step signature
// (Prepare, Finalize) cannot be made again once the signer has signed, so
// it always reserves the estimate.

// ContentsMargin is the room a one-step signature reserves beyond the last
// CMS of the same key: the TSA token's serial number, nonce and time and
// the signatures' DER integers vary by a few bytes from one signature to
// the next.
const ContentsMargin = 1024

// maxLearnedCMS bounds the sizes kept (one per key, level, TSA, hash and
// padding).
const maxLearnedCMS = 1024

// cmsKey names what a CMS's size depends on besides the signed data,
// whose digest has a fixed size.
type cmsKey struct {
	// chain is the SHA-256 of the embedded certificates: the signer's
	// (and its key, so the signature's length) and the rest of its chain.
	chain  [sha256.Size]byte
	level  Level
	tsaURL string // the TSA whose token is embedded; "" below B-T
	hash   crypto.Hash
	pss    bool
}

// cmsKeyOf is the cmsKey of a signature by chain with o (defaulted).
func cmsKeyOf(chain []*x509.Certificate, o *Options) cmsKey {
	h := sha256.New()
	for _, c := range chain {
		h.Write(c.Raw)
	}
	k := cmsKey{level: o.Level, hash: o.Hash, pss: o.PSS}
	h.Sum(k.chain[:0])
	if o.Level.timestamped() {
		k.tsaURL = o.TSAURL
	}
	return k
}

// cmsSizes are the sizes of the last CMSs embedded, by cmsKey.
type cmsSizes struct {
	mu   sync.Mutex
	last map[cmsKey]int
}

func newCMSSizes() *cmsSizes { return &cmsSizes{last: map[cmsKey]int{}} }

// learnedCMS is what the one-step signatures of this process have learned.
var learnedCMS = newCMSSizes()

// reserve is the /Contents room for a CMS of key (0: the estimate,
// nothing learned).
func (c *cmsSizes) reserve(key cmsKey) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.last[key]; n > 0 {
		return n + ContentsMargin
	}
	return 0
}

// learn keeps n, the length of the CMS a signature embedded, for the next
// signature of key.
func (c *cmsSizes) learn(key cmsKey, n int) {
	if n <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.last[key]; known || len(c.last) < maxLearnedCMS {
		c.last[key] = n
	}
}

// forget drops what was learned for key (its CMS outgrew the room: a new
// TSA certificate, a longer token).
func (c *cmsSizes) forget(key cmsKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.last, key)
}

// restarter returns a function that empties out back to what it held
// before a signature began writing it, for a second attempt; nil when out
// cannot be emptied (a pipe, an Output of another type).
func restarter(out Output) func() error {
	switch o := out.(type) {
	case *Buffer:
		start := len(o.b)
		return func() error {
			o.b = o.b[:start]
			return nil
		}
	case *os.File:
		start, err := o.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil
		}
		if info, err := o.Stat(); err != nil || !info.Mode().IsRegular() {
			return nil
		}
		return func() error {
			if err := o.Truncate(start); err != nil {
				return fmt.Errorf("signing: empty the output: %w", err)
			}
			if _, err := o.Seek(start, io.SeekStart); err != nil {
				return fmt.Errorf("signing: empty the output: %w", err)
			}
			return nil
		}
	}
	return nil
}
