package certify

import "github.com/vanthu/vanthu/refusal"

// The reasons of this package's refusals that a person can cause and
// correct; web/ui words each in Vietnamese and English (package refusal).
var (
	rRequesterName  = refusal.Name("cert.requester-name")
	rOriginalName   = refusal.Name("cert.original-name")
	rNote           = refusal.Name("cert.note")
	rIdNumber       = refusal.Name("cert.id-number")
	rPageCount      = refusal.Name("cert.page-count")
	rCopies         = refusal.Name("cert.copies")
	rReceivedAt     = refusal.Name("cert.received-at")
	rScanStep       = refusal.Name("cert.scan-step")
	rScanPages      = refusal.Name("cert.scan-pages")
	rGroundUnknown  = refusal.Name("cert.ground-unknown")
	rGroundRequired = refusal.Name("cert.ground-required")
	rDecided        = refusal.Name("cert.decided")
	rNoKey          = refusal.Name("cert.no-key")
	rNotScanned     = refusal.Name("cert.not-scanned")
	rRefused        = refusal.Name("cert.refused")
	rCertified      = refusal.Name("cert.certified")
	rReceiptEarly   = refusal.Name("cert.receipt-early")
	rRegisterKind   = refusal.Name("cert.register-kind")
	rYear           = refusal.Name("cert.year")
)

// because names err's reason, with the arguments of its wording.
func because(reason refusal.Reason, err error, args ...any) error {
	return refusal.Because(reason, err, args...)
}
