package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Chain is a document's approval chain in flight (a row of
// document_chains); its stages are ChainStage rows of its generation.
type Chain struct {
	DocumentID           string
	OrganizationID       string
	TemplateID           string
	TemplateVersion      int
	DrafterID            string
	Status               string
	Generation           int
	Round                int
	RestartFrom          int
	AllowAddedConsultees bool
	AllowAddedSigners    bool
	Version              int
	VersionSHA256        string
	Signatures           int
	SigningBy            string
	SigningUntil         *time.Time
	SubmittedAt          time.Time
	UpdatedAt            time.Time
}

const chainColumns = `document_id, organization_id, coalesce(template_id::text, ''), coalesce(template_version, 0), drafter_id, status,
	generation, round, restart_from, allow_added_consultees, allow_added_signers, version, version_sha256, signatures,
	coalesce(signing_by::text, ''), signing_until, submitted_at, updated_at`

func scanChain(row pgx.Row) (Chain, error) {
	var c Chain
	err := row.Scan(&c.DocumentID, &c.OrganizationID, &c.TemplateID, &c.TemplateVersion, &c.DrafterID, &c.Status,
		&c.Generation, &c.Round, &c.RestartFrom, &c.AllowAddedConsultees, &c.AllowAddedSigners, &c.Version, &c.VersionSHA256, &c.Signatures,
		&c.SigningBy, &c.SigningUntil, &c.SubmittedAt, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// GetChain reads a document's chain, or ErrNotFound when it has none.
func GetChain(ctx context.Context, q Querier, documentID string) (Chain, error) {
	if !isUUID(documentID) {
		return Chain{}, ErrNotFound
	}
	return scanChain(q.QueryRow(ctx, "SELECT "+chainColumns+" FROM document_chains WHERE document_id = $1", documentID))
}

// LockChain reads a document's chain and locks its row until tx ends.
func LockChain(ctx context.Context, tx pgx.Tx, documentID string) (Chain, error) {
	if !isUUID(documentID) {
		return Chain{}, ErrNotFound
	}
	return scanChain(tx.QueryRow(ctx, "SELECT "+chainColumns+" FROM document_chains WHERE document_id = $1 FOR UPDATE", documentID))
}

const saveChainSQL = `
		INSERT INTO document_chains (document_id, organization_id, template_id, template_version, drafter_id, status, generation, round,
			restart_from, allow_added_consultees, allow_added_signers, version, version_sha256, signatures, signing_by, signing_until, submitted_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now())
		ON CONFLICT (document_id) DO UPDATE SET template_id = excluded.template_id, template_version = excluded.template_version,
			drafter_id = excluded.drafter_id, status = excluded.status, generation = excluded.generation, round = excluded.round,
			restart_from = excluded.restart_from, allow_added_consultees = excluded.allow_added_consultees,
			allow_added_signers = excluded.allow_added_signers, version = excluded.version, version_sha256 = excluded.version_sha256,
			signatures = excluded.signatures, signing_by = excluded.signing_by, signing_until = excluded.signing_until,
			submitted_at = excluded.submitted_at, updated_at = now()`

func saveChainArgs(c Chain) []any {
	var signingBy any
	if c.SigningBy != "" {
		signingBy = c.SigningBy
	}
	var tmplVersion any
	if c.TemplateID != "" {
		tmplVersion = c.TemplateVersion
	}
	return []any{c.DocumentID, c.OrganizationID, nullable(c.TemplateID), tmplVersion, c.DrafterID, c.Status, c.Generation, c.Round,
		c.RestartFrom, c.AllowAddedConsultees, c.AllowAddedSigners, c.Version, c.VersionSHA256, c.Signatures, signingBy, c.SigningUntil, c.SubmittedAt}
}

// SaveChain inserts or replaces a document's chain row.
func SaveChain(ctx context.Context, q Querier, c Chain) error {
	if _, err := q.Exec(ctx, saveChainSQL, saveChainArgs(c)...); err != nil {
		return fmt.Errorf("save chain of %s: %w", c.DocumentID, err)
	}
	return nil
}

// LockedDocument takes a document's row lock (as LockDocument) and reads
// the document in the same round trip.
func LockedDocument(ctx context.Context, tx pgx.Tx, id string) (Document, error) {
	if !isUUID(id) {
		return Document{}, ErrNotFound
	}
	return scanDocument(tx.QueryRow(ctx, "SELECT "+documentColumns+" FROM documents d WHERE d.id = $1 FOR UPDATE OF d", id))
}

const setDocumentStatusSQL = "UPDATE documents SET status = $2, updated_at = now() WHERE id = $1 AND status <> $2"

// SetDocumentStatus records the status the chain gives a document.
func SetDocumentStatus(ctx context.Context, q Querier, documentID, status string) error {
	_, err := q.Exec(ctx, setDocumentStatusSQL, documentID, status)
	if err != nil {
		return fmt.Errorf("document %s status: %w", documentID, err)
	}
	return nil
}

// ChainStage is one stage of a chain.
type ChainStage struct {
	ID           string
	DocumentID   string
	Generation   int
	Position     int
	Name         string
	Kind         string
	Rule         string // all, any, k
	K            int
	Blocking     bool
	Participants json.RawMessage
	DueDays      int
	DueHours     int
	AddedBy      string
	State        string // pending, active, done
	ActivatedAt  *time.Time
	DueAt        *time.Time
	CompletedAt  *time.Time
}

const stageColumns = `id, document_id, generation, position, name, kind, rule, k, blocking, participants,
	coalesce(due_days, 0), coalesce(due_hours, 0), coalesce(added_by::text, ''), state, activated_at, due_at, completed_at`

func scanStage(row pgx.Row) (ChainStage, error) {
	var s ChainStage
	err := row.Scan(&s.ID, &s.DocumentID, &s.Generation, &s.Position, &s.Name, &s.Kind, &s.Rule, &s.K, &s.Blocking, &s.Participants,
		&s.DueDays, &s.DueHours, &s.AddedBy, &s.State, &s.ActivatedAt, &s.DueAt, &s.CompletedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

func zeroNull(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// InsertStage adds a stage and returns it with its id.
func InsertStage(ctx context.Context, q Querier, s ChainStage) (ChainStage, error) {
	err := q.QueryRow(ctx, `
		INSERT INTO chain_stages (document_id, generation, position, name, kind, rule, k, blocking, participants, due_days, due_hours, added_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		s.DocumentID, s.Generation, s.Position, s.Name, s.Kind, s.Rule, s.K, s.Blocking, []byte(s.Participants),
		zeroNull(s.DueDays), zeroNull(s.DueHours), nullable(s.AddedBy)).Scan(&s.ID)
	if err != nil {
		return s, fmt.Errorf("insert stage %s: %w", s.Name, err)
	}
	s.State = "pending"
	return s, nil
}

const updateStageSQL = "UPDATE chain_stages SET state = $2, activated_at = $3, due_at = $4, completed_at = $5, position = $6 WHERE id = $1"

// UpdateStage records a stage's progress.
func UpdateStage(ctx context.Context, q Querier, s ChainStage) error {
	_, err := q.Exec(ctx, updateStageSQL, s.ID, s.State, s.ActivatedAt, s.DueAt, s.CompletedAt, s.Position)
	if err != nil {
		return fmt.Errorf("update stage %s: %w", s.Name, err)
	}
	return nil
}

// Stages lists the stages of one generation of a chain, in order.
func Stages(ctx context.Context, q Querier, documentID string, generation int) ([]ChainStage, error) {
	rows, err := q.Query(ctx, "SELECT "+stageColumns+" FROM chain_stages WHERE document_id = $1 AND generation = $2 ORDER BY position", documentID, generation)
	if err != nil {
		return nil, fmt.Errorf("stages of %s: %w", documentID, err)
	}
	return collect(rows, scanStage)
}

// ChainAction is one entry of a document's chain history.
type ChainAction struct {
	ID             int64
	DocumentID     string
	OrganizationID string
	Round          int
	Action         string
	Actor          string
	ActorName      string // full name, read back with the history
	OnBehalfOf     string
	OnBehalfOfName string
	AuthorityForm  string
	StageID        string
	StageName      string
	Version        int
	VersionSHA256  string
	Comment        string
	Page           int
	Rect           []float64
	ToUser         string
	ToUserName     string
	ToStage        string
	At             time.Time
}

const insertChainActionSQL = `
		INSERT INTO chain_actions (document_id, organization_id, round, action, actor, on_behalf_of, authority_form, stage_id, stage_name,
			version, version_sha256, comment, page, rect, to_user, to_stage)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`

func chainActionArgs(a ChainAction) []any {
	var rect any
	if len(a.Rect) == 4 {
		rect = a.Rect
	}
	var sha any
	if a.VersionSHA256 != "" {
		sha = a.VersionSHA256
	}
	return []any{a.DocumentID, a.OrganizationID, a.Round, a.Action, a.Actor, nullable(a.OnBehalfOf), a.AuthorityForm, nullable(a.StageID), a.StageName,
		zeroNull(a.Version), sha, a.Comment, zeroNull(a.Page), rect, nullable(a.ToUser), a.ToStage}
}

// InsertChainAction appends an action to a document's history.
func InsertChainAction(ctx context.Context, q Querier, a ChainAction) (ChainAction, error) {
	err := q.QueryRow(ctx, insertChainActionSQL+" RETURNING id, at", chainActionArgs(a)...).Scan(&a.ID, &a.At)
	if err != nil {
		return a, fmt.Errorf("record %s: %w", a.Action, err)
	}
	return a, nil
}

const chainActionsSQL = `
		SELECT a.id, a.document_id, a.organization_id, a.round, a.action, a.actor, coalesce(u.full_name, ''),
			coalesce(a.on_behalf_of::text, ''), coalesce(b.full_name, ''), a.authority_form, coalesce(a.stage_id::text, ''), a.stage_name,
			coalesce(a.version, 0), coalesce(a.version_sha256, ''), a.comment, coalesce(a.page, 0), coalesce(a.rect, '{}'),
			coalesce(a.to_user::text, ''), coalesce(t.full_name, ''), a.to_stage, a.at
		FROM chain_actions a JOIN users u ON u.id = a.actor LEFT JOIN users b ON b.id = a.on_behalf_of LEFT JOIN users t ON t.id = a.to_user
		WHERE a.document_id = $1 ORDER BY a.id`

func scanChainAction(row pgx.Row) (ChainAction, error) {
	var a ChainAction
	err := row.Scan(&a.ID, &a.DocumentID, &a.OrganizationID, &a.Round, &a.Action, &a.Actor, &a.ActorName, &a.OnBehalfOf, &a.OnBehalfOfName,
		&a.AuthorityForm, &a.StageID, &a.StageName, &a.Version, &a.VersionSHA256, &a.Comment, &a.Page, &a.Rect, &a.ToUser, &a.ToUserName, &a.ToStage, &a.At)
	return a, err
}

// ChainActions lists a document's history, oldest first, with the names
// of the people in it.
func ChainActions(ctx context.Context, q Querier, documentID string) ([]ChainAction, error) {
	rows, err := q.Query(ctx, chainActionsSQL, documentID)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", documentID, err)
	}
	return collect(rows, scanChainAction)
}

// ChainActionKey is what an earlier chain request with an Idempotency-Key
// answered.
type ChainActionKey struct {
	DocumentID  string
	RequestHash []byte
	Response    json.RawMessage
}

// GetChainActionKey reads the answer remembered for a key, or ErrNotFound.
func GetChainActionKey(ctx context.Context, q Querier, userID, key string) (ChainActionKey, error) {
	var k ChainActionKey
	err := q.QueryRow(ctx, "SELECT document_id, request_hash, response FROM chain_action_keys WHERE user_id = $1 AND key = $2", userID, key).
		Scan(&k.DocumentID, &k.RequestHash, &k.Response)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, ErrNotFound
	}
	return k, err
}

// RecordChainActionKey remembers the answer to a keyed request;
// ErrDuplicateKey when a concurrent request with the key won.
func RecordChainActionKey(ctx context.Context, q Querier, userID, key string, k ChainActionKey) error {
	_, err := q.Exec(ctx, recordChainActionKeySQL,
		userID, key, k.DocumentID, k.RequestHash, []byte(k.Response))
	if isUniqueViolation(err) {
		return ErrDuplicateKey
	}
	return err
}

const recordChainActionKeySQL = "INSERT INTO chain_action_keys (user_id, key, document_id, request_hash, response) VALUES ($1, $2, $3, $4, $5)"

// VersionGuard is what decides whether a version may be added to a
// document now: its status, whether a version is signed, and a signature
// being made.
type VersionGuard struct {
	Status         string
	SignedVersions int
	SigningBy      string
	SigningUntil   *time.Time
}

// VersionGuardOf reads a document's VersionGuard; call it with the
// document locked.
func VersionGuardOf(ctx context.Context, q Querier, documentID string) (VersionGuard, error) {
	var g VersionGuard
	err := q.QueryRow(ctx, `
		SELECT d.status, (SELECT count(*) FROM document_versions v WHERE v.document_id = d.id AND v.signed),
			coalesce(c.signing_by::text, ''), c.signing_until
		FROM documents d LEFT JOIN document_chains c ON c.document_id = d.id WHERE d.id = $1`, documentID).
		Scan(&g.Status, &g.SignedVersions, &g.SigningBy, &g.SigningUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, ErrNotFound
	}
	return g, err
}

// UsersHolding lists the enabled users of an organisation who hold role,
// within unitID when it is set, by username.
func UsersHolding(ctx context.Context, q Querier, organizationID, role, unitID string) ([]User, error) {
	sql := "SELECT " + userColumns + ` FROM users u WHERE u.organization_id = $1 AND u.disabled_at IS NULL
		AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $2)`
	args := []any{organizationID, role}
	if unitID != "" {
		sql += " AND EXISTS (SELECT 1 FROM user_units m WHERE m.user_id = u.id AND m.unit_id = $3)"
		args = append(args, unitID)
	}
	rows, err := q.Query(ctx, sql+" ORDER BY u.username", args...)
	if err != nil {
		return nil, fmt.Errorf("users holding %s: %w", role, err)
	}
	return collect(rows, scanUser)
}

// LockedChainState is a document with its chain as one action reads them
// under their locks: the chain's stages of its generation and the inbox
// items of its round. ChainExists is false for a draft never submitted.
type LockedChainState struct {
	Document    Document
	Chain       Chain
	ChainExists bool
	Stages      []ChainStage
	Items       []InboxItem
}

// LockChainState locks the document's row, then its chain's, and reads
// them with the chain's stages and current items, in one round trip: the
// four statements go as one batch and run in order, each seeing what was
// committed before it ran, so the stages and items are read after the
// locks are held. ErrNotFound when the document does not exist.
func LockChainState(ctx context.Context, tx pgx.Tx, documentID string) (LockedChainState, error) {
	if !isUUID(documentID) {
		return LockedChainState{}, ErrNotFound
	}
	b := &pgx.Batch{}
	var s LockedChainState
	var missing error
	queueChainState(b, documentID, nil, &s, &missing)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return s, err
	}
	return s, missing
}

// LockSignState does what LockChainState does for a signature, in the
// same round trip: with v, the document read only if v may see it
// (ErrNotFound otherwise, as VisibleDocument); and with it the document's version n (0:
// its latest) read under the lock; *missing is ErrNotFound when there is
// no such version.
func LockSignState(ctx context.Context, tx pgx.Tx, documentID string, v *Viewer, n int, version *Version, missing *error) (LockedChainState, error) {
	if !isUUID(documentID) {
		return LockedChainState{}, ErrNotFound
	}
	b := &pgx.Batch{}
	var s LockedChainState
	var noDocument error
	queueChainState(b, documentID, v, &s, &noDocument)
	QueueVersion(b, documentID, n, version, missing)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return s, err
	}
	return s, noDocument
}

// BeginChainState begins a transaction and, in the same round trip, does
// what LockChainState does, reading the document only if v may see it
// (ErrNotFound otherwise, as VisibleDocument): an action on a chain needs
// no round trip of its own to begin nor to check visibility. On success
// the caller owns tx (commit or roll back); on error it is rolled back.
func BeginChainState(ctx context.Context, pool BatchSender, documentID string, v Viewer) (pgx.Tx, LockedChainState, error) {
	if !isUUID(documentID) {
		return nil, LockedChainState{}, ErrNotFound
	}
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	var s LockedChainState
	var noDocument error
	queueChainState(b, documentID, &v, &s, &noDocument)
	br := pool.SendBatch(ctx, b)
	tx := br.Tx()
	if tx == nil {
		// The pool gave no connection: the batch failed before it began.
		return nil, LockedChainState{}, br.Close()
	}
	err := br.Close()
	if err == nil {
		err = noDocument
	}
	if err != nil {
		tx.Rollback(ctx)
		return nil, LockedChainState{}, err
	}
	return tx, s, nil
}

// BatchSender is a pool or one connection of it (pgxpool.Pool,
// pgxpool.Conn, pgx.Conn).
type BatchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// queueChainState queues the four statements of a chain's locked read
// into out; with v, the document's lock reads it only if v may see it.
// *missing is ErrNotFound when the document was not read, and then out
// must not be used.
func queueChainState(b *pgx.Batch, documentID string, v *Viewer, out *LockedChainState, missing *error) {
	if v == nil {
		queueRow(b, isUUID(documentID), scanDocument, &out.Document, missing,
			"SELECT "+documentColumns+" FROM documents d WHERE d.id = $1 FOR UPDATE OF d", documentID)
	} else {
		QueueLockVisibleDocument(b, documentID, *v, &out.Document, missing)
	}
	QueueLockChain(b, documentID, out)
}

// The chain's locked read after its document's lock: the chain's row,
// locked, then its stages of the chain's generation and its inbox items
// of the chain's round, read once the lock is held.
const (
	lockChainSQL   = "SELECT " + chainColumns + " FROM document_chains WHERE document_id = $1 FOR UPDATE"
	chainStagesSQL = "SELECT " + stageColumns + ` FROM chain_stages WHERE document_id = $1
		AND generation = (SELECT generation FROM document_chains WHERE document_id = $1) ORDER BY position`
	chainItemsSQL = "SELECT " + inboxColumns + ` FROM inbox_items i
		WHERE i.document_id = $1 AND i.source = 'chain' AND i.round >= (SELECT round FROM document_chains WHERE document_id = $1)
		ORDER BY i.since, i.id`
)

// QueueLockChain queues what LockChainState reads after the document:
// the chain locked, its stages and items, into out (Document left as it
// is). b must have locked the document before (QueueLockVisibleDocument),
// as every writer of a chain locks its document first. When the document
// was not found or may not be seen, out must not be used: the caller rolls
// the transaction back.
func QueueLockChain(b *pgx.Batch, documentID string, out *LockedChainState) {
	if !isUUID(documentID) {
		return
	}
	b.Queue(lockChainSQL, documentID).QueryRow(func(row pgx.Row) error {
		c, err := scanChain(row)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil // a draft: no stages, no items
		case err != nil:
			return fmt.Errorf("chain of %s: %w", documentID, err)
		}
		out.Chain, out.ChainExists = c, true
		return nil
	})
	b.Queue(chainStagesSQL, documentID).Query(func(rows pgx.Rows) (err error) {
		if out.Stages, err = collect(rows, scanStage); err != nil {
			return fmt.Errorf("stages of %s: %w", documentID, err)
		}
		return nil
	})
	b.Queue(chainItemsSQL, documentID).Query(func(rows pgx.Rows) (err error) {
		if out.Items, err = collect(rows, scanInboxItem); err != nil {
			return fmt.Errorf("items of %s: %w", documentID, err)
		}
		return nil
	})
}
