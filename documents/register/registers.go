package register

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/storage"
)

// Service keeps registers and issues documents.
type Service struct {
	DB       *storage.DB
	Docs     *documents.Service
	Accounts *accounts.Service
	// TSAURL, HTTPClient and Extender make the organisation's signature at
	// its PAdES level, as for a signer's (see documents/docsign).
	TSAURL     string
	HTTPClient *http.Client
	Extender   signing.Extender
	// TempDir holds the files being sealed ("" is the system's).
	TempDir string
	// Now is the clock; nil is time.Now. Numbering years follow it in
	// Vietnam time.
	Now func() time.Time
	// SealImage gives the organisation's seal (a transparent image drawn at
	// real size); nil, or a nil image, makes a text-only appearance.
	SealImage SealImageFunc
	// Events hears document.issued and document.recalled, published in the
	// transaction that causes them (nil: nobody).
	Events events.Publisher
	// Mailer queues the e-mail of each e-mail delivery in the issuing
	// transaction (nil: none is queued).
	Mailer DeliveryMailer
	// Recaller marks the receiving organisations' copies of a recalled
	// document recalled, in the recall's transaction (nil: only the
	// deliveries are marked).
	Recaller Recaller
	// PublicURL is the deployment's address as the public reaches it: the
	// QR code an organisation may have drawn into its signature on issued
	// documents carries PublicURL/v/{code} ("": no QR code).
	PublicURL string
}

// DeliveryMailer queues the e-mail carrying an issued document to an
// outside address (notify.EnqueueDeliveryEmail, a River job inserted in the
// issuing transaction and retried with backoff).
type DeliveryMailer interface {
	EnqueueDeliveryEmail(ctx context.Context, tx pgx.Tx, deliveryID string) error
}

// DeliveryMailerFunc adapts a function to DeliveryMailer.
type DeliveryMailerFunc func(ctx context.Context, tx pgx.Tx, deliveryID string) error

// EnqueueDeliveryEmail calls f.
func (f DeliveryMailerFunc) EnqueueDeliveryEmail(ctx context.Context, tx pgx.Tx, deliveryID string) error {
	return f(ctx, tx, deliveryID)
}

// Recaller takes a recalled document out of its receivers' hands: each
// receiving organisation's copy is marked recalled and leaves handling
// (documents/reception).
// p is the sender's clerk who recalls, for the receivers' records.
type Recaller interface {
	RecallArrivals(ctx context.Context, tx pgx.Tx, p accounts.Principal, documentID, reason string) error
}

// RecallerFunc adapts a function to Recaller.
type RecallerFunc func(ctx context.Context, tx pgx.Tx, p accounts.Principal, documentID, reason string) error

// RecallArrivals calls f.
func (f RecallerFunc) RecallArrivals(ctx context.Context, tx pgx.Tx, p accounts.Principal, documentID, reason string) error {
	return f(ctx, tx, p, documentID, reason)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Vietnam is the time zone numbering years, issuing dates and the seal's
// time are shown in (UTC+07:00, no daylight saving).
var Vietnam = time.FixedZone("+07", 7*3600)

// Year is the numbering year of an instant: numbers restart at 00:00 on
// 1 January in Vietnam.
func Year(t time.Time) int { return t.In(Vietnam).Year() }

func invalid(format string, a ...any) error {
	return &accounts.InputError{Msg: fmt.Sprintf(format, a...)}
}

// Kinds lists the register kinds.
var Kinds = []string{storage.RegisterOutgoing, storage.RegisterIncoming, storage.RegisterCopies, storage.RegisterCertifiedCopies}

// readable refuses p the registers of an organisation they do not belong
// to (404, existence not revealed), the superadmin excepted.
func readable(p accounts.Principal, orgID string) error {
	if p.IsSuperadmin || p.Member(orgID) {
		return nil
	}
	return storage.ErrNotFound
}

// manageable lets an organisation's administrators, and the superadmin,
// add registers.
func manageable(p accounts.Principal, orgID string) error {
	if err := readable(p, orgID); err != nil {
		return err
	}
	if !p.IsSuperadmin && !p.Has(storage.RoleAdmin) {
		return fmt.Errorf("%w: only the organisation's administrators add registers", accounts.ErrForbidden)
	}
	return nil
}

// List returns an organisation's registers.
func (s *Service) List(ctx context.Context, p accounts.Principal, orgID string) ([]storage.Register, error) {
	if err := readable(p, orgID); err != nil {
		return nil, err
	}
	if _, err := storage.GetOrganization(ctx, s.DB.Pool, orgID); err != nil {
		return nil, err
	}
	return storage.ListRegisters(ctx, s.DB.Pool, orgID)
}

// NewRegister is what an administrator asks for: a series of its own
// (one per type of legal normative document, confidential documents, an
// advisory body).
type NewRegister struct {
	Kind          string   `json:"kind"`
	Name          string   `json:"name"`
	Code          string   `json:"code"`
	DocumentTypes []string `json:"document_types"`
	Confidential  bool     `json:"confidential"`
}

// Create adds a register to an organisation, with its audit entry.
func (s *Service) Create(ctx context.Context, p accounts.Principal, orgID string, n NewRegister) (storage.Register, error) {
	if err := manageable(p, orgID); err != nil {
		return storage.Register{}, err
	}
	if _, err := storage.GetOrganization(ctx, s.DB.Pool, orgID); err != nil {
		return storage.Register{}, err
	}
	r, err := s.checkNew(ctx, n)
	if err != nil {
		return r, err
	}
	r.OrganizationID, r.CreatedBy = orgID, p.ID
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if r, err = storage.CreateRegister(ctx, tx, r); err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.Event("register.create", "register:"+r.ID, map[string]any{
			"organization": orgID, "kind": r.Kind, "name": r.Name, "code": r.Code, "document_types": r.DocumentTypes, "confidential": r.Confidential}))
	})
	if err != nil {
		return storage.Register{}, err
	}
	return r, nil
}

