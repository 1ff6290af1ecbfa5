package ltv

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vanthu/vanthu/signing"
)

// TSA names the RFC 3161 time-stamping authority for document timestamps.
type TSA struct {
	URL      string
	Username string
	Password string
	// Hash is the message-imprint algorithm (default SHA-256).
	Hash crypto.Hash
	// Timeout bounds the request when ctx has no deadline (default 20s).
	Timeout time.Duration
	// HTTPClient is used for the TSA; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// AddDocumentTimestamp writes in (size bytes) to out followed by a document
// timestamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161, ETSI EN 319
// 142-1 §5.4.3) as its own incremental update: the TSA's token over the
// digest of the byte range, which covers the whole file including the DSS
// written before it. That is the B-LTA step. The update is made by the
// signing engine (signing.DocumentTimestamp), which adds an invisible field
// to the existing form and catalog in place and checks the TSA's answer
// (status, imprint, nonce, time-stamping certificate) before anything is
// written: on error out is untouched.
func AddDocumentTimestamp(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, tsa TSA) error {
	u, err := documentTimestamp(ctx, in, size, tsa)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.NewSectionReader(in, 0, size)); err != nil {
		return fmt.Errorf("ltv: document timestamp: write: %w", err)
	}
	if _, err := out.Write(u); err != nil {
		return fmt.Errorf("ltv: document timestamp: write: %w", err)
	}
	return nil
}

// documentTimestamp returns the document timestamp update to append after
// byte size of in.
func documentTimestamp(ctx context.Context, in io.ReaderAt, size int64, tsa TSA) ([]byte, error) {
	if tsa.URL == "" {
		return nil, errors.New("ltv: document timestamp: no TSA URL")
	}
	if _, has := ctx.Deadline(); !has {
		t := tsa.Timeout
		if t <= 0 {
			t = defaultTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	u, err := signing.DocumentTimestamp(ctx, in, size, signing.TimestampOptions{
		TSAURL: tsa.URL, Username: tsa.Username, Password: tsa.Password,
		Hash: tsa.Hash, HTTPClient: tsa.HTTPClient,
	})
	if err != nil {
		return nil, fmt.Errorf("ltv: document timestamp from %s: %w", tsa.URL, err)
	}
	return u, nil
}
