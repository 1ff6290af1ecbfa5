package register

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
)

// OrganizationKey opens the organisation's seal key for another signature
// of the organisation than issuing's (the copy block of a copy, a certified
// copy's body signature), with the chain bound with it; the caller calls
// done when the signature is made. The refusals are issuing's:
// ErrNoSealKey.
func (s *Service) OrganizationKey(ctx context.Context, p accounts.Principal, orgID string, at time.Time) (key keys.Key, binding storage.KeyBinding, done func(), err error) {
	binding, err = s.sealBinding(ctx, orgID, at)
	if err != nil {
		return nil, binding, nil, err
	}
	opened, err := accounts.SigningKey(ctx, p, binding, s.Accounts.PIN, s.Accounts.Keystore, at)
	if err != nil {
		if errors.Is(err, accounts.ErrForbidden) || errors.Is(err, storage.ErrNotFound) {
			return nil, binding, nil, err
		}
		return nil, binding, nil, fmt.Errorf("%w: %v", ErrNoSealKey, err)
	}
	done = func() { keys.Close(opened) }
	if key, err = withBoundChain(opened, binding); err != nil {
		done()
		return nil, binding, nil, err
	}
	return key, binding, done, nil
}

// SigningLevel is the organisation's PAdES level, refused (ErrUnavailable)
// when the service cannot make it.
func (s *Service) SigningLevel(ctx context.Context, q storage.Querier, orgID string) (signing.Level, error) {
	return s.level(ctx, q, orgID)
}

// Series is the register a document of this type is numbered in (see
// series): for SY, TrS and SL the organisation's copies register, its
// confidential series for a document marked mật.
func (s *Service) Series(ctx context.Context, q storage.Querier, doc documents.Document, typ storage.DocumentTypeInfo, asked string) (storage.Register, error) {
	return s.series(ctx, q, doc, typ, asked)
}

// SigningError sorts a failure of the signing library as issuing does.
func SigningError(err error) error { return signingError(err) }
