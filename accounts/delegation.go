package accounts

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vanthu/vanthu/storage"
)

// Authority forms before a signer's title (Decree 30 art. 13).
const (
	FormCollective = "TM"  // on behalf of a collective
	FormDeputy     = "KT"  // a deputy signing for the head
	FormActing     = "Q"   // acting head
	FormByOrder    = "TL"  // by order; may be passed on once
	FormAuthorised = "TUQ" // by written authorisation; may not be passed on
)

// ErrDelegation is the error of a delegation refused when made or used;
// the wrapping message gives the reason.
var ErrDelegation = errors.New("delegation refused")

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrDelegation, fmt.Sprintf(format, a...))
}

// ParseForm accepts a form as written before a title ("KT.", "tuq", "TL").
func ParseForm(s string) (string, error) {
	f := strings.ToUpper(strings.TrimSuffix(strings.TrimSpace(s), "."))
	switch f {
	case FormCollective, FormDeputy, FormActing, FormByOrder, FormAuthorised:
		return f, nil
	}
	return "", refuseBecause(rUnknownForm, "unknown authority form %q: use TM., KT., Q., TL. or TUQ.", s)
}

// CheckNewDelegation applies the rules for making d: both people in its
// organisation, the delegate a signer, a period that has not already ended,
// a written basis for TUQ., and, for a delegation passed on from parent,
// that only a TL. may be passed on, once, by its holder, within its scope
// and period.
func CheckNewDelegation(d storage.Delegation, from, to storage.User, parent *storage.Delegation, parentChildren int, now time.Time) error {
	if _, err := ParseForm(d.Form); err != nil {
		return err
	}
	switch {
	case from.ID == to.ID:
		return refuseBecause(rDelegateSelf, "a user cannot delegate to themselves")
	case from.OrganizationID != d.OrganizationID || to.OrganizationID != d.OrganizationID:
		return refuseBecause(rDelegateOtherOrg, "both users must belong to the delegation's organisation")
	case to.DisabledAt != nil:
		return refuseBecause(rDelegateDisabled, "%s's account is disabled", to.Username)
	case !slices.Contains(to.Roles, storage.RoleSigner):
		return refuseBecause(rDelegateNotSigner, "%s does not hold the signer role", to.Username)
	case !d.EndsAt.After(d.StartsAt):
		return refuseBecause(rPeriodReversed, "the period ends (%s) before it starts (%s)", day(d.EndsAt), day(d.StartsAt))
	case !d.EndsAt.After(now):
		return refuseBecause(rPeriodEnded, "the period already ended on %s", day(d.EndsAt))
	case d.Form == FormAuthorised && strings.TrimSpace(d.Basis) == "":
		return refuseBecause(rBasisRequired, "TUQ. needs the written authorisation it rests on (basis)")
	}
	if parent == nil {
		return nil
	}
	switch {
	case parent.Form == FormAuthorised:
		return refuseBecause(rPassTuq, "a TUQ. delegation may not be passed on")
	case parent.Form != FormByOrder:
		return refuseBecause(rPassNotTl, "only a TL. delegation may be passed on, not %s.", parent.Form)
	case d.Form != FormByOrder:
		return refuseBecause(rPassAsTl, "a TL. delegation can only be passed on as TL.")
	case parent.ParentID != "":
		return refuseBecause(rPassOnce, "a TL. delegation may be passed on only once")
	case parentChildren > 0:
		return refuseBecause(rPassDone, "this TL. delegation has already been passed on")
	case parent.ToUser != from.ID:
		return refuseBecause(rPassHolder, "only the holder of a delegation may pass it on")
	case parent.RevokedAt != nil:
		return refuseBecause(rPassRevoked, "the delegation passed on was revoked")
	case d.StartsAt.Before(parent.StartsAt) || d.EndsAt.After(parent.EndsAt):
		return refuseBecause(rPassPeriod, "the period must lie within %s – %s", day(parent.StartsAt), day(parent.EndsAt))
	case !subset(d.DocumentTypes, parent.DocumentTypes):
		return refuseBecause(rPassTypes, "the document types must lie within those delegated (%s)", strings.Join(parent.DocumentTypes, ", "))
	case !subset(d.UnitIDs, parent.UnitIDs):
		return refuseBecause(rPassUnits, "the units must lie within those delegated")
	}
	return nil
}

