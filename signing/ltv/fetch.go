package ltv

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// maxResponseSize bounds what a responder may send us: CRLs of large CAs run to
// a few megabytes, anything beyond this is a misbehaving server.
const maxResponseSize = 32 << 20

// defaultTimeout bounds each single HTTP exchange when Options.Timeout is zero.
const defaultTimeout = 20 * time.Second

// ErrUnsupportedURL marks a distribution point or responder address we cannot
// use (for example ldap://). Callers try the next address.
var ErrUnsupportedURL = errors.New("ltv: unsupported URL scheme")

// fetcher performs the HTTP exchanges with OCSP responders, CRL distribution
// points, AIA caIssuers and TSAs.
type fetcher struct {
	client  *http.Client
	timeout time.Duration
}

func (f fetcher) httpClient() *http.Client {
	if f.client != nil {
		return f.client
	}
	return http.DefaultClient
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: %q", ErrUnsupportedURL, raw)
	}
	return nil
}

// do sends one request and returns the body of a 200 answer. wantType, when
// set, is checked against the Content-Type; a mismatch is tolerated only when
// the body is still parsed successfully later, so it is reported through the
// returned content type rather than failing here.
func (f fetcher) do(ctx context.Context, method, rawURL, contentType string, body []byte) ([]byte, string, error) {
	if err := checkURL(rawURL); err != nil {
		return nil, "", err
	}
	timeout := f.timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, "", fmt.Errorf("build %s %s: %w", method, rawURL, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := f.httpClient().Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", method, rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return nil, "", fmt.Errorf("%s %s: HTTP %s: %q", method, rawURL, resp.Status, snippet)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: read body: %w", method, rawURL, err)
	}
	if len(data) > maxResponseSize {
		return nil, "", fmt.Errorf("%s %s: answer larger than %d bytes", method, rawURL, maxResponseSize)
	}
	if len(data) == 0 {
		return nil, "", fmt.Errorf("%s %s: empty answer", method, rawURL)
	}
	return data, resp.Header.Get("Content-Type"), nil
}

// derOrPEM returns DER bytes: distribution points occasionally serve PEM even
// though RFC 5280 asks for DER.
func derOrPEM(data []byte, pemType string) []byte {
	if len(data) > 0 && data[0] == 0x30 {
		return data
	}
	if blk, _ := pem.Decode(data); blk != nil && (pemType == "" || blk.Type == pemType) {
		return blk.Bytes
	}
	return data
}
