package signing

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"image"
	"net/http"
	"os"
	"time"
)

// Level is the PAdES baseline level (ETSI EN 319 142-1).
type Level string

// The PAdES baseline levels.
const (
	LevelBB   Level = "B-B"   // signature only
	LevelBT   Level = "B-T"   // plus an RFC 3161 signature timestamp
	LevelBLT  Level = "B-LT"  // plus revocation data in the DSS (Extender)
	LevelBLTA Level = "B-LTA" // plus a document timestamp over the DSS (Extender)
)

// ParseLevel accepts "B-B", "B-T", "B-LT", "B-LTA" (case-insensitive, the
// "B-" optional).
func ParseLevel(s string) (Level, error) {
	switch up := upper(s); up {
	case "", "B-B", "B":
		return LevelBB, nil
	case "B-T", "T":
		return LevelBT, nil
	case "B-LT", "LT":
		return LevelBLT, nil
	case "B-LTA", "LTA":
		return LevelBLTA, nil
	}
	return "", fmt.Errorf("signing: unknown PAdES level %q (want B-B, B-T, B-LT or B-LTA)", s)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func (l Level) timestamped() bool { return l == LevelBT || l == LevelBLT || l == LevelBLTA }
func (l Level) extended() bool    { return l == LevelBLT || l == LevelBLTA }

// Extender turns a freshly signed B-T file into B-LT (lta false) or B-LTA
// (lta true) by appending incremental updates (the DSS, then a document
// timestamp) to f, whose first size bytes are the signed PDF, and returns the
// new size. On error it must leave f as it was. *ltv.Extender implements it;
// signing does not import ltv, so either can change without the other.
type Extender interface {
	ExtendFile(ctx context.Context, f *os.File, size int64, lta bool) (int64, error)
}

// ErrLevelUnavailable is returned for B-LT/B-LTA without an Extender.
var ErrLevelUnavailable = errors.New("signing: B-LT/B-LTA not available: no LTV extender configured")

// Options control one signature. The zero value makes an invisible B-B
// approval signature with SHA-256.
type Options struct {
	Level  Level
	Hash   crypto.Hash // SHA-256 (default), SHA-384 or SHA-512
	PSS    bool        // RSA-PSS instead of PKCS#1 v1.5 (RSA keys only)
	TSAURL string      // RFC 3161 TSA, required from B-T up
	// HTTPClient is used for the TSA; nil means http.DefaultClient.
	HTTPClient *http.Client
	Extender   Extender // required for B-LT and B-LTA

	// Time is the claimed signing time (/M) and the instant the
	// certificate must be valid at; zero means now.
	Time time.Time

	Name, Reason, Location, ContactInfo string
	// FieldName names the new signature field; empty picks "Signature<n>".
	FieldName string

	// Visible places a widget with an appearance; nil signs invisibly.
	Visible *Visible

	// Certify makes a certification signature (DocMDP) with permission P
	// 1, 2 or 3; it must be the document's first signature. 0 = approval.
	Certify int
	// Lock locks every field of the document with this signature
	// (FieldMDP /Action /All), as the organisation's signature does.
	Lock bool

	// Force signs a document whose signatures lock it (see ErrLocked),
	// knowing that the earlier signature will then fail verification.
	Force bool

	// ContentsSize reserves this many bytes for the CMS (for unusually
	// large chains or TSA tokens). 0: Sign reserves the length of the last
	// CMS of the same key, level, TSA, hash and padding plus
	// ContentsMargin, and signs again with the estimate if the CMS
	// outgrows it (room.go); Prepare, and Sign without a learned length or
	// to an output it cannot empty, reserve an estimate generous for any
	// chain and TSA token.
	ContentsSize int
}

// Visible describes a visible signature widget.
type Visible struct {
	Page int // 1-based; 0 means 1
	// Rect is x1,y1,x2,y2 in PDF user space points on Page.
	Rect [4]float64
	// Anchor, when set, places the widget below the first occurrence of
	// this text on Page, Width × Height points, instead of using Rect.
	Anchor        string
	Width, Height float64
	// Image is drawn to fill the widget (with its alpha as a soft mask).
	Image image.Image
	// Encoded, when set, is drawn instead of Image: the same image encoded
	// beforehand (EncodeImage).
	Encoded *EncodedImage
	// ImageBox, when not all zero, is where Image (or Encoded) is drawn
	// inside the widget instead of filling it: x1,y1,x2,y2 in points from
	// the widget's lower-left corner.
	ImageBox [4]float64
	// Marks are more images drawn in the widget, each in its own box,
	// over the image: what changes at every signature (the verification
	// QR code beside the organisation's seal) is drawn and encoded apart
	// from what does not (the seal, encoded once: Encoded).
	Marks []Mark
	// Texts are lines of text the signature's revision adds as annotations
	// of their own (FreeText, read-only and locked) beside the widget. The
	// organisation's signature writes the number and the date into the
	// document's own blanks this way: never into the page's content, so
	// every earlier approval signature stays valid (an annotation over no
	// signed ink), and its own signature covers and locks them.
	Texts []Text
}

// Mark is an image drawn in a box of a visible signature's widget.
type Mark struct {
	// Box is x1,y1,x2,y2 in points from the widget's lower-left corner.
	Box   [4]float64
	Image image.Image
}

// Text is one line of text a signature's revision adds to a page.
type Text struct {
	Page int // 1-based; 0 means 1
	// Rect is x1,y1,x2,y2 in PDF user space points on Page.
	Rect [4]float64
	// Text is drawn in Times-Roman (the standard font metric-compatible
	// with the Times New Roman Decree 30 prescribes) at Size points, from
	// the rectangle's left edge, its baseline Baseline points above the
	// rectangle's bottom. Printable ASCII only (numbers and dates).
	Text     string
	Size     float64
	Baseline float64
}

func (o *Options) defaults() error {
	if o.Level == "" {
		o.Level = LevelBB
	}
	if _, err := ParseLevel(string(o.Level)); err != nil {
		return err
	}
	if o.Hash == 0 {
		o.Hash = crypto.SHA256
	}
	if _, err := hashOID(o.Hash); err != nil {
		return err
	}
	if o.Time.IsZero() {
		o.Time = time.Now()
	}
	if o.Level.timestamped() && o.TSAURL == "" {
		return fmt.Errorf("%w: level %s needs a TSA URL", ErrTSA, o.Level)
	}
	if o.Level.extended() && o.Extender == nil {
		return ErrLevelUnavailable
	}
	if o.Certify < 0 || o.Certify > 3 {
		return fmt.Errorf("signing: certification permission %d (want 1, 2 or 3)", o.Certify)
	}
	return nil
}
