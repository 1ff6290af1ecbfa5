package accounts

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/storage"
)

// ErrNoAccount is the answer when an identity an external provider vouched
// for names no usable vanthu account: none by that username, or a disabled
// one. Accounts are made by administrators, never by logging in.
var ErrNoAccount = errors.New("no vanthu account for this identity; an administrator must create it")

// LoginExternal opens a session for the user an external identity provider
// vouched for (method names it in the audit log, e.g. "oidc"), exactly as
// Login does after a right password: a session secret for the cookie and a
// login.success entry. An unknown or disabled account is ErrNoAccount and a
// login.failure entry. Password throttling does not apply: the provider
// did the authenticating.
func (s *Service) LoginExternal(ctx context.Context, username, address, method string) (string, Principal, error) {
	username = strings.ToLower(clean(username))
	c, err := storage.UserByUsername(ctx, s.DB.Pool, username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", Principal{}, err
	}
	if err != nil || c.DisabledAt != nil {
		e := audit.Event{Actor: c.ID, ActorName: c.Username, OrgID: c.OrganizationID, Action: "login.failure",
			Object: "user:" + c.ID, Details: map[string]any{"address": address, "method": method}}
		if c.ID == "" {
			// The provider's name for the person, which is no secret and
			// tells the auditor whom the office has not registered.
			e.Object, e.Details["external_username"] = "user:unknown", username
		}
		if err := s.DB.InTx(ctx, func(tx pgx.Tx) error { return audit.Append(ctx, tx, e) }); err != nil {
			return "", Principal{}, err
		}
		return "", Principal{}, ErrNoAccount
	}
	secret, err := NewToken("vs_")
	if err != nil {
		return "", Principal{}, err
	}
	p := Principal{User: c.User}
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		sessionID, err := storage.CreateSession(ctx, tx, c.ID, secret, s.now().Add(SessionIdle))
		p.SessionID = sessionID
		return event(p, "login.success", "user:"+c.ID, map[string]any{"address": address, "method": method}), err
	})
	if err != nil {
		return "", Principal{}, err
	}
	return secret, p, nil
}
