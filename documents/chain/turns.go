package chain

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
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
	if err := accounts.Authorize(p, accounts.DocumentChange, accounts.Target{OrgID: p.OrganizationID}); err != nil {
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
	if err := storage.SaveChain(ctx, tx, *c); err != nil {
		return documents.SignTurn{}, err
	}
	turnOf := t.item.UserID
	if t.item.TurnOf != "" {
		turnOf = t.item.TurnOf
	}
	return documents.SignTurn{DocumentID: documentID, StageID: t.stage.ID, ItemID: t.item.ID, Version: v.Number, VersionSHA256: v.SHA256, TurnOf: turnOf}, nil
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
	form := ""
	if authorityForm != "" {
		f, err := accounts.ParseForm(authorityForm)
		if err != nil {
			return invalid("%v", err)
		}
		form = f
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
	if cur.item.ID != t.ItemID || cur.stage.ID != t.StageID {
		return because(rTurnMoved, conflict("the signing turn moved since the signature began"))
	}
	if r.chain.Version != t.Version || r.chain.VersionSHA256 != t.VersionSHA256 {
		return because(rVersionMoved, conflict("the version to sign changed since the signature began"))
	}
	if noVersion != nil {
		return fmt.Errorf("signed version %d: %w", newVersion, noVersion)
	}
	if v.SHA256 != newSHA256 || !v.Signed || newVersion != t.Version+1 {
		return fmt.Errorf("signed version %d (%s, signed %v) is not the next version after %d with SHA-256 %s", newVersion, v.SHA256, v.Signed, t.Version, newSHA256)
	}
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
	if err := r.advance(); err != nil {
		return err
	}
	return r.finish()
}