// subset reports whether scope a lies within b, where empty means all.
func subset(a, b []string) bool {
	if len(b) == 0 {
		return true
	}
	if len(a) == 0 {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func day(t time.Time) string { return t.In(vietnam).Format("02/01/2006 15:04") }

var vietnam = time.FixedZone("ICT", 7*3600)

// SigningUse is one use of signing authority: signer signs a document of
// DocumentType from UnitID at At with Form ("" for their own name).
type SigningUse struct {
	Signer       storage.User
	Form         string
	DocumentType string
	UnitID       string
	At           time.Time
}

// CheckAuthority finds the delegation that allows u among held (the
// delegations to the signer, with parents for passed-on ones), or says why
// none does. Signing in one's own name needs only the signer role.
func CheckAuthority(u SigningUse, held []storage.Delegation, parentOf func(id string) (storage.Delegation, error)) (*storage.Delegation, error) {
	if !slices.Contains(u.Signer.Roles, storage.RoleSigner) {
		return nil, refuse("%s does not hold the signer role", u.Signer.Username)
	}
	if u.Form == "" {
		return nil, nil
	}
	form, err := ParseForm(u.Form)
	if err != nil {
		return nil, err
	}
	var reasons []string
	for i := range held {
		d := held[i]
		if d.Form != form {
			continue
		}
		why := coverage(d, u)
		if why == "" && d.ParentID != "" {
			p, err := parentOf(d.ParentID)
			if err != nil {
				return nil, fmt.Errorf("delegation %s: parent: %w", d.ID, err)
			}
			if w := coverage(p, u); w != "" {
				why = "the delegation it was passed on from: " + w
			}
		}
		if why == "" {
			return &d, nil
		}
		reasons = append(reasons, why)
	}
	if len(reasons) == 0 {
		return nil, refuse("%s holds no %s. delegation", u.Signer.Username, form)
	}
	return nil, refuse("%s. delegation to %s does not apply: %s", form, u.Signer.Username, strings.Join(reasons, "; "))
}

// coverage says why d does not cover u, or "" when it does.
func coverage(d storage.Delegation, u SigningUse) string {
	if why := liveness(d, u.At); why != "" {
		return why
	}
	switch {
	case len(d.DocumentTypes) > 0 && !slices.Contains(d.DocumentTypes, u.DocumentType):
		return fmt.Sprintf("document type %s is outside its scope (%s)", u.DocumentType, strings.Join(d.DocumentTypes, ", "))
	case len(d.UnitIDs) > 0 && !slices.Contains(d.UnitIDs, u.UnitID):
		return "the document's unit is outside its scope"
	}
	return ""
}

// liveness says why d cannot be used at at (revoked, not yet valid,
// expired), or "" when it can.
func liveness(d storage.Delegation, at time.Time) string {
	switch {
	case d.RevokedAt != nil && !at.Before(*d.RevokedAt):
		return "revoked on " + day(*d.RevokedAt)
	case at.Before(d.StartsAt):
		return "not valid before " + day(d.StartsAt)
	case !at.Before(d.EndsAt):
		return "expired on " + day(d.EndsAt)
	}
	return ""
}

// ActingFor returns the delegations among held (those to signer) that
// signer may use at at, whatever the document: valid then, passed on from
// one valid then, and signer holding the signer role. Each still applies
// only to the document types and units of its scope (Covers): the inbox
// shows a delegate the turns of those who delegated to them, which
// CheckAuthority then lets them take.
func ActingFor(signer storage.User, held []storage.Delegation, at time.Time, parentOf func(id string) (storage.Delegation, error)) ([]storage.Delegation, error) {
	if !slices.Contains(signer.Roles, storage.RoleSigner) {
		return nil, nil
	}
	var out []storage.Delegation
	for _, d := range held {
		if liveness(d, at) != "" {
			continue
		}
		if d.ParentID != "" {
			p, err := parentOf(d.ParentID)
			if err != nil {
				return nil, fmt.Errorf("delegation %s: parent: %w", d.ID, err)
			}
			if liveness(p, at) != "" {
				continue
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// Covers reports whether d's scope takes in a document of documentType
// from unitID.
func Covers(d storage.Delegation, documentType, unitID string) bool {
	return (len(d.DocumentTypes) == 0 || slices.Contains(d.DocumentTypes, documentType)) &&
		(len(d.UnitIDs) == 0 || slices.Contains(d.UnitIDs, unitID))
}
