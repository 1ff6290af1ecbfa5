package reception

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
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

// ProcessArrivals makes up to max internal deliveries (to orgID, or to
// every organisation when orgID is "") arrive, each in its own
// transaction: the sent file verified once, the arrival with its report
// written, the delivery marked arrived (the sender sees it), the audit
// entry and the events. The delivery's row stays locked while its file is
// verified, so concurrent processors never verify one delivery twice. It
// returns how many arrived.
func (s *Service) ProcessArrivals(ctx context.Context, orgID string, max int) (int, error) {
	n := 0
	for n < max {
		err := s.DB.InTx(ctx, func(tx pgx.Tx) error { return s.arrive(ctx, tx, orgID) })
		if errors.Is(err, storage.ErrNotFound) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("arrival: %w", err)
		}
		n++
	}
	return n, nil
}

func (s *Service) arrive(ctx context.Context, tx pgx.Tx, orgID string) error {
	d, err := storage.NextPendingDelivery(ctx, tx, orgID)
	if err != nil {
		return err
	}
	verdict, report, err := s.verifyBlob(ctx, d.BlobKey, d.Size, d.FileName)
	if err != nil {
		return err
	}
	number, notation := splitSymbol(d.Symbol)
	var date *time.Time
	if d.IssuedAt != nil {
		day := dateOnly(d.IssuedAt.In(Vietnam))
		date = &day
	}
	a, err := storage.InsertArrival(ctx, tx, storage.Arrival{OrganizationID: d.ReceiverID, Source: "delivery", Medium: "electronic",
		DeliveryID: d.DeliveryID, SentDocumentID: d.DocumentID, FromOrganizationID: d.SenderID, FromName: d.SenderName,
		CodeNumber: number, CodeNotation: notation, IssuedDate: date, Type: d.Type, Subject: d.Subject, SignerName: d.SignerName,
		SignerPosition: d.SignerPosition, Urgency: d.Urgency, Confidentiality: d.Confidentiality,
		DupKey: dupKey(d.SenderName, number, notation, date), BlobKey: d.BlobKey, Size: d.Size, FileName: d.FileName, Signed: d.Signed,
		Verdict: verdict, Verification: report, ArrivedAt: s.now()})
	if err != nil {
		return err
	}
	if err := storage.SetDeliveryStatus(ctx, tx, d.DeliveryID, "arrived", ""); err != nil {
		return err
	}
	err = audit.Append(ctx, tx, audit.Event{ActorName: "system", OrgID: d.ReceiverID, Action: "reception.arrive", Object: "arrival:" + a.ID,
		Details: map[string]any{"delivery": d.DeliveryID, "sent_document": d.DocumentID, "from": d.SenderID, "symbol": d.Symbol,
			"sha256": d.BlobKey, "verdict": verdict}})
	if err != nil {
		return err
	}
	if err := s.announceArrival(ctx, tx, a, "", d.SenderIssuedByID); err != nil {
		return err
	}
	slog.InfoContext(ctx, "document arrived", "arrival", a.ID, "receiver", d.ReceiverID, "sent_document", d.DocumentID, "verdict", verdict)
	return nil
}

// announceArrival tells the receiving organisation's clerks that a
// document arrived and, for a delivery, the sender the same day.
func (s *Service) announceArrival(ctx context.Context, tx pgx.Tx, a storage.Arrival, actorID, senderClerk string) error {
	clerks, err := storage.OrganizationClerks(ctx, tx, a.OrganizationID)
	if err != nil {
		return err
	}
	symbol := symbolOf(a.CodeNumber, a.CodeNotation)
	data := map[string]any{"arrival_id": a.ID, "from": a.FromName, "symbol": symbol, "verdict": a.Verdict, "source": a.Source}
	err = events.Publish(ctx, s.Events, tx, events.Event{Kind: events.DocumentReceived, OrganizationID: a.OrganizationID, ActorID: actorID,
		UserIDs: clerks, Summary: fmt.Sprintf("Văn bản đến %s của %s: %s", symbol, a.FromName, a.Subject), Data: data})
	if err != nil || a.FromOrganizationID == "" {
		return err
	}
	var tell []string
	if senderClerk != "" {
		tell = []string{senderClerk}
	}
	return events.Publish(ctx, s.Events, tx, events.Event{Kind: events.DocumentReceived, OrganizationID: a.FromOrganizationID,
		DocumentID: a.SentDocumentID, UserIDs: tell, Summary: fmt.Sprintf("Văn bản %s đã đến nơi nhận", symbol),
		Data: map[string]any{"arrival_id": a.ID, "receiver": a.OrganizationID, "status": "arrived"}})
}

