package documents

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vanthu/vanthu/storage"
)

// A document's status follows its approval chain (documents/chain moves
// it); a document no chain has reached is a draft.
const (
	StatusDraft     = "draft"
	StatusInReview  = "in_review"
	StatusReturned  = "returned"
	StatusApproved  = "approved" // every stage before signing passed: awaiting signature
	StatusSigned    = "signed"   // every signature made: awaiting issuing
	StatusIssued    = "issued"   // numbered, sealed and sent (documents/register)
	StatusWithdrawn = "withdrawn"
	StatusRejected  = "rejected" // the signer refused to sign (từ chối ký)
)

// An incoming document (văn bản đến, documents/reception) is registered
// received; its versions are what arrived and never change. A recall
// (thu hồi) freezes an issued document at its sender (documents/register)
// and takes the incoming one out of handling at each receiver: both are
// recalled.
const (
	StatusReceived = "received"
	StatusRecalled = "recalled"
)

// Statuses lists every status, in the order a document moves through them.
var Statuses = []string{StatusDraft, StatusInReview, StatusReturned, StatusApproved, StatusSigned, StatusIssued, StatusWithdrawn, StatusRejected,
	StatusReceived, StatusRecalled}

// checkStatusFilter refuses a listing filter that names no status, which
// would otherwise silently find nothing.
func checkStatusFilter(s string) error {
	if s == "" || slices.Contains(Statuses, s) {
		return nil
	}
	return inputError(ErrInvalidField, fmt.Sprintf("unknown status %q: use one of %s", s, strings.Join(Statuses, ", ")))
}

// checkNewVersion applies the rules for adding a version, with the
// document locked: none while a signature is being made (the signer's
// bytes would no longer be the last version), none unsigned once a
// signature exists (it would drop the signatures), and none unsigned while
// the chain has reviewers looking at a version (their approvals name its
// bytes): the draft is returned or withdrawn first.
func checkNewVersion(g storage.VersionGuard, signed bool, now time.Time) error {
	switch {
	case g.Status == StatusReceived:
		return inputError(ErrVersionRefused, "an incoming document keeps the file as it arrived; no version may be added")
	case g.Status == StatusRecalled:
		return inputError(ErrVersionRefused, "the document was recalled (thu hồi) and is frozen: no version may be added")
	case g.SigningUntil != nil && now.Before(*g.SigningUntil):
		return inputError(ErrVersionRefused, fmt.Sprintf("a signature is being made on this document (until %s); no version may be added meanwhile",
			g.SigningUntil.In(vietnam).Format(time.RFC3339)))
	case g.SignedVersions > 0 && !signed:
		return inputError(ErrVersionRefused, "the document is signed: a version without the signatures would drop them; only a signed version (an incremental update) may follow")
	case !signed && (g.Status == StatusInReview || g.Status == StatusApproved):
		return inputError(ErrVersionRefused, "the document is in its approval chain and the approvals name the bytes under review: have it returned, or withdraw it, before adding a version")
	case !signed && g.Status == StatusRejected:
		return inputError(ErrVersionRefused, "the signer refused this document; draft a new one")
	}
	return nil
}

var vietnam = time.FixedZone("ICT", 7*3600)
