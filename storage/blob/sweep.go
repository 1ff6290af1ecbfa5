package blob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// IsReferenced reports whether some metadata row points at a key.
type IsReferenced func(ctx context.Context, key string) (bool, error)

// Sweep removes objects that no row references once they are older than
// grace (an upload whose row has not committed yet is younger than that), and
// what interrupted uploads left behind. Retained objects are never removed,
// nor objects an existing appended blob is built on (ErrInUse: a later
// sweep removes them once that blob is gone).
func Sweep(ctx context.Context, store Store, referenced IsReferenced, grace time.Duration) (int, error) {
	removed, err := store.SweepTemporary(ctx, grace)
	if err != nil {
		return removed, err
	}
	var orphans []string
	err = store.List(ctx, func(info Info) error {
		if time.Since(info.Modified) < grace {
			return nil
		}
		ok, err := referenced(ctx, info.Key)
		if err != nil {
			return err
		}
		if !ok {
			orphans = append(orphans, info.Key)
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("sweep: %w", err)
	}
	for _, key := range orphans {
		// Check again: a row may have committed while we were listing.
		if ok, err := referenced(ctx, key); err != nil || ok {
			continue
		}
		if err := store.Delete(ctx, key); err != nil {
			if errors.Is(err, ErrRetained) || errors.Is(err, ErrInUse) {
				continue
			}
			return removed, fmt.Errorf("sweep: %w", err)
		}
		removed++
	}
	return removed, nil
}

// RunSweeper sweeps once at start (what a crash left behind goes first) and
// then every interval until ctx ends. Failures are logged and retried at the
// next tick: a sweep only ever removes garbage, so missing one is harmless.
func RunSweeper(ctx context.Context, interval time.Duration, store Store, referenced IsReferenced, grace time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := Sweep(ctx, store, referenced, grace)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			slog.Warn("blob sweep failed", "err", err)
		case n > 0:
			slog.Info("blob sweep removed unreferenced objects and leftovers", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
