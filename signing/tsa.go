package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// ErrTSA wraps every failure to obtain a timestamp. There is no fallback to
// the local clock: a B-T signature without a TSA time is refused.
var ErrTSA = errors.New("signing: timestamp authority")

const maxTSAResponse = 1 << 20

// tsaClient is one RFC 3161 time-stamping authority.
type tsaClient struct {
	client             *http.Client // nil means http.DefaultClient
	url                string
	username, password string // HTTP basic authentication, when set
}

// fetchTimestamp asks the RFC 3161 TSA at url for a token over data (the
// signature value, for a signature timestamp) and checks the answer binds to
// the request: hash algorithm, message imprint and nonce.
func fetchTimestamp(ctx context.Context, client *http.Client, url string, hash crypto.Hash, data []byte) ([]byte, error) {
	imprint := hash.New()
	imprint.Write(data)
	return tsaClient{client: client, url: url}.timestamp(ctx, hash, imprint.Sum(nil))
}

// TimestampDigest asks the RFC 3161 TSA named in opts for a token over
// digest, a hash made with opts.Hash (default SHA-256), and checks the answer
// as for every timestamp the engine requests: granted status, hash algorithm,
// imprint, nonce, and a time-stamping certificate valid at the token's time.
// It returns the TimeStampToken (a CMS SignedData, DER). Only opts.TSAURL,
// Username, Password, HTTPClient and Hash are used. Other records than PDFs
// (the audit log's chain head, for one) are timestamped with it.
func TimestampDigest(ctx context.Context, opts TimestampOptions, digest []byte) ([]byte, error) {
	if opts.Hash == 0 {
		opts.Hash = crypto.SHA256
	}
	c := tsaClient{client: opts.HTTPClient, url: opts.TSAURL, username: opts.Username, password: opts.Password}
	return c.timestamp(ctx, opts.Hash, digest)
}

// CheckTimestampToken parses a TimeStampToken (DER), verifies its signature
// with the TSA certificate it carries, and checks that this certificate is
// a time-stamping certificate valid at the token's time. Whether the
// certificate chains to a trusted root is the caller's question; so is
// whether the token's imprint (HashAlgorithm, HashedMessage) is the digest
// it should cover.
func CheckTimestampToken(token []byte) (*timestamp.Timestamp, error) {
	ts, err := parseTimestampToken(token)
	if err != nil {
		return nil, fmt.Errorf("%w: token: %v", ErrTSA, err)
	}
	if len(ts.Certificates) == 0 {
		return nil, fmt.Errorf("%w: token carries no TSA certificate to verify it with", ErrTSA)
	}
	if err := checkTSACertificate(ts); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTSA, err)
	}
	return ts, nil
}

// timestamp asks the TSA for a token over digest (computed with hash) and
// checks the answer before returning the token: granted status, the
// requested hash algorithm and imprint, our nonce, and a TSA certificate
// that signed the token, is meant for time-stamping and was valid at the
// time it states. There is no fallback to the local clock.
func (c tsaClient) timestamp(ctx context.Context, hash crypto.Hash, digest []byte) ([]byte, error) {
	url := c.url
	if url == "" {
		return nil, fmt.Errorf("%w: no TSA URL configured", ErrTSA)
	}
	if len(digest) != hash.Size() {
		return nil, fmt.Errorf("%w: imprint of %d bytes for %v", ErrTSA, len(digest), hash)
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, fmt.Errorf("%w: nonce: %v", ErrTSA, err)
	}
	tsReq := timestamp.Request{HashAlgorithm: hash, HashedMessage: digest, Certificates: true, Nonce: nonce}
	reqDER, err := tsReq.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: build request: %v", ErrTSA, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(reqDER))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTSA, url, err)
	}
	req.Header.Set("Content-Type", "application/timestamp-query")
	if c.username != "" || c.password != "" {
		req.SetBasicAuth(c.username, c.password)
	}
	client := c.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s unreachable: %v", ErrTSA, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered HTTP %d", ErrTSA, url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTSAResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: read answer: %v", ErrTSA, url, err)
	}
	if len(body) > maxTSAResponse {
		return nil, fmt.Errorf("%w: %s: answer larger than %d bytes", ErrTSA, url, maxTSAResponse)
	}
	// ParseResponse refuses any status other than granted.
	ts, err := parseTimestampResponse(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: bad answer: %v", ErrTSA, url, err)
	}
	switch {
	case ts.HashAlgorithm != hash:
		return nil, fmt.Errorf("%w: %s: token hash %v, requested %v", ErrTSA, url, ts.HashAlgorithm, hash)
	case !bytes.Equal(ts.HashedMessage, digest):
		return nil, fmt.Errorf("%w: %s: token imprint does not match the request", ErrTSA, url)
	case ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0:
		return nil, fmt.Errorf("%w: %s: token nonce does not match the request", ErrTSA, url)
	case len(ts.Certificates) == 0:
		return nil, fmt.Errorf("%w: %s: token carries no TSA certificate", ErrTSA, url)
	}
	if err := checkTSACertificate(ts); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTSA, url, err)
	}
	return ts.RawToken, nil
}

// checkTSACertificate finds the certificate that signed the token (its
// signature was verified while parsing) and requires it to be a
// time-stamping certificate (RFC 3161 §2.3) valid at the token's time.
func checkTSACertificate(ts *timestamp.Timestamp) error {
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil {
		return fmt.Errorf("token: %v", err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return errors.New("token has no single signer certificate")
	}
	eku := false
	for _, u := range signer.ExtKeyUsage {
		eku = eku || u == x509.ExtKeyUsageTimeStamping
	}
	if !eku {
		return fmt.Errorf("token signer %q is not a time-stamping certificate", signer.Subject.CommonName)
	}
	if ts.Time.Before(signer.NotBefore) || ts.Time.After(signer.NotAfter) {
		return fmt.Errorf("token time %s outside the TSA certificate's validity", ts.Time.Format(time.RFC3339))
	}
	return nil
}

// parseTimestampResponse parses (and, with the embedded TSA certificate,
// verifies the signature of) a TimeStampResp, turning parser panics on
// hostile input into errors.
func parseTimestampResponse(b []byte) (ts *timestamp.Timestamp, err error) {
	defer func() {
		if p := recover(); p != nil {
			ts, err = nil, fmt.Errorf("malformed timestamp response: %v", p)
		}
	}()
	return timestamp.ParseResponse(b)
}

// parseTimestampToken is parseTimestampResponse for a bare token.
func parseTimestampToken(b []byte) (ts *timestamp.Timestamp, err error) {
	defer func() {
		if p := recover(); p != nil {
			ts, err = nil, fmt.Errorf("malformed timestamp token: %v", p)
		}
	}()
	return timestamp.Parse(b)
}
