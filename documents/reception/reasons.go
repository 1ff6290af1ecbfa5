package reception

import "github.com/vanthu/vanthu/refusal"

// The reasons of this package's refusals that a person can cause and
// correct; web/ui words each in Vietnamese and English (package refusal).
var (
	rFrom               = refusal.Name("arrival.from")
	rNumber             = refusal.Name("arrival.number")
	rSymbol             = refusal.Name("arrival.symbol")
	rSigner             = refusal.Name("arrival.signer")
	rMedium             = refusal.Name("arrival.medium")
	rDateFormat         = refusal.Name("arrival.date-format")
	rDateFuture         = refusal.Name("arrival.date-future")
	rPeriodFormat       = refusal.Name("arrival.period-format")
	rPeriodReversed     = refusal.Name("arrival.period-reversed")
	rForceReason        = refusal.Name("arrival.force-reason")
	rDuplicateMeanwhile = refusal.Name("arrival.duplicate-meanwhile")
	rRecalled           = refusal.Name("arrival.recalled")
	rRegistered         = refusal.Name("arrival.registered")
	rClosed             = refusal.Name("arrival.closed")
	rReturnReason       = refusal.Name("arrival.return-reason")
	rReceiverLong       = refusal.Name("arrival.receiver-long")
	rNoteLong           = refusal.Name("arrival.note-long")
	rReasonLong         = refusal.Name("arrival.reason-long")
	rNotRecalled        = refusal.Name("arrival.not-recalled")
	rRecallConfirmed    = refusal.Name("arrival.recall-confirmed")
)

// because names err's reason, with the arguments of its wording.
func because(reason refusal.Reason, err error, args ...any) error {
	return refusal.Because(reason, err, args...)
}
