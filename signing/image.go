package signing

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"
	"sync/atomic"

	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// EncodedImage is an appearance image encoded for a PDF (RGB, and its
// alpha channel as a soft mask, both Flate-compressed): encoded once, it is
// drawn by any number of signatures without encoding it again, so a caller
// that must sign quickly (the organisation's signature, under the numbering
// lock) encodes its seal beforehand.
type EncodedImage struct {
	width, height int
	rgb, alpha    []byte // alpha nil: opaque
}

// Size is the number of compressed bytes the image adds to a PDF.
func (e *EncodedImage) Size() int { return len(e.rgb) + len(e.alpha) }

// maxImageSide bounds an appearance image's width and height in pixels.
const maxImageSide = 20000

// imageDeflateLevel is the zlib level of appearance images. A signature or
// seal image is mostly transparent (runs of zero samples), so the fastest
// level compresses it nearly as well as the default at a fraction of the
// time (BENCHMARKS.md, "Signature images and one parse").
const imageDeflateLevel = zlib.BestSpeed

// keptImageDeflateLevel is the zlib level of the encodings an ImageCache
// keeps: each is made once and then drawn into every signature of its
// signer or seal, each of which is kept for years and written ahead
// through the database's WAL, so the slowest level's bytes are worth its
// time once (BENCHMARKS.md, "Kept images at zlib's best level").
const keptImageDeflateLevel = zlib.BestCompression

// EncodeImage encodes img for Visible.Encoded. The image types decoders and
// the appearance renderer produce (*image.NRGBA, *image.RGBA, *image.Gray,
// *image.Paletted, *image.NRGBA64, *image.RGBA64) are read from their pixel
// slices; any other goes through image.At. Every path yields the same
// samples: straight (un-premultiplied) colour, the top 8 bits of each
// channel, and alpha as a soft mask unless every pixel is opaque.
func EncodeImage(img image.Image) (*EncodedImage, error) {
	s, wd, ht, err := readSamples(img)
	if err != nil {
		return nil, err
	}
	return s.encode(wd, ht, imageDeflateLevel), nil
}

// readSamples reads img's samples (EncodeImage) and its size.
func readSamples(img image.Image) (s samples, wd, ht int, err error) {
	if img == nil {
		return s, 0, 0, errors.New("signing: no appearance image")
	}
	bnd := img.Bounds()
	wd, ht = bnd.Dx(), bnd.Dy()
	if wd <= 0 || ht <= 0 || wd > maxImageSide || ht > maxImageSide {
		return s, 0, 0, fmt.Errorf("signing: appearance image %dx%d out of range", wd, ht)
	}
	s = samples{rgb: make([]byte, wd*ht*3), alpha: make([]byte, wd*ht), opaque: true}
	switch m := img.(type) {
	case *image.NRGBA:
		s.fromNRGBA(m)
	case *image.RGBA:
		s.fromRGBA(m)
	case *image.Gray:
		s.fromGray(m)
	case *image.Paletted:
		err = s.fromPaletted(m)
	case *image.NRGBA64:
		s.fromNRGBA64(m)
	case *image.RGBA64:
		s.fromRGBA64(m)
	default:
		err = s.fromAt(img)
	}
	return s, wd, ht, err
}

// encoded counts the images this package has compressed (EncodeImage,
// ImageCache misses, images drawn unencoded), so a test can assert which
// images a signature encodes again (ImagesEncoded).
var encoded atomic.Int64

// ImagesEncoded is how many appearance images the package has compressed
// since the process started.
func ImagesEncoded() int64 { return encoded.Load() }

// encode compresses the samples of a wd×ht image at zlib's level.
func (s *samples) encode(wd, ht, level int) *EncodedImage {
	encoded.Add(1)
	e := &EncodedImage{width: wd, height: ht, rgb: deflate(s.rgb, level)}
	if !s.opaque {
		e.alpha = deflate(s.alpha, level)
	}
	return e
}

// samples are an image's RGB and alpha samples, row by row.
type samples struct {
	rgb, alpha []byte
	opaque     bool // every pixel's 16-bit alpha is 0xffff
}

