package accounts

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/storage"
)

// SetRoles replaces the roles a user holds. An administrator of the user's
// organisation may, or the superadmin for any; the organisation keeps at
// least one enabled administrator, so nobody removes the last way in to
// its directory. The user's sessions and tokens see the new roles on their
// next request, as each request reads the account afresh.
func (s *Service) SetRoles(ctx context.Context, p Principal, userID string, roles []string) (storage.User, error) {
	u, err := s.userFor(ctx, p, userID, UserCreate)
	if err != nil {
		return u, err
	}
	if err := Authorize(p, UserCreate, Target{OrgID: u.OrganizationID}); err != nil {
		return u, err
	}
	if u.OrganizationID == "" {
		return u, fmt.Errorf("%w: the system administrator holds no roles of an organisation", ErrForbidden)
	}
	want := []string{}
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if !slices.Contains(storage.AllRoles, r) {
			return u, invalid("unknown role %q: one of %s", r, strings.Join(storage.AllRoles, ", "))
		}
		if !slices.Contains(want, r) {
			want = append(want, r)
		}
	}
	slices.Sort(want)
	err = s.inTx(ctx, func(tx pgx.Tx) (audit.Event, error) {
		// Serialise role changes within the organisation, so two admins
		// removing each other's admin role cannot both succeed.
		if _, err := tx.Exec(ctx, "SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE", u.OrganizationID); err != nil {
			return audit.Event{}, fmt.Errorf("lock organisation: %w", err)
		}
		cur, err := storage.GetUser(ctx, tx, u.ID)
		if err != nil {
			return audit.Event{}, err
		}
		if slices.Contains(cur.Roles, storage.RoleAdmin) && !slices.Contains(want, storage.RoleAdmin) && cur.DisabledAt == nil {
			n, err := storage.CountEnabledAdmins(ctx, tx, u.OrganizationID)
			if err != nil {
				return audit.Event{}, err
			}
			if n <= 1 {
				return audit.Event{}, fmt.Errorf("%w: %s is the organisation's last administrator; make another administrator first", ErrForbidden, cur.Username)
			}
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
	return storage.GetUser(ctx, s.DB.Pool, u.ID)
}
