package pdf

import (
	"bytes"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrUnsupportedFilter is returned for stream filters this reader does not
// decode (image codecs, LZW, encryption). The raw data is still available.
var ErrUnsupportedFilter = errors.New("unsupported stream filter")

// decode applies the stream's filters within the limits: the decoded data
// held at once within the budget, one stream within MaxStreamBytes, all
// decoding of the file within MaxTotalDecoded. A decompression bomb stops
// at the first limit it reaches with an error wrapping ErrBudget, before
// the bytes beyond it are allocated.
//
// The result is charged to the budget (charged bytes) until the caller
// releases them with f.release; a stream without filters is the file's own
// bytes and costs nothing. The caller holds f.mu.
func (f *File) decode(s *Stream) (data []byte, charged int64, err error) {
	if s.Offset < 0 || s.Length < 0 || s.Offset+s.Length > int64(len(f.data)) {
		return nil, 0, fmt.Errorf("stream data outside the file")
	}
	data = f.data[s.Offset : s.Offset+s.Length]
	var filters []Name
	var parms []Object
	switch v := s.Dict["Filter"].(type) {
	case nil:
	case Name:
		filters = []Name{v}
		parms = []Object{s.Dict["DecodeParms"]}
	case Array:
		pa, _ := s.Dict["DecodeParms"].(Array)
		for i, x := range v {
			n, ok := x.(Name)
			if !ok {
				return nil, 0, fmt.Errorf("/Filter %s is not a name", Format(x))
			}
			filters = append(filters, n)
			var pm Object
			if i < len(pa) {
				pm = pa[i]
			}
			parms = append(parms, pm)
		}
	default:
		return nil, 0, fmt.Errorf("invalid /Filter %s", Format(v))
	}
	if len(filters) > 8 {
		return nil, 0, fmt.Errorf("%d filters chained", len(filters))
	}
	for i, name := range filters {
		pm, _ := parms[i].(Dict)
		limit := min(f.lim.MaxStreamBytes, f.lim.MaxTotalDecoded-f.decoded)
		if limit <= 0 {
			f.release(charged)
			return nil, 0, f.refused(fmt.Errorf("%w: decoding this file produced %d bytes, its limit", ErrBudget, f.lim.MaxTotalDecoded))
		}
		var out []byte
		var cost int64
		switch name {
		case "FlateDecode", "Fl":
			out, cost, err = f.inflate(data, limit)
			if err == nil {
				var pout []byte
				var pcost int64
				pout, pcost, err = f.unpredict(out, pm)
				if err == nil && pout != nil {
					f.release(cost)
					out, cost = pout, pcost
				}
			}
		case "ASCIIHexDecode", "AHx":
			out, cost, err = f.asciiHex(data, limit)
		case "ASCII85Decode", "A85":
			out, cost, err = f.asciiA85(data, limit)
		default:
			err = fmt.Errorf("%w: %s", ErrUnsupportedFilter, name)
		}
		// The previous stage's output is used up either way.
		f.release(charged)
		charged = 0
		if err != nil {
			f.release(cost)
			if errors.Is(err, ErrBudget) {
				err = f.refused(err)
			}
			return nil, 0, fmt.Errorf("%s: %w", name, err)
		}
		data, charged = out, cost
	}
	return data, charged, nil
}

// refused remembers the first decoding refused for a limit.
func (f *File) refused(err error) error {
	if f.refusal == nil {
		f.refusal = err
	}
	return err
}

// reserve charges n bytes to the budget before they are allocated. Cached
// object streams (which can be decoded again) are given back first when the
// file would hold more than half its budget, so a file of many large
// streams holds one at a time, and again when the budget refuses, before
// asking once more. The caller holds f.mu.
func (f *File) reserve(n int64) error {
	if f.held+n > f.budget.Limit()/2 {
		f.evictObjStms()
	}
	err := f.budget.reserve(n, false)
	if err != nil {
		f.evictObjStms()
		err = f.budget.reserve(n, true)
	}
	if err != nil {
		return err
	}
	f.held += n
	return nil
}

func (f *File) evictObjStms() {
	for k, os := range f.objStms {
		f.release(os.charged)
		delete(f.objStms, k)
	}
}

// release gives n bytes back to the budget. The caller holds f.mu.
func (f *File) release(n int64) {
	n = min(n, f.held)
	if n <= 0 {
		return
	}
	f.held -= n
	f.budget.Release(n)
}

// decodeInto decodes what open returns in two passes: the first counts the
// output without keeping it (a 32 KiB scratch buffer), the second fills a
// slice of exactly that size, charged to the budget before it is allocated.
// A decompression bomb is thus refused by its size alone, and a stream that
// fits costs its size and no more. open must give the same bytes each time.
func (f *File) decodeInto(open func() (io.Reader, error), limit int64) ([]byte, int64, error) {
	r, err := open()
	if err != nil {
		return nil, 0, err
	}
	scratch := scratchBuffers.Get().(*[]byte)
	n, err := io.CopyBuffer(io.Discard, io.LimitReader(r, limit+1), *scratch)
	scratchBuffers.Put(scratch)
	f.decoded += n // work done, kept or not
	closeReader(r)
	if n > limit {
		return nil, 0, fmt.Errorf("%w: decoded stream exceeds %d bytes", ErrBudget, limit)
	}
	if err = tolerateTruncation(err, n); err != nil {
		return nil, 0, err
	}
	if err := f.reserve(n); err != nil {
		return nil, 0, err
	}
	out := make([]byte, n)
	if r, err = open(); err == nil {
		_, err = io.ReadFull(r, out)
		closeReader(r)
		err = tolerateTruncation(err, n)
	}
	f.decoded += n
	if err != nil {
		f.release(n)
		return nil, 0, err
	}
	return out, n, nil
}

// tolerateTruncation: a missing checksum at the end of a Flate stream is
// common and harmless; real corruption before any output is not.
func tolerateTruncation(err error, n int64) error {
	if errors.Is(err, io.ErrUnexpectedEOF) && n > 0 {
		return nil
	}
	return err
}

// closeReader closes a decompressor; zlib reports a bad checksum on Read,
// so Close has nothing more to say. A Flate decompressor goes back to the
// pool for the next stream.
func closeReader(r io.Reader) {
	if c, ok := r.(io.Closer); ok {
		_ = c.Close()
	}
	if z, ok := r.(inflater); ok {
		inflaters.Put(z)
	}
}

// inflater is a zlib decompressor that can be reset onto another stream.
type inflater interface {
	io.ReadCloser
	zlib.Resetter
}

// inflaters keeps Flate decompressors between streams: each holds ≈ 45 KB
// of tables and window, and a file decodes each stream twice (measure,
// then keep), so allocating them anew was most of the heap a small
// verification touched (and, in a fresh process, page faults).
var inflaters sync.Pool

// scratchBuffers are the 32 KiB buffers decodeInto measures a stream with.
var scratchBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// openInflater starts decompressing in, with a pooled decompressor when
// there is one.
func openInflater(in []byte) (io.Reader, error) {
	if z, ok := inflaters.Get().(inflater); ok {
		if err := z.Reset(bytes.NewReader(in), nil); err != nil {
			inflaters.Put(z) // Reset starts afresh next time
			return nil, err
		}
		return z, nil
	}
	return zlib.NewReader(bytes.NewReader(in))
}

func (f *File) inflate(in []byte, limit int64) ([]byte, int64, error) {
	return f.decodeInto(func() (io.Reader, error) { return openInflater(in) }, limit)
}

func (f *File) asciiHex(in []byte, limit int64) ([]byte, int64, error) {
	size := min(int64(len(in)/2+1), limit+1)
	if err := f.reserve(size); err != nil {
		return nil, 0, err
	}
	out := make([]byte, 0, size)
	var hi byte
	half := false
	for _, c := range in {
		if c == '>' {
			break
		}
		if isWS(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return nil, size, fmt.Errorf("invalid character %q", c)
		}
		if half {
			if int64(len(out)) >= limit {
				return nil, size, fmt.Errorf("%w: decoded stream exceeds %d bytes", ErrBudget, limit)
			}
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	f.decoded += int64(len(out))
	return out, size, nil
}

func (f *File) asciiA85(in []byte, limit int64) ([]byte, int64, error) {
	if i := bytes.Index(in, []byte("~>")); i >= 0 {
		in = in[:i]
	}
	in = bytes.TrimPrefix(bytes.TrimSpace(in), []byte("<~"))
	return f.decodeInto(func() (io.Reader, error) { return ascii85.NewDecoder(bytes.NewReader(in)), nil }, limit)
}

// unpredict undoes PNG (10-15) and TIFF (2, 8-bit) predictors into a new
// slice charged to the budget (cost); nil when there is no predictor.
func (f *File) unpredict(data []byte, parms Dict) (out []byte, cost int64, err error) {
	if parms == nil {
		return nil, 0, nil
	}
	pred, _ := parms.Int("Predictor")
	if pred <= 1 {
		return nil, 0, nil
	}
	colors, ok := parms.Int("Colors")
	if !ok {
		colors = 1
	}
	bpc, ok := parms.Int("BitsPerComponent")
	if !ok {
		bpc = 8
	}
	cols, ok := parms.Int("Columns")
	if !ok {
		cols = 1
	}
	if colors < 1 || colors > 32 || cols < 1 || cols > 1<<24 || (bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16) {
		return nil, 0, fmt.Errorf("predictor parameters out of range")
	}
	bpp := int((colors*bpc + 7) / 8)
	rowLen := int((colors*bpc*cols + 7) / 8)
	if pred == 2 {
		if bpc != 8 {
			return nil, 0, fmt.Errorf("TIFF predictor with %d bits per component", bpc)
		}
		if err := f.reserve(int64(len(data))); err != nil {
			return nil, 0, err
		}
		out := append(make([]byte, 0, len(data)), data...)
		for r := 0; r+rowLen <= len(out); r += rowLen {
			for i := bpp; i < rowLen; i++ {
				out[r+i] += out[r+i-bpp]
			}
		}
		f.decoded += int64(len(out))
		return out, int64(len(data)), nil
	}
	if pred < 10 || pred > 15 {
		return nil, 0, fmt.Errorf("unknown predictor %d", pred)
	}
	size := len(data) / (rowLen + 1) * rowLen
	if err := f.reserve(int64(size)); err != nil {
		return nil, 0, err
	}
	out = make([]byte, 0, size)
	// The row above the first is zeros; no row is longer than the data,
	// whatever /Columns claims.
	prev := make([]byte, min(rowLen, len(data)))
	for r := 0; r < len(data); r += rowLen + 1 {
		if r+rowLen+1 > len(data) {
			// A short last row is padded by some writers; keep what is there.
			break
		}
		typ := data[r]
		out = append(out, data[r+1:r+1+rowLen]...)
		cur := out[len(out)-rowLen:]
		for i := range cur {
			var a, b, c byte
			if i >= bpp {
				a = cur[i-bpp]
				c = prev[i-bpp]
			}
			b = prev[i]
			switch typ {
			case 0:
			case 1:
				cur[i] += a
			case 2:
				cur[i] += b
			case 3:
				cur[i] += byte((int(a) + int(b)) / 2)
			case 4:
				cur[i] += paeth(a, b, c)
			default:
				f.release(int64(size))
				return nil, 0, fmt.Errorf("PNG filter type %d", typ)
			}
		}
		prev = cur
	}
	f.decoded += int64(len(out))
	return out, int64(size), nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