func (s *Service) checkNew(ctx context.Context, n NewRegister) (storage.Register, error) {
	r := storage.Register{Kind: strings.TrimSpace(n.Kind), Name: strings.TrimSpace(norm.NFC.String(n.Name)),
		Code: strings.TrimSpace(norm.NFC.String(n.Code)), Confidential: n.Confidential, DocumentTypes: []string{}}
	if !slices.Contains(Kinds, r.Kind) {
		return r, because(rKind, invalid("kind must be one of %s", strings.Join(Kinds, ", ")))
	}
	if r.Name == "" || utf8.RuneCountInString(r.Name) > 200 || !utf8.ValidString(n.Name) {
		return r, because(rName, invalid("name is required, at most 200 characters"))
	}
	if utf8.RuneCountInString(r.Code) > 30 || !utf8.ValidString(n.Code) || strings.ContainsAny(r.Code, " \t\r\n") {
		return r, because(rCode, invalid("code is at most 30 characters, without spaces"))
	}
	if len(n.DocumentTypes) > 0 {
		types, err := storage.ReferenceCodes(ctx, s.DB.Pool, "document_types")
		if err != nil {
			return r, err
		}
		for _, t := range n.DocumentTypes {
			t = strings.TrimSpace(norm.NFC.String(t))
			if _, ok := types[t]; !ok {
				return r, because(rTypeUnknown, invalid("unknown document type %q in document_types", t), t)
			}
			if !slices.Contains(r.DocumentTypes, t) {
				r.DocumentTypes = append(r.DocumentTypes, t)
			}
		}
	}
	if (len(r.DocumentTypes) > 0 || r.Confidential) && r.Kind != storage.RegisterOutgoing && r.Kind != storage.RegisterCopies {
		return r, because(rTypesKind, invalid("document_types and confidential make a series of outgoing documents or copies, not of a %s register", r.Kind))
	}
	return r, nil
}

// Entries lists a register's entries of a year (0: the current year), for
// members of its organisation.
func (s *Service) Entries(ctx context.Context, p accounts.Principal, registerID string, year int) (storage.Register, int, []storage.RegisterEntry, error) {
	r, err := storage.GetRegister(ctx, s.DB.Pool, registerID)
	if err != nil {
		return r, 0, nil, err
	}
	if err := readable(p, r.OrganizationID); err != nil {
		return storage.Register{}, 0, nil, err
	}
	if year == 0 {
		year = Year(s.now())
	}
	if year < 1900 || year > 9999 {
		return r, 0, nil, because(rYear, invalid("year must be a year such as %d", Year(s.now())), Year(s.now()))
	}
	es, err := storage.RegisterEntries(ctx, s.DB.Pool, r.ID, year)
	if err != nil {
		return r, 0, nil, err
	}
	return r, year, es, nil
}
