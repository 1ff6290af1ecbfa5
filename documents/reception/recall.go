package reception

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// Recalled is one receiver reached by a recall.
type Recalled struct {
	OrganizationID string `json:"organization_id"`
	ArrivalID      string `json:"arrival_id,omitempty"` // empty: recalled before it arrived
	DocumentID     string `json:"document_id,omitempty"`
}

// Recall is the receivers' side of the sender's recall (thu hồi) of its
// issued document sentDocumentID, to be called by the sender's recall in
// its own transaction tx (p is the sender's clerk). Every arrival made
// from the document's deliveries is marked recall-requested, waiting for
// the receiver's confirmation (ConfirmRecall); a registered incoming
// document leaves handling (status recalled, what waited for anyone about
// it closed); a delivery that has not arrived yet is recalled at once (no
// receiver saw it). Each receiver's step has its audit entry, and its
// clerks hear of it (document.recalled). Recalling twice changes nothing
// more.
func (s *Service) Recall(ctx context.Context, tx pgx.Tx, p accounts.Principal, sentDocumentID, reason string) ([]Recalled, error) {
	return s.recall(ctx, tx, p, sentDocumentID, reason)
}

// RecallArrivals is Recall as issuing's recall calls it
// (register.Recaller).
func (s *Service) RecallArrivals(ctx context.Context, tx pgx.Tx, p accounts.Principal, sentDocumentID, reason string) error {
	_, err := s.recall(ctx, tx, p, sentDocumentID, reason)
	return err
}

func (s *Service) recall(ctx context.Context, tx pgx.Tx, p accounts.Principal, sentDocumentID, reason string) ([]Recalled, error) {
	if !storage.IsUUID(sentDocumentID) {
		return nil, storage.ErrNotFound
	}
	at := s.now()
	var out []Recalled
	pending, err := storage.SentDeliveriesOf(ctx, tx, sentDocumentID)
	if err != nil {
		return nil, err
	}
	for _, d := range pending {
		if err := storage.SetDeliveryStatus(ctx, tx, d, "recalled", reason); err != nil {
			return nil, err
		}
		if err := audit.Append(ctx, tx, p.Event("reception.recall", "delivery:"+d, map[string]any{
			"sent_document": sentDocumentID, "reason": reason, "arrived": false})); err != nil {
			return nil, err
		}
	}
	arrivals, err := storage.ArrivalsOfSentDocument(ctx, tx, sentDocumentID)
	if err != nil {
		return nil, err
	}
	for _, a := range arrivals {
		if a.RecallRequestedAt != nil || a.Status == "returned" {
			continue
		}
		if err := storage.ArrivalRecallRequested(ctx, tx, a.ID, reason, at); err != nil {
			return nil, err
		}
		if a.DocumentID != "" {
			if err := storage.SetDocumentStatus(ctx, tx, a.DocumentID, documents.StatusRecalled); err != nil {
				return nil, err
			}
			if err := storage.CloseOpenInboxItems(ctx, tx, a.DocumentID); err != nil {
				return nil, err
			}
		}
		err := audit.Append(ctx, tx, p.Event("reception.recall", "arrival:"+a.ID, map[string]any{
			"sent_document": sentDocumentID, "receiver": a.OrganizationID, "document": a.DocumentID, "reason": reason, "arrived": true}))
		if err != nil {
			return nil, err
		}
		clerks, err := storage.OrganizationClerks(ctx, tx, a.OrganizationID)
		if err != nil {
			return nil, err
		}
		symbol := symbolOf(a.CodeNumber, a.CodeNotation)
		err = events.Publish(ctx, s.Events, tx, events.Event{Kind: events.DocumentRecalled, OrganizationID: a.OrganizationID,
			DocumentID: a.DocumentID, ActorID: p.ID, UserIDs: clerks,
			Summary: fmt.Sprintf("%s thu hồi văn bản %s: %s", a.FromName, symbol, reason),
			Data:    map[string]any{"arrival_id": a.ID, "symbol": symbol, "reason": reason, "status": "recall_requested"}})
		if err != nil {
			return nil, err
		}
		out = append(out, Recalled{OrganizationID: a.OrganizationID, ArrivalID: a.ID, DocumentID: a.DocumentID})
	}
	return out, nil
}

// ConfirmRecall is the receiving clerk's confirmation that a recalled
// document was taken out of use: the arrival becomes recalled, the
// sender's delivery shows recalled, with the audit entry and the event to
// the sender, in one transaction.
func (s *Service) ConfirmRecall(ctx context.Context, p accounts.Principal, id string) (Item, error) {
	if _, err := s.loadForClerk(ctx, p, id); err != nil {
		return Item{}, err
	}
	var a storage.Arrival
	err := s.DB.InTx(ctx, func(tx pgx.Tx) (err error) {
		if a, err = storage.GetArrival(ctx, tx, id, true); err != nil {
			return err
		}
		switch {
		case a.RecallRequestedAt == nil:
			return because(rNotRecalled, fmt.Errorf("%w: its sender has not recalled it", ErrState))
		case a.RecallConfirmedAt != nil:
			return because(rRecallConfirmed, fmt.Errorf("%w: the recall was confirmed already", ErrState))
		}
		at := s.now()
		if err := storage.ArrivalRecallConfirmed(ctx, tx, a.ID, p.ID, at); err != nil {
			return err
		}
		if a.DeliveryID != "" {
			if err := storage.SetDeliveryStatus(ctx, tx, a.DeliveryID, "recalled", a.RecallReason); err != nil {
				return err
			}
		}
		if err := audit.Append(ctx, tx, p.Event("reception.confirm_recall", "arrival:"+a.ID, map[string]any{
			"sent_document": a.SentDocumentID, "document": a.DocumentID, "reason": a.RecallReason})); err != nil {
			return err
		}
		if a.FromOrganizationID != "" {
			err = events.Publish(ctx, s.Events, tx, events.Event{Kind: events.DocumentRecalled, OrganizationID: a.FromOrganizationID,
				DocumentID: a.SentDocumentID, ActorID: p.ID, Summary: "Nơi nhận đã xác nhận thu hồi văn bản",
				Data: map[string]any{"receiver": a.OrganizationID, "status": "recalled", "confirmed": true}})
			if err != nil {
				return err
			}
		}
		a, err = storage.GetArrival(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return Item{}, err
	}
	return item(a), nil
}
