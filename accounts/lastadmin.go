package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/storage"
)

// ErrLastAdmin is the refusal of a change that would leave an organisation
// without an enabled administrator (HTTP 409): nobody could then manage its
// directory. The wrapping message names the user.
var ErrLastAdmin = errors.New("last administrator")

// enabledAdmin reports whether u administers its organisation now.
func enabledAdmin(u storage.User) bool {
	return u.DisabledAt == nil && slices.Contains(u.Roles, storage.RoleAdmin)
}

// keepAnAdmin is the one place of the rule "an organisation keeps at least
// one enabled administrator". Inside tx it locks the user's organisation's
// row, so that two changes in the same organisation (two administrators
// disabling or demoting each other, a role change beside a disabling) run
// one after the other and the second counts what the first left; then it
// reads the user afresh and refuses with ErrLastAdmin when the user is an
// enabled administrator, stillAdmin says the change ends that, and no other
// enabled administrator remains. It returns the user as read under the
// lock. Every path that takes an administrator away goes through it.
func keepAnAdmin(ctx context.Context, tx pgx.Tx, u storage.User, stillAdmin func(cur storage.User) bool) (storage.User, error) {
	if u.OrganizationID != "" {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE", u.OrganizationID); err != nil {
			return u, fmt.Errorf("lock organisation: %w", err)
		}
	}
	cur, err := storage.GetUser(ctx, tx, u.ID)
	if err != nil {
		return u, err
	}
	if cur.OrganizationID == "" || !enabledAdmin(cur) || stillAdmin(cur) {
		return cur, nil
	}
	n, err := storage.CountEnabledAdmins(ctx, tx, cur.OrganizationID)
	if err != nil {
		return cur, err
	}
	if n <= 1 {
		return cur, because(rLastAdmin, fmt.Errorf("%w: %s is the organisation's last enabled administrator; make another administrator first", ErrLastAdmin, cur.Username), cur.Username)
	}
	return cur, nil
}