// straight turns a colour as color.Color.RGBA returns it (16-bit,
// alpha-premultiplied) into the 8-bit straight samples a PDF image with a
// soft mask holds. Every path of EncodeImage computes its samples with it
// (directly or through a table built with it), so they agree exactly.
func straight(r, g, b, a uint32) (byte, byte, byte, byte) {
	// Un-premultiply: PDF soft masks composite straight colour.
	if a != 0 && a != 0xffff {
		r, g, b = r*0xffff/a, g*0xffff/a, b*0xffff/a
	}
	return byte(r >> 8), byte(g >> 8), byte(b >> 8), byte(a >> 8)
}

// straight8 is straight for one 8-bit channel c of an 8-bit colour with
// alpha a: nrgba[a][c] for non-premultiplied colour (image.NRGBA),
// rgba[a][c] for premultiplied colour (image.RGBA). Built once, on first
// use, from straight itself.
var straight8 = sync.OnceValue(func() *[2][256][256]byte {
	t := new([2][256][256]byte)
	for a := range 256 {
		for c := range 256 {
			r, _, _, a16 := color.NRGBA{R: uint8(c), A: uint8(a)}.RGBA()
			t[0][a][c], _, _, _ = straight(r, 0, 0, a16)
			r, _, _, a16 = color.RGBA{R: uint8(c), A: uint8(a)}.RGBA()
			t[1][a][c], _, _, _ = straight(r, 0, 0, a16)
		}
	}
	return t
})

func (s *samples) fromNRGBA(m *image.NRGBA) {
	s.from8(m.Pix, m.Stride, m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y), m.Rect.Dx(), m.Rect.Dy(), &straight8()[0])
}

func (s *samples) fromRGBA(m *image.RGBA) {
	s.from8(m.Pix, m.Stride, m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y), m.Rect.Dx(), m.Rect.Dy(), &straight8()[1])
}

// from8 reads 8-bit RGBA pixels (wd×ht from pix[at:], stride bytes a
// row) through the table of their kind.
func (s *samples) from8(pix []byte, stride, at, wd, ht int, tab *[256][256]byte) {
	o, oa := 0, 0
	for y := 0; y < ht; y++ {
		row := pix[at+y*stride : at+y*stride+wd*4]
		for x := 0; x < len(row); x += 4 {
			p := row[x : x+4 : x+4]
			a := p[3]
			if a == 0xff {
				s.rgb[o], s.rgb[o+1], s.rgb[o+2] = p[0], p[1], p[2]
			} else {
				t := &tab[a]
				s.rgb[o], s.rgb[o+1], s.rgb[o+2] = t[p[0]], t[p[1]], t[p[2]]
				s.opaque = false
			}
			s.alpha[oa] = a
			o += 3
			oa++
		}
	}
}

func (s *samples) fromGray(m *image.Gray) {
	wd, ht := m.Rect.Dx(), m.Rect.Dy()
	o := 0
	for y := 0; y < ht; y++ {
		at := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		for _, v := range m.Pix[at : at+wd] {
			s.rgb[o], s.rgb[o+1], s.rgb[o+2] = v, v, v
			o += 3
		}
	}
	for i := range s.alpha {
		s.alpha[i] = 0xff
	}
}

// fromPaletted converts the palette once and then looks every pixel up. A
// pixel naming a colour the palette lacks is an error (image.At would
// panic).
func (s *samples) fromPaletted(m *image.Paletted) error {
	var pal [256][4]byte
	var opaque [256]bool
	for i, c := range m.Palette {
		if i >= len(pal) {
			break
		}
		if c == nil {
			continue
		}
		r, g, b, a := c.RGBA()
		pal[i][0], pal[i][1], pal[i][2], pal[i][3] = straight(r, g, b, a)
		opaque[i] = a == 0xffff
	}
	n := min(len(m.Palette), len(pal))
	wd, ht := m.Rect.Dx(), m.Rect.Dy()
	o, oa := 0, 0
	for y := 0; y < ht; y++ {
		at := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		for _, i := range m.Pix[at : at+wd] {
			if int(i) >= n || m.Palette[i] == nil {
				return fmt.Errorf("signing: appearance image: pixel names colour %d of a %d-colour palette", i, len(m.Palette))
			}
			c := &pal[i]
			s.rgb[o], s.rgb[o+1], s.rgb[o+2] = c[0], c[1], c[2]
			s.alpha[oa] = c[3]
			s.opaque = s.opaque && opaque[i]
			o += 3
			oa++
		}
	}
	return nil
}

