package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/png" // --image and --seal are PNGs
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/signing/ltv"
)

type signFlags struct {
	key, passwordFile, level, tsa string
	visible                       bool
	page                          int
	rect, anchor                  string
	image, seal, authority, title string
	name, reason, location, org   string
	certify                       int
	lock                          bool
}

func newSignCmd() *cobra.Command {
	var f signFlags
	cmd := &cobra.Command{
		Use:   "sign IN.pdf OUT.pdf",
		Short: "Add a PAdES signature to a PDF as an incremental update",
		Long: `Sign IN.pdf with a PKCS#12 file and write OUT.pdf. OUT is written to a
temporary file next to it and renamed only on success.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSign(cmd.Context(), f, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", envOr("VANTHU_SIGN_KEY", ""), "signing key: FILE.p12 or a pkcs11: URI")
	fl.StringVar(&f.passwordFile, "password-file", envOr("VANTHU_SIGN_PASSWORD_FILE", ""), "file holding the PKCS#12 password or PIN (else $VANTHU_SIGN_PASSWORD)")
	fl.StringVar(&f.level, "level", envOr("VANTHU_SIGN_LEVEL", "B-B"), "PAdES level: B-B, B-T, B-LT or B-LTA")
	fl.StringVar(&f.tsa, "tsa", envOr("VANTHU_TSA_URL", ""), "RFC 3161 timestamp authority URL (B-T and up)")
	fl.BoolVar(&f.visible, "visible", false, "draw a visible appearance")
	fl.IntVar(&f.page, "page", 1, "page of the visible signature")
	fl.StringVar(&f.rect, "rect", "", "visible signature rectangle x1,y1,x2,y2 in points")
	fl.StringVar(&f.anchor, "anchor", "", "place the visible signature below this text")
	fl.StringVar(&f.image, "image", "", "handwritten signature image (transparent PNG)")
	fl.StringVar(&f.seal, "seal", "", "organisation seal image (PNG): makes an organisation signature appearance")
	fl.StringVar(&f.authority, "authority", "", "authority form, e.g. \"KT. CHỦ TỊCH\"")
	fl.StringVar(&f.title, "title", "", "signer's title, e.g. \"PHÓ CHỦ TỊCH\"")
	fl.StringVar(&f.name, "name", "", "signer's name (default: the certificate's common name)")
	fl.StringVar(&f.reason, "reason", "", "reason for signing")
	fl.StringVar(&f.location, "location", "", "place of signing")
	fl.StringVar(&f.org, "organization", "", "organisation shown by a seal appearance (default: the certificate's O)")
	fl.IntVar(&f.certify, "certify", 0, "certification signature with DocMDP permission 1, 2 or 3")
	fl.BoolVar(&f.lock, "lock", false, "lock all fields with this signature (the organisation's signature)")
	return cmd
}

func init() { rootCmd.AddCommand(newSignCmd()) }

func runSign(ctx context.Context, f signFlags, in, out string) error {
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
	key, err := openKey(f)
	if err != nil {
		return err
	}
	if c, ok := key.(interface{ Close() error }); ok {
		defer c.Close()
	}
	cert := key.Chain()[0]
	now := time.Now()
	opts := signing.Options{Level: level, TSAURL: f.tsa, Time: now, Reason: f.reason, Location: f.location, Certify: f.certify, Lock: f.lock}
	opts.Name = f.name
	if opts.Name == "" {
		opts.Name = cert.Subject.CommonName
	}
	if level == signing.LevelBLT || level == signing.LevelBLTA {
		opts.Extender = &ltv.Extender{TSA: ltv.TSA{URL: f.tsa}}
	}
	if f.visible || f.rect != "" || f.anchor != "" {
		vis, err := visibleFlags(f, opts.Name, cert.Subject.Organization, now)
		if err != nil {
			return &exitError{2, err}
		}
		opts.Visible = vis
	}
	if err := signing.SignFile(ctx, in, out, key, opts); err != nil {
		return fmt.Errorf("sign %s: %w", in, err)
	}
	return nil
}

func openKey(f signFlags) (keys.Key, error) {
	if strings.HasPrefix(f.key, "pkcs11:") {
		return nil, &exitError{2, errors.New("sign: PKCS#11 keys are not available in this build yet")}
	}
	pw := keys.PasswordFromEnv("VANTHU_SIGN_PASSWORD")
	if f.passwordFile != "" {
		pw = keys.PasswordFromFile(f.passwordFile)
	}
	secret, err := pw()
	if err != nil {
		return nil, fmt.Errorf("sign: password: %w", err)
	}
	defer clear(secret)
	k, err := keys.OpenPKCS12(f.key, secret)
	if err != nil {
		return nil, fmt.Errorf("sign: open key %s: %w", f.key, err)
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

// visibleFlags renders the Decree 30 appearance and places it.
func visibleFlags(f signFlags, name string, orgs []string, now time.Time) (*signing.Visible, error) {
	spec := appearance.Spec{Kind: appearance.Signer, Authority: f.authority, Title: f.title, Name: name, Time: now}
	if f.image != "" {
		img, err := loadPNG(f.image)
		if err != nil {
			return nil, err
		}
		spec.SignatureImage = img
	}
	if f.seal != "" {
		img, err := loadPNG(f.seal)
		if err != nil {
			return nil, err
		}
		spec = appearance.Spec{Kind: appearance.Organization, SealImage: img, Organization: f.org, Time: now}
		if spec.Organization == "" && len(orgs) > 0 {
			spec.Organization = orgs[0]
		}
	}
	w, h := appearance.Size(spec)
	vis := &signing.Visible{Page: f.page, Anchor: f.anchor, Width: w, Height: h}
	if f.rect != "" {
		parts := strings.Split(f.rect, ",")
		if len(parts) != 4 {
			return nil, fmt.Errorf("sign: --rect %q: want x1,y1,x2,y2", f.rect)
		}
		for i, p := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return nil, fmt.Errorf("sign: --rect %q: %w", f.rect, err)
			}
			vis.Rect[i] = v
		}
		w, h = vis.Rect[2]-vis.Rect[0], vis.Rect[3]-vis.Rect[1]
		if w < 0 {
			w = -w
		}
		if h < 0 {
			h = -h
		}
	} else if f.anchor == "" {
		return nil, errors.New("sign: --visible needs --rect or --anchor")
	}
	img, err := appearance.Render(spec, w, h, 200)
	if err != nil {
		return nil, err
	}
	vis.Image = img
	return vis, nil
}
