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

// lockKey serialises appends so the chain stays linear.
const lockKey = "vanthu.audit.append"

// Append adds e in tx, the transaction of the change it records, so the
// entry exists exactly when the change does. The chain lock is held until
// tx ends, so call it last in the transaction. tx must run at READ
// COMMITTED (the default): the head is read after the lock is taken and
// must see the appends committed while waiting for it.
func Append(ctx context.Context, tx pgx.Tx, e Event) error {
	if e.Action == "" {
		return errors.New("audit: event without action")
	}
	details := []byte("{}")
	if len(e.Details) > 0 {
		var err error
		if details, err = json.Marshal(e.Details); err != nil {
			return fmt.Errorf("audit: details of %s: %w", e.Action, err)
		}
		if err := checkDetails(details); err != nil {
			return fmt.Errorf("audit: %s: %w", e.Action, err)
		}
	}
	// The lock orders appends; seq is assigned under it (not by a sequence,
	// whose values are handed out before the lock), so seq order is chain
	// order.
	var isolation string
	err := tx.QueryRow(ctx, "SELECT current_setting('transaction_isolation'), pg_advisory_xact_lock(hashtextextended($1, 0))::text",
		lockKey).Scan(&isolation, new(string))
	if err != nil {
		return fmt.Errorf("audit: lock: %w", err)
	}
	if isolation != "read committed" {
		return fmt.Errorf("audit: append needs a READ COMMITTED transaction, not %s", strings.ToUpper(isolation))
	}
	head := Entry{Hash: make([]byte, sha256.Size)}
	err = tx.QueryRow(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&head.Seq, &head.Hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("audit: chain head: %w", err)
	}
	en := Entry{Seq: head.Seq + 1, At: time.Now().UTC().Truncate(time.Microsecond), Actor: e.Actor, ActorName: e.ActorName,
		OrgID: e.OrgID, Action: e.Action, Object: e.Object, Details: details, PrevHash: head.Hash,
		Credential: e.Credential, MintedBy: e.MintedBy, MintedByName: e.MintedByName}
	en.Hash = en.computeHash()
	_, err = tx.Exec(ctx, `
		INSERT INTO audit_log (seq, at, actor, actor_name, organization_id, action, object, details, prev_hash, hash,
			credential, minted_by, minted_by_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		en.Seq, en.At, nullable(en.Actor), en.ActorName, nullable(en.OrgID), en.Action, en.Object, string(en.Details), en.PrevHash, en.Hash,
		en.Credential, nullable(en.MintedBy), en.MintedByName)
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
