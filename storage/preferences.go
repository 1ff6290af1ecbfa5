package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// UserLanguage returns the language a user chose for the pages, "" when
// they never chose one.
func UserLanguage(ctx context.Context, q Querier, userID string) (string, error) {
	if !isUUID(userID) {
		return "", ErrNotFound
	}
	var lang *string
	err := q.QueryRow(ctx, "SELECT language FROM users WHERE id = $1", userID).Scan(&lang)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read language of user %s: %w", userID, err)
	}
	if lang == nil {
		return "", nil
	}
	return *lang, nil
}

// SetUserLanguage records a user's language for the pages.
func SetUserLanguage(ctx context.Context, q Querier, userID, lang string) error {
	tag, err := q.Exec(ctx, "UPDATE users SET language = $2 WHERE id = $1", userID, lang)
	if err != nil {
		return fmt.Errorf("set language of user %s: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
