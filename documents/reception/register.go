package reception

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
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/storage"
)

// RegisterRequest is the clerk's registration of an arrival; every field
// is optional.
type RegisterRequest struct {
	// Receiver is the unit or person the document goes to (đơn vị hoặc
	// người nhận), as the register prints it.
	Receiver string `json:"receiver"`
	Note     string `json:"note"`
	// Force registers a duplicate all the same; Reason (required then)
	// says why, and is recorded.
	Force  bool   `json:"force"`
	Reason string `json:"reason"`
	// LeadUnitID sends the registered document straight to its lead unit
	// (chủ trì), with Due, where the organisation's rules allow the văn
	// thư to (documents/handling SendToUnit); otherwise it waits to be
	// presented to a leader.
	LeadUnitID string        `json:"lead_unit_id,omitempty"`
	Due        *handling.Due `json:"due,omitempty"`
}

// Registered is what registration gives an arrival.
type Registered struct {
	ArrivalNumber int    `json:"arrival_number"` // số đến
	ArrivalDate   string `json:"arrival_date"`   // ngày đến, Vietnam time
	DocumentID    string `json:"document_id"`
	// SentToUnit: the document went straight to LeadUnitID.
	SentToUnit   bool      `json:"sent_to_unit,omitempty"`
	RegisterID   string    `json:"register_id"`
	RegisteredAt time.Time `json:"registered_at"`
}

// cleanText is a form's free text, refused for reason (its wording takes
// max) when it is no text or longer than max.
func cleanText(reason refusal.Reason, field, v string, max int) (string, error) {
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", because(reason, invalid("%s is not valid UTF-8 text", field), max)
	}
	v = strings.TrimSpace(norm.NFC.String(v))
	if utf8.RuneCountInString(v) > max {
		return "", because(reason, invalid("%s is at most %d characters", field, max), max)
	}
	return v, nil
}

// loadForClerk reads an arrival and decides whether p may act on it,
// before anything is locked.
func (s *Service) loadForClerk(ctx context.Context, p accounts.Principal, id string) (storage.Arrival, error) {
	a, err := storage.GetArrival(ctx, s.DB.Pool, id, false)
	if err != nil {
		return a, err
	}
	return a, clerkOf(p, a.OrganizationID, true)
}

// Register gives an arrival its số đến in the organisation's default
// incoming register and makes it an incoming document, in one transaction
// with the register entry, the delivery's status (registered), the audit
// entry and the events: a failure or a crash before commit takes no
// number. A duplicate of a registered arrival is refused with a
// *DuplicateError unless forced with a reason.
func (s *Service) Register(ctx context.Context, p accounts.Principal, id string, req RegisterRequest) (Registered, error) {
	if _, err := s.loadForClerk(ctx, p, id); err != nil {
		return Registered{}, err
	}
	var err error
	if req.Receiver, err = cleanText(rReceiverLong, "receiver", req.Receiver, 500); err != nil {
		return Registered{}, err
	}
	if req.Note, err = cleanText(rNoteLong, "note", req.Note, 500); err != nil {
		return Registered{}, err
	}
	if req.Reason, err = cleanText(rReasonLong, "reason", req.Reason, 500); err != nil {
		return Registered{}, err
	}
	if req.Force && req.Reason == "" {
		return Registered{}, because(rForceReason, invalid("force needs a reason: why the duplicate is registered again"))
	}
	var out Registered
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		out, err = s.register(ctx, tx, p, id, req)
		return err
	})
	if errors.Is(err, storage.ErrConflict) {
		// The unique index caught a duplicate registered concurrently.
		return Registered{}, because(rDuplicateMeanwhile, fmt.Errorf("%w: a duplicate of this arrival was registered meanwhile; list the queue again", ErrState))
	}
	if err != nil {
		return Registered{}, err
	}
	slog.InfoContext(ctx, "arrival registered", "arrival", id, "number", out.ArrivalNumber, "document", out.DocumentID, "clerk", p.Username)
	return out, nil
}

