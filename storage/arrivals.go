package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Arrival is a row of arrivals: one document in an organisation's
// reception queue.
type Arrival struct {
	ID                 string
	OrganizationID     string
	Source             string // delivery or upload
	Medium             string // electronic or paper
	DeliveryID         string
	SentDocumentID     string
	FromOrganizationID string
	FromName           string
	CodeNumber         string
	CodeNotation       string
	IssuedDate         *time.Time
	Type               string
	Subject            string
	SignerName         string
	SignerPosition     string
	Urgency            string
	Confidentiality    string
	DupKey             string
	BlobKey            string
	Size               int64
	FileName           string
	Signed             bool
	Verdict            string
	Verification       []byte
	Status             string
	Reason             string
	DuplicateReason    string
	ReceivedBy         string
	ArrivedAt          time.Time
	DocumentID         string
	RecallRequestedAt  *time.Time
	RecallReason       string
	RecallConfirmedAt  *time.Time
	UpdatedAt          time.Time
	// From the incoming register, once registered.
	ArrivalNumber int
	RegisteredAt  *time.Time
}

const arrivalColumns = `a.id, a.organization_id, a.source, a.medium, coalesce(a.delivery_id::text, ''), coalesce(a.sent_document_id::text, ''),
	coalesce(a.from_organization_id::text, ''), a.from_name, a.code_number, a.code_notation, a.issued_date, a.type_code, a.subject,
	a.signer_name, a.signer_position, a.urgency, a.confidentiality, a.dup_key, a.blob_key, a.size, a.file_name, a.signed,
	a.verdict, a.verification, a.status, a.reason, a.duplicate_reason, coalesce(a.received_by::text, ''), a.arrived_at,
	coalesce(a.document_id::text, ''), a.recall_requested_at, a.recall_reason, a.recall_confirmed_at, a.updated_at,
	coalesce(e.number, 0), e.registered_at`

const arrivalFrom = ` FROM arrivals a LEFT JOIN incoming_entries e ON e.arrival_id = a.id`

