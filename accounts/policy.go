package accounts

import (
	"errors"
	"fmt"
	"slices"

	"github.com/vanthu/vanthu/storage"
)

// Principal is an authenticated user as one request sees them: the
// account, and the scopes of the API token used (nil for a browser session,
// which carries every right the user has).
type Principal struct {
	storage.User
	TokenID string
	Scopes  []string
	// SessionID is the browser session used ("" for a token).
	SessionID string
	// MintedBy and MintedByName name who minted the token used, when it
	// was someone else than its holder (an administrator for an auditor):
	// the audit log names them beside the holder.
	MintedBy, MintedByName string
	// operator is set for the command line run by whoever operates the
	// server: they hold the database already, so every action is allowed
	// (and still recorded in the audit log under their name).
	operator bool
}

// Operator is the principal of `vanthu admin`, named for the audit log
// after the operating-system account that ran it.
func Operator(name string) Principal {
	return Principal{User: storage.User{Username: "operator:" + name, IsSuperadmin: true}, operator: true}
}

// Has reports whether the user holds a role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

func (p Principal) hasAny(roles ...string) bool {
	return slices.ContainsFunc(roles, p.Has)
}

// Member reports whether the user belongs to the organisation.
func (p Principal) Member(orgID string) bool { return orgID != "" && p.OrganizationID == orgID }

// InUnit reports whether the user belongs to the unit.
func (p Principal) InUnit(unitID string) bool { return slices.Contains(p.UnitIDs, unitID) }

// allows reports whether the credential's scopes permit scope.
func (p Principal) allows(scope string) bool {
	return p.Scopes == nil || slices.Contains(p.Scopes, "*") || slices.Contains(p.Scopes, scope)
}

// Token scopes: what an integration's token may be limited to.
const (
	ScopeDocumentsRead  = "documents:read"
	ScopeDocumentsWrite = "documents:write"
	ScopeDirectoryRead  = "directory:read"
	ScopeDirectoryWrite = "directory:write"
	ScopeSign           = "sign"
	ScopeVerify         = "verify"
	ScopeAuditRead      = "audit:read"
)

// AllScopes lists the scopes a token may be given ("*" is all of them).
var AllScopes = []string{ScopeDocumentsRead, ScopeDocumentsWrite, ScopeDirectoryRead, ScopeDirectoryWrite, ScopeSign, ScopeVerify, ScopeAuditRead}

// ErrForbidden is the error of a refused action on something the user may
// know exists (HTTP 403). Something they may not even know of is
// storage.ErrNotFound (HTTP 404), so that existence does not leak.
var ErrForbidden = errors.New("forbidden")

// Action names something a user does; Authorize decides it.
type Action string

// The actions of the API and the CLI.
const (
	OrganizationCreate Action = "organization.create"
	OrganizationRead   Action = "organization.read"
	UnitCreate         Action = "unit.create"
	UnitRead           Action = "unit.read"
	UserCreate         Action = "user.create"
	UserRead           Action = "user.read"
	TokenManage        Action = "token.manage" // create, list or revoke another's or one's own tokens
	DelegationCreate   Action = "delegation.create"
	DelegationRead     Action = "delegation.read"
	KeyBind            Action = "key.bind"
	KeyRead            Action = "key.read"
	DocumentCreate     Action = "document.create"
	DocumentRead       Action = "document.read"   // after the visibility filter found it
	DocumentChange     Action = "document.change" // new versions, and the workflow to come
	Verify             Action = "verify"
	AuditRead          Action = "audit.read"
	// The approval chains' reference data: the working calendar (one for
	// the country) and each organisation's chain templates.
	CalendarRead        Action = "calendar.read"
	CalendarManage      Action = "calendar.manage"
	ChainTemplateRead   Action = "chain_template.read"
	ChainTemplateManage Action = "chain_template.manage"
	// Notifications: one's own in-app notifications and channel choices
	// (the queries only ever reach the caller's own), and an
	// organisation's webhooks with their delivery log.
	NotificationRead Action = "notification.read"
	WebhookManage    Action = "webhook.manage"
	// Certified copies of a citizen's original (documents/certify): the
	// one-stop desk receives the request and the scan, the desk or the
	// certifier refuses it, the certifier certifies.
	CertificationRead    Action = "certification.read"
	CertificationReceive Action = "certification.receive"
	CertificationRefuse  Action = "certification.refuse"
	CertificationCertify Action = "certification.certify"
	// Handling incoming documents: the văn thư presents a document to a
	// leader; the organisation's leaders assign it, and a unit head assigns
	// a handler within their unit's part (documents/handling checks which
	// unit). Statistics are read by leaders, clerks, auditors and
	// administrators for the organisation, by unit heads for their units.
	HandlingPresent Action = "handling.present"
	HandlingAssign  Action = "handling.assign"
	// An organisation's handling rules (whether the văn thư may send an
	// incoming document straight to its lead unit) are set by its
	// administrators.
	HandlingSettingsManage Action = "handling.settings"
	StatisticsRead         Action = "statistics.read"
	// An organisation's issuing rules (whether its signature on issued
	// documents carries the QR code of their public verification) are set
	// by its administrators.
	IssuingSettingsManage Action = "issuing.settings"
	// One's own password, changed with the current one (an administrator
	// sets another's as UserCreate).
	PasswordChange Action = "password.change"
)

