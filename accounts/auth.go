package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/storage"
)

// Login throttling: after MaxLoginFailures failures within LoginWindow for
// one username, or MaxAddressFailures from one address, further logins are
// refused for LoginLockout, whatever the password.
const (
	MaxLoginFailures   = 5
	MaxAddressFailures = 30
	LoginWindow        = 15 * time.Minute
	LoginLockout       = 15 * time.Minute
)

// Session lifetimes: a session ends after SessionIdle without use, and
// SessionMaxAge after login in any case.
const (
	SessionIdle   = 30 * time.Minute
	SessionMaxAge = 12 * time.Hour
)

// ErrBadCredentials is the one answer for an unknown user, a wrong
// password or a disabled account, so none of them can be told apart.
var ErrBadCredentials = errors.New("wrong username or password")

// LockedError is the answer while a username or address is locked out.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return fmt.Sprintf("too many failed logins; try again after %s", e.Until.In(vietnam).Format("15:04"))
}

// ErrUnauthenticated is returned for an unknown, expired or revoked token
// or session.
var ErrUnauthenticated = errors.New("unknown, expired or revoked credentials")

// Login checks a password and opens a session, returning the cookie secret.
// Success and failure are both recorded in the audit log.
func (s *Service) Login(ctx context.Context, username, password, address string) (string, Principal, error) {
	username = strings.ToLower(clean(username))
	subjects := []string{userSubject(username), "ip:" + address}
	for _, sub := range subjects {
		until, err := storage.LoginLocked(ctx, s.DB.Pool, sub)
		if err != nil {
			return "", Principal{}, err
		}
		if until != nil {
			return "", Principal{}, &LockedError{Until: *until}
		}
	}
	c, err := storage.UserByUsername(ctx, s.DB.Pool, username)
	ok := false
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && c.PasswordHash == ""):
		_, _ = CheckPassword(dummyHash(), password) // same time as a real check
	case err != nil:
		return "", Principal{}, err
	default:
		if ok, err = CheckPassword(c.PasswordHash, password); err != nil {
			return "", Principal{}, fmt.Errorf("login %s: %w", username, err)
		}
		ok = ok && c.DisabledAt == nil
	}
	if !ok {
		return "", Principal{}, s.loginFailed(ctx, c.User, username, address)
	}
	secret, err := NewToken("vs_")
	if err != nil {
		return "", Principal{}, err
	}
	p := Principal{User: c.User}
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		for _, sub := range subjects[:1] {
			if err := storage.ClearLoginFailures(ctx, tx, sub); err != nil {
				return audit.Event{}, err
			}
		}
		err := storage.CreateSession(ctx, tx, c.ID, secret, s.now().Add(SessionIdle))
		return event(p, "login.success", "user:"+c.ID, map[string]any{"address": address}), err
	})
	if err != nil {
		return "", Principal{}, err
	}
	return secret, p, nil
}

// loginFailed counts a failure against the username and the address and
// records it; it returns the error the caller shows.
func (s *Service) loginFailed(ctx context.Context, u storage.User, username, address string) error {
	var locked *time.Time
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		for _, l := range []struct {
			subject string
			max     int
		}{{userSubject(username), MaxLoginFailures}, {"ip:" + address, MaxAddressFailures}} {
			st, err := storage.RecordLoginFailure(ctx, tx, l.subject, LoginWindow, l.max, LoginLockout)
			if err != nil {
				return err
			}
			if st.LockedUntil != nil {
				locked = st.LockedUntil
			}
		}
		e := audit.Event{Actor: u.ID, ActorName: u.Username, OrgID: u.OrganizationID, Action: "login.failure",
			Object: "user:" + u.ID, Details: map[string]any{"address": address, "locked": locked != nil}}
		if u.ID == "" {
			// What was typed as an unknown username is not kept: people
			// type their password into the wrong field.
			e.Object = "user:unknown"
		}
		return audit.Append(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	if locked != nil {
		return &LockedError{Until: *locked}
	}
	return ErrBadCredentials
}

// userSubject is the throttling subject of a username: a hash, the same
// whether or not the account exists (so lockouts do not tell), and never
// the typed text itself (which may be a mistyped password).
func userSubject(username string) string {
	sum := sha256.Sum256([]byte(username))
	return "user:" + hex.EncodeToString(sum[:16])
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, secret string) error {
	return s.DB.InTx(ctx, func(tx pgx.Tx) error {
		userID, err := storage.DeleteSession(ctx, tx, secret)
		if err != nil || userID == "" {
			return err
		}
		u, err := storage.GetUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, event(Principal{User: u}, "logout", "user:"+u.ID, nil))
	})
}

// AuthenticateToken finds the principal of an API token.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (Principal, error) {
	o, err := storage.UserByToken(ctx, s.DB.Pool, token)
	if errors.Is(err, storage.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	if o.User.DisabledAt != nil {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{User: o.User, TokenID: o.Token.ID, Scopes: o.Token.Scopes}, nil
}

// AuthenticateSession finds the principal of a session cookie and extends
// its idle expiry.
func (s *Service) AuthenticateSession(ctx context.Context, secret string) (Principal, error) {
	u, err := storage.SessionUser(ctx, s.DB.Pool, secret, SessionIdle, SessionMaxAge)
	if errors.Is(err, storage.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	if u.DisabledAt != nil {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{User: u}, nil
}
