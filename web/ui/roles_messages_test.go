package ui_test

import (
	"testing"

	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web/ui"
)

// TestEveryRoleHasItsName: the roles page lists storage.AllRoles by their
// messages; a role without one showed its key ("role.desk").
func TestEveryRoleHasItsName(t *testing.T) {
	for _, r := range storage.AllRoles {
		if vi, en := ui.Messages("role." + r); vi == "" || en == "" {
			t.Errorf("role %q: Vietnamese %q, English %q", r, vi, en)
		}
	}
}
