package cms_test

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"testing"

	"github.com/vanthu/vanthu/signing/verify/cms"
)

// TestDigestClassification: a digest the verifier computes maps to its hash
// (the policy decides later), a recognised one it cannot compute is a
// policy matter (INDETERMINATE), an identifier nobody defines is malformed
// (TOTAL-FAILED).
func TestDigestClassification(t *testing.T) {
	cases := []struct {
		oid    asn1.ObjectIdentifier
		hash   crypto.Hash
		policy bool
		bad    bool
	}{
		{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, crypto.SHA256, false, false},
		{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, crypto.SHA1, false, false},
		{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}, crypto.MD5, false, false},
		{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 12}, 0, true, false}, // SHAKE256
		{asn1.ObjectIdentifier{1, 3, 36, 3, 2, 1}, 0, true, false},               // RIPEMD-160
		{asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 7, 1}, 0, false, true},
	}
	for _, c := range cases {
		h, err := cms.Digest(c.oid)
		var pe *cms.PolicyError
		var me *cms.MalformedError
		if h != c.hash || errors.As(err, &pe) != c.policy || errors.As(err, &me) != c.bad {
			t.Errorf("%v: hash %v err %v; want hash %v policy %v malformed %v", c.oid, h, err, c.hash, c.policy, c.bad)
		}
	}
	if cms.HashAllowed(crypto.MD5) || cms.HashAllowed(crypto.SHA1) {
		t.Error("MD5 and SHA-1 must stay outside the policy")
	}
}