// Target is what an action is about: the organisation owning it and, for
// actions on a person's things (tokens, keys, delegations), that person.
type Target struct {
	OrgID  string
	UserID string
}

// scopeOf maps each action to the token scope it needs.
var scopeOf = map[Action]string{
	OrganizationCreate: ScopeDirectoryWrite, OrganizationRead: ScopeDirectoryRead,
	UnitCreate: ScopeDirectoryWrite, UnitRead: ScopeDirectoryRead,
	UserCreate: ScopeDirectoryWrite, UserRead: ScopeDirectoryRead,
	TokenManage: ScopeDirectoryWrite, DelegationCreate: ScopeDirectoryWrite, DelegationRead: ScopeDirectoryRead,
	KeyBind: ScopeDirectoryWrite, KeyRead: ScopeDirectoryRead,
	DocumentCreate: ScopeDocumentsWrite, DocumentRead: ScopeDocumentsRead, DocumentChange: ScopeDocumentsWrite,
	Verify: ScopeVerify, AuditRead: ScopeAuditRead,
	CalendarRead: ScopeDirectoryRead, CalendarManage: ScopeDirectoryWrite,
	ChainTemplateRead: ScopeDirectoryRead, ChainTemplateManage: ScopeDirectoryWrite,
	NotificationRead: ScopeDocumentsRead, WebhookManage: ScopeDirectoryWrite,
	CertificationRead: ScopeDocumentsRead, CertificationReceive: ScopeDocumentsWrite,
	CertificationRefuse: ScopeDocumentsWrite, CertificationCertify: ScopeSign,
	HandlingPresent: ScopeDocumentsWrite, HandlingAssign: ScopeDocumentsWrite, HandlingSettingsManage: ScopeDirectoryWrite, StatisticsRead: ScopeDocumentsRead,
	IssuingSettingsManage: ScopeDirectoryWrite,
	PasswordChange:        ScopeDirectoryWrite,
}

// Roles that may see every document of their organisation; drafters and
// reviewers see their units' documents (see Viewer).
var wholeOrganizationRoles = []string{storage.RoleClerk, storage.RoleSigner, storage.RoleAuditor, storage.RoleCertifier}

// Authorize decides whether p may do a to t: nil, ErrForbidden (wrapped
// with the reason) or storage.ErrNotFound when t lies outside everything p
// may know of. Every route and command calls it; no rule lives elsewhere.
//
// The order matters: what p may not even know of is decided first, so that
// a refusal for any other reason (a token's scopes, a missing role) can
// only ever be given about something p may know exists.
func Authorize(p Principal, a Action, t Target) error {
	scope, known := scopeOf[a]
	if !known {
		return fmt.Errorf("%w: unknown action %s", ErrForbidden, a)
	}
	if p.operator {
		return nil
	}
	if p.DisabledAt != nil {
		return fmt.Errorf("%w: the account is disabled", ErrForbidden)
	}
	if hidden(p, a, t) {
		return storage.ErrNotFound
	}
	if !p.allows(scope) {
		return fmt.Errorf("%w: the token's scopes do not include %s", ErrForbidden, scope)
	}
	if why := whyRefused(p, a, t); why != "" {
		return fmt.Errorf("%w: %s", ErrForbidden, why)
	}
	return nil
}

// hidden reports whether t lies outside what p may know of for a: outside
// one's own organisation nothing is visible, except the directory to the
// superadmin and one's own things to oneself.
func hidden(p Principal, a Action, t Target) bool {
	outside := t.OrgID == "" || !p.Member(t.OrgID)
	switch a {
	case OrganizationRead, UnitRead, UserRead, UnitCreate, UserCreate, AuditRead:
		return outside && !p.IsSuperadmin
	case TokenManage:
		return outside && !p.IsSuperadmin && t.UserID != p.ID
	case DelegationRead, DelegationCreate, KeyBind, KeyRead:
		return outside
	case DocumentCreate:
		return t.OrgID != "" && !p.Member(t.OrgID)
	case ChainTemplateRead, ChainTemplateManage, HandlingPresent, HandlingAssign, StatisticsRead:
		return outside
	case WebhookManage, HandlingSettingsManage, IssuingSettingsManage:
		return outside && !p.IsSuperadmin
	case CertificationRead, CertificationReceive, CertificationRefuse, CertificationCertify:
		return outside
	case DocumentRead, DocumentChange:
		// Documents are found through the viewer's filter first; someone
		// of no organisation finds none.
		return p.OrganizationID == ""
	}
	return false
}

