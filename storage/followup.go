package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// FollowUpEntry is a registered incoming document with what its handling
// says of it: the row of the follow-up register (sổ theo dõi giải quyết
// văn bản đến).
type FollowUpEntry struct {
	IncomingEntry
	DocumentStatus string     // the incoming document's status (received, recalled)
	HandlingStatus string     // registered, presented, assigned or completed
	DueAt          *time.Time // the lead's deadline, the document's
	CompletedAt    *time.Time
	Lead           string   // the lead unit's name or the lead person's full name
	Coordinating   []string // coordinating units or people, in the order given
	LastNote       string   // the latest progress or completion note
	ReplySymbol    string   // the reply's number and symbol ("" when it has none yet)
	ReplyID        string
}

// FollowUpEntries lists an incoming register's entries of a year whose
// arrival (ngày đến) lies in [from, to) — either may be zero for no bound —
// with their handling, in số đến order. One statement: the lead, the
// coordinating parts and the latest note are read per entry by index.
func FollowUpEntries(ctx context.Context, q Querier, registerID string, year int, from, to time.Time) ([]FollowUpEntry, error) {
	var fromP, toP *time.Time
	if !from.IsZero() {
		fromP = &from
	}
	if !to.IsZero() {
		toP = &to
	}
	rows, err := q.Query(ctx, `
		SELECT e.register_id, e.organization_id, e.year, e.number, e.arrival_id, e.document_id, e.arrived_at, e.registered_at,
			e.registered_by, e.issuer, e.number_symbol, e.issued_date, e.type_code, coalesce(t.name, e.type_code), e.subject,
			e.receiver, e.transferred_on, e.note,
			d.status, coalesce(h.status, ''), h.due_at, h.completed_at,
			coalesce((SELECT coalesce(u.name, us.full_name) FROM assignments a
				LEFT JOIN units u ON u.id = a.unit_id LEFT JOIN users us ON us.id = a.user_id
				WHERE a.document_id = e.document_id AND a.role = 'lead' AND a.parent_id IS NULL), ''),
			coalesce((SELECT array_agg(coalesce(u.name, us.full_name) ORDER BY a.seq) FROM assignments a
				LEFT JOIN units u ON u.id = a.unit_id LEFT JOIN users us ON us.id = a.user_id
				WHERE a.document_id = e.document_id AND a.role = 'coordinate' AND a.parent_id IS NULL), '{}'),
			coalesce((SELECT x.note FROM handling_actions x WHERE x.document_id = e.document_id
				AND x.action IN ('progress', 'complete') AND x.note <> '' ORDER BY x.id DESC LIMIT 1), ''),
			coalesce(rd.number, ''), coalesce(rd.id::text, '')
		FROM incoming_entries e
		JOIN documents d ON d.id = e.document_id
		LEFT JOIN document_types t ON t.code = e.type_code
		LEFT JOIN document_handling h ON h.document_id = e.document_id
		LEFT JOIN documents rd ON rd.id = h.reply_document_id
		WHERE e.register_id = $1 AND e.year = $2
			AND ($3::timestamptz IS NULL OR e.arrived_at >= $3) AND ($4::timestamptz IS NULL OR e.arrived_at < $4)
		ORDER BY e.number`, registerID, year, fromP, toP)
	if err != nil {
		return nil, fmt.Errorf("follow-up entries: %w", err)
	}
	return collect(rows, func(r pgx.Row) (FollowUpEntry, error) {
		var f FollowUpEntry
		e := &f.IncomingEntry
		err := r.Scan(&e.RegisterID, &e.OrganizationID, &e.Year, &e.Number, &e.ArrivalID, &e.DocumentID, &e.ArrivedAt, &e.RegisteredAt,
			&e.RegisteredBy, &e.Issuer, &e.NumberSymbol, &e.IssuedDate, &e.Type, &e.TypeName, &e.Subject, &e.Receiver, &e.TransferredOn, &e.Note,
			&f.DocumentStatus, &f.HandlingStatus, &f.DueAt, &f.CompletedAt, &f.Lead, &f.Coordinating, &f.LastNote, &f.ReplySymbol, &f.ReplyID)
		return f, err
	})
}