func (s *Service) register(ctx context.Context, tx pgx.Tx, p accounts.Principal, id string, req RegisterRequest) (Registered, error) {
	a, err := storage.GetArrival(ctx, tx, id, true)
	if err != nil {
		return Registered{}, err
	}
	if err := registrable(a); err != nil {
		return Registered{}, err
	}
	duplicateReason := ""
	var earlier *Duplicate
	if a.DupKey != "" {
		// Registrations of one key wait for each other, so the check below
		// sees any registration that committed before.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "arrival:"+a.OrganizationID+":"+a.DupKey); err != nil {
			return Registered{}, fmt.Errorf("duplicate lock: %w", err)
		}
		e, err := storage.EarlierArrival(ctx, tx, a.OrganizationID, a.DupKey, a.ID)
		switch {
		case err == nil && e.DocumentID != "":
			earlier = duplicateOf(e)
			if !req.Force {
				return Registered{}, &DuplicateError{Earlier: *earlier}
			}
			duplicateReason = req.Reason
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return Registered{}, err
		}
	}
	reg, err := defaultIncoming(ctx, tx, a.OrganizationID)
	if err != nil {
		return Registered{}, err
	}
	at := s.now()
	year := at.In(Vietnam).Year()
	number, err := storage.NextRegisterNumber(ctx, tx, reg.ID, year)
	if err != nil {
		return Registered{}, err
	}
	symbol := symbolOf(a.CodeNumber, a.CodeNotation)
	var symbolPtr *string
	if symbol != "" {
		symbolPtr = &symbol
	}
	doc, err := storage.InsertDocument(ctx, tx, storage.Document{Type: a.Type, Subject: a.Subject, Urgency: a.Urgency,
		Confidentiality: a.Confidentiality, OrganizationID: a.OrganizationID, CreatedBy: p.ID, SearchText: documents.SearchText(a.Subject, symbolPtr)})
	if err != nil {
		return Registered{}, err
	}
	if err := storage.MarkReceived(ctx, tx, doc.ID, documents.StatusReceived, symbol, documents.SearchText(a.Subject+" "+a.FromName, symbolPtr)); err != nil {
		return Registered{}, err
	}
	v, err := storage.InsertVersion(ctx, tx, storage.Version{DocumentID: doc.ID, SHA256: a.BlobKey, Size: a.Size, FileName: a.FileName,
		Signed: a.Signed, CreatedBy: p.ID})
	if err != nil {
		return Registered{}, err
	}
	err = storage.InsertIncomingEntry(ctx, tx, storage.IncomingEntry{RegisterID: reg.ID, OrganizationID: a.OrganizationID, Year: year,
		Number: number, ArrivalID: a.ID, DocumentID: doc.ID, ArrivedAt: a.ArrivedAt, RegisteredAt: at, RegisteredBy: p.ID,
		Issuer: a.FromName, NumberSymbol: symbol, IssuedDate: a.IssuedDate, Type: a.Type, Subject: a.Subject, Receiver: req.Receiver,
		Note: req.Note})
	if err != nil {
		return Registered{}, err
	}
	// The registered document waits to be presented and assigned.
	if err := handling.Open(ctx, tx, doc.ID, a.OrganizationID, a.ArrivedAt); err != nil {
		return Registered{}, fmt.Errorf("open handling: %w", err)
	}
	if req.LeadUnitID != "" {
		h := &handling.Service{DB: s.DB, Events: s.Events, Now: s.Now}
		if err := h.SendToUnitTx(ctx, tx, p, doc.ID, handling.SendRequest{UnitID: req.LeadUnitID, Due: req.Due}); err != nil {
			return Registered{}, err
		}
	}
	if err := storage.ArrivalRegistered(ctx, tx, a.ID, doc.ID, duplicateReason); err != nil {
		return Registered{}, err
	}
	if a.DeliveryID != "" {
		if err := storage.SetDeliveryStatus(ctx, tx, a.DeliveryID, "registered", ""); err != nil {
			return Registered{}, err
		}
	}
	details := map[string]any{"arrival": a.ID, "register": reg.ID, "year": year, "number": number, "from": a.FromName,
		"symbol": symbol, "version": v.Number, "sha256": a.BlobKey}
	if earlier != nil {
		details["duplicate_of"] = earlier.ArrivalID
		details["duplicate_reason"] = duplicateReason
	}
	if err := audit.Append(ctx, tx, p.Event("reception.register", "document:"+doc.ID, details)); err != nil {
		return Registered{}, err
	}
	out := Registered{ArrivalNumber: number, ArrivalDate: at.In(Vietnam).Format(time.DateOnly), DocumentID: doc.ID, RegisterID: reg.ID, RegisteredAt: at,
		SentToUnit: req.LeadUnitID != ""}
	data := map[string]any{"arrival_id": a.ID, "arrival_number": number, "arrival_date": out.ArrivalDate, "symbol": symbol, "from": a.FromName}
	err = events.Publish(ctx, s.Events, tx, events.Event{Kind: events.DocumentRegistered, OrganizationID: a.OrganizationID, DocumentID: doc.ID,
		ActorID: p.ID, Summary: fmt.Sprintf("Văn bản đến %s của %s vào sổ, số đến %d", symbol, a.FromName, number), Data: data})
	if err != nil {
		return Registered{}, err
	}
	if a.FromOrganizationID != "" {
		err = events.Publish(ctx, s.Events, tx, events.Event{Kind: events.DocumentRegistered, OrganizationID: a.FromOrganizationID,
			DocumentID: a.SentDocumentID, Summary: fmt.Sprintf("Văn bản %s đã được nơi nhận vào sổ văn bản đến", symbol),
			Data: map[string]any{"receiver": a.OrganizationID, "status": "registered", "arrival_number": number, "arrival_date": out.ArrivalDate}})
		if err != nil {
			return Registered{}, err
		}
	}
	return out, nil
}

