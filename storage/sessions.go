package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreateSession stores the hash of a browser session's cookie value.
func CreateSession(ctx context.Context, q Querier, userID, secret string, expires time.Time) error {
	sum := sha256.Sum256([]byte(secret))
	_, err := q.Exec(ctx, "INSERT INTO sessions (id_hash, user_id, expires_at) VALUES ($1, $2, $3)", sum[:], userID, expires)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionUser finds the user of a live session, sliding its idle expiry
// forward to now+idle but never past maxAge from its creation.
func SessionUser(ctx context.Context, q Querier, secret string, idle, maxAge time.Duration) (User, error) {
	sum := sha256.Sum256([]byte(secret))
	var userID string
	err := q.QueryRow(ctx, `
		UPDATE sessions SET last_seen_at = now(),
			expires_at = least(now() + make_interval(secs => $2), created_at + make_interval(secs => $3))
		WHERE id_hash = $1 AND expires_at > now()
		RETURNING user_id`, sum[:], idle.Seconds(), maxAge.Seconds()).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("session: %w", err)
	}
	return GetUser(ctx, q, userID)
}

// DeleteSession ends a session; ending an unknown one is not an error.
func DeleteSession(ctx context.Context, q Querier, secret string) (userID string, err error) {
	sum := sha256.Sum256([]byte(secret))
	err = q.QueryRow(ctx, "DELETE FROM sessions WHERE id_hash = $1 RETURNING user_id", sum[:]).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return userID, err
}

// DeleteUserSessions ends every session of a user (password change, disabling).
func DeleteUserSessions(ctx context.Context, q Querier, userID string) error {
	_, err := q.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", userID)
	return err
}

// ThrottleState is the failed-login count of one subject.
type ThrottleState struct {
	Failures    int
	LockedUntil *time.Time
}

// LoginLocked reports until when a subject is locked out, if it is.
func LoginLocked(ctx context.Context, q Querier, subject string) (*time.Time, error) {
	var until *time.Time
	err := q.QueryRow(ctx, "SELECT locked_until FROM login_throttle WHERE subject = $1 AND locked_until > now()", subject).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return until, err
}

// RecordLoginFailure counts a failure within window and locks the subject
// for lockout once max failures accumulate; it returns the new state.
func RecordLoginFailure(ctx context.Context, q Querier, subject string, window time.Duration, max int, lockout time.Duration) (ThrottleState, error) {
	var s ThrottleState
	err := q.QueryRow(ctx, `
		INSERT INTO login_throttle AS t (subject, failures, window_start) VALUES ($1, 1, now())
		ON CONFLICT (subject) DO UPDATE SET
			failures = CASE WHEN t.window_start < now() - make_interval(secs => $2) THEN 1 ELSE t.failures + 1 END,
			window_start = CASE WHEN t.window_start < now() - make_interval(secs => $2) THEN now() ELSE t.window_start END
		RETURNING failures`, subject, window.Seconds()).Scan(&s.Failures)
	if err != nil {
		return s, fmt.Errorf("record login failure: %w", err)
	}
	if s.Failures >= max {
		err = q.QueryRow(ctx, `
			UPDATE login_throttle SET locked_until = now() + make_interval(secs => $2), failures = 0, window_start = now()
			WHERE subject = $1 RETURNING locked_until`, subject, lockout.Seconds()).Scan(&s.LockedUntil)
		if err != nil {
			return s, fmt.Errorf("record login failure: %w", err)
		}
	}
	return s, nil
}

// ClearLoginFailures forgets a subject's failures after a successful login.
func ClearLoginFailures(ctx context.Context, q Querier, subject string) error {
	_, err := q.Exec(ctx, "DELETE FROM login_throttle WHERE subject = $1", subject)
	return err
}
