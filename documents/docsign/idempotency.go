package docsign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/storage"
)

// maxKeyLength bounds an Idempotency-Key as the chain's actions do.
const maxKeyLength = 200

// idempotency makes one signing request repeatable under a client's
// Idempotency-Key: the version it made is remembered in the transaction
// that made it, so a retry after a lost answer gets the same version and
// never a second signature or a "not your turn".
type idempotency struct {
	userID, documentID, key string
	hash                    []byte
}

// newIdempotency names a request by what it asks for; key "" means none.
func newIdempotency(p documents.Principal, documentID, kind, key string, request any) (*idempotency, error) {
	if key == "" {
		return nil, nil
	}
	if len(key) > maxKeyLength {
		return nil, invalid("Idempotency-Key is longer than %d characters", maxKeyLength)
	}
	body, err := json.Marshal(request)
	if err != nil {
		return nil, fmt.Errorf("idempotency: %w", err)
	}
	h := sha256.Sum256([]byte(kind + "\x00" + documentID + "\x00" + string(body)))
	return &idempotency{userID: p.ID, documentID: documentID, key: key, hash: h[:]}, nil
}

// replay answers with the version an earlier request under the key made;
// found is false when there was none.
func (k *idempotency) replay(ctx context.Context, q storage.Querier) (v documents.Version, found bool, err error) {
	if k == nil {
		return v, false, nil
	}
	rec, err := storage.GetChainActionKey(ctx, q, k.userID, k.key)
	if errors.Is(err, storage.ErrNotFound) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	if rec.DocumentID != k.documentID || !bytes.Equal(rec.RequestHash, k.hash) {
		return v, true, fmt.Errorf("%w: this Idempotency-Key was used for another request; send a new key", documents.ErrIdempotencyUsed)
	}
	return v, true, json.Unmarshal(rec.Response, &v)
}

// queue remembers v under the key in b, sent in the transaction that
// made it.
func (k *idempotency) queue(b *pgx.Batch, v documents.Version) error {
	if k == nil {
		return nil
	}
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	storage.QueueRecordChainActionKey(b, k.userID, k.key, storage.ChainActionKey{DocumentID: k.documentID, RequestHash: k.hash, Response: body})
	return nil
}

// run replays an earlier answer under the key, or makes the version with
// sign and, when a concurrent request with the same key won meanwhile,
// answers with that one's version.
func (k *idempotency) run(ctx context.Context, q storage.Querier, sign func() (documents.Version, error)) (documents.Version, error) {
	if v, found, err := k.replay(ctx, q); found || err != nil {
		return v, err
	}
	v, err := sign()
	if err != nil && k != nil {
		if v2, found, rerr := k.replay(ctx, q); found {
			return v2, rerr
		}
	}
	return v, err
}
