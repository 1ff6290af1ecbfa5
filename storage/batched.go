package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The functions of this file let a workflow that signs or issues a
// document ask PostgreSQL its questions, and send its writes, a batch at a
// time instead of a statement at a time: each Queue function queues the
// statement of the function it is named after, with the same SQL, and
// puts its answer where it is told when the batch's results are read (by
// BeginBatch, or SendBatch, in the order queued). A row that is not there
// is an answer (ErrNotFound in the place given), not a failure of the
// batch, so that the caller can refuse in the order it always has.

// BeginBatch begins a transaction and, in the same round trip, sends the
// statements queue adds to the batch; their callbacks read their results
// in order. On success the caller owns tx (commit or roll back, or send
// its last batch with its commit through CommitBatch); on error it is
// rolled back.
func BeginBatch(ctx context.Context, pool *pgxpool.Pool, queue func(b *pgx.Batch)) (pgx.Tx, error) {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	queue(b)
	// The transaction holds its connection itself, so that a commit sent
	// in a batch (CommitBatch) can give it back without another round
	// trip.
	c, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	br := c.SendBatch(ctx, b)
	inner := br.Tx()
	if inner == nil {
		br.Close()
		c.Release()
		return nil, errors.New("begin: no transaction")
	}
	tx := &batchTx{Tx: inner, conn: c}
	if _, err := br.Exec(); err != nil {
		br.Close()
		tx.Rollback(ctx)
		return nil, fmt.Errorf("begin: %w", err)
	}
	if err := br.Close(); err != nil {
		tx.Rollback(ctx)
		return nil, err
	}
	return tx, nil
}

// batchTx is a transaction begun by BeginBatch, on a pool connection it
// holds until the transaction ends: by Commit, Rollback, or a batch that
// carries its commit (CommitBatch).
type batchTx struct {
	pgx.Tx
	conn *pgxpool.Conn // nil once the transaction ended
}

func (t *batchTx) Commit(ctx context.Context) error {
	if t.conn == nil {
		return pgx.ErrTxClosed
	}
	defer t.release()
	return t.Tx.Commit(ctx)
}

func (t *batchTx) Rollback(ctx context.Context) error {
	if t.conn == nil {
		return pgx.ErrTxClosed
	}
	defer t.release()
	return t.Tx.Rollback(ctx)
}

// The statements of a transaction that ended refuse (pgx.ErrTxClosed):
// after CommitBatch the pgx transaction underneath is not closed, and its
// connection may be another's.

func (t *batchTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if t.conn == nil {
		return nil, pgx.ErrTxClosed
	}
	return t.Tx.Begin(ctx)
}

