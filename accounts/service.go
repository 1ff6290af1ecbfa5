package accounts

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
)

// Service applies the directory's rules: every method authorizes its
// caller, validates, and records the change in the audit log in the same
// transaction.
type Service struct {
	DB *storage.DB
	// Anchors are the trust anchors key bindings must chain to.
	Anchors []*x509.Certificate
	// Keystore seals PKCS#12 keys; nil refuses them.
	Keystore *Keystore
	// PIN supplies PKCS#11 PINs (the service's configuration).
	PIN keys.PasswordSource
	// PKCS11Modules are the PKCS#11 modules a bound URI may name as its
	// module-path; a URI naming none uses VANTHU_PKCS11_MODULE.
	PKCS11Modules []string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Hashing bounds the password hashes run at once (logins, new
	// passwords); nil shares the process's default bound (one hash per
	// two cores, eight waiting) with every other Service of the process:
	// memory is the process's.
	Hashing *HashSlots

	// tokens keeps the principals of API tokens once StartTokenCache is
	// called (nil asks the database every time); copies of the Service
	// share it.
	tokens *tokenCache
}

// authChanged empties the token cache after a commit of this process that
// changed who a token's holder is or what they may do, so that their very
// next request sees it; other processes learn it from the database's
// notification.
func (s *Service) authChanged() { s.tokens.invalidate() }

// processHashSlots is the bound of the Services that set none.
var processHashSlots = sync.OnceValue(defaultSlots)

func (s *Service) hashSlots() *HashSlots {
	if s.Hashing != nil {
		return s.Hashing
	}
	return processHashSlots()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// InputError is a request the directory refuses as malformed (HTTP 400 or
// 422); its message names the field.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func invalid(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }

func event(p Principal, action, object string, details map[string]any) audit.Event {
	return p.Event(action, object, details)
}

// Event is an audit event of p's: who (the user), with which credential
// (the token or session used, and who minted the token when someone else
// did), in their organisation (callers change OrgID to the object's).
func (p Principal) Event(action, object string, details map[string]any) audit.Event {
	e := audit.Event{Actor: p.ID, ActorName: p.Username, OrgID: p.OrganizationID, Action: action, Object: object, Details: details,
		MintedBy: p.MintedBy, MintedByName: p.MintedByName}
	switch {
	case p.TokenID != "":
		e.Credential = "token:" + p.TokenID
	case p.SessionID != "":
		e.Credential = "session:" + p.SessionID
	}
	return e
}

// inTx runs fn and appends e (completed by fn) in one transaction.
func (s *Service) inTx(ctx context.Context, fn func(tx pgx.Tx) (audit.Event, error)) error {
	return s.DB.InTx(ctx, func(tx pgx.Tx) error {
		e, err := fn(tx)
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, e)
	})
}

func clean(s string) string { return strings.TrimSpace(norm.NFC.String(s)) }

func checkCode(field, code string) error {
	if code == "" || utf8.RuneCountInString(code) > 20 || strings.ContainsAny(code, " \t/-") {
		return because(rCodeFormat, invalid("%s must be 1–20 characters without spaces, slashes or hyphens (it goes into document symbols such as 05/QĐ-UBND)", field))
	}
	return nil
}

// CreateOrganization adds an organisation (superadmin only).
func (s *Service) CreateOrganization(ctx context.Context, p Principal, o storage.Organization) (storage.Organization, error) {
	if err := Authorize(p, OrganizationCreate, Target{}); err != nil {
		return o, err
	}
	o.Code, o.Name = clean(o.Code), clean(o.Name)
	if err := checkCode("code", o.Code); err != nil {
		return o, err
	}
	if o.Name == "" {
		return o, invalidBecause(rNameRequired, "name is required")
	}
	err := s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		if o.ParentID != "" {
			if _, err := storage.GetOrganization(ctx, tx, o.ParentID); err != nil {
				return audit.Event{}, invalidBecause(rParentUnknown, "parent_id names no organisation")
			}
		}
		got, err := storage.CreateOrganization(ctx, tx, o)
		if errors.Is(err, storage.ErrConflict) {
			return audit.Event{}, invalidBecause(rOrgCodeTaken, "code %s is taken by another organisation", o.Code)
		}
		o = got
		return event(p, "organization.create", "organization:"+o.ID, map[string]any{"code": o.Code, "name": o.Name}), err
	})
	return o, err
}