// registrable refuses what is not waiting for registration.
func registrable(a storage.Arrival) error {
	switch {
	case a.RecallRequestedAt != nil:
		return because(rRecalled, fmt.Errorf("%w: its sender recalled it (%s); confirm the recall instead", ErrState, a.RecallReason))
	case a.Status == "registered":
		return because(rRegistered, fmt.Errorf("%w: it is registered already (số đến %d, document %s)", ErrState, a.ArrivalNumber, a.DocumentID), a.ArrivalNumber)
	case a.Status != "arrived":
		return because(rClosed, fmt.Errorf("%w: it was %s", ErrState, a.Status))
	}
	return nil
}

// defaultIncoming is the organisation's default incoming register: one số
// đến series per organisation and year, paper and electronic together.
func defaultIncoming(ctx context.Context, q storage.Querier, orgID string) (storage.Register, error) {
	all, err := storage.ListRegisters(ctx, q, orgID)
	if err != nil {
		return storage.Register{}, err
	}
	for _, r := range all {
		if r.Kind == storage.RegisterIncoming && r.Default {
			return r, nil
		}
	}
	return storage.Register{}, fmt.Errorf("the organisation has no default incoming register")
}

// Return sends an arrival back to its sender with the reason (an invalid
// or misdirected document): the arrival leaves the queue, the sender's
// delivery shows returned with the reason, with the audit entry and the
// event, in one transaction.
func (s *Service) Return(ctx context.Context, p accounts.Principal, id, reason string) (Item, error) {
	if _, err := s.loadForClerk(ctx, p, id); err != nil {
		return Item{}, err
	}
	reason, err := cleanText(rReasonLong, "reason", reason, 1000)
	if err != nil {
		return Item{}, err
	}
	if reason == "" {
		return Item{}, because(rReturnReason, invalid("reason is required: why the document goes back to its sender"))
	}
	var a storage.Arrival
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if a, err = storage.GetArrival(ctx, tx, id, true); err != nil {
			return err
		}
		if err := registrable(a); err != nil {
			return err
		}
		if err := storage.ArrivalReturned(ctx, tx, a.ID, reason); err != nil {
			return err
		}
		if a.DeliveryID != "" {
			if err := storage.SetDeliveryStatus(ctx, tx, a.DeliveryID, "returned", reason); err != nil {
				return err
			}
		}
		err := audit.Append(ctx, tx, p.Event("reception.return", "arrival:"+a.ID, map[string]any{"reason": reason,
			"from": a.FromName, "sent_document": a.SentDocumentID, "symbol": symbolOf(a.CodeNumber, a.CodeNotation)}))
		if err != nil {
			return err
		}
		if a.FromOrganizationID == "" {
			return nil
		}
		return events.Publish(ctx, s.Events, tx, events.Event{Kind: events.DocumentReturned, OrganizationID: a.FromOrganizationID,
			DocumentID: a.SentDocumentID, ActorID: p.ID, Summary: "Văn bản bị nơi nhận trả lại: " + reason,
			Data: map[string]any{"receiver": a.OrganizationID, "status": "returned", "reason": reason}})
	})
	if err != nil {
		return Item{}, err
	}
	a.Status, a.Reason = "returned", reason
	return item(a), nil
}
