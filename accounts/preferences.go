package accounts

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/storage"
)

// Languages are the languages of the pages, the default first.
var Languages = []string{"vi", "en"}

// Language returns the language p chose for the pages, "" when they never
// chose one (or p is no stored user, such as the operator).
func (s *Service) Language(ctx context.Context, p Principal) (string, error) {
	if p.ID == "" {
		return "", nil
	}
	return storage.UserLanguage(ctx, s.DB.Pool, p.ID)
}

// SetLanguage records the language p chose for the pages. A preference is
// one's own: nobody sets another's, so no action needs authorizing beyond
// being signed in with an account that is not disabled.
func (s *Service) SetLanguage(ctx context.Context, p Principal, lang string) error {
	if !slices.Contains(Languages, lang) {
		return invalidBecause(rUnknownLanguage, "language must be one of %v", refusal.List("language", Languages...))
	}
	if p.ID == "" || p.DisabledAt != nil {
		return fmt.Errorf("%w: only a signed-in user sets their language", ErrForbidden)
	}
	return s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		if err := storage.SetUserLanguage(ctx, tx, p.ID, lang); err != nil {
			return audit.Event{}, err
		}
		return event(p, "user.language", "user:"+p.ID, map[string]any{"language": lang}), nil
	})
}
