package documents

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// SignTurn is a signer's turn in a document's approval chain, as the chain
// grants it to the signing step: which version is to be signed (by its
// SHA-256, so a signature binds to the bytes the approvers saw) and on whose
// behalf.
type SignTurn struct {
	DocumentID string
	// StageID and ItemID name the chain stage and the participant's item
	// the signature completes.
	StageID string
	ItemID  string
	// Version is the number of the version to be signed and VersionSHA256
	// the hex SHA-256 of its bytes.
	Version       int
	VersionSHA256 string
	// TurnOf is the user whose turn it is; it differs from the signer when a
	// deputy (KT.) or another delegate signs in their place.
	TurnOf string
	// Begun is what the chain read and reserved under its locks when the
	// turn began, for QueueFinishSign in the same transaction; opaque to
	// the signing step (nil: nothing kept).
	Begun any
}

// SigningTurns is what the signing step needs from the approval chain. The
// chain owns whose turn it is; signing owns the bytes. Both calls run in the
// caller's transaction, so the signed version, the chain's advance and their
// audit entries commit together or not at all.
type SigningTurns interface {
	// BeginSign locks the document's chain and returns p's signing turn, or
	// an error saying why p may not sign it now.
	BeginSign(ctx context.Context, tx pgx.Tx, p Principal, documentID string) (SignTurn, error)
	// FinishSign records that p signed turn t, producing version
	// newVersion with SHA-256 newSHA256 under authorityForm ("" for the
	// signer's own name, else TM., KT., Q., TL. or TUQ.), and advances the
	// chain (the document becomes signed after its last signature).
	FinishSign(ctx context.Context, tx pgx.Tx, p Principal, t SignTurn, newVersion int, newSHA256, authorityForm string) error
}

// ErrFinishNotQueued is QueueFinishSign's answer when finishing the turn
// needs the chain to read again (a stage to activate with a deadline):
// FinishSign must then be called once the new version is sent. Nothing
// was queued.
var ErrFinishNotQueued = errors.New("the signing turn's finish cannot be queued")

// QueuedSigningTurns is a chain whose BeginSign's read and writes and
// FinishSign can also be queued into the caller's batches. The turn's
// read goes with the batch that begins the signing transaction, after
// the document's lock and its latest version's read, which it shares; the
// turn's reservation is queued for the caller to commit or leave unsent
// (SignTurnRead). FinishSign is queued after
// the new version's insert and before the COMMIT: the turn is finished
// from what its begin read under the locks the transaction still holds,
// and its checks of the new version are statements that fail the batch
// (and so the commit). Beginning and finishing the turn cost no round
// trip of their own.
type QueuedSigningTurns interface {
	SigningTurns
	// QueueSignTurn queues into b, the batch that begins the signing
	// transaction, right after the document's lock
	// (storage.QueueLockVisibleDocument) and the read of its latest
	// version, what the chain reads under its own locks. Once b was sent,
	// and only if the document was read, begin answers as BeginSign does.
	QueueSignTurn(b *pgx.Batch, documentID string) (begin SignTurnRead)
	// QueueFinishSign queues into b what FinishSign checks and writes, or
	// returns ErrFinishNotQueued (b untouched) or FinishSign's refusal.
	// What is left once b was sent (an announcement's publishing) is
	// returned as after, for the caller to run in the transaction before
	// it commits: b then cannot carry the COMMIT (nil: nothing is left).
	QueueFinishSign(ctx context.Context, b *pgx.Batch, p Principal, t SignTurn, newVersion int, newSHA256, authorityForm string) (after func(context.Context, pgx.Tx) error, err error)
}

// SignTurnRead is p's signing turn from what QueueSignTurn's statements
// read, with doc and the document's latest version as the same batch read
// them (noLatest: it has none). The turn's reservation is queued into
// reserved, for the caller to commit when the turn must be held past the
// transaction (a prepared signature waiting for the signer's device); a
// signature finished in the same transaction need not send it, as the
// finish writes the chain.
type SignTurnRead func(ctx context.Context, tx pgx.Tx, p Principal, doc Document, latest Version, noLatest error, reserved *pgx.Batch) (SignTurn, error)
