package accounts

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/storage"
)

// SetRoles replaces the roles a user holds. An administrator of the user's
// organisation may, or the superadmin for any; the organisation keeps at
// least one enabled administrator (keepAnAdmin), so nobody removes the
// last way in to its directory. The user's sessions and tokens see the new roles on their
// next request: a session's reads the account afresh, a token's finds
// the token cache emptied (authChanged).
func (s *Service) SetRoles(ctx context.Context, p Principal, userID string, roles []string) (storage.User, error) {
	u, err := s.userFor(ctx, p, userID, UserCreate)
	if err != nil {
		return u, err
	}
	if err := Authorize(p, UserCreate, Target{OrgID: u.OrganizationID}); err != nil {
		return u, err
	}
	if u.OrganizationID == "" {
		return u, because(rSuperadminRoles, fmt.Errorf("%w: the system administrator holds no roles of an organisation", ErrForbidden))
	}
	want := []string{}
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if !slices.Contains(storage.AllRoles, r) {
			return u, invalidBecause(rUnknownRole, "unknown role %q: one of %s", r, refusal.List("role", storage.AllRoles...))
		}
		if !slices.Contains(want, r) {
			want = append(want, r)
		}
	}
	slices.Sort(want)
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		cur, err := keepAnAdmin(ctx, tx, u, func(storage.User) bool { return slices.Contains(want, storage.RoleAdmin) })
		if err != nil {
			return audit.Event{}, err
		}
		if err := storage.SetUserRoles(ctx, tx, u.ID, want); err != nil {
			return audit.Event{}, err
		}
		e := event(p, "user.roles", "user:"+u.ID, map[string]any{"username": cur.Username, "from": cur.Roles, "to": want})
		e.OrgID = u.OrganizationID
		return e, nil
	})
	if err != nil {
		return u, err
	}
	s.authChanged()
	return storage.GetUser(ctx, s.DB.Pool, u.ID)
}
