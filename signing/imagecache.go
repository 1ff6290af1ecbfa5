package signing

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"image"
	"sync"
)

// ImageCache keeps the encodings of the appearance images a service draws
// again and again (each signer's handwritten signature, each
// organisation's seal), so each is encoded once rather than at every
// signature. Entries are keyed by a SHA-256 of the image's content (of the
// bytes it was decoded from, or of its samples: Encode), never by a name
// or an id, so no image can be drawn for another. It holds at most a
// fixed number of entries and of encoded bytes, dropping the least
// recently used; it is safe for concurrent use.
type ImageCache struct {
	maxEntries int
	maxBytes   int

	mu    sync.Mutex
	bytes int
	byKey map[[sha256.Size]byte]*list.Element
	lru   list.List // of *cachedImage, most recently used first
}

type cachedImage struct {
	key [sha256.Size]byte
	enc *EncodedImage
}

// NewImageCache returns a cache of at most maxEntries images and maxBytes
// encoded bytes.
func NewImageCache(maxEntries, maxBytes int) *ImageCache {
	return &ImageCache{maxEntries: maxEntries, maxBytes: maxBytes, byKey: map[[sha256.Size]byte]*list.Element{}}
}

// Encoded returns img's encoding, encoding it (EncodeImage) when the cache
// does not hold it. sum must be the SHA-256 of the bytes img was decoded
// from (a stored PNG), so that equal sums mean equal images.
func (c *ImageCache) Encoded(sum [sha256.Size]byte, img image.Image) (*EncodedImage, error) {
	if e := c.get(sum); e != nil {
		return e, nil
	}
	s, wd, ht, err := readSamples(img)
	if err != nil {
		return nil, err
	}
	e := s.encode(wd, ht, keptImageDeflateLevel)
	c.put(sum, e)
	return e, nil
}

// Encode returns img's encoding, keyed by a SHA-256 of its size and of the
// samples EncodeImage reads from it: for an image the caller has no stored
// bytes of (a seal image drawn by the service). Reading and hashing the
// samples costs a fraction of compressing them.
func (c *ImageCache) Encode(img image.Image) (*EncodedImage, error) {
	s, wd, ht, err := readSamples(img)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	var hdr [17]byte
	hdr[0] = 's' // samples, not a file: a key of its own kind
	binary.BigEndian.PutUint64(hdr[1:], uint64(wd))
	binary.BigEndian.PutUint64(hdr[9:], uint64(ht))
	h.Write(hdr[:])
	h.Write(s.rgb)
	if !s.opaque {
		h.Write(s.alpha)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	if e := c.get(sum); e != nil {
		return e, nil
	}
	e := s.encode(wd, ht, keptImageDeflateLevel)
	c.put(sum, e)
	return e, nil
}

func (c *ImageCache) get(key [sha256.Size]byte) *EncodedImage {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cachedImage).enc
}

func (c *ImageCache) put(key [sha256.Size]byte, e *EncodedImage) {
	n := e.Size()
	if n > c.maxBytes || c.maxEntries < 1 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		// Encoded meanwhile by another signature: keep the first.
		c.lru.MoveToFront(el)
		return
	}
	c.byKey[key] = c.lru.PushFront(&cachedImage{key: key, enc: e})
	c.bytes += n
	for c.lru.Len() > c.maxEntries || c.bytes > c.maxBytes {
		old := c.lru.Back().Value.(*cachedImage)
		c.lru.Remove(c.lru.Back())
		delete(c.byKey, old.key)
		c.bytes -= old.enc.Size()
	}
}

// Len is the number of images held.
func (c *ImageCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
