package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/storage"
)

// Break describes the first place the chain does not hold.
type Break struct {
	Seq    int64  `json:"seq"`
	Action string `json:"action,omitempty"`
	Reason string `json:"reason"`
	// Anchor is set when the fault is in the TSA timestamp stored for
	// entry Seq, not in the entry itself.
	Anchor bool `json:"anchor,omitempty"`
}

func (b *Break) Error() string {
	what := "audit entry"
	if b.Anchor {
		what = "audit anchor of entry"
	}
	if b.Action != "" {
		return fmt.Sprintf("%s %d (%s): %s", what, b.Seq, b.Action, b.Reason)
	}
	return fmt.Sprintf("%s %d: %s", what, b.Seq, b.Reason)
}

// Result is what Verify found.
type Result struct {
	Entries int64  `json:"entries"` // entries checked before any break
	Head    []byte `json:"head,omitempty"`
	// Anchors is the number of TSA timestamps of the head checked; the
	// latest covers the log up to entry Anchored, timestamped at AnchoredAt.
	// Entries after it are protected by the chain only: deleting them
	// shows at the next anchor.
	Anchors    int       `json:"anchors"`
	Anchored   int64     `json:"anchored,omitempty"`
	AnchoredAt time.Time `json:"anchored_at,omitzero"`
	// TSAs names the certificates that signed the anchors.
	TSAs  []string `json:"tsas,omitempty"`
	Break *Break   `json:"break,omitempty"`
}

// VerifyOptions adjust Verify.
type VerifyOptions struct {
	// TSARoots, when set, are the trusted roots of the time-stamping
	// authority: every anchor's TSA certificate must chain to one of them.
	// Without them an anchor is checked against the certificate it carries
	// only, so a rewritten log re-anchored by a TSA of the forger's own
	// making would pass; Result.TSAs says who signed.
	TSARoots *x509.CertPool
}

const entryColumns = `seq, at, coalesce(actor::text, ''), actor_name, coalesce(organization_id::text, ''), action, object,
	details::text, prev_hash, hash, credential, coalesce(minted_by::text, ''), minted_by_name`

func scanEntry(row pgx.Row) (Entry, error) {
	var en Entry
	var details string
	err := row.Scan(&en.Seq, &en.At, &en.Actor, &en.ActorName, &en.OrgID, &en.Action, &en.Object, &details, &en.PrevHash, &en.Hash,
		&en.Credential, &en.MintedBy, &en.MintedByName)
	en.At = en.At.UTC()
	en.Details = json.RawMessage(details)
	return en, err
}

// scan reads every entry from seq from on in seq order and calls fn for each.
func scan(ctx context.Context, q storage.Querier, from int64, fn func(Entry) error) error {
	rows, err := q.Query(ctx, "SELECT "+entryColumns+" FROM audit_log WHERE seq >= $1 ORDER BY seq", from)
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
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: read: %w", err)
	}
	return nil
}

// walker checks entries one after another.
type walker struct {
	r        *Result
	prev     []byte
	want     int64
	started  bool
	anchors  map[int64]*anchorCheck
	lastGood *anchorCheck
	// misfit is the anchor whose head hash is not its entry's; once the
	// scan is over Verify looks for the entry it does timestamp, to tell an
	// anchor moved to another entry from a rewritten log.
	misfit *anchorCheck
}

// anchorCheck is a stored anchor and what checking its token found.
type anchorCheck struct {
	AnchorRecord
	fault string // "" when the token is good
	tsa   string
}

// next checks en against its predecessor (and its anchor, if any); it
// returns the break it finds.
func (w *walker) next(en Entry) *Break {
	if !w.started {
		// A whole log starts at 1 after a zero hash; an export from a later
		// entry starts wherever it starts.
		w.started = true
		if w.want == 0 {
			w.want, w.prev = en.Seq, en.PrevHash
		}
	}
	switch {
	case en.Seq != w.want:
		return &Break{Seq: w.want, Reason: fmt.Sprintf("missing: the next entry is %d (deleted or renumbered)", en.Seq)}
	case !bytes.Equal(en.PrevHash, w.prev):
		return &Break{Seq: en.Seq, Action: en.Action, Reason: "does not follow its predecessor (reordered, or the one before was deleted or replaced)"}
	case !bytes.Equal(en.computeHash(), en.Hash):
		return &Break{Seq: en.Seq, Action: en.Action, Reason: "content does not match its hash (edited)"}
	}
	if a := w.anchors[en.Seq]; a != nil {
		if a.fault != "" {
			return &Break{Seq: en.Seq, Action: en.Action, Anchor: true, Reason: a.fault}
		}
		if !bytes.Equal(a.HeadHash, en.Hash) {
			w.misfit = a
			reason := fmt.Sprintf("hash differs from the one the TSA timestamped at %s: the log up to here was rewritten", a.At.Format(time.RFC3339))
			if w.lastGood != nil {
				reason += fmt.Sprintf(" after entry %d, the last anchor that matches", w.lastGood.Seq)
			}
			return &Break{Seq: en.Seq, Action: en.Action, Reason: reason}
		}
		w.anchored(a)
	}
	w.prev, w.want = en.Hash, w.want+1
	w.r.Entries++
	w.r.Head = en.Hash
	return nil
}

