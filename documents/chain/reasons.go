package chain

import "github.com/vanthu/vanthu/refusal"

// The reasons of this package's refusals that a person can cause and
// correct; web/ui words each in Vietnamese and English (package refusal).
var (
	rNotSubmittable         = refusal.Name("chain.not-submittable")
	rRouteRequired          = refusal.Name("chain.route-required")
	rTemplateOrStages       = refusal.Name("chain.template-or-stages")
	rTemplateUnknown        = refusal.Name("chain.template-unknown")
	rTemplateNotForDocument = refusal.Name("chain.template-not-for-document")
	rDraft                  = refusal.Name("chain.draft")
	rNothingWaiting         = refusal.Name("chain.nothing-waiting")
	rTurnOtherTask          = refusal.Name("chain.turn-other-task")
	rReturnComment          = refusal.Name("chain.return-comment")
	rSignedNoReturn         = refusal.Name("chain.signed-no-return")
	rReturnStage            = refusal.Name("chain.return-stage")
	rCommentsClosed         = refusal.Name("chain.comments-closed")
	rCommentEmpty           = refusal.Name("chain.comment-empty")
	rToUserRequired         = refusal.Name("chain.to-user-required")
	rToUserUnknown          = refusal.Name("chain.to-user-unknown")
	rToUserDisabled         = refusal.Name("chain.to-user-disabled")
	rToDrafter              = refusal.Name("chain.to-drafter")
	rTurnTheirs             = refusal.Name("chain.turn-theirs")
	rHoldsTurn              = refusal.Name("chain.holds-turn")
	rForwardNoDelegation    = refusal.Name("chain.forward-no-delegation")
	rWithdrawDraft          = refusal.Name("chain.withdraw-draft")
	rWithdrawNone           = refusal.Name("chain.withdraw-none")
	rWithdrawSigned         = refusal.Name("chain.withdraw-signed")
	rSigningNow             = refusal.Name("chain.signing-now")
	rRejectComment          = refusal.Name("chain.reject-comment")
	rNoAddedConsultees      = refusal.Name("chain.no-added-consultees")
	rNoAddedSigners         = refusal.Name("chain.no-added-signers")
	rAlreadySigner          = refusal.Name("chain.already-signer")
	rNoTurn                 = refusal.Name("chain.no-turn")
	rSigningUntil           = refusal.Name("chain.signing-until")
	rVersionNotApproved     = refusal.Name("chain.version-not-approved")
	rSignDraft              = refusal.Name("chain.sign-draft")
	rSignEarly              = refusal.Name("chain.sign-early")
	rTurnMoved              = refusal.Name("chain.turn-moved")
	rVersionMoved           = refusal.Name("chain.version-moved")
	rDefNoStage             = refusal.Name("chain.def-no-stage")
	rDefNoSign              = refusal.Name("chain.def-no-sign")
	rDefStageTwice          = refusal.Name("chain.def-stage-twice")
	rDefAfterSign           = refusal.Name("chain.def-after-sign")
	rDefNobody              = refusal.Name("chain.def-nobody")
	rDefTooFew              = refusal.Name("chain.def-too-few")
	rDefDrafter             = refusal.Name("chain.def-drafter")
	rDefNoUnit              = refusal.Name("chain.def-no-unit")
	rTemplateName           = refusal.Name("chain.template-name")
)

// because names err's reason, with the arguments of its wording.
func because(reason refusal.Reason, err error, args ...any) error {
	return refusal.Because(reason, err, args...)
}
