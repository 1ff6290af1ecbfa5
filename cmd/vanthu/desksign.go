package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/signing/keys"
)

type deskSignFlags struct {
	url, tokenFile, key, passwordFile string
	keyID, level, rect                string
	page                              int
}

func newDeskSignCmd() *cobra.Command {
	var f deskSignFlags
	cmd := &cobra.Command{
		Use:   "desk-sign DOCUMENT_ID",
		Short: "Sign a document in a running service with your own token (two steps)",
		Long: `Sign a document whose signing turn is yours, in a running vanthu service,
with a key that never leaves your desk: a USB token or smart card reached
through PKCS#11. The service reserves the signature's place and hands back
the hash to sign (sign/prepare); the token signs it here; the service checks
the value against your bound certificate and stores the signed version
(sign/complete). The session lasts 10 minutes.

The token's certificate must be bound to your account (kind external). The
API token comes from --token-file or $VANTHU_TOKEN; the PIN from the URI's
pin-source, --password-file or $VANTHU_PKCS11_PIN. Neither is printed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeskSign(cmd.Context(), cmd.OutOrStdout(), f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", envOr("VANTHU_URL", "http://127.0.0.1:8080"), "the service's base URL")
	fl.StringVar(&f.tokenFile, "token-file", envOr("VANTHU_TOKEN_FILE", ""), "file holding your API token (else $VANTHU_TOKEN)")
	fl.StringVar(&f.key, "key", envOr("VANTHU_SIGN_KEY", ""), "your token's key: a pkcs11: URI (or a PKCS#12 file)")
	fl.StringVar(&f.passwordFile, "password-file", "", "file holding the PIN when the URI names none (else $VANTHU_PKCS11_PIN)")
	fl.StringVar(&f.keyID, "key-id", "", "the key binding to sign with, when several certificates are bound")
	fl.StringVar(&f.level, "level", "", "PAdES level above the organisation's (B-LT, B-LTA)")
	fl.IntVar(&f.page, "page", 0, "page of the signature (with --rect; default: where your name is printed)")
	fl.StringVar(&f.rect, "rect", "", "signature rectangle x1,y1,x2,y2 in points, when your name is printed nowhere or twice")
	return cmd
}

func init() { rootCmd.AddCommand(newDeskSignCmd()) }

// apiToken reads the API token: --token-file, else $VANTHU_TOKEN.
func apiToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("desk-sign: --token-file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if t := strings.TrimSpace(os.Getenv("VANTHU_TOKEN")); t != "" {
		return t, nil
	}
	return "", errors.New("desk-sign: no API token: give --token-file or set VANTHU_TOKEN")
}

type deskPrepared struct {
	SessionID       string `json:"session_id"`
	Digest          []byte `json:"digest"`
	DigestAlgorithm string `json:"digest_algorithm"`
	Certificate     []byte `json:"certificate"`
	ExpiresAt       string `json:"expires_at"`
	Version         int    `json:"version"`
}

type deskVersion struct {
	Number int    `json:"number"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

func runDeskSign(ctx context.Context, stdout io.Writer, f deskSignFlags, documentID string) (err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.key == "" {
		return &exitError{2, errors.New("desk-sign: --key is required")}
	}
	body := map[string]any{}
	if f.level != "" {
		body["level"] = f.level
	}
	if f.keyID != "" {
		body["key_id"] = f.keyID
	}
	if f.rect != "" {
		r, err := parseRect(f.rect)
		if err != nil {
			return &exitError{2, err}
		}
		body["rect"] = []float64{r.X1, r.Y1, r.X2, r.Y2}
		body["page"] = max(f.page, 1)
	} else if f.page != 0 {
		return &exitError{2, errors.New("desk-sign: --page goes with --rect")}
	}
	token, err := apiToken(f.tokenFile)
	if err != nil {
		return &exitError{2, err}
	}
	key, err := openKey(ctx, signFlags{key: f.key, passwordFile: f.passwordFile})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := keys.Close(key); cerr != nil && err == nil {
			err = fmt.Errorf("desk-sign: close key %s: %w", keyName(f.key), cerr)
		}
	}()
	c := &apiClient{base: strings.TrimRight(f.url, "/"), token: token, http: &http.Client{Timeout: 2 * time.Minute}}
	var p deskPrepared
	if err := c.post(ctx, "/api/v1/documents/"+documentID+"/sign/prepare", body, &p); err != nil {
		return fmt.Errorf("desk-sign: prepare: %w", err)
	}
	cert, err := x509.ParseCertificate(p.Certificate)
	if err != nil {
		return fmt.Errorf("desk-sign: the service prepared for a certificate that does not parse: %w", err)
	}
	if !cert.Equal(key.Chain()[0]) {
		return fmt.Errorf("desk-sign: the service prepared the signature for %q, but the key %s holds %q's certificate; give --key-id",
			cert.Subject.CommonName, keyName(f.key), key.Chain()[0].Subject.CommonName)
	}
	h, ok := map[string]crypto.Hash{"SHA-256": crypto.SHA256, "SHA-384": crypto.SHA384, "SHA-512": crypto.SHA512}[p.DigestAlgorithm]
	if !ok || len(p.Digest) != h.Size() {
		return fmt.Errorf("desk-sign: the service asks for a %s digest of %d bytes, which this command does not sign", p.DigestAlgorithm, len(p.Digest))
	}
	sig, err := key.Sign(rand.Reader, p.Digest, h)
	if err != nil {
		return fmt.Errorf("desk-sign: the key %s refused to sign: %w", keyName(f.key), err)
	}
	var v deskVersion
	if err := c.post(ctx, "/api/v1/documents/"+documentID+"/sign/complete", map[string]any{"session_id": p.SessionID, "signature": sig}, &v); err != nil {
		return fmt.Errorf("desk-sign: complete: %w", err)
	}
	fmt.Fprintf(stdout, "signed: version %d of document %s, %d bytes, sha256 %s\n", v.Number, documentID, v.Size, v.SHA256)
	return nil
}

// apiClient calls the service's JSON API with a bearer token.
type apiClient struct {
	base, token string
	http        *http.Client
}

// post sends body as JSON and decodes a 2xx answer into out; a problem
// answer becomes an error with its title and detail.
func (c *apiClient) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var p struct{ Title, Detail string }
		if json.Unmarshal(data, &p) == nil && p.Title != "" {
			if p.Detail != "" {
				return fmt.Errorf("%d %s: %s", resp.StatusCode, p.Title, p.Detail)
			}
			return fmt.Errorf("%d %s", resp.StatusCode, p.Title)
		}
		return fmt.Errorf("%s", resp.Status)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the service's answer: %w", err)
	}
	return nil
}
