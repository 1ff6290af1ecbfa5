// Package audit owns the tamper-evident audit log: every state change is
// appended in the same transaction as the change, each entry hashes the one
// before it, and the head is timestamped by an RFC 3161 TSA from time to
// time. It is a top-level package because documents, accounts, the web API
// and the command line all record into it, and `vanthu audit` checks it.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/storage"
)

// Event is one state change: who did what to which object.
type Event struct {
	Actor     string // user id; "" for anonymous or the operator
	ActorName string // username at the time
	OrgID     string // organisation the change belongs to, if any
	Action    string // e.g. document.create, login.failure
	Object    string // e.g. document:<uuid>
	Details   map[string]any
	// Credential is what the actor authenticated with: token:<id> or
	// session:<id> ("" for the operator, the system or an anonymous caller).
	Credential string
	// MintedBy and MintedByName name who minted the token used, when it
	// was not the actor: an administrator's token for an auditor reads as
	// the auditor's and the administrator's.
	MintedBy, MintedByName string
}

// Entry is a stored event with its place in the chain.
type Entry struct {
	Seq       int64           `json:"seq"`
	At        time.Time       `json:"at"`
	Actor     string          `json:"actor,omitempty"`
	ActorName string          `json:"actor_name,omitempty"`
	OrgID     string          `json:"organization_id,omitempty"`
	Action    string          `json:"action"`
	Object    string          `json:"object,omitempty"`
	Details   json.RawMessage `json:"details"`
	// Credential, MintedBy and MintedByName: see Event. Entries made
	// before they were recorded have none.
	Credential   string `json:"credential,omitempty"`
	MintedBy     string `json:"minted_by,omitempty"`
	MintedByName string `json:"minted_by_name,omitempty"`
	PrevHash     []byte `json:"prev_hash"`
	Hash         []byte `json:"hash"`
}

// ErrSecretInDetails refuses an event whose details name a secret: the log
// is read by auditors and exported, so secrets never enter it.
var ErrSecretInDetails = errors.New("audit: event details must not carry secrets")

// Append records e in tx, the transaction of the change it records, so the
// entry exists exactly when the change does. It takes no lock: the entry
// waits in audit_pending and is chained when tx commits (a deferred
// trigger, migration 00020, takes the log's append lock, reads the head,
// assigns seq and hashes the entry onto it), so the lock is held only
// through the commit and Append may be called anywhere in the transaction.
// tx must run at READ COMMITTED (the default): the head read at commit must
// see the appends committed while waiting for the lock.
func Append(ctx context.Context, tx pgx.Tx, e Event) error {
	args, err := appendArgs(e)
	if err != nil {
		return err
	}
	var id int64
	return appendResult(e, tx.QueryRow(ctx, appendSQL, args...).Scan(&id))
}

// Queue adds Append's statement to b, for a caller that sends its
// transaction's writes in one batch: b must be sent in the transaction of
// the change the entry records (the entry is chained when it commits, as
// Append's), and its error is the batch's.
func Queue(b *pgx.Batch, e Event) error {
	args, err := appendArgs(e)
	if err != nil {
		return err
	}
	b.Queue(appendSQL, args...).QueryRow(func(row pgx.Row) error {
		var id int64
		return appendResult(e, row.Scan(&id))
	})
	return nil
}

// appendSQL records an entry in audit_pending. The isolation is checked
// here too (the trigger refuses it at commit) so the caller hears of it at
// once, with no round trip more.
const appendSQL = `
		INSERT INTO audit_pending (actor, actor_name, organization_id, action, object, details, credential, minted_by, minted_by_name)
		SELECT $1::uuid, $2, $3::uuid, $4, $5, $6::json, $7, $8::uuid, $9
		WHERE current_setting('transaction_isolation') = 'read committed'
		RETURNING id`

// appendArgs checks e and encodes its details.
func appendArgs(e Event) ([]any, error) {
	if e.Action == "" {
		return nil, errors.New("audit: event without action")
	}
	details := []byte("{}")
	if len(e.Details) > 0 {
		var err error
		if details, err = json.Marshal(e.Details); err != nil {
			return nil, fmt.Errorf("audit: details of %s: %w", e.Action, err)
		}
		if err := checkDetails(details); err != nil {
			return nil, fmt.Errorf("audit: %s: %w", e.Action, err)
		}
	}
	return []any{nullable(e.Actor), e.ActorName, nullable(e.OrgID), e.Action, e.Object, string(details),
		e.Credential, nullable(e.MintedBy), e.MintedByName}, nil
}

// appendResult explains the outcome of appendSQL.
func appendResult(e Event, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return errors.New("audit: append needs a READ COMMITTED transaction")
	}
	if err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return nil
}

// Record appends e in a transaction of its own, for events that change
// nothing else (a failed login, a read of a confidential document).
func Record(ctx context.Context, db *storage.DB, e Event) error {
	return db.InTx(ctx, func(tx pgx.Tx) error { return Append(ctx, tx, e) })
}

// computeHash is SHA-256 over every field, each length-prefixed so no two
// different entries encode alike. The credential fields came later: they
// are hashed, after the others, only when one of them is set, so entries
// made before hash as they always did, and stripping the fields from a
// later entry changes what it hashes to.
func (en *Entry) computeHash() []byte {
	h := sha256.New()
	var n [8]byte
	fields := [][]byte{
		[]byte(strconv.FormatInt(en.Seq, 10)),
		[]byte(en.At.UTC().Format("2006-01-02T15:04:05.000000Z")),
		[]byte(en.Actor), []byte(en.ActorName), []byte(en.OrgID),
		[]byte(en.Action), []byte(en.Object), en.Details, en.PrevHash,
	}
	if en.Credential != "" || en.MintedBy != "" || en.MintedByName != "" {
		fields = append(fields, []byte(en.Credential), []byte(en.MintedBy), []byte(en.MintedByName))
	}
	for _, f := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write(f)
	}
	return h.Sum(nil)
}

// checkDetails refuses details whose JSON has a key naming a secret, at
// any depth (in nested objects and in arrays): the JSON is what is stored,
// so structs and maps alike are checked as they will be written.
func checkDetails(details []byte) error {
	var v any
	if err := json.Unmarshal(details, &v); err != nil {
		return fmt.Errorf("details: %w", err)
	}
	return checkValue(v)
}

func checkValue(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if secretName(k) {
				return fmt.Errorf("%w: %q", ErrSecretInDetails, k)
			}
			if err := checkValue(x); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := checkValue(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// secretName reports whether a details key names a secret or key material:
// passwords, tokens, PINs, secrets, private keys and their containers.
func secretName(k string) bool {
	k = strings.ToLower(strings.NewReplacer("-", "_", " ", "_").Replace(k))
	for _, s := range []string{"password", "passwd", "passphrase", "secret", "private", "pkcs12", "pkcs8", "credential", "cookie", "authorization"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	if strings.HasPrefix(k, "public_") {
		return false
	}
	for _, s := range []string{"pin", "token", "key", "p12", "pfx"} {
		if k == s || strings.HasSuffix(k, "_"+s) {
			return true
		}
	}
	return false
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