// Organizations lists what p may see: every organisation for the
// superadmin, one's own for everyone else.
func (s *Service) Organizations(ctx context.Context, p Principal) ([]storage.Organization, error) {
	if p.IsSuperadmin {
		if err := Authorize(p, OrganizationRead, Target{}); err != nil {
			return nil, err
		}
		return storage.ListOrganizations(ctx, s.DB.Pool, "")
	}
	if err := Authorize(p, OrganizationRead, Target{OrgID: p.OrganizationID}); err != nil {
		return nil, err
	}
	return storage.ListOrganizations(ctx, s.DB.Pool, p.OrganizationID)
}

// Organization reads one organisation p may see.
func (s *Service) Organization(ctx context.Context, p Principal, id string) (storage.Organization, error) {
	if err := Authorize(p, OrganizationRead, Target{OrgID: id}); err != nil {
		return storage.Organization{}, err
	}
	return storage.GetOrganization(ctx, s.DB.Pool, id)
}

// CreateUnit adds a unit to an organisation.
func (s *Service) CreateUnit(ctx context.Context, p Principal, u storage.Unit) (storage.Unit, error) {
	if _, err := s.organizationFor(ctx, p, u.OrganizationID, UnitCreate); err != nil {
		return u, err
	}
	if err := Authorize(p, UnitCreate, Target{OrgID: u.OrganizationID}); err != nil {
		return u, err
	}
	u.Code, u.Name = clean(u.Code), clean(u.Name)
	if err := checkCode("code", u.Code); err != nil {
		return u, err
	}
	if u.Name == "" {
		return u, invalidBecause(rNameRequired, "name is required")
	}
	err := s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		got, err := storage.CreateUnit(ctx, tx, u)
		if errors.Is(err, storage.ErrConflict) {
			return audit.Event{}, invalidBecause(rUnitCodeTaken, "code %s is taken by another unit of the organisation", u.Code)
		}
		u = got
		e := event(p, "unit.create", "unit:"+u.ID, map[string]any{"code": u.Code, "name": u.Name})
		e.OrgID = u.OrganizationID
		return e, err
	})
	return u, err
}

// Units lists an organisation's units.
func (s *Service) Units(ctx context.Context, p Principal, orgID string) ([]storage.Unit, error) {
	if _, err := s.Organization(ctx, p, orgID); err != nil {
		return nil, err
	}
	if err := Authorize(p, UnitRead, Target{OrgID: orgID}); err != nil {
		return nil, err
	}
	return storage.ListUnits(ctx, s.DB.Pool, orgID)
}

// NewUser is a request to create an account.
type NewUser struct {
	Username, FullName, Title, OrganizationID string
	UnitIDs, Roles                            []string
	Password                                  string
}

// CreateUser adds an account to an organisation, with an argon2id hash of
// its password when one is given.
func (s *Service) CreateUser(ctx context.Context, p Principal, n NewUser) (storage.User, error) {
	if _, err := s.organizationFor(ctx, p, n.OrganizationID, UserCreate); err != nil {
		if errors.Is(err, storage.ErrNotFound) && p.IsSuperadmin {
			return storage.User{}, invalidBecause(rOrgUnknown, "organization_id names no organisation")
		}
		return storage.User{}, err
	}
	if err := Authorize(p, UserCreate, Target{OrgID: n.OrganizationID}); err != nil {
		return storage.User{}, err
	}
	u := storage.User{Username: strings.ToLower(clean(n.Username)), FullName: clean(n.FullName), Title: clean(n.Title),
		OrganizationID: n.OrganizationID, UnitIDs: n.UnitIDs, Roles: n.Roles}
	if !validUsername(u.Username) {
		return u, invalidBecause(rUsernameFormat, "username must be 2–64 letters, digits, dots, hyphens or underscores")
	}
	if u.FullName == "" {
		return u, invalidBecause(rFullNameRequired, "full_name is required")
	}
	for _, r := range u.Roles {
		if !slices.Contains(storage.AllRoles, r) {
			return u, invalidBecause(rUnknownRole, "unknown role %q: one of %s", r, refusal.List("role", storage.AllRoles...))
		}
	}
	var hash string
	if n.Password != "" {
		if err := CheckNewPassword(n.Password); err != nil {
			return u, err
		}
		var herr error
		if err := s.hashSlots().Do(ctx, func() { hash, herr = HashPassword(n.Password) }); err != nil {
			return u, err
		}
		if herr != nil {
			return u, invalid("%v", herr)
		}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		units, err := storage.ListUnits(ctx, tx, n.OrganizationID)
		if err != nil {
			return audit.Event{}, err
		}
		for _, id := range u.UnitIDs {
			if !slices.ContainsFunc(units, func(x storage.Unit) bool { return x.ID == id }) {
				return audit.Event{}, invalidBecause(rUnitNotInOrg, "unit %s is not a unit of the organisation", id)
			}
		}
		u, err = storage.CreateUser(ctx, tx, u, hash)
		if errors.Is(err, storage.ErrConflict) {
			return audit.Event{}, because(rUsernameTaken, invalid("username %s is taken", n.Username), strings.ToLower(clean(n.Username)))
		}
		e := event(p, "user.create", "user:"+u.ID, map[string]any{"username": u.Username, "roles": u.Roles, "units": u.UnitIDs})
		e.OrgID = u.OrganizationID
		return e, err
	})
	return u, err
}

