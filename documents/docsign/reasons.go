package docsign

import "github.com/vanthu/vanthu/refusal"

// The reasons of this package's refusals that a person can cause and
// correct; web/ui words each in Vietnamese and English (package refusal).
var (
	rLocked             = refusal.Name("sign.locked")
	rKeyInvalid         = refusal.Name("sign.key-invalid")
	rPlaceNotFound      = refusal.Name("sign.place-not-found")
	rNoImage            = refusal.Name("sign.no-image")
	rNoDelegation       = refusal.Name("sign.no-delegation")
	rDelegationNotValid = refusal.Name("sign.delegation-not-valid")
	rNoKey              = refusal.Name("sign.no-key")
	rVersionChanged     = refusal.Name("sign.version-changed")
	rKeyNotBound        = refusal.Name("sign.key-not-bound")
	rNoTokenCert        = refusal.Name("sign.no-token-cert")
	rSessionUsed        = refusal.Name("sign.session-used")
	rSessionExpired     = refusal.Name("sign.session-expired")
	rPreparedStale      = refusal.Name("sign.prepared-stale")
	rPreparedMismatch   = refusal.Name("sign.prepared-mismatch")
	rImageTooLarge      = refusal.Name("sign.image-too-large")
	rImageNotPng        = refusal.Name("sign.image-not-png")
	rImageSize          = refusal.Name("sign.image-size")
	rImageOpaque        = refusal.Name("sign.image-opaque")
)

// because names err's reason, with the arguments of its wording.
func because(reason refusal.Reason, err error, args ...any) error {
	return refusal.Because(reason, err, args...)
}

// carry keeps the reason of from (the chain's refusal of a turn) on to,
// the error that words it as signing's own kind.
func carry(from, to error) error { return refusal.Carry(from, to) }
