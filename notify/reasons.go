package notify

import "github.com/vanthu/vanthu/refusal"

// The reasons of this package's refusals that a person can cause and
// correct; web/ui words each in Vietnamese and English (package refusal).
var (
	rEmailFormat     = refusal.Name("notify.email-format")
	rEmailRequired   = refusal.Name("notify.email-required")
	rUrl             = refusal.Name("notify.url")
	rUrlUnresolved   = refusal.Name("notify.url-unresolved")
	rUrlPrivate      = refusal.Name("notify.url-private")
	rUrlPrivateAdmin = refusal.Name("notify.url-private-admin")
)

// because names err's reason, with the arguments of its wording.
func because(reason refusal.Reason, err error, args ...any) error {
	return refusal.Because(reason, err, args...)
}
