package chain

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/storage"
)

// BeginSign locks the document and its chain and returns p's signing
// turn: the chain awaits signatures, p holds an open turn of the current
// sign stage (or is its holder's valid delegate, or the deputy it was
// handed to), and nobody else is making a signature on it. The turn is
// reserved to p for SignReservation — no version may be added and no one
// else may begin meanwhile — so a prepared desk-token signature keeps it
// until it completes; calling BeginSign again renews it, so a signature
// interrupted (a crash, an abandoned session) can be begun again by the
// same signer at once, by anyone once the reservation lapses.
func (s *Service) BeginSign(ctx context.Context, tx pgx.Tx, p documents.Principal, documentID string) (documents.SignTurn, error) {
	if err := mayBeginSign(p); err != nil {
		return documents.SignTurn{}, err
	}
	// The document (only if p may see it), its chain and its latest
	// version are read under their locks in one round trip.
	var v storage.Version
	var noVersion error
	viewer := p.Viewer()
	st, err := storage.LockSignState(ctx, tx, documentID, &viewer, 0, &v, &noVersion)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return documents.SignTurn{}, documents.ErrNotFound
		}
		return documents.SignTurn{}, err
	}
	return s.grantSign(ctx, tx, p, st, v, noVersion, func(c storage.Chain) error { return storage.SaveChain(ctx, tx, c) })
}

// QueueSignTurn queues the chain's locked read into the batch that begins
// the signing transaction: begin then does what BeginSign does from it
// and from the document and latest version the batch read, the
// reservation queued. Until the commit, the document's lock holds others
// back; from it, the reservation does.
func (s *Service) QueueSignTurn(b *pgx.Batch, documentID string) documents.SignTurnRead {
	st := &storage.LockedChainState{}
	storage.QueueLockChain(b, documentID, st)
	return func(ctx context.Context, tx pgx.Tx, p documents.Principal, doc documents.Document, latest storage.Version, noLatest error, reserved *pgx.Batch) (documents.SignTurn, error) {
		if err := mayBeginSign(p); err != nil {
			return documents.SignTurn{}, err
		}
		st.Document = doc
		return s.grantSign(ctx, tx, p, *st, latest, noLatest, func(c storage.Chain) error {
			storage.QueueSaveChain(reserved, c)
			return nil
		})
	}
}

// mayBeginSign refuses a signature to anyone who may not change documents.
func mayBeginSign(p documents.Principal) error {
	return accounts.Authorize(p, accounts.DocumentChange, accounts.Target{OrgID: p.OrganizationID})
}

// grantSign is BeginSign from the chain's state st and the document's
// latest version v (noVersion: none), read under their locks; the
// reservation is saved by reserve.
func (s *Service) grantSign(ctx context.Context, tx pgx.Tx, p documents.Principal, st storage.LockedChainState, v storage.Version, noVersion error, reserve func(storage.Chain) error) (documents.SignTurn, error) {
	documentID := st.Document.ID
	r := s.locked(ctx, tx, st)
	t, err := r.signTurn(p)
	if err != nil {
		return documents.SignTurn{}, err
	}
	c := &r.chain
	if c.SigningBy != "" && c.SigningBy != p.ID && c.SigningUntil != nil && r.now.Before(*c.SigningUntil) {
		return documents.SignTurn{}, because(rSigningUntil, conflict("another signature is being made on this document until %s", display(*c.SigningUntil)), display(*c.SigningUntil))
	}
	if noVersion != nil {
		return documents.SignTurn{}, fmt.Errorf("document %s has no version", documentID)
	}
	if v.Number != c.Version || v.SHA256 != c.VersionSHA256 {
		return documents.SignTurn{}, because(rVersionNotApproved, conflict("version %d is not the version the chain approved (%d)", v.Number, c.Version), v.Number, c.Version)
	}
	until := r.now.Add(SignReservation)
	c.SigningBy, c.SigningUntil = p.ID, &until
	if err := reserve(*c); err != nil {
		return documents.SignTurn{}, err
	}
	turnOf := t.item.UserID
	if t.item.TurnOf != "" {
		turnOf = t.item.TurnOf
	}
	return documents.SignTurn{DocumentID: documentID, StageID: t.stage.ID, ItemID: t.item.ID, Version: v.Number, VersionSHA256: v.SHA256, TurnOf: turnOf,
		Begun: &begunSign{run: r, turn: t}}, nil
}

// begunSign is the chain as BeginSign read and reserved it, under locks
// its transaction holds until it ends: QueueFinishSign finishes the turn
// from it without reading again.
type begunSign struct {
	run  *run
	turn *turn
}

// signTurn finds p's turn at the current sign stage.
func (r *run) signTurn(p accounts.Principal) (*turn, error) {
	if !r.exists {
		return nil, because(rSignDraft, conflict("the document is a draft: it is signed at the end of its approval chain"))
	}
	switch r.chain.Status {
	case documents.StatusSigned, documents.StatusIssued, documents.StatusRecalled:
		// A second click on "Ký", or a page left open: every signature
		// is made, so "wait for the stages before signing" would mislead.
		return nil, because(rSignDone, conflict("the document is %s: every signature of its chain is made", r.chain.Status), refusal.T("status", r.chain.Status))
	}
	if r.chain.Status != documents.StatusApproved {
		return nil, because(rSignEarly, conflict("the document is %s: it is signed once every stage before signing has passed", r.chain.Status), refusal.T("status", r.chain.Status))
	}
	t, err := r.turnFor(p, func(it *storage.InboxItem, st *storage.ChainStage) bool {
		return st != nil && st.Kind == KindSign && st.State == "active" && it.Counts
	})
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, r.noTurn(p, "sign")
	}
	return t, nil
}

