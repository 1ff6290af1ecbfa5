package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Certification is a row of certifications: one request to certify copies
// of a citizen's paper original (documents/certify).
type Certification struct {
	ID                string     `json:"id"`
	OrganizationID    string     `json:"organization_id"`
	Status            string     `json:"status"`
	RequesterName     string     `json:"requester_name"`
	RequesterIDNumber string     `json:"requester_id_number"`
	OriginalName      string     `json:"original_name"`
	PageCount         int        `json:"page_count"`
	Copies            int        `json:"copies"`
	Fee               int64      `json:"fee"`
	ReceivedAt        time.Time  `json:"received_at"`
	DueAt             time.Time  `json:"due_at"`
	OpenedBy          string     `json:"opened_by"`
	CreatedAt         time.Time  `json:"created_at"`
	ScanSHA256        string     `json:"scan_sha256,omitempty"`
	ScanSize          int64      `json:"scan_size,omitempty"`
	ScanFileName      string     `json:"scan_file_name,omitempty"`
	ScannedBy         string     `json:"scanned_by,omitempty"`
	ScannedAt         *time.Time `json:"scanned_at,omitempty"`
	RefusalReasons    []string   `json:"refusal_reasons"`
	RefusalNote       string     `json:"refusal_note,omitempty"`
	RefusedBy         string     `json:"refused_by,omitempty"`
	RefusedAt         *time.Time `json:"refused_at,omitempty"`
	RegisterID        string     `json:"register_id,omitempty"`
	Year              int        `json:"year,omitempty"`
	Number            int        `json:"number,omitempty"`
	Book              string     `json:"book,omitempty"`
	CertifiedBy       string     `json:"certified_by,omitempty"`
	CertifierName     string     `json:"certifier_name,omitempty"`
	CertifierTitle    string     `json:"certifier_title,omitempty"`
	CertifiedAt       *time.Time `json:"certified_at,omitempty"`
	OnTime            *bool      `json:"on_time,omitempty"`
	LinkExpiresAt     *time.Time `json:"link_expires_at,omitempty"`
	ReceiptSHA256     string     `json:"-"`
}

// Certification statuses.
const (
	CertificationReceived  = "received"
	CertificationScanned   = "scanned"
	CertificationRefused   = "refused"
	CertificationCertified = "certified"
)

const certificationColumns = `id, organization_id, status, requester_name, requester_id_number, original_name, page_count, copies, fee,
	received_at, due_at, opened_by, created_at, coalesce(scan_blob_key, ''), coalesce(scan_size, 0), scan_file_name,
	coalesce(scanned_by::text, ''), scanned_at, refusal_reasons, refusal_note, coalesce(refused_by::text, ''), refused_at,
	coalesce(register_id::text, ''), coalesce(year, 0), coalesce(number, 0), book, coalesce(certified_by::text, ''),
	certifier_name, certifier_title, certified_at, on_time, link_expires_at, coalesce(receipt_blob_key, '')`

func scanCertification(row pgx.Row) (Certification, error) {
	var c Certification
	err := row.Scan(&c.ID, &c.OrganizationID, &c.Status, &c.RequesterName, &c.RequesterIDNumber, &c.OriginalName, &c.PageCount, &c.Copies, &c.Fee,
		&c.ReceivedAt, &c.DueAt, &c.OpenedBy, &c.CreatedAt, &c.ScanSHA256, &c.ScanSize, &c.ScanFileName,
		&c.ScannedBy, &c.ScannedAt, &c.RefusalReasons, &c.RefusalNote, &c.RefusedBy, &c.RefusedAt,
		&c.RegisterID, &c.Year, &c.Number, &c.Book, &c.CertifiedBy,
		&c.CertifierName, &c.CertifierTitle, &c.CertifiedAt, &c.OnTime, &c.LinkExpiresAt, &c.ReceiptSHA256)
	if errors.Is(err, pgx.ErrNoRows) {
		return Certification{}, ErrNotFound
	}
	if err != nil {
		return Certification{}, fmt.Errorf("read certification: %w", err)
	}
	return c, nil
}

