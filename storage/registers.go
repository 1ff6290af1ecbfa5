package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Register kinds (Decree 30 registers an organisation keeps).
const (
	RegisterOutgoing        = "outgoing"
	RegisterIncoming        = "incoming"
	RegisterCopies          = "copies"
	RegisterCertifiedCopies = "certified-copies"
)

// Register is a row of registers: a book and its number series.
type Register struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Kind           string    `json:"kind"`
	Name           string    `json:"name"`
	Code           string    `json:"code"`
	DocumentTypes  []string  `json:"document_types"`
	Confidential   bool      `json:"confidential"`
	Default        bool      `json:"default"`
	CreatedBy      string    `json:"created_by,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

const registerColumns = `id, organization_id, kind, name, code, document_types, confidential, is_default,
	coalesce(created_by::text, ''), created_at`

func scanRegister(row pgx.Row) (Register, error) {
	var r Register
	err := row.Scan(&r.ID, &r.OrganizationID, &r.Kind, &r.Name, &r.Code, &r.DocumentTypes, &r.Confidential, &r.Default, &r.CreatedBy, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// CreateRegister inserts a register; a name taken in the organisation's
// registers of that kind is ErrConflict.
func CreateRegister(ctx context.Context, q Querier, r Register) (Register, error) {
	if r.DocumentTypes == nil {
		r.DocumentTypes = []string{}
	}
	out, err := scanRegister(q.QueryRow(ctx, `
		INSERT INTO registers (organization_id, kind, name, code, document_types, confidential, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+registerColumns,
		r.OrganizationID, r.Kind, r.Name, r.Code, r.DocumentTypes, r.Confidential, nullable(r.CreatedBy)))
	if isUniqueViolation(err) {
		return Register{}, fmt.Errorf("register %q: %w", r.Name, ErrConflict)
	}
	if err != nil {
		return Register{}, fmt.Errorf("create register: %w", err)
	}
	return out, nil
}

// ListRegisters lists an organisation's registers, defaults first.
func ListRegisters(ctx context.Context, q Querier, orgID string) ([]Register, error) {
	if !isUUID(orgID) {
		return nil, ErrNotFound
	}
	rows, err := q.Query(ctx, "SELECT "+registerColumns+" FROM registers WHERE organization_id = $1 "+registersOrder, orgID)
	if err != nil {
		return nil, fmt.Errorf("list registers: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Register, error) { return scanRegister(row) })
}

const registersOrder = "ORDER BY kind, is_default DESC, created_at, id"

// GetRegister reads one register.
func GetRegister(ctx context.Context, q Querier, id string) (Register, error) {
	if !isUUID(id) {
		return Register{}, ErrNotFound
	}
	return scanRegister(q.QueryRow(ctx, "SELECT "+registerColumns+" FROM registers WHERE id = $1", id))
}

// NextRegisterNumber takes the next number of a register's year. The
// counter row stays locked until tx ends: concurrent issues into the same
// series wait, and a rollback gives the number back, so numbers have no
// gaps.
func NextRegisterNumber(ctx context.Context, tx pgx.Tx, registerID string, year int) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `
		INSERT INTO register_counters (register_id, year, last_number) VALUES ($1, $2, 1)
		ON CONFLICT (register_id, year) DO UPDATE SET last_number = register_counters.last_number + 1
		RETURNING last_number`, registerID, year).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next number of register %s in %d: %w", registerID, year, err)
	}
	return n, nil
}

// RegisterEntry is a row of register_entries: an issued document in its
// register.
type RegisterEntry struct {
	RegisterID     string    `json:"register_id"`
	OrganizationID string    `json:"organization_id"`
	Year           int       `json:"year"`
	Number         int       `json:"number"`
	Symbol         string    `json:"symbol"`
	DocumentID     string    `json:"document_id"`
	Version        int       `json:"version"`
	IssuedAt       time.Time `json:"issued_at"`
	IssuedBy       string    `json:"issued_by"`
	Type           string    `json:"type"`
	TypeName       string    `json:"type_name"`
	Subject        string    `json:"subject"`
	SignerName     string    `json:"signer_name"`
	Recipients     string    `json:"recipients"`
	CopiesKept     string    `json:"copies_kept"`
	Copies         int       `json:"copies"`
	Note           string    `json:"note"`
}

// ErrDuplicateNumber is a number and symbol already used in the series
// and year.
var ErrDuplicateNumber = errors.New("number and symbol already used in this series this year")

