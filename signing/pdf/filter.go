package pdf

import (
	"bytes"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"fmt"
	"io"
)

// ErrUnsupportedFilter is returned for stream filters this reader does not
// decode (image codecs, LZW, encryption). The raw data is still available.
var ErrUnsupportedFilter = errors.New("unsupported stream filter")

// decode applies the stream's filters within the per-stream and per-file
// limits, so a decompression bomb stops at the limit with an error.
func (f *File) decode(s *Stream) ([]byte, error) {
	if s.Offset < 0 || s.Length < 0 || s.Offset+s.Length > int64(len(f.data)) {
		return nil, fmt.Errorf("stream data outside the file")
	}
	data := f.data[s.Offset : s.Offset+s.Length]
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
				return nil, fmt.Errorf("/Filter %s is not a name", Format(x))
			}
			filters = append(filters, n)
			var pm Object
			if i < len(pa) {
				pm = pa[i]
			}
			parms = append(parms, pm)
		}
	default:
		return nil, fmt.Errorf("invalid /Filter %s", Format(v))
	}
	if len(filters) > 8 {
		return nil, fmt.Errorf("%d filters chained", len(filters))
	}
	budget := min(f.lim.MaxStreamBytes, f.lim.MaxTotalDecoded-f.decoded)
	if budget <= 0 {
		return nil, fmt.Errorf("decoded data exceeds the file limit of %d bytes", f.lim.MaxTotalDecoded)
	}
	var err error
	for i, name := range filters {
		pm, _ := parms[i].(Dict)
		switch name {
		case "FlateDecode", "Fl":
			data, err = inflate(data, budget)
			if err == nil {
				data, err = unpredict(data, pm)
			}
		case "ASCIIHexDecode", "AHx":
			data, err = asciiHex(data)
		case "ASCII85Decode", "A85":
			data, err = asciiA85(data, budget)
		default:
			return nil, fmt.Errorf("%w: %s", ErrUnsupportedFilter, name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if int64(len(data)) > budget {
			return nil, fmt.Errorf("decoded stream exceeds %d bytes", budget)
		}
	}
	f.decoded += int64(len(data))
	return data, nil
}

func inflate(in []byte, limit int64) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(in))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("decoded stream exceeds %d bytes", limit)
	}
	if err != nil {
		// A missing checksum at the end is common and harmless; real
		// corruption before it is not.
		if errors.Is(err, io.ErrUnexpectedEOF) && len(out) > 0 {
			return out, nil
		}
		return nil, err
	}
	return out, nil
}

func asciiHex(in []byte) ([]byte, error) {
	var out []byte
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
			return nil, fmt.Errorf("invalid character %q", c)
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return out, nil
}

func asciiA85(in []byte, limit int64) ([]byte, error) {
	if i := bytes.Index(in, []byte("~>")); i >= 0 {
		in = in[:i]
	}
	in = bytes.TrimPrefix(bytes.TrimSpace(in), []byte("<~"))
	out, err := io.ReadAll(io.LimitReader(ascii85.NewDecoder(bytes.NewReader(in)), limit+1))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// unpredict undoes PNG (10-15) and TIFF (2, 8-bit) predictors.
func unpredict(data []byte, parms Dict) ([]byte, error) {
	if parms == nil {
		return data, nil
	}
	pred, _ := parms.Int("Predictor")
	if pred <= 1 {
		return data, nil
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
		return nil, fmt.Errorf("predictor parameters out of range")
	}
	bpp := int((colors*bpc + 7) / 8)
	rowLen := int((colors*bpc*cols + 7) / 8)
	if pred == 2 {
		if bpc != 8 {
			return nil, fmt.Errorf("TIFF predictor with %d bits per component", bpc)
		}
		out := append([]byte(nil), data...)
		for r := 0; r+rowLen <= len(out); r += rowLen {
			for i := bpp; i < rowLen; i++ {
				out[r+i] += out[r+i-bpp]
			}
		}
		return out, nil
	}
	if pred < 10 || pred > 15 {
		return nil, fmt.Errorf("unknown predictor %d", pred)
	}
	out := make([]byte, 0, len(data)/(rowLen+1)*rowLen)
	prev := make([]byte, rowLen)
	for r := 0; r < len(data); r += rowLen + 1 {
		if r+rowLen+1 > len(data) {
			// A short last row is padded by some writers; keep what is there.
			break
		}
		typ := data[r]
		cur := append([]byte(nil), data[r+1:r+1+rowLen]...)
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
				return nil, fmt.Errorf("PNG filter type %d", typ)
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out, nil
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