func validUsername(s string) bool {
	if len(s) < 2 || len(s) > 64 { // "an", "ba": short given names are usernames
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Users lists an organisation's accounts.
func (s *Service) Users(ctx context.Context, p Principal, orgID string) ([]storage.User, error) {
	if orgID == "" && p.IsSuperadmin {
		if err := Authorize(p, UserRead, Target{}); err != nil {
			return nil, err
		}
		return storage.ListUsers(ctx, s.DB.Pool, "")
	}
	if orgID == "" {
		orgID = p.OrganizationID
	}
	if _, err := s.Organization(ctx, p, orgID); err != nil {
		return nil, err
	}
	if err := Authorize(p, UserRead, Target{OrgID: orgID}); err != nil {
		return nil, err
	}
	return storage.ListUsers(ctx, s.DB.Pool, orgID)
}

// User reads one account p may see.
func (s *Service) User(ctx context.Context, p Principal, id string) (storage.User, error) {
	u, err := storage.GetUser(ctx, s.DB.Pool, id)
	if err != nil {
		return u, err
	}
	if u.ID == p.ID {
		return u, nil
	}
	if err := Authorize(p, UserRead, Target{OrgID: u.OrganizationID}); err != nil {
		return storage.User{}, err
	}
	return u, nil
}

// userFor finds the user an action a of p's is about: one outside what p
// may know of for a is storage.ErrNotFound, as User answers. Unlike User it
// asks for no directory:read scope: the action's own Authorize checks the
// scope it needs, and a directory:write token must be able to do its
// writes without also holding directory:read.
func (s *Service) userFor(ctx context.Context, p Principal, id string, a Action) (storage.User, error) {
	u, err := storage.GetUser(ctx, s.DB.Pool, id)
	if err != nil {
		return storage.User{}, err
	}
	if u.ID != p.ID && !p.operator && hidden(p, a, Target{OrgID: u.OrganizationID, UserID: u.ID}) {
		return storage.User{}, storage.ErrNotFound
	}
	return u, nil
}

// organizationFor is userFor for the organisation of an action a.
func (s *Service) organizationFor(ctx context.Context, p Principal, id string, a Action) (storage.Organization, error) {
	if !p.operator && hidden(p, a, Target{OrgID: id}) {
		return storage.Organization{}, storage.ErrNotFound
	}
	return storage.GetOrganization(ctx, s.DB.Pool, id)
}

// NewToken returns a random secret for an API token or a session.
func NewToken(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// IssueToken creates an API token for a user; the token is returned once
// and only its hash is kept.
func (s *Service) IssueToken(ctx context.Context, p Principal, userID, name string, scopes []string, expires *time.Time) (string, storage.Token, error) {
	u, err := s.userFor(ctx, p, userID, TokenManage)
	if err != nil {
		return "", storage.Token{}, err
	}
	if err := Authorize(p, TokenManage, Target{OrgID: u.OrganizationID, UserID: u.ID}); err != nil {
		return "", storage.Token{}, err
	}
	for _, sc := range scopes {
		if sc != "*" && !slices.Contains(AllScopes, sc) {
			return "", storage.Token{}, invalidBecause(rUnknownScope, "unknown scope %q: one of *, %s", sc, strings.Join(AllScopes, ", "))
		}
	}
	// A token never carries more than the credential that made it.
	if p.Scopes != nil && !slices.Contains(p.Scopes, "*") {
		if len(scopes) == 0 || slices.Contains(scopes, "*") {
			scopes = p.Scopes
		}
		for _, sc := range scopes {
			if !slices.Contains(p.Scopes, sc) {
				return "", storage.Token{}, because(rScopeBeyondMaker, fmt.Errorf("%w: a token cannot grant scope %s its maker lacks", ErrForbidden, sc), sc)
			}
		}
	}
	if expires != nil && !expires.After(s.now()) {
		return "", storage.Token{}, invalidBecause(rExpiresPast, "expires_at lies in the past")
	}
	if name = clean(name); name == "" {
		name = "api"
	}
	secret, err := NewToken("vt_")
	if err != nil {
		return "", storage.Token{}, err
	}
	var t storage.Token
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		var err error
		t, err = storage.MintToken(ctx, tx, storage.Token{UserID: u.ID, Name: name, Scopes: scopes, ExpiresAt: expires,
			CreatedBy: p.ID, CreatedByName: p.Username}, secret)
		e := event(p, "token.create", "token:"+t.ID, map[string]any{"user": u.ID, "name": name, "scopes": t.Scopes})
		e.OrgID = u.OrganizationID
		return e, err
	})
	if err != nil {
		return "", storage.Token{}, err
	}
	return secret, t, nil
}

// Tokens lists a user's tokens (never the secrets).
func (s *Service) Tokens(ctx context.Context, p Principal, userID string) ([]storage.Token, error) {
	u, err := s.userFor(ctx, p, userID, TokenManage)
	if err != nil {
		return nil, err
	}
	if err := Authorize(p, TokenManage, Target{OrgID: u.OrganizationID, UserID: u.ID}); err != nil {
		return nil, err
	}
	return storage.ListTokens(ctx, s.DB.Pool, u.ID)
}

// RevokeToken ends a token now.
func (s *Service) RevokeToken(ctx context.Context, p Principal, tokenID string) error {
	t, err := storage.GetToken(ctx, s.DB.Pool, tokenID)
	if err != nil {
		return err
	}
	u, err := storage.GetUser(ctx, s.DB.Pool, t.UserID)
	if err != nil {
		return err
	}
	if err := Authorize(p, TokenManage, Target{OrgID: u.OrganizationID, UserID: u.ID}); err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		e := event(p, "token.revoke", "token:"+t.ID, map[string]any{"user": u.ID})
		e.OrgID = u.OrganizationID
		return e, storage.RevokeToken(ctx, tx, t.ID)
	})
	if err == nil {
		s.authChanged()
	}
	return err
}