// SymbolUsedElsewhere lists the other registers of the organisation where
// the symbol was already used in the year (Decree 30 asks for a warning on
// a duplicate number, symbol and issuer).
func SymbolUsedElsewhere(ctx context.Context, q Querier, orgID, registerID string, year int, symbol string) ([]string, error) {
	rows, err := q.Query(ctx, symbolUsedElsewhereSQL, orgID, year, symbol, registerID)
	if err != nil {
		return nil, fmt.Errorf("duplicate symbols: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

const symbolUsedElsewhereSQL = `SELECT r.name FROM register_entries e JOIN registers r ON r.id = e.register_id
		WHERE e.organization_id = $1 AND e.year = $2 AND e.symbol = $3 AND e.register_id <> $4 ORDER BY r.name`

// InsertRegisterEntry records an issued document in its register.
func InsertRegisterEntry(ctx context.Context, q Querier, e RegisterEntry) error {
	_, err := q.Exec(ctx, insertRegisterEntrySQL, registerEntryArgs(e)...)
	return registerEntryResult(e, err)
}

const insertRegisterEntrySQL = `
		INSERT INTO register_entries (register_id, organization_id, year, number, symbol, document_id, version, issued_at, issued_by,
			type_code, subject, signer_name, recipients, copies_kept, copies, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`

func registerEntryArgs(e RegisterEntry) []any {
	return []any{e.RegisterID, e.OrganizationID, e.Year, e.Number, e.Symbol, e.DocumentID, e.Version, e.IssuedAt, e.IssuedBy,
		e.Type, e.Subject, e.SignerName, e.Recipients, e.CopiesKept, e.Copies, e.Note}
}

// registerEntryResult explains the outcome of insertRegisterEntrySQL.
func registerEntryResult(e RegisterEntry, err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("register entry %s (%d): %w", e.Symbol, e.Year, ErrDuplicateNumber)
	}
	if err != nil {
		return fmt.Errorf("insert register entry %s: %w", e.Symbol, err)
	}
	return nil
}

// RegisterEntries lists a register's entries of one year in number order.
func RegisterEntries(ctx context.Context, q Querier, registerID string, year int) ([]RegisterEntry, error) {
	rows, err := q.Query(ctx, `
		SELECT e.register_id, e.organization_id, e.year, e.number, e.symbol, e.document_id, e.version, e.issued_at, e.issued_by,
			e.type_code, coalesce(t.name, e.type_code), e.subject, e.signer_name, e.recipients, e.copies_kept, e.copies, e.note
		FROM register_entries e LEFT JOIN document_types t ON t.code = e.type_code
		WHERE e.register_id = $1 AND e.year = $2 ORDER BY e.number`, registerID, year)
	if err != nil {
		return nil, fmt.Errorf("register entries: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (RegisterEntry, error) {
		var e RegisterEntry
		err := row.Scan(&e.RegisterID, &e.OrganizationID, &e.Year, &e.Number, &e.Symbol, &e.DocumentID, &e.Version, &e.IssuedAt, &e.IssuedBy,
			&e.Type, &e.TypeName, &e.Subject, &e.SignerName, &e.Recipients, &e.CopiesKept, &e.Copies, &e.Note)
		return e, err
	})
}

// Delivery is a row of document_deliveries.
type Delivery struct {
	ID             string    `json:"id"`
	DocumentID     string    `json:"document_id"`
	OrganizationID string    `json:"organization_id,omitempty"`
	Name           string    `json:"name,omitempty"`
	Email          string    `json:"email,omitempty"`
	Channel        string    `json:"channel"`
	Status         string    `json:"status"`
	SentAt         time.Time `json:"sent_at"`
}

// InsertDelivery records one recipient of an issued document and returns
// the delivery's id; an organisation of the deployment also becomes a
// reader of it (document_recipients).
func InsertDelivery(ctx context.Context, q Querier, d Delivery) (string, error) {
	var id string
	err := q.QueryRow(ctx, insertDeliverySQL, d.DocumentID, nullable(d.OrganizationID), d.Name, d.Email, d.Channel, d.SentAt).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("insert delivery: %w", err)
	}
	if d.OrganizationID != "" {
		_, err = q.Exec(ctx, insertRecipientSQL, d.DocumentID, d.OrganizationID, d.SentAt)
		if err != nil {
			return "", fmt.Errorf("insert recipient: %w", err)
		}
	}
	return id, nil
}

const (
	insertDeliverySQL = `INSERT INTO document_deliveries (document_id, organization_id, name, email, channel, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
	insertRecipientSQL = `INSERT INTO document_recipients (document_id, organization_id, sent_at) VALUES ($1, $2, $3)
			ON CONFLICT (document_id, organization_id) DO NOTHING`
)

// RecallDeliveries marks every delivery of a document recalled, with the
// reason, except those the receiver returned (which keep its reason), and
// returns how many it marked.
func RecallDeliveries(ctx context.Context, q Querier, documentID, reason string, at time.Time) (int, error) {
	tag, err := q.Exec(ctx, `UPDATE document_deliveries SET status = 'recalled', reason = $2, updated_at = $3
		WHERE document_id = $1 AND status <> 'returned'`, documentID, reason, at)
	if err != nil {
		return 0, fmt.Errorf("recall deliveries: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// MarkRecalled freezes an issued document: status recalled, with when and
// why.
func MarkRecalled(ctx context.Context, q Querier, documentID, reason string, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE documents SET status = 'recalled', recalled_at = $2, recall_reason = $3, updated_at = now()
		WHERE id = $1`, documentID, at, reason)
	if err != nil {
		return fmt.Errorf("mark document recalled: %w", err)
	}
	return nil
}

