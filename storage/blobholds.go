package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AbandonedHold is the age after which a hold counts as left by a killed
// process: a hold lasts from an upload's hash to its commit, minutes at
// most.
const AbandonedHold = time.Hour

// HoldBlob records, in its own committed transaction and under the blob
// lock, that a request is about to commit a version pointing at key; it
// returns the hold's id for ReleaseHold.
func (db *DB) HoldBlob(ctx context.Context, key string) (string, error) {
	var id string
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		if err := LockBlob(ctx, tx, key); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "INSERT INTO blob_holds (blob_key) VALUES ($1) RETURNING id", key).Scan(&id)
	})
	if err != nil {
		return "", fmt.Errorf("hold blob %s: %w", key, err)
	}
	return id, nil
}

// ReleaseHold drops a hold (an empty id is none), in the caller's
// transaction: the one that commits the version, or the one that decides
// whether the blob may go.
func ReleaseHold(ctx context.Context, tx pgx.Tx, id string) error {
	if id == "" {
		return nil
	}
	if _, err := tx.Exec(ctx, "DELETE FROM blob_holds WHERE id = $1", id); err != nil {
		return fmt.Errorf("release blob hold: %w", err)
	}
	return nil
}

// BlobHeld reports whether someone holds key, dropping the holds of key
// that were abandoned. Call it under the blob lock.
func BlobHeld(ctx context.Context, tx pgx.Tx, key string) (bool, error) {
	if _, err := tx.Exec(ctx, "DELETE FROM blob_holds WHERE blob_key = $1 AND created_at < now() - make_interval(secs => $2)", key, AbandonedHold.Seconds()); err != nil {
		return false, fmt.Errorf("drop abandoned blob holds: %w", err)
	}
	var held bool
	err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM blob_holds WHERE blob_key = $1)", key).Scan(&held)
	return held, err
}