// InsertCertification records a new request and returns it.
func InsertCertification(ctx context.Context, q Querier, c Certification) (Certification, error) {
	return scanCertification(q.QueryRow(ctx, `
		INSERT INTO certifications (organization_id, requester_name, requester_id_number, original_name, page_count, copies, fee,
			received_at, due_at, opened_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+certificationColumns,
		c.OrganizationID, c.RequesterName, c.RequesterIDNumber, c.OriginalName, c.PageCount, c.Copies, c.Fee, c.ReceivedAt, c.DueAt, c.OpenedBy))
}

// GetCertification reads a request; forUpdate locks its row in tx.
func GetCertification(ctx context.Context, q Querier, id string, forUpdate bool) (Certification, error) {
	if !isUUID(id) {
		return Certification{}, ErrNotFound
	}
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE"
	}
	return scanCertification(q.QueryRow(ctx, "SELECT "+certificationColumns+" FROM certifications WHERE id = $1"+lock, id))
}

// SetCertificationScan records the scan of a request.
func SetCertificationScan(ctx context.Context, q Querier, id, blobKey string, size int64, fileName, by string, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE certifications SET status = 'scanned', scan_blob_key = $2, scan_size = $3, scan_file_name = $4,
		scanned_by = $5, scanned_at = $6 WHERE id = $1`, id, blobKey, size, fileName, by, at)
	if err != nil {
		return fmt.Errorf("record scan: %w", err)
	}
	return nil
}

// RefuseCertification records the refusal of a request.
func RefuseCertification(ctx context.Context, q Querier, id string, reasons []string, note, by string, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE certifications SET status = 'refused', refusal_reasons = $2, refusal_note = $3, refused_by = $4, refused_at = $5
		WHERE id = $1`, id, reasons, note, by, at)
	if err != nil {
		return fmt.Errorf("record refusal: %w", err)
	}
	return nil
}

// CertifiedRecord is what certifying writes on a request.
type CertifiedRecord struct {
	RegisterID, Book         string
	Year, Number             int
	By, CertifierName, Title string
	At                       time.Time
	LinkHash                 []byte
	LinkExpiresAt            time.Time
	ReceiptSHA256            string
}

// MarkCertified records the certification of a request.
func MarkCertified(ctx context.Context, q Querier, id string, r CertifiedRecord) error {
	_, err := q.Exec(ctx, `UPDATE certifications SET status = 'certified', register_id = $2, year = $3, number = $4, book = $5,
		certified_by = $6, certifier_name = $7, certifier_title = $8, certified_at = $9, link_hash = $10, link_expires_at = $11,
		receipt_blob_key = $12 WHERE id = $1`,
		id, r.RegisterID, r.Year, r.Number, r.Book, r.By, r.CertifierName, r.Title, r.At, r.LinkHash, r.LinkExpiresAt, r.ReceiptSHA256)
	if err != nil {
		return fmt.Errorf("record certification: %w", err)
	}
	return nil
}

// CertificationByLink finds the request whose download link hashes to
// hash.
func CertificationByLink(ctx context.Context, q Querier, hash []byte) (Certification, error) {
	return scanCertification(q.QueryRow(ctx, "SELECT "+certificationColumns+" FROM certifications WHERE link_hash = $1", hash))
}

// CertifiedCopy is a row of certified_copies.
type CertifiedCopy struct {
	ID              string    `json:"id"`
	CertificationID string    `json:"certification_id"`
	CopyNumber      int       `json:"copy_number"`
	SHA256          string    `json:"sha256"`
	Size            int64     `json:"size"`
	CreatedAt       time.Time `json:"created_at"`
}

// InsertCertifiedCopy records one certified copy.
func InsertCertifiedCopy(ctx context.Context, q Querier, c CertifiedCopy) (CertifiedCopy, error) {
	err := q.QueryRow(ctx, `INSERT INTO certified_copies (certification_id, copy_number, blob_key, size) VALUES ($1, $2, $3, $4)
		RETURNING id, created_at`, c.CertificationID, c.CopyNumber, c.SHA256, c.Size).Scan(&c.ID, &c.CreatedAt)
	if err != nil {
		return CertifiedCopy{}, fmt.Errorf("record certified copy: %w", err)
	}
	return c, nil
}

// CertifiedCopies lists a request's copies in order.
func CertifiedCopies(ctx context.Context, q Querier, certificationID string) ([]CertifiedCopy, error) {
	rows, err := q.Query(ctx, `SELECT id, certification_id, copy_number, blob_key, size, created_at FROM certified_copies
		WHERE certification_id = $1 ORDER BY copy_number`, certificationID)
	if err != nil {
		return nil, fmt.Errorf("list certified copies: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CertifiedCopy, error) {
		var c CertifiedCopy
		err := r.Scan(&c.ID, &c.CertificationID, &c.CopyNumber, &c.SHA256, &c.Size, &c.CreatedAt)
		return c, err
	})
}

// CertifiedRegister lists the certifications a certified-copies register
// numbered in year, in number order.
func CertifiedRegister(ctx context.Context, q Querier, registerID string, year int) ([]Certification, error) {
	if !isUUID(registerID) {
		return nil, ErrNotFound
	}
	rows, err := q.Query(ctx, "SELECT "+certificationColumns+` FROM certifications
		WHERE register_id = $1 AND year = $2 AND number IS NOT NULL ORDER BY number`, registerID, year)
	if err != nil {
		return nil, fmt.Errorf("certified-copies register: %w", err)
	}
	defer rows.Close()
	var out []Certification
	for rows.Next() {
		c, err := scanCertification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
