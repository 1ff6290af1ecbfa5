package copies

import "github.com/vanthu/vanthu/refusal"

// The reasons of this package's refusals that a person can cause and
// correct; web/ui words each in Vietnamese and English (package refusal).
var (
	rForm                = refusal.Name("copy.form")
	rPagesNotTrs         = refusal.Name("copy.pages-not-trs")
	rPagesRequired       = refusal.Name("copy.pages-required")
	rPagesMax            = refusal.Name("copy.pages-max")
	rPageNumber          = refusal.Name("copy.page-number")
	rPageTwice           = refusal.Name("copy.page-twice")
	rUnsigned            = refusal.Name("copy.unsigned")
	rSlSource            = refusal.Name("copy.sl-source")
	rSySource            = refusal.Name("copy.sy-source")
	rTrsSource           = refusal.Name("copy.trs-source")
	rOriginalDescription = refusal.Name("copy.original-description")
)

// because names err's reason, with the arguments of its wording.
func because(reason refusal.Reason, err error, args ...any) error {
	return refusal.Because(reason, err, args...)
}
