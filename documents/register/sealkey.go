package register

import (
	"context"
	"time"

	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
)

// SealBinding is the organisation's newest seal key the service can use at
// at, or ErrNoSealKey: the same choice issuing makes, for the other places
// the organisation signs (certified copies).
func (s *Service) SealBinding(ctx context.Context, orgID string, at time.Time) (storage.KeyBinding, error) {
	return s.sealBinding(ctx, orgID, at)
}

// WithBoundChain gives k the certificate chain bound with it, so that a
// token holding the certificate alone still signs verifiably.
func WithBoundChain(k keys.Key, b storage.KeyBinding) (keys.Key, error) { return withBoundChain(k, b) }

// Level is the organisation's PAdES level, refused (ErrUnavailable) when
// the service cannot make it.
func (s *Service) Level(ctx context.Context, q storage.Querier, orgID string) (signing.Level, error) {
	return s.level(ctx, q, orgID)
}
