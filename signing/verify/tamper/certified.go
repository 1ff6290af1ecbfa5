package tamper

import "fmt"

// Signer signs in as a new incremental revision: a certification signature
// with DocMDP permission certify (1, 2 or 3), or an approval signature when
// certify is 0. The tests pass the project's own signer (package signing)
// with dev PKI keys; tamper does not sign by itself.
type Signer func(in []byte, certify int) ([]byte, error)

// CertifiedThenApproved certifies draft with DocMDP P=p and then signs it
// with an approval signature, the order of a certified copy (certify, then
// the body's signature). Both signatures are valid at P=2 and P=3; at P=1
// the approval signature is a disallowed change.
func CertifiedThenApproved(draft []byte, p int, sign Signer) ([]byte, error) {
	certified, err := sign(draft, p)
	if err != nil {
		return nil, fmt.Errorf("tamper: certify with P=%d: %w", p, err)
	}
	out, err := sign(certified, 0)
	if err != nil {
		return nil, fmt.Errorf("tamper: approve after certifying with P=%d: %w", p, err)
	}
	return out, nil
}

// CertifiedThenCommented certifies draft with DocMDP P=p and then adds a
// comment in the page margin: permitted only at P=3.
func CertifiedThenCommented(draft []byte, p int, sign Signer) ([]byte, error) {
	certified, err := sign(draft, p)
	if err != nil {
		return nil, fmt.Errorf("tamper: certify with P=%d: %w", p, err)
	}
	return AddComment(certified)
}
