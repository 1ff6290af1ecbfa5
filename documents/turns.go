package documents

import (
	"context"

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