// SetDisabled disables a user's account, ending their sessions (their
// tokens stop working while it stays disabled), or enables it again. An
// administrator of the organisation, or the superadmin, may; nobody
// disables themselves, so an organisation cannot lose its last way in by
// a slip, and nobody disables its last enabled administrator
// (keepAnAdmin): the organisation keeps someone to manage it.
func (s *Service) SetDisabled(ctx context.Context, p Principal, userID string, disabled bool) (storage.User, error) {
	u, err := s.userFor(ctx, p, userID, UserCreate)
	if err != nil {
		return u, err
	}
	if err := Authorize(p, UserCreate, Target{OrgID: u.OrganizationID}); err != nil {
		return u, err
	}
	if u.ID == p.ID {
		return u, because(rDisableSelf, fmt.Errorf("%w: an account cannot disable or enable itself", ErrForbidden))
	}
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		cur, err := keepAnAdmin(ctx, tx, u, func(storage.User) bool { return !disabled })
		if err != nil {
			return audit.Event{}, err
		}
		e := event(p, action, "user:"+u.ID, map[string]any{"username": cur.Username})
		e.OrgID = u.OrganizationID
		if err := storage.SetUserDisabled(ctx, tx, u.ID, disabled); err != nil {
			return e, err
		}
		if disabled {
			return e, storage.DeleteUserSessions(ctx, tx, u.ID)
		}
		return e, nil
	})
	if err != nil {
		return u, err
	}
	s.authChanged()
	return storage.GetUser(ctx, s.DB.Pool, u.ID)
}