func scanArrival(row pgx.Row) (Arrival, error) {
	var a Arrival
	err := row.Scan(&a.ID, &a.OrganizationID, &a.Source, &a.Medium, &a.DeliveryID, &a.SentDocumentID, &a.FromOrganizationID, &a.FromName,
		&a.CodeNumber, &a.CodeNotation, &a.IssuedDate, &a.Type, &a.Subject, &a.SignerName, &a.SignerPosition, &a.Urgency, &a.Confidentiality,
		&a.DupKey, &a.BlobKey, &a.Size, &a.FileName, &a.Signed, &a.Verdict, &a.Verification, &a.Status, &a.Reason, &a.DuplicateReason,
		&a.ReceivedBy, &a.ArrivedAt, &a.DocumentID, &a.RecallRequestedAt, &a.RecallReason, &a.RecallConfirmedAt, &a.UpdatedAt,
		&a.ArrivalNumber, &a.RegisteredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// InsertArrival records an arrival and returns it with its id and time.
func InsertArrival(ctx context.Context, q Querier, a Arrival) (Arrival, error) {
	err := q.QueryRow(ctx, `
		INSERT INTO arrivals (organization_id, source, medium, delivery_id, sent_document_id, from_organization_id, from_name,
			code_number, code_notation, issued_date, type_code, subject, signer_name, signer_position, urgency, confidentiality,
			dup_key, blob_key, size, file_name, signed, verdict, verification, received_by, arrived_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
		RETURNING id`,
		a.OrganizationID, a.Source, a.Medium, nullable(a.DeliveryID), nullable(a.SentDocumentID), nullable(a.FromOrganizationID), a.FromName,
		a.CodeNumber, a.CodeNotation, a.IssuedDate, a.Type, a.Subject, a.SignerName, a.SignerPosition, a.Urgency, a.Confidentiality,
		a.DupKey, a.BlobKey, a.Size, a.FileName, a.Signed, a.Verdict, string(a.Verification), nullable(a.ReceivedBy), a.ArrivedAt).Scan(&a.ID)
	if err != nil {
		return Arrival{}, fmt.Errorf("insert arrival: %w", err)
	}
	return GetArrival(ctx, q, a.ID, false)
}

// GetArrival reads one arrival; forUpdate locks its row (call it in a
// transaction).
func GetArrival(ctx context.Context, q Querier, id string, forUpdate bool) (Arrival, error) {
	if !isUUID(id) {
		return Arrival{}, ErrNotFound
	}
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE OF a"
	}
	return scanArrival(q.QueryRow(ctx, "SELECT "+arrivalColumns+arrivalFrom+" WHERE a.id = $1"+lock, id))
}

// ListArrivals lists an organisation's arrivals in the given statuses
// (none: every status), newest first, at most limit.
func ListArrivals(ctx context.Context, q Querier, orgID string, statuses []string, pendingRecall bool, limit int) ([]Arrival, error) {
	if !isUUID(orgID) {
		return nil, ErrNotFound
	}
	if statuses == nil {
		statuses = []string{}
	}
	rows, err := q.Query(ctx, "SELECT "+arrivalColumns+arrivalFrom+`
		WHERE a.organization_id = $1 AND (cardinality($2::text[]) = 0 OR a.status = ANY($2)
			OR ($3 AND a.recall_requested_at IS NOT NULL AND a.recall_confirmed_at IS NULL))
		ORDER BY a.arrived_at DESC, a.id DESC LIMIT $4`, orgID, statuses, pendingRecall, limit)
	if err != nil {
		return nil, fmt.Errorf("list arrivals: %w", err)
	}
	return collect(rows, scanArrival)
}

// EarlierArrival finds another arrival of the organisation with the same
// duplicate key: a registered one if any (the earliest registration), else
// the earliest still in the queue. ErrNotFound when there is none.
func EarlierArrival(ctx context.Context, q Querier, orgID, dupKey, exceptID string) (Arrival, error) {
	if dupKey == "" {
		return Arrival{}, ErrNotFound
	}
	return scanArrival(q.QueryRow(ctx, "SELECT "+arrivalColumns+arrivalFrom+`
		WHERE a.organization_id = $1 AND a.dup_key = $2 AND a.id <> $3 AND a.status <> 'returned'
		ORDER BY (a.document_id IS NULL), e.registered_at, a.arrived_at, a.id LIMIT 1`, orgID, dupKey, exceptID))
}

// ArrivalRegistered marks an arrival registered as documentID.
func ArrivalRegistered(ctx context.Context, q Querier, id, documentID, duplicateReason string) error {
	_, err := q.Exec(ctx, `UPDATE arrivals SET status = 'registered', document_id = $2, duplicate_reason = $3, updated_at = now()
		WHERE id = $1`, id, documentID, duplicateReason)
	if isUniqueViolation(err) {
		return fmt.Errorf("arrival %s: %w", id, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("mark arrival registered: %w", err)
	}
	return nil
}

// ArrivalReturned marks an arrival returned to its sender with the reason.
func ArrivalReturned(ctx context.Context, q Querier, id, reason string) error {
	_, err := q.Exec(ctx, `UPDATE arrivals SET status = 'returned', reason = $2, updated_at = now() WHERE id = $1`, id, reason)
	if err != nil {
		return fmt.Errorf("mark arrival returned: %w", err)
	}
	return nil
}

// ArrivalsOfSentDocument locks and returns the arrivals made from the
// deliveries of one sent document.
func ArrivalsOfSentDocument(ctx context.Context, tx pgx.Tx, sentDocumentID string) ([]Arrival, error) {
	rows, err := tx.Query(ctx, "SELECT "+arrivalColumns+arrivalFrom+` WHERE a.sent_document_id = $1 ORDER BY a.arrived_at, a.id FOR UPDATE OF a`, sentDocumentID)
	if err != nil {
		return nil, fmt.Errorf("arrivals of %s: %w", sentDocumentID, err)
	}
	return collect(rows, scanArrival)
}

// ArrivalRecallRequested records the sender's recall on an arrival.
func ArrivalRecallRequested(ctx context.Context, q Querier, id, reason string, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE arrivals SET recall_requested_at = $2, recall_reason = $3, updated_at = now()
		WHERE id = $1 AND recall_requested_at IS NULL`, id, at, reason)
	if err != nil {
		return fmt.Errorf("mark arrival recalled: %w", err)
	}
	return nil
}

// ArrivalRecallConfirmed records the receiver's confirmation of a recall.
func ArrivalRecallConfirmed(ctx context.Context, q Querier, id, userID string, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE arrivals SET status = 'recalled', recall_confirmed_at = $2, recall_confirmed_by = $3, updated_at = now()
		WHERE id = $1`, id, at, userID)
	if err != nil {
		return fmt.Errorf("confirm recall: %w", err)
	}
	return nil
}

// PendingDelivery is an internal delivery that has not arrived yet, with
// what its arrival needs of the sent document.
type PendingDelivery struct {
	DeliveryID       string
	ReceiverID       string
	DocumentID       string
	SenderID         string
	SenderName       string
	Symbol           string
	IssuedAt         *time.Time
	Type             string
	Subject          string
	Urgency          string
	Confidentiality  string
	SignerName       string
	SignerPosition   string
	BlobKey          string
	Size             int64
	FileName         string
	Signed           bool
	SentAt           time.Time
	SenderIssuedByID string
}

// NextPendingDelivery locks the oldest internal delivery (to orgID, or to
// anyone when orgID is "") still marked sent and without an arrival,
// skipping those another transaction holds. ErrNotFound: none waits.
func NextPendingDelivery(ctx context.Context, tx pgx.Tx, orgID string) (PendingDelivery, error) {
	var p PendingDelivery
	err := tx.QueryRow(ctx, `
		SELECT d.id, d.organization_id, d.document_id, d.sent_at FROM document_deliveries d
		WHERE d.channel = 'internal' AND d.status = 'sent' AND ($1 = '' OR d.organization_id::text = $1)
			AND NOT EXISTS (SELECT 1 FROM arrivals a WHERE a.delivery_id = d.id)
		ORDER BY d.sent_at, d.id LIMIT 1 FOR UPDATE OF d SKIP LOCKED`, orgID).Scan(&p.DeliveryID, &p.ReceiverID, &p.DocumentID, &p.SentAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("pending deliveries: %w", err)
	}
	// The version sent is the one the register entry names (the sealed
	// one); without an entry, the document's last version.
	err = tx.QueryRow(ctx, `
		SELECT coalesce(doc.organization_id::text, ''), coalesce(o.name, ''), coalesce(doc.number, ''), doc.issued_at, doc.type_code, doc.subject,
			doc.urgency, doc.confidentiality, coalesce(e.signer_name, ''), coalesce(signer.title, ''),
			v.blob_key, v.size, v.file_name, v.signed, coalesce(e.issued_by::text, '')
		FROM documents doc
		LEFT JOIN organizations o ON o.id = doc.organization_id
		LEFT JOIN register_entries e ON e.document_id = doc.id
		JOIN document_versions v ON v.document_id = doc.id AND v.number = coalesce(e.version,
			(SELECT max(number) FROM document_versions WHERE document_id = doc.id))
		LEFT JOIN document_versions sv ON sv.document_id = doc.id AND sv.number = v.number - 1 AND e.version IS NOT NULL
		LEFT JOIN users signer ON signer.id = sv.created_by
		WHERE doc.id = $1`, p.DocumentID).Scan(&p.SenderID, &p.SenderName, &p.Symbol, &p.IssuedAt, &p.Type, &p.Subject,
		&p.Urgency, &p.Confidentiality, &p.SignerName, &p.SignerPosition, &p.BlobKey, &p.Size, &p.FileName, &p.Signed, &p.SenderIssuedByID)
	if err != nil {
		return p, fmt.Errorf("sent document %s: %w", p.DocumentID, err)
	}
	return p, nil
}

// SetDeliveryStatus changes what the sender sees of a delivery.
func SetDeliveryStatus(ctx context.Context, q Querier, deliveryID, status, reason string) error {
	_, err := q.Exec(ctx, `UPDATE document_deliveries SET status = $2, reason = $3, updated_at = now() WHERE id = $1`, deliveryID, status, reason)
	if err != nil {
		return fmt.Errorf("delivery %s to %s: %w", deliveryID, status, err)
	}
	return nil
}

// SentDeliveriesOf locks the internal deliveries of a sent document that
// have not arrived yet.
func SentDeliveriesOf(ctx context.Context, tx pgx.Tx, documentID string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT d.id FROM document_deliveries d WHERE d.document_id = $1 AND d.channel = 'internal'
		AND d.status = 'sent' AND NOT EXISTS (SELECT 1 FROM arrivals a WHERE a.delivery_id = d.id) ORDER BY d.id FOR UPDATE OF d`, documentID)
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", documentID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// OrganizationClerks lists the enabled clerks of an organisation (who hear
// of what arrives).
func OrganizationClerks(ctx context.Context, q Querier, orgID string) ([]string, error) {
	if !isUUID(orgID) {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
		WHERE u.organization_id = $1 AND r.role = 'clerk' AND u.disabled_at IS NULL ORDER BY u.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("clerks of %s: %w", orgID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// IncomingEntry is a row of incoming_entries: a registered incoming
// document in the incoming register.
type IncomingEntry struct {
	RegisterID     string
	OrganizationID string
	Year           int
	Number         int
	ArrivalID      string
	DocumentID     string
	ArrivedAt      time.Time
	RegisteredAt   time.Time
	RegisteredBy   string
	Issuer         string
	NumberSymbol   string
	IssuedDate     *time.Time
	Type           string
	TypeName       string
	Subject        string
	Receiver       string
	TransferredOn  *time.Time
	Note           string
}

// InsertIncomingEntry records a registered incoming document.
func InsertIncomingEntry(ctx context.Context, q Querier, e IncomingEntry) error {
	_, err := q.Exec(ctx, `
		INSERT INTO incoming_entries (register_id, organization_id, year, number, arrival_id, document_id, arrived_at, registered_at,
			registered_by, issuer, number_symbol, issued_date, type_code, subject, receiver, transferred_on, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		e.RegisterID, e.OrganizationID, e.Year, e.Number, e.ArrivalID, e.DocumentID, e.ArrivedAt, e.RegisteredAt,
		e.RegisteredBy, e.Issuer, e.NumberSymbol, e.IssuedDate, e.Type, e.Subject, e.Receiver, e.TransferredOn, e.Note)
	if isUniqueViolation(err) {
		return fmt.Errorf("incoming entry %d (%d): %w", e.Number, e.Year, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert incoming entry: %w", err)
	}
	return nil
}

// IncomingEntries lists an incoming register's entries of one year in
// number order.
func IncomingEntries(ctx context.Context, q Querier, registerID string, year int) ([]IncomingEntry, error) {
	rows, err := q.Query(ctx, `
		SELECT e.register_id, e.organization_id, e.year, e.number, e.arrival_id, e.document_id, e.arrived_at, e.registered_at,
			e.registered_by, e.issuer, e.number_symbol, e.issued_date, e.type_code, coalesce(t.name, e.type_code), e.subject,
			e.receiver, e.transferred_on, e.note
		FROM incoming_entries e LEFT JOIN document_types t ON t.code = e.type_code
		WHERE e.register_id = $1 AND e.year = $2 ORDER BY e.number`, registerID, year)
	if err != nil {
		return nil, fmt.Errorf("incoming entries: %w", err)
	}
	return collect(rows, func(r pgx.Row) (IncomingEntry, error) {
		var e IncomingEntry
		err := r.Scan(&e.RegisterID, &e.OrganizationID, &e.Year, &e.Number, &e.ArrivalID, &e.DocumentID, &e.ArrivedAt, &e.RegisteredAt,
			&e.RegisteredBy, &e.Issuer, &e.NumberSymbol, &e.IssuedDate, &e.Type, &e.TypeName, &e.Subject, &e.Receiver, &e.TransferredOn, &e.Note)
		return e, err
	})
}

// MarkReceived makes a new document an incoming one: its status received
// and the number and symbol it carries from its issuer.
func MarkReceived(ctx context.Context, q Querier, documentID, status, symbol, searchText string) error {
	_, err := q.Exec(ctx, `UPDATE documents SET status = $2, number = nullif($3, ''), search_text = $4, updated_at = now() WHERE id = $1`,
		documentID, status, symbol, searchText)
	if err != nil {
		return fmt.Errorf("mark document received: %w", err)
	}
	return nil
}

// CloseOpenInboxItems closes what waits for anyone about a document (it
// left handling).
func CloseOpenInboxItems(ctx context.Context, q Querier, documentID string) error {
	_, err := q.Exec(ctx, `UPDATE inbox_items SET state = 'closed' WHERE document_id = $1 AND state = 'open'`, documentID)
	if err != nil {
		return fmt.Errorf("close inbox items of %s: %w", documentID, err)
	}
	return nil
}
