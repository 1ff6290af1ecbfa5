package publicverify

import (
	"sync"
	"time"
)

// DefaultVerdictTTL is how long a recorded file's verdict is reused: a QR
// code is scanned again and again, and the same file uploaded by every
// desk it reaches, while a verdict changes only when a certificate is
// revoked or expires (the answer says when it was checked).
const DefaultVerdictTTL = 5 * time.Minute

// maxCachedVerdicts bounds the cache: a verdict is a few hundred bytes.
const maxCachedVerdicts = 4096

// VerdictCache keeps recent verdicts of recorded files by their hash; the
// record itself (and so whether it is answered at all) is read every time.
type VerdictCache struct {
	TTL time.Duration
	mu  sync.Mutex
	m   map[string]cachedVerdict
}

type cachedVerdict struct {
	verdict    string
	signatures []Signature
	checkedAt  *time.Time
	until      time.Time
}

// NewVerdictCache makes a cache whose verdicts last ttl.
func NewVerdictCache(ttl time.Duration) *VerdictCache {
	return &VerdictCache{TTL: ttl, m: map[string]cachedVerdict{}}
}

func (c *VerdictCache) get(sha string, now time.Time) (cachedVerdict, bool) {
	if c == nil || c.TTL <= 0 {
		return cachedVerdict{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[sha]
	if ok && now.After(v.until) {
		delete(c.m, sha)
		return cachedVerdict{}, false
	}
	return v, ok
}

func (c *VerdictCache) put(sha string, a Answer, now time.Time) {
	if c == nil || c.TTL <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedVerdicts {
		for k, v := range c.m { // drop the expired, else any one
			if now.After(v.until) || len(c.m) >= maxCachedVerdicts {
				delete(c.m, k)
			}
			if len(c.m) < maxCachedVerdicts/2 {
				break
			}
		}
	}
	c.m[sha] = cachedVerdict{verdict: a.Verdict, signatures: a.Signatures, checkedAt: a.CheckedAt, until: now.Add(c.TTL)}
}