// CreateDelegation records a delegation of signing authority after the
// rules of CheckNewDelegation.
func (s *Service) CreateDelegation(ctx context.Context, p Principal, d storage.Delegation) (storage.Delegation, error) {
	if d.FromUser == "" {
		d.FromUser = p.ID // a signer delegating their own authority
	}
	from, err := s.userFor(ctx, p, d.FromUser, DelegationCreate)
	if err != nil {
		return d, err
	}
	d.OrganizationID = from.OrganizationID
	if err := Authorize(p, DelegationCreate, Target{OrgID: d.OrganizationID, UserID: from.ID}); err != nil {
		return d, err
	}
	to, err := s.userFor(ctx, p, d.ToUser, DelegationCreate)
	if errors.Is(err, storage.ErrNotFound) {
		return d, invalidBecause(rDelegateUnknown, "to_user names no user of the organisation")
	} else if err != nil {
		return d, err
	}
	if d.Form, err = ParseForm(d.Form); err != nil {
		return d, err
	}
	d.Basis, d.CreatedBy = clean(d.Basis), p.ID
	if d.StartsAt.IsZero() {
		d.StartsAt = s.now()
	}
	if d.EndsAt.IsZero() {
		return d, invalidBecause(rPeriodRequired, "ends_at is required: a delegation is for a period")
	}
	if err := s.checkScope(ctx, d); err != nil {
		return d, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		var parent *storage.Delegation
		children := 0
		if d.ParentID != "" {
			pd, err := storage.GetDelegation(ctx, tx, d.ParentID)
			if err != nil || pd.OrganizationID != d.OrganizationID {
				return audit.Event{}, invalidBecause(rParentDelegationUnknown, "parent_id names no delegation of the organisation")
			}
			// Serialise passing on the same delegation.
			if _, err := tx.Exec(ctx, "SELECT 1 FROM delegations WHERE id = $1 FOR UPDATE", pd.ID); err != nil {
				return audit.Event{}, err
			}
			if children, err = storage.CountDelegationChildren(ctx, tx, pd.ID); err != nil {
				return audit.Event{}, err
			}
			parent = &pd
		}
		if err := CheckNewDelegation(d, from, to, parent, children, s.now()); err != nil {
			return audit.Event{}, err
		}
		var err error
		d, err = storage.CreateDelegation(ctx, tx, d)
		e := event(p, "delegation.create", "delegation:"+d.ID, map[string]any{
			"from": d.FromUser, "to": d.ToUser, "form": d.Form, "document_types": d.DocumentTypes, "unit_ids": d.UnitIDs,
			"starts_at": d.StartsAt, "ends_at": d.EndsAt, "parent": d.ParentID})
		e.OrgID = d.OrganizationID
		return e, err
	})
	return d, err
}

// checkScope refuses document types that Decree 30 does not know and units
// that are not the organisation's.
func (s *Service) checkScope(ctx context.Context, d storage.Delegation) error {
	if len(d.DocumentTypes) > 0 {
		types, err := storage.ReferenceCodes(ctx, s.DB.Pool, "document_types")
		if err != nil {
			return err
		}
		for _, t := range d.DocumentTypes {
			if _, ok := types[t]; !ok {
				return invalidBecause(rUnknownDocumentType, "document_types: unknown document type %q", t)
			}
		}
	}
	if len(d.UnitIDs) > 0 {
		units, err := storage.ListUnits(ctx, s.DB.Pool, d.OrganizationID)
		if err != nil {
			return err
		}
		for _, id := range d.UnitIDs {
			if !slices.ContainsFunc(units, func(u storage.Unit) bool { return u.ID == id }) {
				return invalidBecause(rUnitNotInOrg, "unit_ids: %s is not a unit of the organisation", id)
			}
		}
	}
	return nil
}

// RevokeDelegation ends a delegation now, and any passed on from it; those
// who may make it (the delegating signer, an administrator) may end it.
// Signatures made under it before stay valid: they were made with the
// authority of their time.
func (s *Service) RevokeDelegation(ctx context.Context, p Principal, id string) error {
	d, err := storage.GetDelegation(ctx, s.DB.Pool, id)
	if err != nil {
		return err
	}
	if err := Authorize(p, DelegationCreate, Target{OrgID: d.OrganizationID, UserID: d.FromUser}); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		e := event(p, "delegation.revoke", "delegation:"+d.ID, map[string]any{"from": d.FromUser, "to": d.ToUser, "form": d.Form})
		e.OrgID = d.OrganizationID
		return e, storage.RevokeDelegation(ctx, tx, d.ID)
	})
}

// Delegations lists an organisation's delegations, with userID set only
// those from or to that user.
func (s *Service) Delegations(ctx context.Context, p Principal, orgID, userID string) ([]storage.Delegation, error) {
	if orgID == "" {
		orgID = p.OrganizationID
	}
	if err := Authorize(p, DelegationRead, Target{OrgID: orgID}); err != nil {
		return nil, err
	}
	return storage.ListDelegations(ctx, s.DB.Pool, orgID, userID)
}

