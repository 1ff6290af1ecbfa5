// Package etsi holds the validation vocabulary of ETSI EN 319 102-1 (as used
// by EU DSS reports): indications, sub-indications and the document verdicts
// built on them, so every vanthu report says "why" the same way auditors'
// other tools do.
package etsi

// Indication is the overall result of validating one signature.
type Indication string

const (
	TotalPassed   Indication = "TOTAL-PASSED"
	TotalFailed   Indication = "TOTAL-FAILED"
	Indeterminate Indication = "INDETERMINATE"
)

// SubIndication says exactly why a signature is not TOTAL-PASSED.
type SubIndication string

const (
	None SubIndication = ""
	// TOTAL-FAILED
	FormatFailure    SubIndication = "FORMAT_FAILURE"
	HashFailure      SubIndication = "HASH_FAILURE"
	SigCryptoFailure SubIndication = "SIG_CRYPTO_FAILURE"
	Revoked          SubIndication = "REVOKED"
	NotYetValid      SubIndication = "NOT_YET_VALID"
	// INDETERMINATE
	SigConstraintsFailure      SubIndication = "SIG_CONSTRAINTS_FAILURE"
	ChainConstraintsFailure    SubIndication = "CHAIN_CONSTRAINTS_FAILURE"
	CertificateChainGeneral    SubIndication = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
	CryptoConstraintsFailure   SubIndication = "CRYPTO_CONSTRAINTS_FAILURE"
	NoSigningCertificateFound  SubIndication = "NO_SIGNING_CERTIFICATE_FOUND"
	NoCertificateChainFound    SubIndication = "NO_CERTIFICATE_CHAIN_FOUND"
	RevokedNoPOE               SubIndication = "REVOKED_NO_POE"
	RevokedCANoPOE             SubIndication = "REVOKED_CA_NO_POE"
	OutOfBoundsNoPOE           SubIndication = "OUT_OF_BOUNDS_NO_POE"
	RevocationOutOfBoundsNoPOE SubIndication = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
	TryLater                   SubIndication = "TRY_LATER"
	TimestampOrderFailure      SubIndication = "TIMESTAMP_ORDER_FAILURE"
	SignedDataNotFound         SubIndication = "SIGNED_DATA_NOT_FOUND"
)

// Failed reports whether a sub-indication belongs to TOTAL-FAILED.
func (s SubIndication) Failed() bool {
	switch s {
	case FormatFailure, HashFailure, SigCryptoFailure, Revoked, NotYetValid:
		return true
	}
	return false
}

// Verdict is the verdict on a whole document.
type Verdict string

const (
	Valid                Verdict = "VALID"
	Invalid              Verdict = "INVALID"
	VerdictIndeterminate Verdict = "INDETERMINATE"
	Unsigned             Verdict = "UNSIGNED"
)
