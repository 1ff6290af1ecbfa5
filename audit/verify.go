package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/storage"
)

// Break describes the first place the chain does not hold.
type Break struct {
	Seq    int64  `json:"seq"`
	Action string `json:"action,omitempty"`
	Reason string `json:"reason"`
}

func (b *Break) Error() string {
	if b.Action != "" {
		return fmt.Sprintf("audit entry %d (%s): %s", b.Seq, b.Action, b.Reason)
	}
	return fmt.Sprintf("audit entry %d: %s", b.Seq, b.Reason)
}

// Result is what Verify found.
type Result struct {
	Entries int64  `json:"entries"`
	Head    []byte `json:"head,omitempty"`
	Break   *Break `json:"break,omitempty"`
}

const entryColumns = `seq, at, coalesce(actor::text, ''), actor_name, coalesce(organization_id::text, ''), action, object,
	details::text, prev_hash, hash`

func scanEntry(row pgx.Row) (Entry, error) {
	var en Entry
	var details string
	err := row.Scan(&en.Seq, &en.At, &en.Actor, &en.ActorName, &en.OrgID, &en.Action, &en.Object, &details, &en.PrevHash, &en.Hash)
	en.Details = json.RawMessage(details)
	return en, err
}

// scan reads every entry after since in seq order and calls fn for each.
func scan(ctx context.Context, q storage.Querier, since int64, fn func(Entry) error) error {
	rows, err := q.Query(ctx, "SELECT "+entryColumns+" FROM audit_log WHERE seq > $1 ORDER BY seq", since)
	if err != nil {
		return fmt.Errorf("audit: read: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		en, err := scanEntry(rows)
		if err != nil {
			return fmt.Errorf("audit: read: %w", err)
		}
		if err := fn(en); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Verify walks the chain from the first entry and reports the first entry
// that was edited (its hash no longer matches its content), deleted or
// reordered (a gap in seq, or a previous-hash that is not its
// predecessor's). Anchors are checked by VerifyAnchors.
func Verify(ctx context.Context, q storage.Querier) (Result, error) {
	var r Result
	prev := make([]byte, sha256.Size)
	want := int64(1)
	err := scan(ctx, q, 0, func(en Entry) error {
		switch {
		case en.Seq != want:
			r.Break = &Break{Seq: want, Reason: fmt.Sprintf("missing: the next entry is %d (deleted or renumbered)", en.Seq)}
		case !bytes.Equal(en.PrevHash, prev):
			r.Break = &Break{Seq: en.Seq, Action: en.Action, Reason: "does not follow its predecessor (reordered, or the one before was deleted or replaced)"}
		case !bytes.Equal(en.computeHash(), en.Hash):
			r.Break = &Break{Seq: en.Seq, Action: en.Action, Reason: "content does not match its hash (edited)"}
		}
		if r.Break != nil {
			return errStop
		}
		prev, want = en.Hash, want+1
		r.Entries++
		return nil
	})
	if err != nil && err != errStop {
		return r, err
	}
	if r.Break == nil && r.Entries > 0 {
		r.Head = prev
	}
	return r, nil
}

var errStop = fmt.Errorf("stop")

// Export writes the entries after seq since as JSON lines.
func Export(ctx context.Context, q storage.Querier, since int64, w io.Writer) (int64, error) {
	enc := json.NewEncoder(w)
	var n int64
	err := scan(ctx, q, since, func(en Entry) error {
		n++
		return enc.Encode(en)
	})
	return n, err
}

// Entries returns up to limit entries of an organisation after seq, for the
// auditors' view.
func Entries(ctx context.Context, q storage.Querier, orgID string, after int64, limit int) ([]Entry, error) {
	rows, err := q.Query(ctx, "SELECT "+entryColumns+` FROM audit_log
		WHERE ($1 = '' OR organization_id::text = $1) AND seq > $2 ORDER BY seq LIMIT $3`, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: read: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) { return scanEntry(row) })
}
