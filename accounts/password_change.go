package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/metrics"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/storage"
)

// MaxPasswordLength bounds a password in bytes: the hash reads all of it,
// and nobody types more.
const MaxPasswordLength = 1024

// ErrWrongPassword refuses a password change whose current password is
// wrong. It counts against the login limits like a failed login, so the
// form is no way around them.
var ErrWrongPassword = errors.New("the current password is wrong")

var (
	rWrongPassword   = refusal.Name("wrong-password")
	rLongPassword    = refusal.Name("long-password")
	rSamePassword    = refusal.Name("same-password")
	rPasswordSelf    = refusal.Name("password-self")
	rControlPassword = refusal.Name("password-control")
)

// CheckNewPassword is the one place the rules of a new password live:
// at least MinPasswordLength characters, at most MaxPasswordLength bytes,
// no control characters (nobody types them; a NUL or a newline is a paste
// gone wrong, or a probe). The pages show the same rules (PasswordRules).
func CheckNewPassword(password string) error {
	if strings.ContainsFunc(password, unicode.IsControl) {
		return because(rControlPassword, invalid("password must not contain control characters"))
	}
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return because(rWeakPassword, invalid("%v", ErrWeakPassword), MinPasswordLength)
	}
	if len(password) > MaxPasswordLength {
		return because(rLongPassword, invalid("password must have at most %d bytes", MaxPasswordLength), MaxPasswordLength)
	}
	return nil
}

// PasswordRules are the numbers CheckNewPassword holds a new password to,
// for the pages that state them.
type PasswordRules struct{ MinLength, MaxBytes int }

// Rules returns the rules of a new password.
func Rules() PasswordRules {
	return PasswordRules{MinLength: MinPasswordLength, MaxBytes: MaxPasswordLength}
}

// ChangePassword replaces p's own password after checking the current one.
// The check is a login attempt of p's username from address: it takes a
// place among the password hashes and the login limits first (LockedError
// while locked), and a wrong password is counted and audited as a failed
// login, then answered ErrWrongPassword. On success the new password's
// hash replaces the old, every other session of p ends and the session p
// uses (if any) stays, with the audit entry, in one transaction. Neither
// password is logged or kept.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next, address string) error {
	if err := Authorize(p, PasswordChange, Target{OrgID: p.OrganizationID, UserID: p.ID}); err != nil {
		return err
	}
	if p.ID == "" {
		return fmt.Errorf("%w: only a person's own account changes its password", ErrForbidden)
	}
	if err := CheckNewPassword(next); err != nil {
		return err
	}
	if next == current {
		return because(rSamePassword, invalid("the new password is the current one"))
	}
	leave, err := s.hashSlots().Enter()
	if err != nil {
		return err
	}
	defer leave()
	limits := loginLimits(p.Username, address)
	if err := s.reserveLogin(ctx, p.Username, address, limits); err != nil {
		return err
	}
	settleCtx := context.WithoutCancel(ctx)
	abandon := func(err error) error { return s.abandonLogin(ctx, limits, err) }
	c, err := storage.UserByUsername(ctx, s.DB.Pool, p.Username)
	if err != nil {
		return abandon(fmt.Errorf("change password: %w", err))
	}
	ok := false
	var checkErr error
	var hash, hashErr = "", error(nil)
	err = s.hashSlots().Run(ctx, func() {
		if c.PasswordHash == "" {
			// An account that logs in only through the identity provider
			// has no current password to give: the same time, the same
			// answer as a wrong one.
			_, _ = CheckPassword(dummyHash(), current)
			return
		}
		if ok, checkErr = CheckPassword(c.PasswordHash, current); ok && checkErr == nil {
			hash, hashErr = HashPassword(next)
		}
	})
	if err != nil {
		return abandon(err)
	}
	if checkErr != nil {
		return abandon(fmt.Errorf("change password of %s: %w", p.Username, checkErr))
	}
	if !ok || c.DisabledAt != nil {
		err := s.loginFailed(settleCtx, c.User, address, limits)
		var locked *LockedError
		if errors.As(err, &locked) {
			return err
		}
		if errors.Is(err, ErrBadCredentials) {
			metrics.ObserveLogin(metrics.LoginFailure)
			return because(rWrongPassword, ErrWrongPassword)
		}
		return err
	}
	if hashErr != nil {
		return abandon(hashErr)
	}
	err = s.inTx(settleCtx, func(tx pgx.Tx) (audit.Event, error) {
		for _, l := range limits {
			if _, _, err := storage.SettleLoginAttempt(settleCtx, tx, l, storage.LoginSucceeded); err != nil {
				return audit.Event{}, err
			}
		}
		ended, err := storage.SetPasswordKeepingSession(settleCtx, tx, p.ID, hash, p.SessionID)
		e := event(p, "user.password.change", "user:"+p.ID, map[string]any{"address": address, "sessions_ended": ended})
		return e, err
	})
	if err != nil {
		return abandon(err)
	}
	return nil
}

// SetPassword gives userID a new password as an administrator of their
// organisation (or the superadmin) decides: every session of theirs ends,
// with the audit entry, in one transaction. One's own password is changed
// with ChangePassword, which asks for the current one.
func (s *Service) SetPassword(ctx context.Context, p Principal, userID, next string) (storage.User, error) {
	u, err := s.userFor(ctx, p, userID, UserCreate)
	if err != nil {
		return u, err
	}
	if err := Authorize(p, UserCreate, Target{OrgID: u.OrganizationID}); err != nil {
		return u, err
	}
	if u.ID == p.ID {
		return u, because(rPasswordSelf, fmt.Errorf("%w: change your own password with your current one (your account page)", ErrForbidden))
	}
	if err := CheckNewPassword(next); err != nil {
		return u, err
	}
	var hash, herr = "", error(nil)
	if err := s.hashSlots().Do(ctx, func() { hash, herr = HashPassword(next) }); err != nil {
		return u, err
	}
	if herr != nil {
		return u, invalid("%v", herr)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		ended, err := storage.SetPasswordKeepingSession(ctx, tx, u.ID, hash, "")
		e := event(p, "user.password.set", "user:"+u.ID, map[string]any{"username": u.Username, "sessions_ended": ended})
		e.OrgID = u.OrganizationID
		return e, err
	})
	return u, err
}
