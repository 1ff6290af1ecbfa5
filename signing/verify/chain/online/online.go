// Package online fetches revocation data over HTTP for package chain: OCSP
// requests (RFC 6960, POST) and CRL downloads. Linking it registers its
// fetcher as chain's default (chain.RegisterFetcher), so a verification that
// is not offline asks the responders a certificate names.
//
// It is a package of its own because net/http, crypto/tls and their
// dependencies run package inits in every process that links them: the
// `vanthu verify` binary (cmd/vanthu-cli) does not link it and hands a
// verification that needs online data to the service binary, which does.
package online

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vanthu/vanthu/signing/verify/chain"
)

// maxFetch bounds what an OCSP responder or CRL server may send us.
const maxFetch = 20 << 20

// defaultTimeout bounds one exchange when the Fetcher has no client of its own.
const defaultTimeout = 15 * time.Second

func init() { chain.RegisterFetcher(Fetcher{}) }

// Fetcher is a chain.Fetcher over HTTP.
type Fetcher struct {
	// Client sends the requests; nil means a client with a 15 s timeout.
	Client *http.Client
}

var _ chain.Fetcher = Fetcher{}

// OCSP posts an OCSP request for cert to the responder at url.
func (f Fetcher) OCSP(ctx context.Context, url string, cert, issuer *x509.Certificate) ([]byte, error) {
	body, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, fmt.Errorf("OCSP request for %s: %w", url, err)
	}
	return f.fetch(ctx, http.MethodPost, url, "application/ocsp-request", body)
}

// CRL downloads the CRL at url.
func (f Fetcher) CRL(ctx context.Context, url string) ([]byte, error) {
	return f.fetch(ctx, http.MethodGet, url, "", nil)
}

func (f Fetcher) fetch(ctx context.Context, method, url, ctype string, body []byte) ([]byte, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("%s: unsupported scheme", url)
	}
	client := f.Client
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFetch))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return b, nil
}