// Authority checks that signer may sign with form ("" for their own name)
// a document of docType from unitID at a time, and returns the delegation
// that allows it.
func (s *Service) Authority(ctx context.Context, u SigningUse) (*storage.Delegation, error) {
	held, err := storage.DelegationsTo(ctx, s.DB.Pool, u.Signer.ID)
	if err != nil {
		return nil, err
	}
	return CheckAuthority(u, held, func(id string) (storage.Delegation, error) {
		return storage.GetDelegation(ctx, s.DB.Pool, id)
	})
}

// BindKey checks key material and binds it to a user, or with orgID set
// (and userID empty) as the organisation's seal key.
func (s *Service) BindKey(ctx context.Context, p Principal, userID, orgID string, m KeyMaterial) (storage.KeyBinding, error) {
	if userID != "" {
		u, err := s.userFor(ctx, p, userID, KeyBind)
		if err != nil {
			return storage.KeyBinding{}, err
		}
		orgID = u.OrganizationID
	}
	if err := Authorize(p, KeyBind, Target{OrgID: orgID, UserID: userID}); err != nil {
		return storage.KeyBinding{}, err
	}
	org, err := storage.GetOrganization(ctx, s.DB.Pool, orgID)
	if err != nil {
		return storage.KeyBinding{}, err
	}
	if m.Kind == storage.KeyPKCS11 {
		if err := checkServiceURI(m.URI, s.PKCS11Modules); err != nil {
			return storage.KeyBinding{}, err
		}
	}
	b, err := BindingFor(ctx, m, s.PIN, s.Anchors, s.Keystore, s.now())
	if err != nil {
		return b, err
	}
	if userID == "" {
		if err := checkSealNames(b.Certificate, org.Name); err != nil {
			return storage.KeyBinding{}, err
		}
	}
	b.CreatedBy = p.ID
	if userID != "" {
		b.UserID = userID
	} else {
		b.OrganizationID = orgID
	}
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		if err := storage.LockKeyFingerprint(ctx, tx, b.Fingerprint); err != nil {
			return audit.Event{}, err
		}
		elsewhere, err := storage.KeyBoundOutside(ctx, tx, b.Fingerprint, orgID)
		if err != nil {
			return audit.Event{}, err
		}
		if elsewhere {
			return audit.Event{}, fmt.Errorf("%w: this certificate is already bound in another organisation; a certificate serves one organisation (revoke that binding first)", ErrKeyRefused)
		}
		b, err = storage.CreateKeyBinding(ctx, tx, b)
		e := event(p, "key.bind", "key:"+b.ID, map[string]any{"user": userID, "organization": b.OrganizationID,
			"kind": b.Kind, "subject": b.Subject, "fingerprint": b.Fingerprint})
		e.OrgID = orgID
		return e, err
	})
	return b, err
}

// RevokeKey stops a bound key from signing from now on: its holder or an
// administrator may, and only an administrator the seal key.
func (s *Service) RevokeKey(ctx context.Context, p Principal, id string) error {
	b, err := storage.GetKeyBinding(ctx, s.DB.Pool, id)
	if err != nil {
		return err
	}
	orgID := b.OrganizationID
	if b.UserID != "" {
		u, err := storage.GetUser(ctx, s.DB.Pool, b.UserID)
		if err != nil {
			return err
		}
		orgID = u.OrganizationID
	}
	if err := Authorize(p, KeyBind, Target{OrgID: orgID, UserID: b.UserID}); err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		e := event(p, "key.revoke", "key:"+b.ID, map[string]any{"user": b.UserID, "organization": b.OrganizationID, "fingerprint": b.Fingerprint})
		e.OrgID = orgID
		return e, storage.RevokeKeyBinding(ctx, tx, b.ID)
	})
	if err == nil {
		// The revoked binding is refused from its row anyway; its
		// decrypted key need not stay in memory until then.
		s.Keystore.Forget(b.ID)
	}
	return err
}

// Keys lists the keys bound to a user.
func (s *Service) Keys(ctx context.Context, p Principal, userID string) ([]storage.KeyBinding, error) {
	u, err := s.User(ctx, p, userID)
	if err != nil {
		return nil, err
	}
	if err := Authorize(p, KeyRead, Target{OrgID: u.OrganizationID, UserID: u.ID}); err != nil {
		return nil, err
	}
	return storage.ListKeyBindings(ctx, s.DB.Pool, u.ID, "")
}