func (s *samples) fromNRGBA64(m *image.NRGBA64) {
	wd, ht := m.Rect.Dx(), m.Rect.Dy()
	o, oa := 0, 0
	for y := 0; y < ht; y++ {
		at := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		row := m.Pix[at : at+wd*8]
		for x := 0; x < len(row); x += 8 {
			p := row[x : x+8 : x+8]
			c := color.NRGBA64{
				R: uint16(p[0])<<8 | uint16(p[1]), G: uint16(p[2])<<8 | uint16(p[3]),
				B: uint16(p[4])<<8 | uint16(p[5]), A: uint16(p[6])<<8 | uint16(p[7]),
			}
			r, g, b, a := c.RGBA()
			s.put(o, oa, r, g, b, a)
			o += 3
			oa++
		}
	}
}

func (s *samples) fromRGBA64(m *image.RGBA64) {
	wd, ht := m.Rect.Dx(), m.Rect.Dy()
	o, oa := 0, 0
	for y := 0; y < ht; y++ {
		at := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		row := m.Pix[at : at+wd*8]
		for x := 0; x < len(row); x += 8 {
			p := row[x : x+8 : x+8]
			s.put(o, oa, uint32(p[0])<<8|uint32(p[1]), uint32(p[2])<<8|uint32(p[3]),
				uint32(p[4])<<8|uint32(p[5]), uint32(p[6])<<8|uint32(p[7]))
			o += 3
			oa++
		}
	}
}

// fromAt reads any other image through image.At, one interface value a
// pixel. A nil colour is an error, not a panic.
func (s *samples) fromAt(img image.Image) (err error) {
	bnd := img.Bounds()
	o, oa := 0, 0
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			c := img.At(x, y)
			if c == nil {
				return fmt.Errorf("signing: appearance image has no colour at (%d, %d)", x, y)
			}
			r, g, b, a := c.RGBA()
			s.put(o, oa, r, g, b, a)
			o += 3
			oa++
		}
	}
	return nil
}

// put stores one pixel given as color.Color.RGBA returns it.
func (s *samples) put(o, oa int, r, g, b, a uint32) {
	s.rgb[o], s.rgb[o+1], s.rgb[o+2], s.alpha[oa] = straight(r, g, b, a)
	if a != 0xffff {
		s.opaque = false
	}
}

// imageXObject adds img as an RGB image XObject with its alpha channel as a
// soft mask, both Flate-compressed, and returns the image's reference.
func imageXObject(u *pdfupdate.Update, img image.Image) (pdfupdate.Ref, error) {
	e, err := EncodeImage(img)
	if err != nil {
		return pdfupdate.Ref{}, err
	}
	return encodedXObject(u, e), nil
}

// encodedXObject adds an encoded image and returns its reference.
func encodedXObject(u *pdfupdate.Update, e *EncodedImage) pdfupdate.Ref {
	d := pdfupdate.Dict{
		"Type": "/XObject", "Subtype": "/Image",
		"Width": fmt.Sprint(e.width), "Height": fmt.Sprint(e.height),
		"ColorSpace": "/DeviceRGB", "BitsPerComponent": "8", "Filter": "/FlateDecode",
	}
	if e.alpha != nil {
		smask := u.Add(pdfupdate.Stream(pdfupdate.Dict{
			"Type": "/XObject", "Subtype": "/Image",
			"Width": fmt.Sprint(e.width), "Height": fmt.Sprint(e.height),
			"ColorSpace": "/DeviceGray", "BitsPerComponent": "8", "Filter": "/FlateDecode",
		}, e.alpha))
		d["SMask"] = smask.String()
	}
	return u.Add(pdfupdate.Stream(d, e.rgb))
}

// zlibWriters keeps zlib writers (each holds about half a megabyte of
// compressor state) for the next image, one pool per level used.
var zlibWriters = map[int]*sync.Pool{imageDeflateLevel: writerPool(imageDeflateLevel), keptImageDeflateLevel: writerPool(keptImageDeflateLevel)}

func writerPool(level int) *sync.Pool {
	return &sync.Pool{New: func() any {
		zw, _ := zlib.NewWriterLevel(nil, level)
		return zw
	}}
}

func deflate(b []byte, level int) []byte {
	var out bytes.Buffer
	out.Grow(len(b)/8 + 64)
	pool := zlibWriters[level]
	zw := pool.Get().(*zlib.Writer)
	zw.Reset(&out)
	_, _ = zw.Write(b)
	_ = zw.Close()
	zw.Reset(nil)
	pool.Put(zw)
	return out.Bytes()
}
