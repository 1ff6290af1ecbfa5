package verify_test

import (
	"bytes"

	// The tests verify as the service does: online OCSP and CRLs where the
	// files carry none (the dev PKI's responder).
	_ "github.com/vanthu/vanthu/signing/verify/chain/online"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
