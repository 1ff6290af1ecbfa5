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
	"github.com/vanthu/vanthu/metrics"
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
//
// The attempt first takes a place among the password hashes the service
// runs (ErrBusy when there is none), then reserves itself against the
// username's and the address's limits before hashing (LockedError when
// either is locked or every place is taken), so that concurrent attempts
// cannot all pass a check made before any of them is counted. Whatever
// happens after the reservation settles it, even when the client leaves.
func (s *Service) Login(ctx context.Context, username, password, address string) (string, Principal, error) {
	secret, p, err := s.login(ctx, username, password, address)
	var locked *LockedError
	switch {
	case err == nil:
		metrics.ObserveLogin(metrics.LoginSuccess)
	case errors.Is(err, ErrBadCredentials):
		metrics.ObserveLogin(metrics.LoginFailure)
	case errors.As(err, &locked):
		metrics.ObserveLogin(metrics.LoginLocked)
	case errors.Is(err, ErrBusy):
		metrics.ObserveLogin(metrics.LoginBusy)
	default:
		metrics.ObserveLogin(metrics.LoginError)
	}
	return secret, p, err
}

func (s *Service) login(ctx context.Context, username, password, address string) (string, Principal, error) {
	username = strings.ToLower(clean(username))
	leave, err := s.hashSlots().Enter()
	if err != nil {
		return "", Principal{}, err
	}
	defer leave()
	limits := loginLimits(username, address)
	if err := s.reserveLogin(ctx, username, address, limits); err != nil {
		return "", Principal{}, err
	}
	settleCtx := context.WithoutCancel(ctx)
	abandon := func(err error) (string, Principal, error) {
		return "", Principal{}, s.abandonLogin(ctx, limits, err)
	}
	c, err := storage.UserByUsername(ctx, s.DB.Pool, username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return abandon(err)
	}
	noPassword := err != nil || c.PasswordHash == ""
	ok := false
	var checkErr error
	err = s.hashSlots().Run(ctx, func() {
		if noPassword {
			_, _ = CheckPassword(dummyHash(), password) // same time as a real check
			return
		}
		ok, checkErr = CheckPassword(c.PasswordHash, password)
		ok = ok && c.DisabledAt == nil
	})
	if err != nil {
		return abandon(err)
	}
	if checkErr != nil {
		return abandon(fmt.Errorf("login %s: %w", username, checkErr))
	}
	if !ok {
		return "", Principal{}, s.loginFailed(settleCtx, c.User, address, limits)
	}
	secret, err := NewToken("vs_")
	if err != nil {
		return abandon(err)
	}
	p := Principal{User: c.User}
	err = s.inTx(settleCtx, func(tx pgx.Tx) (audit.Event, error) {
		for _, l := range limits {
			if _, _, err := storage.SettleLoginAttempt(settleCtx, tx, l, storage.LoginSucceeded); err != nil {
				return audit.Event{}, err
			}
		}
		sessionID, err := storage.CreateSession(settleCtx, tx, c.ID, secret, s.now().Add(SessionIdle))
		p.SessionID = sessionID
		return event(p, "login.success", "user:"+c.ID, map[string]any{"address": address}), err
	})
	if err != nil {
		return abandon(err) // rolled back: the places are still taken
	}
	return secret, p, nil
}

// loginLimits are the throttling subjects of an attempt, username first:
// every attempt reserves them in this order, so two never wait on each
// other's rows.
// abandonLogin gives back the places an attempt reserved (reserveLogin)
// when it ends before its password was judged, and returns err with what
// went wrong doing so. It runs even when ctx is cancelled: a place left
// taken would count as a failure.
func (s *Service) abandonLogin(ctx context.Context, limits []storage.LoginLimit, err error) error {
	settleCtx := context.WithoutCancel(ctx)
	if serr := s.DB.InTx(settleCtx, func(tx pgx.Tx) error {
		for _, l := range limits {
			if _, _, err := storage.SettleLoginAttempt(settleCtx, tx, l, storage.LoginAbandoned); err != nil {
				return err
			}
		}
		return nil
	}); serr != nil {
		err = errors.Join(err, serr)
	}
	return err
}

func loginLimits(username, address string) []storage.LoginLimit {
	return []storage.LoginLimit{
		{Subject: userSubject(username), Max: MaxLoginFailures, Window: LoginWindow, Lockout: LoginLockout},
		{Subject: "ip:" + address, Max: MaxAddressFailures, Window: LoginWindow, Lockout: LoginLockout},
	}
}