// MarkIssued gives a document its number (the full symbol) and the status
// issued.
func MarkIssued(ctx context.Context, q Querier, documentID, symbol, searchText string, at time.Time) error {
	_, err := q.Exec(ctx, markIssuedSQL, documentID, symbol, searchText, at)
	if err != nil {
		return fmt.Errorf("mark document issued: %w", err)
	}
	return nil
}

const markIssuedSQL = `UPDATE documents SET status = 'issued', number = $2, search_text = $3, issued_at = $4, updated_at = now()
		WHERE id = $1`

// DocumentTypeInfo is what numbering needs of a document type.
type DocumentTypeInfo struct {
	Code     string
	Name     string
	InSymbol bool
	IsCopy   bool
}

// GetDocumentType reads one document type.
func GetDocumentType(ctx context.Context, q Querier, code string) (DocumentTypeInfo, error) {
	var t DocumentTypeInfo
	err := q.QueryRow(ctx, "SELECT "+documentTypeColumns+" FROM document_types WHERE code = $1", code).Scan(&t.Code, &t.Name, &t.InSymbol, &t.IsCopy)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

const documentTypeColumns = "code, name, in_symbol, is_copy"

// DeliveryStatus is a delivery as its sender (or its receiver) sees it:
// the recipient's name (the organisation's, or the outside address's),
// the status as stored and when it last changed.
type DeliveryStatus struct {
	OrganizationID string
	Recipient      string
	Email          string
	Channel        string
	Status         string
	Reason         string
	At             time.Time
}

// ListDeliveries returns the deliveries of a document in the order they
// were written; with orgID set, only those to that organisation.
func ListDeliveries(ctx context.Context, q Querier, documentID, orgID string) ([]DeliveryStatus, error) {
	rows, err := q.Query(ctx, `
		SELECT coalesce(d.organization_id::text, ''), coalesce(o.name, d.name), d.email, d.channel, d.status, d.reason, d.updated_at
		FROM document_deliveries d LEFT JOIN organizations o ON o.id = d.organization_id
		WHERE d.document_id = $1 AND ($2 = '' OR d.organization_id::text = $2)
		ORDER BY d.sent_at, d.id`, documentID, orgID)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return collect(rows, func(r pgx.Row) (DeliveryStatus, error) {
		var d DeliveryStatus
		err := r.Scan(&d.OrganizationID, &d.Recipient, &d.Email, &d.Channel, &d.Status, &d.Reason, &d.At)
		return d, err
	})
}

// LastRegisterNumber is the last number a register's year has taken (0
// when none), read without locking the counter: a preview, not a
// reservation.
func LastRegisterNumber(ctx context.Context, q Querier, registerID string, year int) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT last_number FROM register_counters WHERE register_id = $1 AND year = $2`, registerID, year).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("last number of register %s in %d: %w", registerID, year, err)
	}
	return n, nil
}

// AwaitingIssue is a signed document in its organisation's issuing queue
// and when its last signature was made.
type AwaitingIssue struct {
	Document
	SignedAt *time.Time `json:"signed_at"`
}

// ListAwaitingIssue returns an organisation's signed documents, the most
// urgent first (Hỏa tốc, Thượng khẩn, Khẩn, then the rest), each urgency by
// the time of its last signature, oldest first; at most limit.
func ListAwaitingIssue(ctx context.Context, q Querier, orgID string, limit int) ([]AwaitingIssue, error) {
	rows, err := q.Query(ctx, `SELECT `+documentColumns+`, s.signed_at
		FROM documents d
		JOIN urgency_levels u ON u.code = d.urgency
		CROSS JOIN LATERAL (SELECT max(v.created_at) AS signed_at FROM document_versions v WHERE v.document_id = d.id AND v.signed) s
		WHERE d.organization_id = $1 AND d.status = 'signed'
		ORDER BY u.rank DESC, s.signed_at NULLS LAST, d.id
		LIMIT $2`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("issuing queue: %w", err)
	}
	return collect(rows, func(r pgx.Row) (AwaitingIssue, error) {
		var a AwaitingIssue
		d := &a.Document
		err := r.Scan(&d.ID, &d.Type, &d.Subject, &d.Urgency, &d.Confidentiality, &d.Unit, &d.OrganizationID, &d.UnitID, &d.Status, &d.Number,
			&d.CreatedBy, &d.CreatedAt, &d.UpdatedAt, &d.Versions,
			&d.RecalledAt, &d.RecallReason, &d.Replaces, &d.Corrects, &d.ReplacedBy, &d.CorrectedBy, &a.SignedAt)
		return a, err
	})
}