func (w *walker) anchored(a *anchorCheck) {
	w.lastGood = a
	w.r.Anchors++
	w.r.Anchored, w.r.AnchoredAt = a.Seq, a.At
	for _, t := range w.r.TSAs {
		if t == a.tsa {
			return
		}
	}
	w.r.TSAs = append(w.r.TSAs, a.tsa)
}

// end checks the anchors beyond the last entry: a timestamped head that is
// no longer there means the tail was deleted.
func (w *walker) end(ordered []*anchorCheck) *Break {
	last := w.want - 1
	for _, a := range ordered {
		if a.Seq <= last {
			continue
		}
		if a.fault != "" {
			return &Break{Seq: a.Seq, Anchor: true, Reason: a.fault + " (and the log has no such entry)"}
		}
		return &Break{Seq: last + 1, Reason: fmt.Sprintf("missing: the TSA timestamped the log up to entry %d at %s, but it ends at entry %d (deleted)",
			a.Seq, a.At.Format(time.RFC3339), last)}
	}
	return nil
}

var errStop = errors.New("stop")

// Verify walks the chain from the first entry and reports the first entry
// that was edited (its hash no longer matches its content), deleted or
// reordered (a gap in seq, or a previous-hash that is not its
// predecessor's), and checks every anchor: its token is signed by a
// time-stamping certificate and covers the head hash it is stored with,
// which must be the hash of the entry it names (so a rewritten prefix, or a
// deleted tail, shows).
func Verify(ctx context.Context, q storage.Querier) (Result, error) {
	return VerifyWith(ctx, q, VerifyOptions{})
}

// VerifyWith is Verify with options.
func VerifyWith(ctx context.Context, q storage.Querier, opts VerifyOptions) (Result, error) {
	var r Result
	stored, err := anchors(ctx, q)
	if err != nil {
		return r, err
	}
	w := &walker{r: &r, prev: make([]byte, sha256.Size), want: 1, anchors: map[int64]*anchorCheck{}}
	ordered := make([]*anchorCheck, 0, len(stored))
	for _, a := range stored {
		c := &anchorCheck{AnchorRecord: a}
		c.tsa, c.fault = checkAnchor(a, opts.TSARoots)
		w.anchors[a.Seq] = c
		ordered = append(ordered, c)
	}
	err = scan(ctx, q, 0, func(en Entry) error {
		if b := w.next(en); b != nil {
			r.Break = b
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return r, err
	}
	if w.misfit != nil {
		var seq int64
		err := q.QueryRow(ctx, "SELECT seq FROM audit_log WHERE hash = $1 ORDER BY seq LIMIT 1", w.misfit.HeadHash).Scan(&seq)
		switch {
		case err == nil:
			r.Break.Anchor = true
			r.Break.Reason = fmt.Sprintf("the anchor stored with this entry timestamps entry %d (moved)", seq)
		case !errors.Is(err, pgx.ErrNoRows):
			return r, fmt.Errorf("audit: read: %w", err)
		}
	}
	if r.Break == nil {
		r.Break = w.end(ordered)
	}
	if r.Break != nil {
		r.Head = nil
	}
	return r, nil
}

// ExportFilter picks the entries to export: from the first entry after seq
// AfterSeq that was made at or after Since. Entries are always exported as
// one unbroken run to the head, so the export can be verified by itself.
type ExportFilter struct {
	AfterSeq int64
	Since    time.Time
}

// Export writes the entries f picks as JSON lines (one Entry each, in seq
// order) and returns how many it wrote.
func Export(ctx context.Context, q storage.Querier, w io.Writer, f ExportFilter) (int64, error) {
	from := f.AfterSeq + 1
	if !f.Since.IsZero() {
		var first *int64
		if err := q.QueryRow(ctx, "SELECT min(seq) FROM audit_log WHERE at >= $1 AND seq >= $2", f.Since, from).Scan(&first); err != nil {
			return 0, fmt.Errorf("audit: export: %w", err)
		}
		if first == nil {
			return 0, nil
		}
		from = *first
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	var n int64
	err := scan(ctx, q, from, func(en Entry) error {
		n++
		if err := enc.Encode(en); err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	return n, nil
}

// VerifyExport checks JSON lines written by Export on their own: each
// entry's hash, and that each follows the one before (the first one of an
// export that starts after entry 1 is taken as given).
func VerifyExport(r io.Reader) (Result, error) {
	var res Result
	w := &walker{r: &res}
	dec := json.NewDecoder(r)
	for {
		var en Entry
		err := dec.Decode(&en)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("audit: export line %d: %w", res.Entries+1, err)
		}
		if !w.started && en.Seq == 1 {
			w.want, w.prev = 1, make([]byte, sha256.Size)
		}
		if b := w.next(en); b != nil {
			res.Break, res.Head = b, nil
			return res, nil
		}
	}
	return res, nil
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
