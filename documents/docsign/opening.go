package docsign

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/storage"
)

// opening is what a signature's transaction reads in the round trip that
// begins it, before anything is decided: the document, locked and only if
// the signer may see it; what is under its lock (its latest version, the
// two-step session being completed, and the chain's state its signing
// turn is granted from); and what the signature is made with (the signer's keys, delegations and signature image, the
// organisation and its level). Each answer is kept with its error, so the
// refusals come in the order they always have.
type opening struct {
	doc         documents.Document
	docErr      error
	session     storage.SignSession
	sessionErr  error
	latest      documents.Version
	latestErr   error
	bindings    []storage.KeyBinding
	delegations []storage.Delegation
	image       storage.SignatureImage
	imageErr    error
	org         storage.Organization
	orgLevel    string
	orgErr      error
	// turn is the chain's signing turn from what it read in the same
	// round trip (documents.QueuedSigningTurns; nil: the chain reads it
	// itself in BeginSign).
	turn documents.SignTurnRead
	// begun is the transaction's time: the creation time of the version
	// it inserts (the column's default), known before the insert is sent.
	begun time.Time
}

// open begins the signature's transaction with its questions (sessionID
// "": none to complete) and refuses anyone who may not change the
// document or is not a signer, as changeable. On success the caller owns
// tx.
func (s *Service) open(ctx context.Context, p documents.Principal, documentID, sessionID string) (pgx.Tx, *opening, error) {
	if err := documents.MayRead(p); err != nil {
		return nil, nil, err
	}
	o := &opening{}
	tx, err := storage.BeginBatch(ctx, s.DB.Pool, func(b *pgx.Batch) {
		storage.QueueLockVisibleDocument(b, documentID, p.Viewer(), &o.doc, &o.docErr)
		if sessionID != "" {
			storage.QueueLockSignSession(b, sessionID, &o.session, &o.sessionErr)
		}
		storage.QueueVersion(b, documentID, 0, &o.latest, &o.latestErr)
		if q, ok := s.Turns.(documents.QueuedSigningTurns); ok {
			o.turn = q.QueueSignTurn(b, documentID)
		}
		storage.QueueKeyBindings(b, p.ID, "", &o.bindings)
		storage.QueueDelegationsTo(b, p.ID, &o.delegations)
		storage.QueueSignatureImage(b, p.ID, decodedImages.heldFor(p.ID), &o.image, &o.imageErr)
		storage.QueueDocumentOrganization(b, documentID, &o.org, &o.orgLevel, &o.orgErr)
		storage.QueueTransactionTime(b, &o.begun)
	})
	if err != nil {
		return nil, nil, err
	}
	if err := s.changeable(p, documentID, o); err != nil {
		tx.Rollback(ctx)
		return nil, nil, err
	}
	return tx, o, nil
}

// inTx runs fn in the transaction open begins and commits it with the
// writes fn returns (nil: none), in one round trip (storage.CommitBatch);
// an error from fn rolls it back.
func (s *Service) inTx(ctx context.Context, p documents.Principal, documentID, sessionID string, fn func(tx pgx.Tx, o *opening) (*pgx.Batch, error)) error {
	tx, o, err := s.open(ctx, p, documentID, sessionID)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) // after the commit, nothing to do
	writes, err := fn(tx, o)
	if err != nil {
		return err
	}
	if writes == nil {
		writes = &pgx.Batch{}
	}
	return storage.CommitBatch(ctx, tx, writes)
}

// changeable refuses, as documents.Service.Changeable does, a document p
// may not see (ErrNotFound) or change, and then anyone who is not a
// signer, before anything else is looked at.
func (s *Service) changeable(p documents.Principal, documentID string, o *opening) error {
	if errors.Is(o.docErr, storage.ErrNotFound) {
		return documents.ErrNotFound
	}
	if o.docErr != nil {
		return fmt.Errorf("document %s: %w", documentID, o.docErr)
	}
	if err := documents.MayChange(p, o.doc); err != nil {
		return err
	}
	if !p.Has(storage.RoleSigner) {
		return fmt.Errorf("%w: only signers sign documents", accounts.ErrForbidden)
	}
	if s.Turns == nil {
		return refuse(ErrNoChain, "the service has no approval chain to give signing turns")
	}
	return nil
}

// usable lists the keys of all that are usable at at, of the kinds
// given, newest first.
func usable(all []storage.KeyBinding, at time.Time, kinds ...string) []storage.KeyBinding {
	var out []storage.KeyBinding
	for _, b := range all {
		if b.RevokedAt == nil && !at.Before(b.NotBefore) && at.Before(b.NotAfter) && slices.Contains(kinds, b.Kind) {
			out = append(out, b)
		}
	}
	return out
}

// version is the version of the turn: the latest, read under the
// document's lock with the transaction's begin, which the turn names
// unless the chain gave another (then it is read).
func (o *opening) version(ctx context.Context, tx pgx.Tx, documentID string, n int) (documents.Version, error) {
	if o.latestErr == nil && o.latest.Number == n {
		return o.latest, nil
	}
	return storage.GetVersion(ctx, tx, documentID, n)
}

// binding is the signer's key binding id, as read with their keys (any
// other is read, for its refusal to say why).
func (o *opening) binding(ctx context.Context, tx pgx.Tx, id string) (storage.KeyBinding, error) {
	for _, b := range o.bindings {
		if b.ID == id {
			return b, nil
		}
	}
	return storage.GetKeyBinding(ctx, tx, id)
}
