package register

import "github.com/vanthu/vanthu/refusal"

// The reasons of this package's refusals that a person can cause and
// correct; web/ui words each in Vietnamese and English (package refusal).
var (
	rLocked                     = refusal.Name("issue.locked")
	rSealKeyInvalid             = refusal.Name("issue.seal-key-invalid")
	rNoRegister                 = refusal.Name("issue.no-register")
	rNoSealKey                  = refusal.Name("issue.no-seal-key")
	rNotSigned                  = refusal.Name("issue.not-signed")
	rVersionUnsigned            = refusal.Name("issue.version-unsigned")
	rRecipientsMax              = refusal.Name("issue.recipients-max")
	rCopiesKeptLong             = refusal.Name("issue.copies-kept-long")
	rRecipientBoth              = refusal.Name("issue.recipient-both")
	rRecipientOrgUnknown        = refusal.Name("issue.recipient-org-unknown")
	rRecipientSelf              = refusal.Name("issue.recipient-self")
	rRecipientEmail             = refusal.Name("issue.recipient-email")
	rRecipientName              = refusal.Name("issue.recipient-name")
	rRecipientsNone             = refusal.Name("issue.recipients-none")
	rRegisterUnknown            = refusal.Name("issue.register-unknown")
	rRegisterKind               = refusal.Name("issue.register-kind")
	rRegisterConfidentialNeeded = refusal.Name("issue.register-confidential-needed")
	rRegisterNotConfidential    = refusal.Name("issue.register-not-confidential")
	rRegisterTypes              = refusal.Name("issue.register-types")
	rRecallReason               = refusal.Name("issue.recall-reason")
	rNotIssued                  = refusal.Name("issue.not-issued")
	rKind                       = refusal.Name("register.kind")
	rName                       = refusal.Name("register.name")
	rCode                       = refusal.Name("register.code")
	rTypeUnknown                = refusal.Name("register.type-unknown")
	rTypesKind                  = refusal.Name("register.types-kind")
	rYear                       = refusal.Name("register.year")
)

// because names err's reason, with the arguments of its wording.
func because(reason refusal.Reason, err error, args ...any) error {
	return refusal.Because(reason, err, args...)
}
