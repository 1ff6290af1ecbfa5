package documents

import "github.com/vanthu/vanthu/refusal"

// The reasons of a new document's refusals that its drafter can correct
// on the upload form; web/ui words each in Vietnamese and English
// (package refusal).
var (
	rTypeRequired    = refusal.Name("document.type-required")
	rTypeUnknown     = refusal.Name("document.type-unknown")
	rSubjectRequired = refusal.Name("document.subject-required")
	rSubjectLong     = refusal.Name("document.subject-long")
	// The upload form posted again (the back button) with another file:
	// its key made a document already.
	rUploadReplayed = refusal.Name("document.upload-replayed")
)