func (t *batchTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.conn == nil {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	return t.Tx.Exec(ctx, sql, args...)
}

func (t *batchTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.conn == nil {
		return nil, pgx.ErrTxClosed
	}
	return t.Tx.Query(ctx, sql, args...)
}

func (t *batchTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.conn == nil {
		return closedRow{}
	}
	return t.Tx.QueryRow(ctx, sql, args...)
}

func (t *batchTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.conn == nil {
		return pgx.FailedBatchResults(b, pgx.ErrTxClosed)
	}
	return t.Tx.SendBatch(ctx, b)
}

func (t *batchTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error) {
	if t.conn == nil {
		return 0, pgx.ErrTxClosed
	}
	return t.Tx.CopyFrom(ctx, table, columns, rows)
}

func (t *batchTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if t.conn == nil {
		return nil, pgx.ErrTxClosed
	}
	return t.Tx.Prepare(ctx, name, sql)
}

// closedRow is the row of a query in a transaction that ended.
type closedRow struct{}

func (closedRow) Scan(...any) error { return pgx.ErrTxClosed }

// release gives the connection back to the pool, which closes it instead
// when it is not outside a transaction.
func (t *batchTx) release() {
	t.conn.Release()
	t.conn = nil
}

// commitSQL ends a transaction from within a batch.
const commitSQL = "COMMIT"

// ErrCommittedAnyway is wrapped in the error of a CommitBatch whose
// transaction committed although one of the batch's callbacks refused its
// result: PostgreSQL had run the whole batch, the commit included, before
// the callback was called. Callbacks of a committing batch should only
// read.
var ErrCommittedAnyway = errors.New("the transaction committed")

// CommitBatch sends b's statements in tx and commits tx, in one round
// trip when tx was begun by BeginBatch (else b is sent, then tx
// committed). A statement that fails makes PostgreSQL skip the rest of
// the batch, the commit with it: tx is then rolled back and the first
// error returned, as when b's statements were sent alone. Once it
// returns, tx is over either way (its Rollback is harmless).
func CommitBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch) error {
	bt, ok := tx.(*batchTx)
	if !ok {
		if err := SendBatch(ctx, tx, b); err != nil {
			tx.Rollback(ctx)
			return err
		}
		return tx.Commit(ctx)
	}
	if bt.conn == nil {
		return pgx.ErrTxClosed
	}
	n := b.Len()
	b.Queue(commitSQL).Exec(func(ct pgconn.CommandTag) error {
		// COMMIT of a transaction already failed answers ROLLBACK.
		if ct.String() == "ROLLBACK" {
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
	defer func() { b.QueuedQueries = b.QueuedQueries[:n] }()
	err := bt.Tx.SendBatch(ctx, b).Close()
	pc := bt.Conn().PgConn()
	if !pc.IsClosed() && pc.TxStatus() == 'I' {
		// The transaction is over on the server: committed, unless COMMIT
		// answered ROLLBACK. The pgx transaction is left as it is (its
		// own Commit or Rollback would be one more round trip); its
		// connection goes back to the pool.
		bt.release()
		if err != nil && !errors.Is(err, pgx.ErrTxCommitRollback) {
			return fmt.Errorf("%w, but reading its batch failed: %w", ErrCommittedAnyway, err)
		}
		return err
	}
	if err == nil {
		err = errors.New("commit: the transaction is still open")
	}
	bt.Rollback(ctx)
	return err
}

// SendBatch sends b's statements in tx in one round trip and runs their
// callbacks; nothing is sent when b is empty.
func SendBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// queueRow queues sql and scans its one row with scan into out, or puts
// ErrNotFound into *missing when there is none (also without sending it
// when ok is false: an id that is no UUID names nothing).
func queueRow[T any](b *pgx.Batch, ok bool, scan func(pgx.Row) (T, error), out *T, missing *error, sql string, args ...any) {
	if !ok {
		*missing = ErrNotFound
		return
	}
	b.Queue(sql, args...).QueryRow(func(row pgx.Row) error {
		v, err := scan(row)
		if errors.Is(err, ErrNotFound) || errors.Is(err, pgx.ErrNoRows) {
			*missing = ErrNotFound
			return nil
		}
		if err != nil {
			return err
		}
		*out, *missing = v, nil
		return nil
	})
}

// QueueLockVisibleDocument queues the document's read, locked (as
// LockDocument) and only if v may see it (as VisibleDocument): *missing
// is ErrNotFound when it does not exist or v may not see it, and then
// nothing is locked.
func QueueLockVisibleDocument(b *pgx.Batch, id string, v Viewer, out *Document, missing *error) {
	args := []any{id}
	cond := v.visibleSQL(&args)
	queueGenericPlan(b, func() {
		queueRow(b, isUUID(id), scanDocument, out, missing,
			"SELECT "+documentColumns+" FROM documents d WHERE d.id = $1 AND "+cond+" FOR UPDATE OF d", args...)
	})
}

// latestVersionSQL reads a document's latest version, versionSQL its
// version number $2. Two statements, not one with "$2 = 0 OR": the
// planner folded that condition for each value and so planned the
// statement again at every execution.
const (
	latestVersionSQL = "SELECT " + versionColumns + ` FROM document_versions
	WHERE document_id = $1 ORDER BY number DESC LIMIT 1`
	versionSQL = "SELECT " + versionColumns + ` FROM document_versions WHERE document_id = $1 AND number = $2`
)

// QueueVersion queues GetVersion's read of version n, or of the latest
// version when n is 0.
func QueueVersion(b *pgx.Batch, documentID string, n int, out *Version, missing *error) {
	if n == 0 {
		queueRow(b, isUUID(documentID), scanVersion, out, missing, latestVersionSQL, documentID)
		return
	}
	queueRow(b, isUUID(documentID), scanVersion, out, missing, versionSQL, documentID, n)
}

// QueueKeyBindings queues ListKeyBindings's read of a user's keys (orgID
// "") or an organisation's.
func QueueKeyBindings(b *pgx.Batch, userID, orgID string, out *[]KeyBinding) {
	sql, arg := listKeyBindingsSQL(userID, orgID)
	b.Queue(sql, arg).Query(func(rows pgx.Rows) error {
		got, err := collect(rows, scanKeyBinding)
		if err != nil {
			return fmt.Errorf("list key bindings: %w", err)
		}
		*out = got
		return nil
	})
}

// QueueOrganization queues GetOrganization's read.
func QueueOrganization(b *pgx.Batch, id string, out *Organization, missing *error) {
	queueRow(b, isUUID(id), scanOrganization, out, missing, getOrganizationSQL, id)
}

// QueueOrganizationSigningLevel queues OrganizationSigningLevel's read.
func QueueOrganizationSigningLevel(b *pgx.Batch, orgID string, out *string, missing *error) {
	scan := func(row pgx.Row) (string, error) {
		var level string
		return level, row.Scan(&level)
	}
	queueRow(b, isUUID(orgID), scan, out, missing, signingLevelSQL, orgID)
}

// QueueSignatureImage queues GetSignatureImage's read (*missing
// ErrNotFound: the user has none), its PNG left out (nil) when its SHA-256
// is held, that of an image the caller holds already ("": none).
func QueueSignatureImage(b *pgx.Batch, userID, held string, out *SignatureImage, missing *error) {
	scan := func(row pgx.Row) (SignatureImage, error) { return scanSignatureImage(userID, row) }
	queueRow(b, isUUID(userID), scan, out, missing, signatureImageSQL, userID, held)
}

// QueueLockSignSession queues LockSignSession's locked read.
func QueueLockSignSession(b *pgx.Batch, id string, out *SignSession, missing *error) {
	queueRow(b, isUUID(id), scanSignSession, out, missing, lockSignSessionSQL, id)
}

// QueueCompleteSignSession queues CompleteSignSession's update.
func QueueCompleteSignSession(b *pgx.Batch, id string, version int) {
	b.Queue(completeSignSessionSQL, id, version)
}

// QueueLockBlob queues LockBlob's lock.
func QueueLockBlob(b *pgx.Batch, key string) {
	b.Queue(lockBlobSQL, "blob:"+key)
}

// QueueInsertVersion queues InsertVersion's two statements; *out is the
// version inserted once the batch is read.
func QueueInsertVersion(b *pgx.Batch, v Version, out *Version) {
	b.Queue(insertVersionSQL, v.DocumentID, v.SHA256, v.Size, v.FileName, v.Signed, v.CreatedBy).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&v.Number, &v.CreatedAt); err != nil {
			return fmt.Errorf("insert version: %w", err)
		}
		*out = v
		return nil
	})
	b.Queue(touchDocumentSQL, v.DocumentID)
}

