package documents

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CommitFile readies a file from StoreFile for a row of another package
// (a certification's scan) written in tx: the blob is locked and checked to
// exist, and the upload's hold is released in tx, as a version's is.
func (s *Service) CommitFile(ctx context.Context, tx pgx.Tx, f StoredFile) error {
	return s.lockBlobForCommit(ctx, tx, f)
}