// Run makes deliveries arrive every interval until ctx ends: an
// organisation's queue is current even when nobody lists it.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.ProcessArrivals(ctx, "", 100); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "processing arrivals", "err", err)
		} else if n > 0 {
			slog.InfoContext(ctx, "arrivals processed", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Upload is what the clerk enters about a document received outside the
// deployment (Appendix VI incoming fields).
type Upload struct {
	From            string // the issuing body (tác giả), required
	Number          string // CodeNumber: digits; may be empty (a letter without number)
	Symbol          string // CodeNotation ("QĐ-UBND"), or the whole "05/QĐ-UBND"
	Date            string // the document's date: YYYY-MM-DD or DD/MM/YYYY
	Type            string
	Subject         string
	Signer          string
	SignerPosition  string
	Urgency         string
	Confidentiality string
	Medium          string // electronic (default) or paper (a scan)
}

var dateForms = []string{time.DateOnly, "02/01/2006", "2/1/2006"}

// CanReceive says whether p may put uploads in their organisation's queue,
// so an upload can be refused before its file is read.
func (s *Service) CanReceive(p accounts.Principal) error {
	if p.OrganizationID == "" {
		return fmt.Errorf("%w: this account belongs to no organisation and has no reception queue", accounts.ErrForbidden)
	}
	return clerkOf(p, p.OrganizationID, true)
}

// CheckUpload validates and normalises an upload's fields, so a bad request
// is refused before its file is stored.
func (s *Service) CheckUpload(ctx context.Context, p accounts.Principal, u Upload) (Upload, *time.Time, error) {
	if err := s.CanReceive(p); err != nil {
		return u, nil, err
	}
	for name, v := range map[string]*string{"from": &u.From, "number": &u.Number, "symbol": &u.Symbol, "date": &u.Date,
		"signer": &u.Signer, "signer_position": &u.SignerPosition, "medium": &u.Medium} {
		if !utf8.ValidString(*v) || strings.ContainsRune(*v, 0) {
			return u, nil, invalid("%s is not valid UTF-8 text", name)
		}
		*v = strings.TrimSpace(norm.NFC.String(*v))
	}
	if u.From == "" || utf8.RuneCountInString(u.From) > 200 {
		return u, nil, because(rFrom, invalid("from (the issuing body, tác giả) is required, at most 200 characters"))
	}
	if u.Number == "" && strings.Contains(u.Symbol, "/") {
		u.Number, u.Symbol = splitSymbol(u.Symbol)
	}
	if !numberPattern.MatchString(u.Number) {
		return u, nil, because(rNumber, invalid("number (số) is digits only, at most 11, such as 05"))
	}
	if utf8.RuneCountInString(u.Symbol) > 30 {
		return u, nil, because(rSymbol, invalid("symbol (ký hiệu) is at most 30 characters, such as QĐ-UBND"))
	}
	if utf8.RuneCountInString(u.Signer) > 200 || utf8.RuneCountInString(u.SignerPosition) > 200 {
		return u, nil, because(rSigner, invalid("signer and signer_position are at most 200 characters"))
	}
	switch u.Medium {
	case "":
		u.Medium = "electronic"
	case "electronic", "paper":
	default:
		return u, nil, because(rMedium, invalid("medium must be electronic or paper (a scan of a paper document)"))
	}
	var date *time.Time
	if u.Date != "" {
		for _, f := range dateForms {
			if t, err := time.Parse(f, u.Date); err == nil && t.Year() >= 1900 && t.Year() <= 9999 {
				date = &t
				break
			}
		}
		if date == nil {
			return u, nil, because(rDateFormat, invalid("date must be the document's date as YYYY-MM-DD or DD/MM/YYYY, not %q", u.Date), u.Date)
		}
		if date.After(dateOnly(s.now().In(Vietnam))) {
			return u, nil, because(rDateFuture, invalid("date %s is after today", u.Date), u.Date)
		}
	}
	m, err := s.Docs.CheckMeta(ctx, p, documents.Meta{Type: u.Type, Subject: u.Subject, Urgency: u.Urgency, Confidentiality: u.Confidentiality})
	if err != nil {
		return u, nil, err
	}
	u.Type, u.Subject, u.Urgency, u.Confidentiality = m.Type, m.Subject, m.Urgency, m.Confidentiality
	return u, date, nil
}

var numberPattern = regexp.MustCompile(`^[0-9]{0,11}$`)

// Receive puts a file a clerk uploaded (stored by documents.StoreFile, the
// upload checks passed) in the organisation's queue: verified once like a
// delivery (a scan without signatures is fine: its report says UNSIGNED),
// with its audit entry. u comes from CheckUpload. The stored file is
// discarded when the arrival is not recorded.
func (s *Service) Receive(ctx context.Context, p accounts.Principal, u Upload, f documents.StoredFile) (Item, error) {
	u, date, err := s.CheckUpload(ctx, p, u)
	if err != nil {
		s.Docs.Discard(ctx, f)
		return Item{}, err
	}
	verdict, report, err := s.verifyBlob(ctx, f.Key, f.Size, f.FileName)
	if err != nil {
		s.Docs.Discard(ctx, f)
		return Item{}, err
	}
	var a storage.Arrival
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if err := s.Docs.CommitFile(ctx, tx, f); err != nil {
			return err
		}
		a, err = storage.InsertArrival(ctx, tx, storage.Arrival{OrganizationID: p.OrganizationID, Source: "upload", Medium: u.Medium,
			FromName: u.From, CodeNumber: u.Number, CodeNotation: u.Symbol, IssuedDate: date, Type: u.Type, Subject: u.Subject,
			SignerName: u.Signer, SignerPosition: u.SignerPosition, Urgency: u.Urgency, Confidentiality: u.Confidentiality,
			DupKey: dupKey(u.From, u.Number, u.Symbol, date), BlobKey: f.Key, Size: f.Size, FileName: f.FileName, Signed: f.Signed,
			Verdict: verdict, Verification: report, ReceivedBy: p.ID, ArrivedAt: s.now()})
		if err != nil {
			return err
		}
		err = audit.Append(ctx, tx, p.Event("reception.upload", "arrival:"+a.ID, map[string]any{"from": u.From,
			"symbol": symbolOf(u.Number, u.Symbol), "medium": u.Medium, "sha256": f.Key, "size": f.Size, "verdict": verdict, "warnings": f.Warnings}))
		if err != nil {
			return err
		}
		return s.announceArrival(ctx, tx, a, p.ID, "")
	})
	if err != nil {
		s.Docs.Discard(ctx, f)
		return Item{}, fmt.Errorf("receive upload: %w", err)
	}
	return item(a), nil
}