// insertNumberedVersionSQL inserts version $7 of document $1, the number
// its caller knew under the document's lock; its creation time is the
// transaction's (as insertVersionSQL's default), which the caller read
// with the transaction's begin (QueueTransactionTime). A number already
// taken fails the batch (the primary key); one that is not the next fails
// it too, so no gap is left.
const insertNumberedVersionSQL = `
	INSERT INTO document_versions (document_id, number, blob_key, size, file_name, signed, created_by)
	SELECT $1, CASE WHEN next.n = $7 THEN $7
		ELSE ('version ' || $7 || ' is not the next version (' || next.n || ') of document ' || $1)::int END,
		$2, $3, $4, $5, $6
	FROM (SELECT coalesce(max(number), 0) + 1 AS n FROM document_versions WHERE document_id = $1) next`

// QueueInsertNumberedVersion queues the insert of v as the document's
// version v.Number, known to be the next (the document is locked since
// the transaction's begin), and the document's updated_at: nothing is read
// back, so it may go in the batch that commits, with what names the
// version. A number that is not the next fails the batch.
func QueueInsertNumberedVersion(b *pgx.Batch, v Version) {
	b.Queue(insertNumberedVersionSQL, v.DocumentID, v.SHA256, v.Size, v.FileName, v.Signed, v.CreatedBy, v.Number)
	b.Queue(touchDocumentSQL, v.DocumentID)
}