// FinishSign records that p signed turn t, making version newVersion
// (SHA-256 newSHA256) under authorityForm, ends the turn, releases the
// reservation and advances the chain: after the last signature the
// document is signed. The new version must already be in the transaction,
// signed, and be the next after the one the turn gave.
func (s *Service) FinishSign(ctx context.Context, tx pgx.Tx, p documents.Principal, t documents.SignTurn, newVersion int, newSHA256, authorityForm string) error {
	form, err := signForm(authorityForm)
	if err != nil {
		return err
	}
	// The chain is locked and read again with the new version, in one
	// round trip.
	var v storage.Version
	var noVersion error
	st, err := storage.LockSignState(ctx, tx, t.DocumentID, nil, newVersion, &v, &noVersion)
	if err != nil {
		return err
	}
	r := s.locked(ctx, tx, st)
	cur, err := r.signTurn(p)
	if err != nil {
		return err
	}
	if err := r.sameTurn(cur, t, newVersion); err != nil {
		return err
	}
	if noVersion != nil {
		return fmt.Errorf("signed version %d: %w", newVersion, noVersion)
	}
	if v.SHA256 != newSHA256 || !v.Signed {
		return fmt.Errorf("signed version %d (%s, signed %v) is not the next version after %d with SHA-256 %s", newVersion, v.SHA256, v.Signed, t.Version, newSHA256)
	}
	if err := r.finishSign(p, cur, t, newVersion, newSHA256, form); err != nil {
		return err
	}
	return r.finish()
}

// QueueFinishSign does what FinishSign does into b, from what BeginSign
// read and reserved in the same transaction (t.Begun), whose locks on the
// document and its chain are still held: nothing is read again. The new
// version's check is a statement of b (storage.QueueCheckSignedVersion),
// so b, and the commit sent with it, fail without it. When finishing
// needs a read (a stage's deadline from the calendar),
// ErrFinishNotQueued: FinishSign is called then. The announcement's
// publishing left for after b (events.Sent) is returned as after.
func (s *Service) QueueFinishSign(ctx context.Context, b *pgx.Batch, p documents.Principal, t documents.SignTurn, newVersion int, newSHA256, authorityForm string) (func(context.Context, pgx.Tx) error, error) {
	begun, ok := t.Begun.(*begunSign)
	if !ok || begun.run == nil {
		return nil, documents.ErrFinishNotQueued
	}
	form, err := signForm(authorityForm)
	if err != nil {
		return nil, err
	}
	// The run is used once; a later FinishSign reads the chain again.
	r, cur := begun.run, begun.turn
	begun.run = nil
	r.ctx, r.now, r.queueOnly = ctx, s.now(), true
	if err := r.sameTurn(cur, t, newVersion); err != nil {
		return nil, err
	}
	storage.QueueCheckSignedVersion(&r.writes, t.DocumentID, newVersion, newSHA256)
	if err := r.finishSign(p, cur, t, newVersion, newSHA256, form); err != nil {
		return nil, err
	}
	if err := r.save(); err != nil {
		return nil, err
	}
	sent, err := r.announce()
	if err != nil {
		return nil, err
	}
	for _, e := range r.events {
		if err := audit.Queue(&r.writes, e); err != nil {
			return nil, err
		}
	}
	b.QueuedQueries = append(b.QueuedQueries, r.writes.QueuedQueries...)
	if len(sent) == 0 {
		return nil, nil
	}
	return func(ctx context.Context, tx pgx.Tx) error { return published(ctx, tx, t.DocumentID, sent) }, nil
}

// signForm is the authority form a signature names ("" for the signer's
// own name), checked.
func signForm(authorityForm string) (string, error) {
	if authorityForm == "" {
		return "", nil
	}
	f, err := accounts.ParseForm(authorityForm)
	if err != nil {
		return "", invalid("%v", err)
	}
	return f, nil
}

// sameTurn refuses to finish turn t when cur, the turn as the chain now
// stands, is another, or the version it signs moved, or newVersion is not
// the next after it.
func (r *run) sameTurn(cur *turn, t documents.SignTurn, newVersion int) error {
	if cur.item.ID != t.ItemID || cur.stage.ID != t.StageID {
		return because(rTurnMoved, conflict("the signing turn moved since the signature began"))
	}
	if r.chain.Version != t.Version || r.chain.VersionSHA256 != t.VersionSHA256 {
		return because(rVersionMoved, conflict("the version to sign changed since the signature began"))
	}
	if newVersion != t.Version+1 {
		return fmt.Errorf("signed version %d is not the next version after %d", newVersion, t.Version)
	}
	return nil
}

// finishSign ends p's turn cur for the signed version newVersion, records
// the signature in the history, releases the reservation and advances
// the chain; the writes are queued in the run.
func (r *run) finishSign(p documents.Principal, cur *turn, t documents.SignTurn, newVersion int, newSHA256, form string) error {
	if err := r.endItem(cur.item, itemDone, "sign"); err != nil {
		return err
	}
	onBehalf := cur.onBehalfOf
	if onBehalf == "" && t.TurnOf != p.ID {
		onBehalf = t.TurnOf
	}
	c := &r.chain
	c.Version, c.VersionSHA256 = newVersion, newSHA256
	c.Signatures++
	c.SigningBy, c.SigningUntil = "", nil
	if err := r.record(p, storage.ChainAction{Action: "sign", OnBehalfOf: onBehalf, AuthorityForm: form, StageID: cur.stage.ID,
		StageName: cur.stage.Name, Version: newVersion, VersionSHA256: newSHA256}); err != nil {
		return err
	}
	r.events[len(r.events)-1].Details["signed_version"] = t.Version
	return r.advance()
}
