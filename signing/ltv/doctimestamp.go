package ltv

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
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
}

// AddDocumentTimestamp appends a document timestamp (/Type /DocTimeStamp,
// /SubFilter /ETSI.RFC3161, ETSI EN 319 142-1 §5.4.3) as its own incremental
// update: the TSA's token over the digest of the byte range, which covers
// the whole file including the DSS written before it. That is the B-LTA
// step. The signature dictionary and its invisible field are written by
// digitorus/pdfsign, which checks the TSA's answer (status, imprint, nonce,
// TSA certificate present) before anything is written.
func AddDocumentTimestamp(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, tsa TSA) (err error) {
	if tsa.URL == "" {
		return errors.New("ltv: document timestamp: no TSA URL")
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
	h := tsa.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	defer func() {
		// The PDF parser panics on some malformed input; no panic may
		// escape this package.
		if p := recover(); p != nil {
			err = fmt.Errorf("ltv: document timestamp: malformed PDF: %v", p)
		}
	}()
	rd, err := pdf.NewReader(in, size)
	if err != nil {
		return fmt.Errorf("ltv: document timestamp: open PDF: %w", err)
	}
	// pdfsign builds the whole output in memory before returning, so a
	// failure leaves out untouched; buffering here keeps that promise even
	// if that changes.
	var buf bytes.Buffer
	err = sign.SignWithData(io.NewSectionReader(in, 0, size), &buf, rd, size, sign.SignData{
		Signature: sign.SignDataSignature{
			CertType: sign.TimeStampSignature,
			Info:     sign.SignDataSignatureInfo{Date: time.Now()},
		},
		DigestAlgorithm: h,
		TSA:             sign.TSA{URL: tsa.URL, Username: tsa.Username, Password: tsa.Password},
		Context:         ctx,
	})
	if err != nil {
		return fmt.Errorf("ltv: document timestamp from %s: %w", tsa.URL, err)
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("ltv: document timestamp: write: %w", err)
	}
	return nil
}
