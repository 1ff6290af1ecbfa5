// Package prefixdigest owns SHA-256 states captured at regular offsets while
// a stream is hashed, so that a later digest of a prefix of the same bytes
// (a signature's first byte range starts at offset 0) resumes from the
// nearest captured state instead of reading and hashing those bytes again.
//
// It has no dependencies beyond the standard library: the upload spooler
// (storage/blob) records the states and the verifier (signing/verify), which
// the small command-line binary links, resumes from them.
package prefixdigest

import (
	"crypto/sha256"
	"encoding"
	"fmt"
	"hash"
	"sort"
)

// States is the SHA-256 of a whole stream and the hash's state at offsets
// along it. It describes exactly the bytes that were written to the
// Recorder: a reader that resumes from it must read those same bytes.
type States struct {
	// Size is the length of the stream, Sum its SHA-256.
	Size int64
	Sum  [sha256.Size]byte
	at   []state // ascending offsets, none at 0
}

type state struct {
	off int64
	bin []byte // the digest's MarshalBinary at off
}

// Recorder hashes what is written to it with SHA-256 and captures the hash's
// state every Every bytes: ≈ 100 bytes a state, so 20 per 20 MiB file at
// 1 MiB.
type Recorder struct {
	every  int64
	n      int64
	h      hash.Hash
	states []state
	err    error
}

// NewRecorder captures a state every `every` bytes (at least 64 KiB, so a
// hostile caller cannot make the states outgrow the stream).
func NewRecorder(every int64) *Recorder {
	return &Recorder{every: max(every, 64<<10), h: sha256.New()}
}

// Write hashes p, capturing the state at every multiple of Every it crosses.
func (r *Recorder) Write(p []byte) (int, error) {
	written := len(p)
	for len(p) > 0 {
		room := r.every - r.n%r.every
		k := int64(len(p))
		if k > room {
			k = room
		}
		r.h.Write(p[:k])
		r.n += k
		p = p[k:]
		if r.n%r.every == 0 && r.err == nil {
			bin, err := r.h.(encoding.BinaryMarshaler).MarshalBinary()
			if err != nil {
				r.err = fmt.Errorf("capture SHA-256 state: %w", err)
				continue
			}
			r.states = append(r.states, state{off: r.n, bin: bin})
		}
	}
	return written, nil
}

// States ends the recording: the digest of everything written and the
// captured states. A Recorder whose states could not be captured still
// gives the digest, with no states.
func (r *Recorder) States() *States {
	s := &States{Size: r.n}
	r.h.Sum(s.Sum[:0])
	if r.err == nil {
		s.at = r.states
	}
	return s
}

// Len is the number of captured states.
func (s *States) Len() int {
	if s == nil {
		return 0
	}
	return len(s.at)
}

// Resume returns a SHA-256 holding the digest of the stream's bytes
// [0, off), for the largest captured off not beyond end (0 and a fresh
// hash when there is none): the caller writes the bytes [off, end) and
// whatever follows.
func (s *States) Resume(end int64) (hash.Hash, int64) {
	h := sha256.New()
	if s == nil {
		return h, 0
	}
	i := sort.Search(len(s.at), func(i int) bool { return s.at[i].off > end }) - 1
	for ; i >= 0; i-- {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(s.at[i].bin); err == nil {
			return h, s.at[i].off
		}
		h = sha256.New()
	}
	return h, 0
}
