package reception

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage"
)

// Service keeps the reception queues.
type Service struct {
	DB   *storage.DB
	Docs *documents.Service
	// Verify is the deployment's verification (trust anchors, online or
	// offline revocation), run once on every arrival.
	Verify verify.Options
	// TempDir holds arriving files while they are verified ("" is the
	// system's).
	TempDir string
	// Events hears of arrivals, registrations, returns and recalls (nil:
	// nobody).
	Events events.Publisher
	// Now is the clock; nil is time.Now. Số đến years follow it in
	// Vietnam time.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Vietnam is the time zone arrival dates and years are counted in.
var Vietnam = time.FixedZone("+07", 7*3600)

// Refusals a clerk can act on.
var (
	// ErrState: the arrival is not in a state that allows the action
	// (already registered, returned, recalled).
	ErrState = errors.New("the arrival does not allow this now")
)

// DuplicateError refuses registering an arrival that repeats one already
// registered (same issuer, number, symbol and year): it names the earlier
// registration. Registering anyway needs force and a reason.
type DuplicateError struct {
	Earlier Duplicate
}

func (e *DuplicateError) Error() string {
	d := e.Earlier
	return fmt.Sprintf("the same document (issuer, number, symbol and year) was registered already: số đến %d of %s, document %s; register it again only with force and a reason",
		d.ArrivalNumber, d.ArrivalDate, d.DocumentID)
}

func invalid(format string, a ...any) error {
	return &accounts.InputError{Msg: fmt.Sprintf(format, a...)}
}

// clerkOf lets the clerks of orgID act on its queue: someone of another
// organisation (or none) does not find it; a member without the clerk's
// role is refused; a token needs the documents scopes.
func clerkOf(p accounts.Principal, orgID string, write bool) error {
	if orgID == "" || !p.Member(orgID) {
		return storage.ErrNotFound
	}
	a := accounts.DocumentRead
	if write {
		a = accounts.DocumentChange
	}
	if err := accounts.Authorize(p, a, accounts.Target{OrgID: orgID}); err != nil {
		return err
	}
	if !p.Has(storage.RoleClerk) {
		return fmt.Errorf("%w: only the organisation's clerks (văn thư) keep its reception queue", accounts.ErrForbidden)
	}
	return nil
}

// Item is an arrival as the queue shows it (Appendix VI incoming fields).
type Item struct {
	ID                 string          `json:"id"`
	Source             string          `json:"source"` // delivery or upload
	Medium             string          `json:"medium"` // electronic or paper
	From               string          `json:"from"`
	FromOrganizationID string          `json:"from_organization_id,omitempty"`
	Number             string          `json:"number"`   // CodeNumber
	Notation           string          `json:"notation"` // CodeNotation
	Symbol             string          `json:"symbol"`   // number/notation as printed: 05/QĐ-UBND
	Date               string          `json:"date,omitempty"`
	Type               string          `json:"type"`
	Subject            string          `json:"subject"`
	Signer             string          `json:"signer"`
	SignerPosition     string          `json:"signer_position,omitempty"`
	Urgency            string          `json:"urgency"`
	Confidentiality    string          `json:"confidentiality"`
	FileName           string          `json:"file_name"`
	SHA256             string          `json:"sha256"`
	Size               int64           `json:"size"`
	Verdict            string          `json:"verdict"`
	Verification       json.RawMessage `json:"verification"`
	Status             string          `json:"status"`
	Reason             string          `json:"reason,omitempty"`
	ArrivedAt          time.Time       `json:"arrived_at"`
	DocumentID         string          `json:"document_id,omitempty"`
	ArrivalNumber      int             `json:"arrival_number,omitempty"`
	ArrivalDate        string          `json:"arrival_date,omitempty"`
	DuplicateReason    string          `json:"duplicate_reason,omitempty"`
	// Duplicate flags an arrival that repeats another (same issuer,
	// number, symbol and year): the earlier registration, or the earlier
	// arrival still in the queue.
	Duplicate *Duplicate `json:"duplicate,omitempty"`
	Recall    *Recall    `json:"recall,omitempty"`
}

// Duplicate names the arrival an item repeats.
type Duplicate struct {
	ArrivalID     string `json:"arrival_id"`
	ArrivalNumber int    `json:"arrival_number,omitempty"`
	ArrivalDate   string `json:"arrival_date,omitempty"`
	DocumentID    string `json:"document_id,omitempty"`
}

// Recall is the sender's recall of an arrival and its confirmation.
type Recall struct {
	RequestedAt time.Time  `json:"requested_at"`
	Reason      string     `json:"reason"`
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
}

func symbolOf(number, notation string) string {
	switch {
	case number == "":
		return notation
	case notation == "":
		return number
	}
	return number + "/" + notation
}

func item(a storage.Arrival) Item {
	it := Item{ID: a.ID, Source: a.Source, Medium: a.Medium, From: a.FromName, FromOrganizationID: a.FromOrganizationID,
		Number: a.CodeNumber, Notation: a.CodeNotation, Symbol: symbolOf(a.CodeNumber, a.CodeNotation), Type: a.Type, Subject: a.Subject,
		Signer: a.SignerName, SignerPosition: a.SignerPosition, Urgency: a.Urgency, Confidentiality: a.Confidentiality,
		FileName: a.FileName, SHA256: a.BlobKey, Size: a.Size, Verdict: a.Verdict, Verification: json.RawMessage(a.Verification),
		Status: a.Status, Reason: a.Reason, ArrivedAt: a.ArrivedAt.In(Vietnam), DocumentID: a.DocumentID, ArrivalNumber: a.ArrivalNumber,
		DuplicateReason: a.DuplicateReason}
	if a.IssuedDate != nil {
		it.Date = a.IssuedDate.Format(time.DateOnly)
	}
	if a.RegisteredAt != nil {
		it.ArrivalDate = a.RegisteredAt.In(Vietnam).Format(time.DateOnly)
	}
	if a.RecallRequestedAt != nil {
		it.Recall = &Recall{RequestedAt: a.RecallRequestedAt.In(Vietnam), Reason: a.RecallReason, ConfirmedAt: a.RecallConfirmedAt}
	}
	return it
}

func duplicateOf(a storage.Arrival) *Duplicate {
	d := &Duplicate{ArrivalID: a.ID, ArrivalNumber: a.ArrivalNumber, DocumentID: a.DocumentID}
	if a.RegisteredAt != nil {
		d.ArrivalDate = a.RegisteredAt.In(Vietnam).Format(time.DateOnly)
	}
	return d
}

// Queue statuses a listing may ask for; "" is the working queue: what
// waits for registration and the recalls waiting for confirmation.
var queueStatuses = []string{"arrived", "registered", "returned", "recalled", "all"}

const maxListed = 500

// List returns p's organisation's queue. Deliveries addressed to it that
// have not arrived yet are made to arrive first (a few; the processor
// started by Run does the rest), so the clerk sees what was sent.
func (s *Service) List(ctx context.Context, p accounts.Principal, status string) ([]Item, error) {
	if p.OrganizationID == "" {
		return nil, fmt.Errorf("%w: this account belongs to no organisation and has no reception queue", accounts.ErrForbidden)
	}
	if err := clerkOf(p, p.OrganizationID, false); err != nil {
		return nil, err
	}
	var statuses []string
	pendingRecall := false
	switch status {
	case "":
		statuses, pendingRecall = []string{"arrived"}, true
	case "all":
	case "arrived", "registered", "returned", "recalled":
		statuses = []string{status}
	default:
		return nil, invalid("status must be one of %s", strings.Join(queueStatuses, ", "))
	}
	if _, err := s.ProcessArrivals(ctx, p.OrganizationID, 20); err != nil {
		// What arrived before stays listable; the processor retries.
		if ctx.Err() != nil {
			return nil, err
		}
		slog.WarnContext(ctx, "deliveries could not be made to arrive", "organization", p.OrganizationID, "err", err)
	}
	rows, err := storage.ListArrivals(ctx, s.DB.Pool, p.OrganizationID, statuses, pendingRecall, maxListed)
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(rows))
	for _, a := range rows {
		it, err := s.flagged(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// flagged is a's item with its Duplicate flag: an arrival waiting in the
// queue, or one registered anyway with a reason, that repeats an earlier
// registration or an earlier arrival (one query, only for an arrival with
// a duplicate key).
func (s *Service) flagged(ctx context.Context, a storage.Arrival) (Item, error) {
	it := item(a)
	if a.DupKey == "" || (a.Status != "arrived" && a.DuplicateReason == "") {
		return it, nil
	}
	e, err := storage.EarlierArrival(ctx, s.DB.Pool, a.OrganizationID, a.DupKey, a.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return Item{}, err
	case e.DocumentID != "" || e.ArrivedAt.Before(a.ArrivedAt) || (e.ArrivedAt.Equal(a.ArrivedAt) && e.ID < a.ID):
		it.Duplicate = duplicateOf(e)
	}
	return it, nil
}

// Get returns one arrival of p's organisation, flagged as List flags it
// when it repeats another.
func (s *Service) Get(ctx context.Context, p accounts.Principal, id string) (Item, error) {
	a, err := s.arrival(ctx, p, id)
	if err != nil {
		return Item{}, err
	}
	return s.flagged(ctx, a)
}

// arrival reads one arrival of p's organisation.
func (s *Service) arrival(ctx context.Context, p accounts.Principal, id string) (storage.Arrival, error) {
	a, err := storage.GetArrival(ctx, s.DB.Pool, id, false)
	if err != nil {
		return storage.Arrival{}, err
	}
	if err := clerkOf(p, a.OrganizationID, false); err != nil {
		return storage.Arrival{}, err
	}
	return a, nil
}

// OpenFile returns the arrived file of one arrival of p's organisation.
func (s *Service) OpenFile(ctx context.Context, p accounts.Principal, id string) (Item, io.ReadCloser, error) {
	a, err := s.arrival(ctx, p, id)
	if err != nil {
		return Item{}, nil, err
	}
	it := item(a)
	rc, err := s.Docs.Blobs.Open(ctx, it.SHA256, 0, -1)
	if err != nil {
		return it, nil, fmt.Errorf("arrival %s: file: %w", id, err)
	}
	return it, rc, nil
}

// verifyBlob runs the verifier once over a stored file and returns the
// verdict and the report as JSON.
func (s *Service) verifyBlob(ctx context.Context, key string, size int64, fileName string) (string, []byte, error) {
	rc, err := s.Docs.Blobs.Open(ctx, key, 0, -1)
	if err != nil {
		return "", nil, fmt.Errorf("read arrived file: %w", err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(s.TempDir, "vanthu-arrival-*.pdf")
	if err != nil {
		return "", nil, fmt.Errorf("arrival: temporary file: %w", err)
	}
	defer func() { f.Close(); os.Remove(f.Name()) }()
	n, err := io.Copy(f, rc)
	if err == nil && n != size {
		err = fmt.Errorf("%d bytes, want %d", n, size)
	}
	if err != nil {
		return "", nil, fmt.Errorf("read arrived file: %w", err)
	}
	rep, err := verify.Verify(ctx, f, n, s.Verify)
	if err != nil {
		return "", nil, fmt.Errorf("verify arrived file: %w", err)
	}
	if rep.SHA256 != "" && rep.SHA256 != key {
		return "", nil, fmt.Errorf("arrived file %s: the stored bytes hash to %s", key, rep.SHA256)
	}
	rep.File = fileName
	b, err := json.Marshal(rep)
	if err != nil {
		return "", nil, fmt.Errorf("verification report: %w", err)
	}
	return string(rep.Verdict), b, nil
}

// dupKey is the duplicate check's key: the issuer, the number (without
// leading zeros), the notation and the year of the document's date, folded.
// Without a number or a date there is nothing to compare: "".
func dupKey(from, number, notation string, date *time.Time) string {
	number = strings.TrimLeft(number, "0")
	if number == "" || date == nil {
		return ""
	}
	return documents.Fold(from) + "|" + number + "|" + strings.ReplaceAll(documents.Fold(notation), " ", "") + "|" + strconv.Itoa(date.Year())
}

// splitSymbol parses "05/QĐ-UBND" into its number and notation.
func splitSymbol(s string) (number, notation string) {
	s = strings.TrimSpace(s)
	n, rest, ok := strings.Cut(s, "/")
	if ok && n != "" && strings.Trim(n, "0123456789") == "" {
		return n, strings.TrimSpace(rest)
	}
	if strings.Trim(s, "0123456789") == "" {
		return s, ""
	}
	return "", s
}
