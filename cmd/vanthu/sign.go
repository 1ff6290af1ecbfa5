package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/png" // --image and --seal are PNGs
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/signing/ltv"
	"github.com/vanthu/vanthu/signing/verify/chain"
)

type signFlags struct {
	key, passwordFile, level, tsa string
	trust                         []string
	visible                       bool
	page                          int
	rect, anchor                  string
	image, seal, authority, title string
	name, reason, location, org   string
	certify                       int
	lock, force                   bool
	number                        int
	date                          string
}

func newSignCmd() *cobra.Command {
	var f signFlags
	cmd := &cobra.Command{
		Use:   "sign IN.pdf OUT.pdf",
		Short: "Add a PAdES signature to a PDF as an incremental update",
		Long: `Sign IN.pdf and write OUT.pdf. OUT is written to a temporary file next to
it and renamed only on success.

A visible signer's signature (--visible) follows Decree 30: a draft already
prints the authority form, title and name, so only the handwritten-signature
image (--image) is drawn, in the gap between the printed title and name. The
name (--anchor, default --name, else the certificate's common name) is looked
for on every page, the last first; a name printed nowhere or twice needs
--page and --rect. With --rect, the authority form, title and name are drawn
too, but only for a document that prints no name.

The organisation's signature (--seal) is laid out as issuing lays it out
(Decree 30): the seal image at real size (36 mm) over about the left third of
the signer's signature image, found from the signer's signature field (never
from the text; --rect places it elsewhere), with no caption; --number and
--date are written into the blanks page 1 prints for them ("Số:    /QĐ-UBND",
"ngày   tháng   năm"), as locked annotations of the seal's revision, so the
signer's signature stays valid. The seal locks every field.

A document whose signatures lock it (a certification with DocMDP P=1, or a
signature locking every field such as the organisation's) is refused: another
signature would break it. --force signs it anyway.

The key is a PKCS#12 file (password from --password-file, else
$VANTHU_KEY_PASSWORD) or a PKCS#11 key named by an RFC 7512 URI such as
  pkcs11:token=vanthu;object=official?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin
(PIN from the URI's pin-value or pin-source, else --password-file, else
$VANTHU_PKCS11_PIN; the module from module-path, else $VANTHU_PKCS11_MODULE).
Secrets are never taken from flags and never printed.

B-T and up need --tsa. B-LT and B-LTA also fetch OCSP responses and CRLs for
the signer's chain into the document security store; with --trust the chain
must end in one of the given anchors.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSign(cmd.Context(), f, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", envOr("VANTHU_SIGN_KEY", ""), "signing key: FILE.p12 or a pkcs11: URI")
	fl.StringVar(&f.passwordFile, "password-file", envOr("VANTHU_SIGN_PASSWORD_FILE", ""), "file holding the PKCS#12 password (else $VANTHU_KEY_PASSWORD) or the PKCS#11 PIN when the URI names none (else $VANTHU_PKCS11_PIN)")
	fl.StringVar(&f.level, "level", envOr("VANTHU_SIGN_LEVEL", "B-B"), "PAdES level: B-B, B-T, B-LT or B-LTA")
	fl.StringVar(&f.tsa, "tsa", envOr("VANTHU_TSA_URL", ""), "RFC 3161 timestamp authority URL (B-T and up)")
	fl.StringArrayVar(&f.trust, "trust", splitList(envOr("VANTHU_TRUST", "")), "trust anchor certificates for B-LT/B-LTA validation data: a PEM/DER file or a directory (repeatable)")
	fl.BoolVar(&f.visible, "visible", false, "draw a visible appearance")
	fl.IntVar(&f.page, "page", 0, "page of the visible signature (default: where the signer's name is printed, else 1)")
	fl.StringVar(&f.rect, "rect", "", "visible signature rectangle x1,y1,x2,y2 in points")
	fl.StringVar(&f.anchor, "anchor", "", "the signer's name as printed in the document, to find the gap above it (default: --name)")
	fl.StringVar(&f.image, "image", "", "handwritten signature image (transparent PNG)")
	fl.StringVar(&f.seal, "seal", "", "organisation seal image (PNG): the organisation's signature, its seal over the left third of the signer's signature, all fields locked")
	fl.IntVar(&f.number, "number", 0, "with --seal: the document's number, written into the blank after \"Số:\" on page 1")
	fl.StringVar(&f.date, "date", "", "with --seal: the issuing date YYYY-MM-DD, written into the blank \"ngày … tháng …\" on page 1")
	fl.StringVar(&f.authority, "authority", "", "authority form, e.g. \"KT. CHỦ TỊCH\"")
	fl.StringVar(&f.title, "title", "", "signer's title, e.g. \"PHÓ CHỦ TỊCH\"")
	fl.StringVar(&f.name, "name", "", "signer's name (default: the certificate's common name)")
	fl.StringVar(&f.reason, "reason", "", "reason for signing")
	fl.StringVar(&f.location, "location", "", "place of signing")
	fl.StringVar(&f.org, "organization", "", "organisation a seal signature names (default: the certificate's O)")
	fl.IntVar(&f.certify, "certify", 0, "certification signature with DocMDP permission 1, 2 or 3")
	fl.BoolVar(&f.lock, "lock", false, "lock all fields with this signature (the organisation's signature)")
	fl.BoolVar(&f.force, "force", false, "sign a document whose signatures lock it, breaking them")
	return cmd
}

func init() { rootCmd.AddCommand(newSignCmd()) }

func runSign(ctx context.Context, f signFlags, in, out string) (err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	level, err := signing.ParseLevel(f.level)
	if err != nil {
		return &exitError{2, err}
	}
	if f.key == "" {
		return &exitError{2, errors.New("sign: --key is required")}
	}
	if level != signing.LevelBB && f.tsa == "" {
		return &exitError{2, fmt.Errorf("sign: level %s needs --tsa (or $VANTHU_TSA_URL)", level)}
	}
	if f.seal == "" && (f.number != 0 || f.date != "") {
		return &exitError{2, errors.New("sign: --number and --date go with --seal")}
	}
	if f.number < 0 {
		return &exitError{2, fmt.Errorf("sign: --number %d: a document's number is 1 or more", f.number)}
	}
	// The organisation's signature locks every field (issuing does the same).
	opts := signing.Options{Level: level, TSAURL: f.tsa, Reason: f.reason, Location: f.location, Certify: f.certify, Lock: f.lock || f.seal != "", Force: f.force}
	if level == signing.LevelBLT || level == signing.LevelBLTA {
		ext, err := extender(f)
		if err != nil {
			return &exitError{2, err}
		}
		opts.Extender = ext
	}
	key, err := openKey(ctx, f)
	if err != nil {
		return err
	}
	defer func() {
		// Closing a PKCS#11 key logs out of the token.
		if cerr := keys.Close(key); cerr != nil && err == nil {
			err = fmt.Errorf("sign: close key %s: %w", keyName(f.key), cerr)
		}
	}()
	cert := key.Chain()[0]
	now := time.Now()
	opts.Time = now
	opts.Name = f.name
	if opts.Name == "" && f.seal != "" {
		// The organisation's signature carries the organisation's name.
		opts.Name = f.org
		if opts.Name == "" && len(cert.Subject.Organization) > 0 {
			opts.Name = cert.Subject.Organization[0]
		}
	}
	if opts.Name == "" {
		opts.Name = cert.Subject.CommonName
	}
	if f.visible || f.rect != "" || f.anchor != "" || f.seal != "" {
		vis, err := visibleFlags(f, in, opts.Name, now)
		if err != nil {
			return &exitError{2, err}
		}
		opts.Visible = vis
	}
	if err := signing.SignFile(ctx, in, out, key, opts); err != nil {
		if errors.Is(err, signing.ErrLocked) {
			return fmt.Errorf("sign %s: %w (--force signs it anyway, and that earlier signature will no longer verify)", in, err)
		}
		return fmt.Errorf("sign %s: %w", in, err)
	}
	return nil
}

// extender configures the LTV step of B-LT/B-LTA: validation data is
// collected over OCSP and CRL (both where the certificates name them), chains
// must end in a --trust anchor when any is given, and the B-LTA document
// timestamp comes from the same TSA as the signature timestamp.
func extender(f signFlags) (*ltv.Extender, error) {
	ext := &ltv.Extender{TSA: ltv.TSA{URL: f.tsa}}
	if len(f.trust) > 0 {
		st, err := chain.LoadStore(f.trust...)
		if err != nil {
			return nil, fmt.Errorf("sign: --trust: %w", err)
		}
		ext.Options.Roots = st.Certificates()
	}
	return ext, nil
}

// keyName is how a key is named in messages: a pkcs11: URI in its redacted
// form (never its PIN), a file by its path.
func keyName(ref string) string {
	if !strings.HasPrefix(ref, "pkcs11:") {
		return ref
	}
	u, err := keys.ParsePKCS11URI(ref)
	if err != nil {
		return "pkcs11:…"
	}
	return u.Redacted()
}

// passwordSource says where the key's secret comes from: --password-file
// for either kind; otherwise $VANTHU_KEY_PASSWORD (or the older
// $VANTHU_SIGN_PASSWORD) for a PKCS#12 file, and for a PKCS#11 key nothing
// here, so the URI's pin-value or pin-source, then $VANTHU_PKCS11_PIN, apply.
func passwordSource(f signFlags) keys.PasswordSource {
	if f.passwordFile != "" {
		return keys.PasswordFromFile(f.passwordFile)
	}
	if strings.HasPrefix(f.key, "pkcs11:") {
		return nil
	}
	for _, name := range []string{"VANTHU_KEY_PASSWORD", "VANTHU_SIGN_PASSWORD"} {
		if _, ok := os.LookupEnv(name); ok {
			return keys.PasswordFromEnv(name)
		}
	}
	return func() ([]byte, error) {
		return nil, errors.New("no password: give --password-file or set VANTHU_KEY_PASSWORD")
	}
}

// openKey opens --key through keys.Open. Its errors name a pkcs11: URI only
// in redacted form.
func openKey(ctx context.Context, f signFlags) (keys.Key, error) {
	k, err := keys.Open(ctx, f.key, passwordSource(f))
	if err != nil {
		if strings.HasPrefix(f.key, "pkcs11:") {
			// keys.Open already names the key by its redacted URI.
			return nil, fmt.Errorf("sign: %w", err)
		}
		return nil, fmt.Errorf("sign: open key: %w", err)
	}
	if len(k.Chain()) == 0 {
		keys.Close(k)
		return nil, fmt.Errorf("sign: key %s has no certificate", keyName(f.key))
	}
	return k, nil
}

func loadPNG(path string) (image.Image, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	img, _, err := image.Decode(fh)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}

// visibleFlags renders the Decree 30 appearance and places it: for a
// signer, the handwritten image in the gap above the printed name (or the
// whole block in --rect when the document prints none); for the
// organisation's seal, as issuing lays it out (sealFlags).
func visibleFlags(f signFlags, in, name string, now time.Time) (*signing.Visible, error) {
	var rect *appearance.Rect
	if f.rect != "" {
		r, err := parseRect(f.rect)
		if err != nil {
			return nil, err
		}
		rect = &r
	}
	var sigImage image.Image
	if f.image != "" {
		img, err := loadPNG(f.image)
		if err != nil {
			return nil, err
		}
		sigImage = img
	}
	if f.seal == "" {
		spec := appearance.Spec{Kind: appearance.Signer, Authority: f.authority, Title: f.title, Name: name, Time: now, SignatureImage: sigImage}
		if f.anchor != "" && rect == nil {
			spec.Name = f.anchor
		}
		fh, err := os.Open(in)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		st, err := fh.Stat()
		if err != nil {
			return nil, err
		}
		pl, err := appearance.PlaceSigner(fh, st.Size(), spec, f.page, rect, 200)
		switch {
		case errors.Is(err, appearance.ErrNameNotFound), errors.Is(err, appearance.ErrNameAmbiguous):
			return nil, fmt.Errorf("sign: %w; give --page and --rect x1,y1,x2,y2 for the signature", err)
		case errors.Is(err, appearance.ErrNoSignatureImage):
			return nil, fmt.Errorf("sign: %w: give --image", err)
		case err != nil:
			return nil, fmt.Errorf("sign: %w", err)
		}
		r := pl.Rect
		return &signing.Visible{Page: pl.Page, Rect: [4]float64{r.X1, r.Y1, r.X2, r.Y2}, Image: pl.Image}, nil
	}
	return sealFlags(f, in, rect)
}

// sealFlags lays out the organisation's signature as issuing does
// (register.SealLayout): the seal over the left third of the signer's
// signature, or in --rect; --number and --date in the page's blanks.
func sealFlags(f signFlags, in string, rect *appearance.Rect) (*signing.Visible, error) {
	if f.anchor != "" {
		return nil, errors.New("sign: the seal is laid over the signer's signature, not below a text: drop --anchor (--rect places it elsewhere)")
	}
	var at time.Time
	if f.date != "" {
		d, err := time.ParseInLocation("2006-01-02", f.date, register.Vietnam)
		if err != nil {
			return nil, fmt.Errorf("sign: --date %q: want YYYY-MM-DD", f.date)
		}
		at = d.Add(12 * time.Hour)
	}
	seal, err := loadPNG(f.seal)
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	var vis *signing.Visible
	var warnings []string
	if rect != nil {
		r := appearance.FitImage(*rect, seal)
		vis = &signing.Visible{Page: max(f.page, 1), Rect: [4]float64{r.X1, r.Y1, r.X2, r.Y2}, Image: seal}
		vis.Texts, warnings, err = register.PlaceholderTexts(fh, st.Size(), f.number, at)
	} else {
		vis, warnings, err = register.SealLayout(fh, st.Size(), seal, f.number, at)
	}
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "sign: warning:", w)
	}
	return vis, nil
}

// parseRect reads x1,y1,x2,y2 in points.
func parseRect(s string) (appearance.Rect, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return appearance.Rect{}, fmt.Errorf("sign: --rect %q: want x1,y1,x2,y2", s)
	}
	var v [4]float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return appearance.Rect{}, fmt.Errorf("sign: --rect %q: %q is not a number", s, p)
		}
		v[i] = x
	}
	r := appearance.Rect{X1: v[0], Y1: v[1], X2: v[2], Y2: v[3]}.Canon()
	if r.W() <= 0 || r.H() <= 0 {
		return appearance.Rect{}, fmt.Errorf("sign: --rect %q is empty", s)
	}
	return r, nil
}
