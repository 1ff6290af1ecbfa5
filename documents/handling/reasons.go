package handling

import "github.com/vanthu/vanthu/refusal"

// The reasons of this package's refusals that a person can cause and
// correct; web/ui words each in Vietnamese and English (package refusal).
var (
	rDirectSendingOff   = refusal.Name("handling.direct-sending-off")
	rHandlerDueLate     = refusal.Name("handling.handler-due-late")
	rDueDays            = refusal.Name("handling.due-days")
	rDueFormat          = refusal.Name("handling.due-format")
	rDuePast            = refusal.Name("handling.due-past")
	rDueFar             = refusal.Name("handling.due-far")
	rNotRegistered      = refusal.Name("handling.not-registered")
	rPresentOne         = refusal.Name("handling.present-one")
	rNotPresented       = refusal.Name("handling.not-presented")
	rLeaderUnknown      = refusal.Name("handling.leader-unknown")
	rAssignmentsCount   = refusal.Name("handling.assignments-count")
	rDirectionLong      = refusal.Name("handling.direction-long")
	rCompleted          = refusal.Name("handling.completed")
	rAssignmentReceiver = refusal.Name("handling.assignment-receiver")
	rAssignmentRole     = refusal.Name("handling.assignment-role")
	rAssignmentTwice    = refusal.Name("handling.assignment-twice")
	rAssignmentUnit     = refusal.Name("handling.assignment-unit")
	rUnitNoHead         = refusal.Name("handling.unit-no-head")
	rAssignmentUser     = refusal.Name("handling.assignment-user")
	rReceiverBusy       = refusal.Name("handling.receiver-busy")
	rLeadTaken          = refusal.Name("handling.lead-taken")
	rOneLead            = refusal.Name("handling.one-lead")
	rHandlerRequired    = refusal.Name("handling.handler-required")
	rHandlerUnknown     = refusal.Name("handling.handler-unknown")
	rHandlerNotInUnit   = refusal.Name("handling.handler-not-in-unit")
	rPartClosed         = refusal.Name("handling.part-closed")
	rHandlerRole        = refusal.Name("handling.handler-role")
	rHandlerTaken       = refusal.Name("handling.handler-taken")
	rPartUnknown        = refusal.Name("handling.part-unknown")
	rPartDone           = refusal.Name("handling.part-done")
	rNoteRequired       = refusal.Name("handling.note-required")
	rNoteLong           = refusal.Name("handling.note-long")
	rReplyUnknown       = refusal.Name("handling.reply-unknown")
	rSendUnit           = refusal.Name("handling.send-unit")
	rSendLate           = refusal.Name("handling.send-late")
	rPeriodFormat       = refusal.Name("stats.period-format")
	rPeriodRange        = refusal.Name("stats.period-range")
)

// because names err's reason, with the arguments of its wording.
func because(reason refusal.Reason, err error, args ...any) error {
	return refusal.Because(reason, err, args...)
}