// QueueCheckSignedVersion queues a check that fails the batch unless
// version n of the document, with SHA-256 sha256, is in the transaction
// and signed: for writes that name a version queued before them in the
// same batch.
func QueueCheckSignedVersion(b *pgx.Batch, documentID string, n int, sha256 string) {
	b.Queue(`SELECT CASE WHEN found.n = 1 THEN 1
		ELSE ('signed version ' || $2 || ' (' || $3 || ') of document ' || $1 || ' is not in the transaction: ' || found.n)::int END
		FROM (SELECT count(*) AS n FROM document_versions
			WHERE document_id = $1 AND number = $2 AND blob_key = $3 AND signed) found`, documentID, n, sha256)
}

// QueueTransactionTime queues the read of the transaction's time: what
// now(), and so every default creation time, is until it ends.
func QueueTransactionTime(b *pgx.Batch, out *time.Time) {
	b.Queue("SELECT now()").QueryRow(func(row pgx.Row) error { return row.Scan(out) })
}

// QueueRecordChainActionKey queues RecordChainActionKey's insert; a
// concurrent request with the key that won fails the batch.
func QueueRecordChainActionKey(b *pgx.Batch, userID, key string, k ChainActionKey) {
	b.Queue(recordChainActionKeySQL, userID, key, k.DocumentID, k.RequestHash, []byte(k.Response))
}

// QueueDocumentOrganization queues the read of the organisation a
// document belongs to, with its PAdES signing level.
func QueueDocumentOrganization(b *pgx.Batch, documentID string, out *Organization, level *string, missing *error) {
	scan := func(row pgx.Row) (Organization, error) {
		var o Organization
		err := row.Scan(&o.ID, &o.Code, &o.Name, &o.ParentID, &o.CreatedAt, level)
		return o, err
	}
	queueRow(b, isUUID(documentID), scan, out, missing, "SELECT "+orgColumns+`, signing_level FROM organizations
		WHERE id = (SELECT organization_id FROM documents WHERE id = $1)`, documentID)
}