// whyRefused says why p may not do a to t although t is visible to them, or ""
// when p may.
func whyRefused(p Principal, a Action, t Target) string {
	switch a {
	case OrganizationCreate:
		if !p.IsSuperadmin {
			return "only the system administrator creates organisations"
		}
	case UnitCreate, UserCreate:
		if !p.IsSuperadmin && !p.Has(storage.RoleAdmin) {
			return "only an administrator of the organisation manages its accounts"
		}
	case TokenManage:
		if t.UserID != p.ID && !p.IsSuperadmin && !p.Has(storage.RoleAdmin) {
			return "only the token's owner or an administrator of the organisation manages tokens"
		}
	case DelegationCreate:
		if !p.Has(storage.RoleAdmin) && !(t.UserID == p.ID && p.Has(storage.RoleSigner)) {
			return "a delegation is made by the signer who delegates or by an administrator"
		}
	case KeyBind:
		if !p.Has(storage.RoleAdmin) && !(t.UserID != "" && t.UserID == p.ID) {
			return "keys are bound by their holder or by an administrator; the seal key by an administrator"
		}
	case KeyRead:
		if t.UserID != p.ID && !p.hasAny(storage.RoleAdmin, storage.RoleAuditor) {
			return "only the key's holder, an administrator or an auditor sees key bindings"
		}
	case DocumentCreate:
		if p.OrganizationID == "" {
			return "documents belong to an organisation; this account has none"
		}
		if !p.hasAny(storage.RoleDrafter, storage.RoleClerk) {
			return "only drafters and clerks create documents"
		}
	case DocumentChange:
		if !p.hasAny(storage.RoleDrafter, storage.RoleReviewer, storage.RoleSigner, storage.RoleClerk) {
			return "auditors and administrators read documents but never change them"
		}
	case CalendarManage:
		if !p.IsSuperadmin {
			return "only the system administrator sets the working calendar, which every organisation shares"
		}
	case ChainTemplateManage:
		if !p.Has(storage.RoleAdmin) {
			return "only an administrator of the organisation manages its chain templates"
		}
	case WebhookManage:
		if !p.IsSuperadmin && !p.Has(storage.RoleAdmin) {
			return "only an administrator of the organisation manages its webhooks"
		}
	case HandlingSettingsManage:
		if !p.IsSuperadmin && !p.Has(storage.RoleAdmin) {
			return "only an administrator of the organisation sets its rules for handling incoming documents"
		}
	case IssuingSettingsManage:
		if !p.IsSuperadmin && !p.Has(storage.RoleAdmin) {
			return "only an administrator of the organisation sets its rules for issuing"
		}
	case CertificationRead:
		if !p.hasAny(storage.RoleDesk, storage.RoleCertifier, storage.RoleAuditor) {
			return "only the one-stop desk, certifiers and auditors see certification requests"
		}
	case CertificationReceive:
		if !p.Has(storage.RoleDesk) {
			return "only the one-stop desk receives certification requests and their scans"
		}
	case CertificationRefuse:
		if !p.hasAny(storage.RoleDesk, storage.RoleCertifier) {
			return "only the one-stop desk or a certifier refuses a certification request"
		}
	case CertificationCertify:
		if !p.Has(storage.RoleCertifier) {
			return "only a certifier (người thực hiện chứng thực) certifies copies"
		}
	case HandlingPresent:
		if !p.Has(storage.RoleClerk) {
			return "only the văn thư presents incoming documents to a leader"
		}
	case HandlingAssign:
		if !p.hasAny(storage.RoleSigner, storage.RoleReviewer) {
			return "only the organisation's leaders assign incoming documents, and unit heads within their unit"
		}
	case StatisticsRead:
		if !p.hasAny(storage.RoleSigner, storage.RoleClerk, storage.RoleAuditor, storage.RoleAdmin, storage.RoleReviewer) {
			return "statistics are read by leaders, unit heads, the văn thư, auditors and administrators"
		}
	case PasswordChange:
		if t.UserID != p.ID {
			return "a password is changed by its holder; an administrator sets a new one"
		}
	case AuditRead:
		if !p.IsSuperadmin && !p.Has(storage.RoleAuditor) {
			return "only auditors read the audit trail"
		}
	case OrganizationRead, UnitRead, UserRead, DelegationRead, DocumentRead, Verify, CalendarRead, ChainTemplateRead, NotificationRead:
		// Visible is enough; anyone signed in may check a signature.
	}
	return ""
}

// Viewer describes, for the storage queries, which documents p may see: those
// of their organisation that their role or unit reaches, plus what was sent
// to them. DocumentRead on a single document goes through the same filter,
// so listing and fetching can never disagree.
func (p Principal) Viewer() storage.Viewer {
	return storage.Viewer{
		UserID:            p.ID,
		OrganizationID:    p.OrganizationID,
		UnitIDs:           p.UnitIDs,
		WholeOrganization: p.hasAny(wholeOrganizationRoles...),
		UnitDocuments:     p.hasAny(storage.RoleDrafter, storage.RoleReviewer),
		UnitConfidential:  p.Has(storage.RoleReviewer),
	}
}
