package reception_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/storage"
)

// The số đến preview is what the next registration takes, read and never
// reserved: 1 before anything is registered, 2 after; only the
// organisation's clerks see it.
func TestPreviewNumber(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	first := w.upload(reception.Upload{From: "Sở Xây dựng", Number: "3", Symbol: "SXD-VP", Type: "CV", Subject: "Về việc cấp phép"}, "preview one")
	for _, want := range []int{1, 1} { // reading twice takes nothing
		got, err := w.svc.PreviewNumber(ctx, w.clerk)
		if err != nil {
			t.Fatal(err)
		}
		if got.Number != want || got.Register.Kind != storage.RegisterIncoming || !got.Register.Default {
			t.Fatalf("preview %+v, want số đến %d of the default incoming register", got, want)
		}
	}
	reg, err := w.svc.Register(ctx, w.clerk, first.ID, reception.RegisterRequest{})
	if err != nil || reg.ArrivalNumber != 1 {
		t.Fatalf("registered %+v (%v), want số đến 1", reg, err)
	}
	if got, err := w.svc.PreviewNumber(ctx, w.clerk); err != nil || got.Number != 2 || got.Register.ID != reg.RegisterID {
		t.Fatalf("after registering: %+v (%v), want số đến 2 of the same register", got, err)
	}
	for _, tc := range []struct {
		name string
		p    accounts.Principal
	}{{"a drafter", w.drafter}, {"no organisation", accounts.Principal{}}} {
		if _, err := w.svc.PreviewNumber(ctx, tc.p); !errors.Is(err, accounts.ErrForbidden) && !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s previews: %v, want refused", tc.name, err)
		}
	}
}
