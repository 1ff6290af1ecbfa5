package register

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// ErrNotIssued: only an issued document is recalled (again: it already was).
var ErrNotIssued = errors.New("the document is not issued")

// Recalled is what a recall did.
type Recalled struct {
	DocumentID string    `json:"document_id"`
	Status     string    `json:"status"`
	RecalledAt time.Time `json:"recalled_at"`
	Reason     string    `json:"reason"`
	// Deliveries is how many deliveries were marked recalled.
	Deliveries int `json:"deliveries"`
}

const maxRecallReason = 2000

// Recall recalls (thu hồi) an issued document, for a clerk of the issuing
// organisation, with a reason: in one transaction the document is frozen
// (status recalled: no new version, no issue again), each delivery is marked
// recalled, the receivers' copies are taken out of handling (Recaller), the
// recall is audited and document.recalled published.
func (s *Service) Recall(ctx context.Context, p accounts.Principal, documentID, reason string) (Recalled, error) {
	reason = strings.TrimSpace(norm.NFC.String(reason))
	if !utf8.ValidString(reason) || strings.IndexByte(reason, 0) >= 0 {
		return Recalled{}, because(rRecallReason, invalid("reason is not valid text"))
	}
	if reason == "" || utf8.RuneCountInString(reason) > maxRecallReason {
		return Recalled{}, because(rRecallReason, invalid("reason is required (why the document is recalled), at most %d characters", maxRecallReason), maxRecallReason)
	}
	doc, err := s.Docs.Get(ctx, p, documentID)
	if err != nil {
		return Recalled{}, err
	}
	if !p.Member(doc.OrganizationID) {
		// A receiving organisation sees the document; recalling it is the
		// issuer's.
		return Recalled{}, fmt.Errorf("%w: only the issuing organisation's clerks recall its documents", accounts.ErrForbidden)
	}
	if !p.Has(storage.RoleClerk) {
		return Recalled{}, fmt.Errorf("%w: only the organisation's clerks (văn thư) recall documents", accounts.ErrForbidden)
	}
	at := s.now()
	var out Recalled
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if err := storage.LockDocument(ctx, tx, doc.ID); err != nil {
			return err
		}
		d, err := storage.GetDocument(ctx, tx, doc.ID)
		if err != nil {
			return err
		}
		if d.Status != documents.StatusIssued {
			return because(rNotIssued, fmt.Errorf("%w: its status is %s; only an issued document is recalled", ErrNotIssued, d.Status))
		}
		if err := storage.MarkRecalled(ctx, tx, d.ID, reason, at); err != nil {
			return err
		}
		n, err := storage.RecallDeliveries(ctx, tx, d.ID, reason, at)
		if err != nil {
			return err
		}
		if s.Recaller != nil {
			if err := s.Recaller.RecallArrivals(ctx, tx, p, d.ID, reason); err != nil {
				return fmt.Errorf("recall the receivers' copies: %w", err)
			}
		}
		symbol := ""
		if d.Number != nil {
			symbol = *d.Number
		}
		err = audit.Append(ctx, tx, p.Event("document.recall", "document:"+d.ID, map[string]any{
			"symbol": symbol, "reason": reason, "deliveries": n, "recalled_at": at.In(Vietnam).Format(time.RFC3339)}))
		if err != nil {
			return err
		}
		err = events.Publish(ctx, s.Events, tx, events.Event{Kind: events.DocumentRecalled, OrganizationID: d.OrganizationID, DocumentID: d.ID,
			ActorID: p.ID, UserIDs: []string{d.CreatedBy}, Summary: fmt.Sprintf("Văn bản %s đã bị thu hồi: %s", symbol, reason),
			Data: map[string]any{"symbol": symbol, "reason": reason, "deliveries": n, "recalled_at": at.In(Vietnam).Format(time.RFC3339)}})
		if err != nil {
			return fmt.Errorf("publish document.recalled: %w", err)
		}
		out = Recalled{DocumentID: d.ID, Status: documents.StatusRecalled, RecalledAt: at.In(Vietnam), Reason: reason, Deliveries: n}
		return nil
	})
	if err != nil {
		return Recalled{}, err
	}
	slog.InfoContext(ctx, "document recalled", "document", doc.ID, "clerk", p.Username, "deliveries", out.Deliveries)
	return out, nil
}
