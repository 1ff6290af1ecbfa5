package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreateSession stores the hash of a browser session's cookie value and
// returns the session's identifier (what the audit log names it by; the
// cookie value is never stored).
func CreateSession(ctx context.Context, q Querier, userID, secret string, expires time.Time) (string, error) {
	sum := sha256.Sum256([]byte(secret))
	var id string
	err := q.QueryRow(ctx, "INSERT INTO sessions (id_hash, user_id, expires_at) VALUES ($1, $2, $3) RETURNING id",
		sum[:], userID, expires).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return id, nil
}

// SessionUser finds the user of a live session and the session's
// identifier, sliding its idle expiry forward to now+idle but never past
// maxAge from its creation.
func SessionUser(ctx context.Context, q Querier, secret string, idle, maxAge time.Duration) (User, string, error) {
	sum := sha256.Sum256([]byte(secret))
	var userID, sessionID string
	err := q.QueryRow(ctx, `
		UPDATE sessions SET last_seen_at = now(),
			expires_at = least(now() + make_interval(secs => $2), created_at + make_interval(secs => $3))
		WHERE id_hash = $1 AND expires_at > now()
		RETURNING user_id, id`, sum[:], idle.Seconds(), maxAge.Seconds()).Scan(&userID, &sessionID)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, "", ErrNotFound
	}
	if err != nil {
		return User{}, "", fmt.Errorf("session: %w", err)
	}
	u, err := GetUser(ctx, q, userID)
	return u, sessionID, err
}

// DeleteSession ends a session and returns its user and identifier;
// ending an unknown one is not an error (both are "").
func DeleteSession(ctx context.Context, q Querier, secret string) (userID, sessionID string, err error) {
	sum := sha256.Sum256([]byte(secret))
	err = q.QueryRow(ctx, "DELETE FROM sessions WHERE id_hash = $1 RETURNING user_id, id", sum[:]).Scan(&userID, &sessionID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", nil
	}
	return userID, sessionID, err
}

// DeleteUserSessions ends every session of a user (password change, disabling).
func DeleteUserSessions(ctx context.Context, q Querier, userID string) error {
	_, err := q.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", userID)
	return err
}

// LoginLimit is how many attempts a throttling subject (a username or a
// client address) may have failed or in flight within Window before it is
// locked for Lockout.
type LoginLimit struct {
	Subject string
	Max     int
	Window  time.Duration
	Lockout time.Duration
}

// Reservation is the outcome of ReserveLoginAttempt for one subject.
type Reservation struct {
	// Admitted: the attempt holds one of the subject's Max places and may
	// check its password; it must be settled by SettleLoginAttempt.
	Admitted bool
	// LockedUntil is set when the subject is locked: the attempt is refused.
	LockedUntil *time.Time
	// FirstRefusal is set on the first attempt the current lock refuses,
	// the one the audit log records for the whole lock period.
	FirstRefusal bool
}

// ReserveLoginAttempt takes a place for one login attempt of l.Subject
// before its password is hashed. Failures and attempts in flight count
// alike, so N concurrent attempts check at most l.Max passwords; a locked
// subject admits none. The row is locked for the rest of tx, so reserve
// the subjects of one attempt in the same order every time.
func ReserveLoginAttempt(ctx context.Context, tx pgx.Tx, l LoginLimit) (Reservation, error) {
	var r Reservation
	if _, err := tx.Exec(ctx, "INSERT INTO login_throttle (subject) VALUES ($1) ON CONFLICT (subject) DO NOTHING", l.Subject); err != nil {
		return r, fmt.Errorf("reserve login attempt: %w", err)
	}
	var failures, pending, refused int
	var windowStart, now time.Time
	var lockedUntil *time.Time
	err := tx.QueryRow(ctx, `SELECT failures, pending, refused, window_start, locked_until, now() FROM login_throttle
		WHERE subject = $1 FOR UPDATE`, l.Subject).Scan(&failures, &pending, &refused, &windowStart, &lockedUntil, &now)
	if err != nil {
		return r, fmt.Errorf("reserve login attempt: %w", err)
	}
	switch {
	case lockedUntil != nil && lockedUntil.After(now):
		r.LockedUntil, r.FirstRefusal = lockedUntil, refused == 0
		refused++
	case windowStart.Before(now.Add(-l.Window)):
		// A new window: what is older than it no longer counts, nor do
		// reservations an ended process never settled.
		failures, pending, refused, windowStart, lockedUntil = 0, 1, 0, now, nil
		r.Admitted = true
	case failures+pending >= l.Max:
		// Every place is taken by failures and attempts still checking:
		// refused like a lock until one of them settles.
		until := now.Add(time.Second)
		r.LockedUntil = &until
		return r, nil
	default:
		pending++
		r.Admitted = true
	}
	_, err = tx.Exec(ctx, `UPDATE login_throttle SET failures = $2, pending = $3, refused = $4, window_start = $5, locked_until = $6
		WHERE subject = $1`, l.Subject, failures, pending, refused, windowStart, lockedUntil)
	if err != nil {
		return r, fmt.Errorf("reserve login attempt: %w", err)
	}
	return r, nil
}

// LoginOutcome is how an admitted login attempt ended.
type LoginOutcome int

const (
	LoginFailed    LoginOutcome = iota // the password was checked and wrong
	LoginSucceeded                     // the password was right
	LoginAbandoned                     // no password was checked (the service was busy, or failed)
)

// SettleLoginAttempt ends an admitted attempt of l.Subject in tx: a
// failure is counted and locks the subject once l.Max accumulate; a success
// forgets the failures, but never a lock (the attempts that caused it were
// made meanwhile) nor the other attempts still in flight. It returns until
// when the subject is locked, and whether this failure locked it.
func SettleLoginAttempt(ctx context.Context, tx pgx.Tx, l LoginLimit, outcome LoginOutcome) (until *time.Time, lockedNow bool, err error) {
	var failures, pending int
	var now time.Time
	err = tx.QueryRow(ctx, "SELECT failures, pending, locked_until, now() FROM login_throttle WHERE subject = $1 FOR UPDATE",
		l.Subject).Scan(&failures, &pending, &until, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("settle login attempt: %w", err)
	}
	locked := until != nil && until.After(now)
	pending = max(pending-1, 0)
	refusedReset := ""
	switch {
	case outcome == LoginAbandoned:
		// No password was checked: only the place is given back.
	case outcome == LoginFailed && !locked && failures+1 >= l.Max:
		// Locked from now: the count starts again when the lock ends.
		t := now.Add(l.Lockout)
		until, failures, lockedNow = &t, 0, true
		refusedReset = ", refused = 0, window_start = $5"
	case outcome == LoginFailed:
		failures++
	case !locked:
		failures = 0
	}
	args := []any{l.Subject, failures, pending, until}
	if refusedReset != "" {
		args = append(args, now)
	}
	if _, err := tx.Exec(ctx, "UPDATE login_throttle SET failures = $2, pending = $3, locked_until = $4"+refusedReset+" WHERE subject = $1", args...); err != nil {
		return nil, false, fmt.Errorf("settle login attempt: %w", err)
	}
	if until != nil && !until.After(now) {
		until = nil
	}
	return until, lockedNow, nil
}
