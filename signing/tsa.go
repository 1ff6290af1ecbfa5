package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// ErrTSA wraps every failure to obtain a timestamp. There is no fallback to
// the local clock: a B-T signature without a TSA time is refused.
var ErrTSA = errors.New("signing: timestamp authority")

const maxTSAResponse = 1 << 20

// fetchTimestamp asks the RFC 3161 TSA at url for a token over data (the
// signature value, for a signature timestamp) and checks the answer binds to
// the request: hash algorithm, message imprint and nonce.
func fetchTimestamp(ctx context.Context, client *http.Client, url string, hash crypto.Hash, data []byte) ([]byte, error) {
	if url == "" {
		return nil, fmt.Errorf("%w: no TSA URL configured", ErrTSA)
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, fmt.Errorf("%w: nonce: %v", ErrTSA, err)
	}
	reqOpts := &timestamp.RequestOptions{Hash: hash, Certificates: true, Nonce: nonce}
	reqDER, err := timestamp.CreateRequest(bytes.NewReader(data), reqOpts)
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
	ts, err := parseTimestampResponse(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: bad answer: %v", ErrTSA, url, err)
	}
	imprint := hash.New()
	imprint.Write(data)
	switch {
	case ts.HashAlgorithm != hash:
		return nil, fmt.Errorf("%w: %s: token hash %v, requested %v", ErrTSA, url, ts.HashAlgorithm, hash)
	case !bytes.Equal(ts.HashedMessage, imprint.Sum(nil)):
		return nil, fmt.Errorf("%w: %s: token imprint does not match the signature", ErrTSA, url)
	case ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0:
		return nil, fmt.Errorf("%w: %s: token nonce does not match the request", ErrTSA, url)
	case len(ts.Certificates) == 0:
		return nil, fmt.Errorf("%w: %s: token carries no TSA certificate", ErrTSA, url)
	}
	return ts.RawToken, nil
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