// QueueInsertSignSession queues InsertSignSession's insert and returns the
// session as it will be, its id chosen here so that the audit entry of the
// same batch can name it (CreatedAt is not read back).
func QueueInsertSignSession(b *pgx.Batch, s SignSession) SignSession {
	s.ID = uuid.NewString()
	b.Queue(`
		INSERT INTO sign_sessions (id, document_id, user_id, key_binding_id, version, version_sha256, params, digest, signed_attributes, digest_algorithm, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		s.ID, s.DocumentID, s.UserID, s.KeyBindingID, s.Version, s.VersionSHA256, s.Params, s.Digest, s.SignedAttributes, s.DigestAlgorithm, s.ExpiresAt)
	return s
}

// The reads and writes of issuing (documents/register).

// QueueOrganizations queues the read of the organisations of ids that
// exist, into out by id (an id that is no UUID names none).
func QueueOrganizations(b *pgx.Batch, ids []string, out map[string]Organization) {
	var valid []string
	for _, id := range ids {
		if isUUID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return
	}
	b.Queue("SELECT "+orgColumns+" FROM organizations WHERE id = ANY($1::uuid[])", valid).Query(func(rows pgx.Rows) error {
		got, err := collect(rows, scanOrganization)
		if err != nil {
			return fmt.Errorf("organisations: %w", err)
		}
		for _, o := range got {
			out[o.ID] = o
		}
		return nil
	})
}

// documentOrgSQL is the organisation of document $1.
const documentOrgSQL = "(SELECT organization_id FROM documents WHERE id = $1)"

// QueueDocumentKeyBindings queues ListKeyBindings's read of the keys of
// the organisation a document belongs to.
func QueueDocumentKeyBindings(b *pgx.Batch, documentID string, out *[]KeyBinding) {
	b.Queue("SELECT "+keyColumns+" FROM key_bindings WHERE organization_id = "+documentOrgSQL+" ORDER BY created_at DESC, id", documentID).
		Query(func(rows pgx.Rows) error {
			got, err := collect(rows, scanKeyBinding)
			if err != nil {
				return fmt.Errorf("list key bindings: %w", err)
			}
			*out = got
			return nil
		})
}

// QueueDocumentRegisters queues ListRegisters's read of the registers of
// the organisation a document belongs to.
func QueueDocumentRegisters(b *pgx.Batch, documentID string, out *[]Register) {
	b.Queue("SELECT "+registerColumns+" FROM registers WHERE organization_id = "+documentOrgSQL+" "+registersOrder, documentID).
		Query(func(rows pgx.Rows) error {
			got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Register, error) { return scanRegister(row) })
			if err != nil {
				return fmt.Errorf("list registers: %w", err)
			}
			*out = got
			return nil
		})
}

// QueueDocumentTypeOf queues GetDocumentType's read of a document's type.
func QueueDocumentTypeOf(b *pgx.Batch, documentID string, out *DocumentTypeInfo, missing *error) {
	scan := func(row pgx.Row) (DocumentTypeInfo, error) {
		var t DocumentTypeInfo
		return t, row.Scan(&t.Code, &t.Name, &t.InSymbol, &t.IsCopy)
	}
	queueRow(b, isUUID(documentID), scan, out, missing,
		"SELECT "+documentTypeColumns+" FROM document_types WHERE code = (SELECT type_code FROM documents WHERE id = $1)", documentID)
}

// QueueLatestVersionAuthor queues the read of the full name of who made a
// document's latest version ("" when unknown).
func QueueLatestVersionAuthor(b *pgx.Batch, documentID string, out *string, missing *error) {
	scan := func(row pgx.Row) (string, error) {
		var name string
		return name, row.Scan(&name)
	}
	queueRow(b, isUUID(documentID), scan, out, missing, `SELECT u.full_name FROM document_versions v JOIN users u ON u.id = v.created_by
		WHERE v.document_id = $1 ORDER BY v.number DESC LIMIT 1`, documentID)
}

// QueueInsertRegisterEntry queues InsertRegisterEntry's insert; a number
// and symbol already used fails the batch with ErrDuplicateNumber.
func QueueInsertRegisterEntry(b *pgx.Batch, e RegisterEntry) {
	b.Queue(insertRegisterEntrySQL, registerEntryArgs(e)...).Fn = func(br pgx.BatchResults) error {
		_, err := br.Exec()
		return registerEntryResult(e, err)
	}
}

// QueueSymbolUsedElsewhere queues SymbolUsedElsewhere's read.
func QueueSymbolUsedElsewhere(b *pgx.Batch, orgID, registerID string, year int, symbol string, out *[]string) {
	b.Queue(symbolUsedElsewhereSQL, orgID, year, symbol, registerID).Query(func(rows pgx.Rows) error {
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("duplicate symbols: %w", err)
		}
		*out = got
		return nil
	})
}

// QueueMarkIssued queues MarkIssued's update.
func QueueMarkIssued(b *pgx.Batch, documentID, symbol, searchText string, at time.Time) {
	b.Queue(markIssuedSQL, documentID, symbol, searchText, at)
}

// QueueInsertDelivery queues InsertDelivery's statements; *id is the
// delivery's once the batch is read.
func QueueInsertDelivery(b *pgx.Batch, d Delivery, id *string) {
	b.Queue(insertDeliverySQL, d.DocumentID, nullable(d.OrganizationID), d.Name, d.Email, d.Channel, d.SentAt).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(id); err != nil {
			return fmt.Errorf("insert delivery: %w", err)
		}
		return nil
	})
	if d.OrganizationID != "" {
		b.Queue(insertRecipientSQL, d.DocumentID, d.OrganizationID, d.SentAt)
	}
}