// subjectKind names the i-th of loginLimits: what a lock applies to.
func subjectKind(i int) string {
	if i == 0 {
		return "username"
	}
	return "address"
}

// reserveLogin reserves an attempt against every limit in one transaction,
// or none of them: a refusal gives back the places already taken. The
// first attempt a lock refuses is audited once for the whole lock period;
// the others are only counted.
func (s *Service) reserveLogin(ctx context.Context, username, address string, limits []storage.LoginLimit) error {
	var refused *LockedError
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		refused = nil
		for i, l := range limits {
			r, err := storage.ReserveLoginAttempt(ctx, tx, l)
			if err != nil {
				return err
			}
			if r.Admitted {
				continue
			}
			refused = &LockedError{Until: *r.LockedUntil}
			for _, taken := range limits[:i] {
				if _, _, err := storage.SettleLoginAttempt(ctx, tx, taken, storage.LoginAbandoned); err != nil {
					return err
				}
			}
			if !r.FirstRefusal {
				return nil
			}
			e := audit.Event{Action: "login.refused", Object: "user:unknown",
				Details: map[string]any{"address": address, "locked": subjectKind(i), "locked_until": r.LockedUntil.UTC()}}
			if u, err := storage.UserByUsername(ctx, tx, username); err == nil {
				e.Actor, e.ActorName, e.OrgID, e.Object = u.ID, u.Username, u.OrganizationID, "user:"+u.ID
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			return audit.Append(ctx, tx, e)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reserve login attempt: %w", err)
	}
	if refused != nil {
		return refused
	}
	return nil
}

// loginFailed settles a failed attempt against the username and the
// address and records it; it returns the error the caller shows.
func (s *Service) loginFailed(ctx context.Context, u storage.User, address string, limits []storage.LoginLimit) error {
	var locked *time.Time
	var lockedNow []string
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		locked = nil
		lockedNow = lockedNow[:0]
		for i, l := range limits {
			until, now, err := storage.SettleLoginAttempt(ctx, tx, l, storage.LoginFailed)
			if err != nil {
				return err
			}
			if until != nil {
				locked = until
			}
			if now {
				lockedNow = append(lockedNow, subjectKind(i))
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
	for _, kind := range lockedNow {
		metrics.ObserveLockout(kind)
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
		userID, sessionID, err := storage.DeleteSession(ctx, tx, secret)
		if err != nil || userID == "" {
			return err
		}
		u, err := storage.GetUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, event(Principal{User: u, SessionID: sessionID}, "logout", "user:"+u.ID, nil))
	})
}

// AuthenticateToken finds the principal of an API token: in the token
// cache when it is in use (StartTokenCache) and holds the token, else in
// the database.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (Principal, error) {
	key := sha256.Sum256([]byte(token))
	cache := s.tokens
	if p, ok := cache.get(key, s.now()); ok {
		return p, nil
	}
	generation, keep := cache.begin()
	p, expires, err := s.tokenPrincipal(ctx, token)
	if err == nil && keep {
		cache.put(key, generation, p, expires, s.now())
	}
	return p, err
}

// tokenPrincipal reads the principal of an API token and the token's
// expiry from the database.
func (s *Service) tokenPrincipal(ctx context.Context, token string) (Principal, *time.Time, error) {
	o, err := storage.UserByToken(ctx, s.DB.Pool, token)
	if errors.Is(err, storage.ErrNotFound) {
		return Principal{}, nil, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, nil, err
	}
	if o.User.DisabledAt != nil {
		return Principal{}, nil, ErrUnauthenticated
	}
	p := Principal{User: o.User, TokenID: o.Token.ID, Scopes: o.Token.Scopes}
	if o.Token.CreatedBy != o.User.ID {
		// Minted by someone else: the audit log names them too.
		p.MintedBy, p.MintedByName = o.Token.CreatedBy, o.Token.CreatedByName
	}
	return p, o.Token.ExpiresAt, nil
}

// AuthenticateSession finds the principal of a session cookie and extends
// its idle expiry.
func (s *Service) AuthenticateSession(ctx context.Context, secret string) (Principal, error) {
	u, sessionID, err := storage.SessionUser(ctx, s.DB.Pool, secret, SessionIdle, SessionMaxAge)
	if errors.Is(err, storage.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	if u.DisabledAt != nil {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{User: u, SessionID: sessionID}, nil
}
