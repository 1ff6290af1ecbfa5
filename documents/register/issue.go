package register

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/staged"
)

// Refusals of issuing, each wrapped with the reason in words a clerk can
// act on.
var (
	// ErrNotSigned: the document is not (or no longer) awaiting issue.
	ErrNotSigned = errors.New("the document is not signed and awaiting issue")
	// ErrNoSealKey: the organisation has no seal key the service can use.
	ErrNoSealKey = errors.New("no usable seal key")
	// ErrUnavailable: the timestamp authority or LTV data could not be
	// had; nothing was stored and no number taken, and issuing may be
	// retried.
	ErrUnavailable = errors.New("signing service unavailable")
	// ErrSeal: the organisation's signature could not be made on the
	// signed file (no signer's signature to place the seal on, a locked
	// file); nothing was stored and no number taken.
	ErrSeal = errors.New("the organisation's signature cannot be applied")
)

// Recipient is one place an issued document goes: an organisation of this
// deployment, or an outside address.
type Recipient struct {
	OrganizationID string `json:"organization_id,omitempty"`
	Name           string `json:"name,omitempty"`
	Email          string `json:"email,omitempty"`
}

// IssueRequest is the clerk's request; everything but the recipients is
// optional.
type IssueRequest struct {
	RegisterID string      `json:"register_id"`
	Recipients []Recipient `json:"recipients"`
	// CopiesKept is where copies are kept (đơn vị, người nhận bản lưu).
	CopiesKept string `json:"copies_kept"`
}

// Issued is what issuing gives a document.
type Issued struct {
	Number     int       `json:"number"`
	Symbol     string    `json:"symbol"`
	IssuedAt   time.Time `json:"issued_at"`
	Version    int       `json:"version"`
	RegisterID string    `json:"register_id"`
	// Warnings: the same number and symbol already issued this year in
	// another series of the organisation (Decree 30's duplicate warning).
	Warnings []string `json:"warnings,omitempty"`
}

const maxRecipients = 500

// checkRequest validates the recipients, resolving the deployment's
// organisations (orgs, read with the transaction's begin).
func checkRequest(req IssueRequest, issuer string, orgs map[string]storage.Organization) ([]storage.Delivery, []string, error) {
	if len(req.Recipients) > maxRecipients {
		return nil, nil, because(rRecipientsMax, invalid("at most %d recipients", maxRecipients), maxRecipients)
	}
	if utf8.RuneCountInString(req.CopiesKept) > 500 || !utf8.ValidString(req.CopiesKept) {
		return nil, nil, because(rCopiesKeptLong, invalid("copies_kept is at most 500 characters"))
	}
	var out []storage.Delivery
	var names []string
	seenOrg, seenMail := map[string]bool{}, map[string]bool{}
	for i, r := range req.Recipients {
		switch {
		case r.OrganizationID != "" && (r.Name != "" || r.Email != ""):
			return nil, nil, because(rRecipientBoth, invalid("recipients[%d]: give organization_id, or name and email, not both", i), i+1)
		case r.OrganizationID != "":
			org, ok := orgs[r.OrganizationID]
			if !ok {
				return nil, nil, because(rRecipientOrgUnknown, invalid("recipients[%d]: organization_id names no organisation", i), i+1)
			}
			if org.ID == issuer {
				return nil, nil, because(rRecipientSelf, invalid("recipients[%d]: the issuing organisation keeps its copy (copies_kept), it is not a recipient", i), i+1)
			}
			if seenOrg[org.ID] {
				continue
			}
			seenOrg[org.ID] = true
			out = append(out, storage.Delivery{OrganizationID: org.ID, Channel: "internal"})
			names = append(names, org.Name)
		default:
			name := strings.TrimSpace(r.Name)
			a, err := mail.ParseAddress(strings.TrimSpace(r.Email))
			if err != nil || len(a.Address) > 254 {
				return nil, nil, because(rRecipientEmail, invalid("recipients[%d]: email must be an e-mail address", i), i+1)
			}
			if name == "" || utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) {
				return nil, nil, because(rRecipientName, invalid("recipients[%d]: name is required, at most 200 characters", i), i+1)
			}
			key := strings.ToLower(a.Address)
			if seenMail[key] {
				continue
			}
			seenMail[key] = true
			out = append(out, storage.Delivery{Name: name, Email: a.Address, Channel: "email"})
			names = append(names, name)
		}
	}
	if len(out) == 0 {
		return nil, nil, because(rRecipientsNone, invalid("recipients: at least one (organization_id, or name and email)"))
	}
	return out, names, nil
}

// issuing is what an issue's transaction reads in the round trip that
// begins it, before anything is decided: the document, locked and only if
// the clerk may see it, and under its lock its latest version and who made
// it; the recipients' organisations; the document's type, organisation
// (with its level), registers and seal keys. Each answer is kept with its
// error, so the refusals come in the order they always have.
type issuing struct {
	// committed: the issue's last batch carried its commit
	// (storage.CommitBatch); the transaction is over.
	committed bool

	doc          documents.Document
	docErr       error
	recipients   map[string]storage.Organization
	latest       documents.Version
	latestErr    error
	signer       string
	signerErr    error
	typ          storage.DocumentTypeInfo
	typErr       error
	org          storage.Organization
	orgLevel     string
	orgErr       error
	registers    []storage.Register
	sealBindings []storage.KeyBinding
	// verifyQR: the organisation draws the QR code (asked only when the
	// service has a public address to point it at).
	verifyQR bool
}

// begin begins the issue's transaction with its questions (issuing). On
// success the caller owns tx.
func (s *Service) begin(ctx context.Context, p accounts.Principal, documentID string, req IssueRequest) (pgx.Tx, *issuing, error) {
	if err := documents.MayRead(p); err != nil {
		return nil, nil, err
	}
	o := &issuing{recipients: map[string]storage.Organization{}}
	var orgIDs []string
	for _, r := range req.Recipients {
		if r.OrganizationID != "" && len(req.Recipients) <= maxRecipients { // more are refused by checkRequest
			orgIDs = append(orgIDs, r.OrganizationID)
		}
	}
	tx, err := storage.BeginBatch(ctx, s.DB.Pool, func(b *pgx.Batch) {
		storage.QueueLockVisibleDocument(b, documentID, p.Viewer(), &o.doc, &o.docErr)
		storage.QueueVersion(b, documentID, 0, &o.latest, &o.latestErr)
		storage.QueueLatestVersionAuthor(b, documentID, &o.signer, &o.signerErr)
		storage.QueueOrganizations(b, orgIDs, o.recipients)
		storage.QueueDocumentTypeOf(b, documentID, &o.typ, &o.typErr)
		storage.QueueDocumentOrganization(b, documentID, &o.org, &o.orgLevel, &o.orgErr)
		storage.QueueDocumentRegisters(b, documentID, &o.registers)
		storage.QueueDocumentKeyBindings(b, documentID, &o.sealBindings)
		if s.PublicURL != "" && storage.IsUUID(documentID) {
			storage.QueueDocumentDrawsVerifyQR(b, documentID, &o.verifyQR)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return tx, o, nil
}

// issuable refuses, as documents.Service.Changeable does, a document p may
// not see (not found) or change; another organisation's document is not
// found, whoever asks; a member who is not a clerk is refused.
func (o *issuing) issuable(p accounts.Principal, documentID string) error {
	if errors.Is(o.docErr, storage.ErrNotFound) {
		return documents.ErrNotFound
	}
	if o.docErr != nil {
		return fmt.Errorf("document %s: %w", documentID, o.docErr)
	}
	if err := documents.MayChange(p, o.doc); err != nil {
		return err
	}
	return clerkOf(p, o.doc)
}

// issuable returns the document a clerk of its own organisation may issue
// (read on its own, as a preview does).
func (s *Service) issuable(ctx context.Context, p accounts.Principal, documentID string) (documents.Document, error) {
	doc, err := s.Docs.Changeable(ctx, p, documentID)
	if err != nil {
		return doc, err
	}
	if err := clerkOf(p, doc); err != nil {
		return documents.Document{}, err
	}
	return doc, nil
}

// clerkOf refuses anyone but a clerk of the document's organisation:
// another organisation's document is not found, whoever asks; a member who
// is not a clerk is refused.
func clerkOf(p accounts.Principal, doc documents.Document) error {
	if !p.Member(doc.OrganizationID) {
		return documents.ErrNotFound
	}
	if !p.Has(storage.RoleClerk) {
		return fmt.Errorf("%w: only the organisation's clerks (văn thư) issue documents", accounts.ErrForbidden)
	}
	return nil
}

// sealBinding is the organisation's newest usable seal key held by the
// service.
func (s *Service) sealBinding(ctx context.Context, orgID string, at time.Time) (storage.KeyBinding, error) {
	all, err := storage.ListKeyBindings(ctx, s.DB.Pool, "", orgID)
	if err != nil {
		return storage.KeyBinding{}, fmt.Errorf("seal keys: %w", err)
	}
	return sealBindingOf(all, orgID, at)
}

// sealBindingOf is the newest usable seal key held by the service of all
// the organisation's keys.
func sealBindingOf(all []storage.KeyBinding, orgID string, at time.Time) (storage.KeyBinding, error) {
	for _, b := range all {
		if b.OrganizationID == orgID && b.RevokedAt == nil && !at.Before(b.NotBefore) && at.Before(b.NotAfter) &&
			(b.Kind == storage.KeyPKCS11 || b.Kind == storage.KeyPKCS12) {
			return b, nil
		}
	}
	return storage.KeyBinding{}, because(rNoSealKey, fmt.Errorf("%w: the organisation has no valid seal key held by the service; an administrator binds one (vanthu admin key bind --seal)", ErrNoSealKey))
}

// Issue numbers, seals, registers and sends a signed document. Everything
// happens in one transaction: a failure or a crash anywhere before commit
// leaves no number taken, no version, no entry and no delivery.
func (s *Service) Issue(ctx context.Context, p accounts.Principal, documentID string, req IssueRequest) (Issued, error) {
	at := s.now()
	var out Issued
	var blobKey string
	tx, o, err := s.begin(ctx, p, documentID, req)
	if err == nil {
		if out, err = s.issue(ctx, tx, p, documentID, o, req, at, &blobKey); err == nil && !o.committed {
			err = tx.Commit(ctx)
		}
		tx.Rollback(ctx) // after the commit, nothing to do
	}
	if err != nil {
		if blobKey != "" {
			s.Docs.Discard(ctx, documents.StoredFile{Key: blobKey})
		}
		return Issued{}, err
	}
	slog.InfoContext(ctx, "document issued", "document", documentID, "symbol", out.Symbol, "register", out.RegisterID, "clerk", p.Username)
	return out, nil
}

func (s *Service) issue(ctx context.Context, tx pgx.Tx, p accounts.Principal, documentID string, o *issuing, req IssueRequest, at time.Time, blobKey *string) (Issued, error) {
	if err := o.issuable(p, documentID); err != nil {
		return Issued{}, err
	}
	// Read under the lock: a concurrent issue of the same document has
	// finished, or a recall changed it.
	doc := o.doc
	deliveries, names, err := checkRequest(req, doc.OrganizationID, o.recipients)
	if err != nil {
		return Issued{}, err
	}
	if req.RegisterID != "" && !storage.IsUUID(req.RegisterID) {
		return Issued{}, because(rRegisterUnknown, invalid("register_id names no register of your organisation"))
	}
	binding, err := sealBindingOf(o.sealBindings, doc.OrganizationID, at)
	if err != nil {
		return Issued{}, err
	}
	if doc.Status != documents.StatusSigned {
		return Issued{}, because(rNotSigned, fmt.Errorf("%w: its status is %s; only a document whose last signature is made (signed) is issued", ErrNotSigned, doc.Status))
	}
	// The latest version, read under the lock by a statement of its own
	// (the document's row is the newest after a wait for the lock, but
	// the version count computed with it may be older).
	last, err := o.latest, o.latestErr
	if err != nil {
		return Issued{}, fmt.Errorf("latest version: %w", err)
	}
	if !last.Signed {
		return Issued{}, because(rVersionUnsigned, fmt.Errorf("%w: the latest version %d carries no signature", ErrNotSigned, last.Number), last.Number)
	}
	// The bytes come from the blob store while the database answers the
	// questions below.
	read := s.startRead(ctx, last)
	defer read.discard()
	typ, err := o.typ, o.typErr
	if err != nil {
		return Issued{}, fmt.Errorf("document type %s: %w", doc.Type, err)
	}
	org, err := o.org, o.orgErr
	if err != nil {
		return Issued{}, err
	}
	reg, err := seriesOf(o.registers, doc, typ, req.RegisterID)
	if err != nil {
		return Issued{}, err
	}
	level, err := s.levelOf(o.orgLevel)
	if err != nil {
		return Issued{}, err
	}
	signer := o.signer
	if o.signerErr != nil {
		slog.WarnContext(ctx, "signer of an issued document", "document", doc.ID, "err", o.signerErr)
	}
	// Everything the number does not change is prepared before the number
	// is taken: the counter row, which every issue into the series waits
	// for, is held only for what depends on it (the sealed bytes) and the
	// writes up to commit.
	job, err := s.prepareSeal(ctx, p, read, org, binding, at)
	if err != nil {
		return Issued{}, err
	}
	defer job.close()
	job.qr = s.verifyQR(o.verifyQR)
	year := Year(at)
	number, err := storage.NextRegisterNumber(ctx, tx, reg.ID, year)
	if err != nil {
		return Issued{}, err
	}
	symbol := Symbol(number, typ, org.Code, doc.Unit)
	// The clash check, the document's number and status, the deliveries
	// and their e-mails do not depend on the sealed bytes: they are written
	// while the seal is signed, the transaction's connection idle
	// otherwise. The version, the register entry, the event and the audit
	// entry follow in one round trip once the sealed file is known.
	for i := range deliveries {
		deliveries[i].DocumentID, deliveries[i].SentAt = doc.ID, at
	}
	// The job that moves the seal's update, written ahead with the
	// version, into the blob store goes with them too: it names the
	// version sealed, known already, not the sealed file.
	rows := s.startRows(ctx, tx, doc, org.ID, reg.ID, year, symbol, at, deliveries, s.movesAhead(job, last, level), last.SHA256)
	defer rows.wait()
	sealedKey, sealedSize, warnings, err := s.finishSeal(ctx, job, level, number, symbol, last, blobKey)
	if werr := rows.wait(); err == nil {
		err = werr
	}
	if err != nil {
		return Issued{}, err
	}
	for _, name := range rows.clash {
		warnings = append(warnings, fmt.Sprintf("số, ký hiệu %s đã được dùng trong năm %d ở sổ %q: the same number and symbol was issued this year in another series", symbol, year, name))
	}
	var receivers []string
	for _, d := range deliveries {
		if d.OrganizationID != "" {
			receivers = append(receivers, d.OrganizationID)
		}
	}
	// The version's number is the next after the latest, read under the
	// document's lock; the insert returns it and it is checked.
	v := documents.Version{DocumentID: doc.ID, Number: last.Number + 1, SHA256: sealedKey, Size: sealedSize,
		FileName: last.FileName, Signed: true, CreatedBy: p.ID}
	var inserted documents.Version
	writes := &pgx.Batch{}
	storage.QueueLockBlob(writes, v.SHA256)
	storage.QueueInsertVersion(writes, v, &inserted)
	// The QR code drawn is recorded before the register entry, whose
	// trigger would record the file with a fresh code.
	if err := job.qr.queue(writes, doc, v); err != nil {
		return Issued{}, err
	}
	storage.QueueInsertRegisterEntry(writes, storage.RegisterEntry{RegisterID: reg.ID, OrganizationID: org.ID, Year: year, Number: number, Symbol: symbol,
		DocumentID: doc.ID, Version: v.Number, IssuedAt: at, IssuedBy: p.ID, Type: doc.Type, Subject: doc.Subject,
		SignerName: signer, Recipients: strings.Join(names, "; "), CopiesKept: strings.TrimSpace(req.CopiesKept), Copies: len(deliveries) + 1})
	sent, err := events.Queue(s.Events, writes, events.Event{Kind: events.DocumentIssued, OrganizationID: org.ID, DocumentID: doc.ID, ActorID: p.ID,
		UserIDs: []string{doc.CreatedBy}, Summary: fmt.Sprintf("Văn bản %s đã được phát hành: %s", symbol, doc.Subject),
		Data: map[string]any{"number": number, "symbol": symbol, "register_id": reg.ID, "year": year, "version": v.Number,
			"issued_at": at.In(Vietnam).Format(time.RFC3339), "receiving_organizations": receivers, "urgency": doc.Urgency}})
	if err != nil {
		return Issued{}, fmt.Errorf("publish document.issued: %w", err)
	}
	err = audit.Queue(writes, p.Event("document.issue", "document:"+doc.ID, map[string]any{
		"register": reg.ID, "year": year, "number": number, "symbol": symbol, "version": v.Number, "sha256": v.SHA256,
		"sealed_version": last.Number, "level": string(level), "key_binding": binding.ID, "fingerprint": binding.Fingerprint,
		"recipients": len(deliveries), "issued_at": at.In(Vietnam).Format(time.RFC3339), "warnings": warnings}))
	if err != nil {
		return Issued{}, err
	}
	if job.stager != nil {
		// The seal's update goes with the issue's last writes.
		if err := job.stager.Queue(writes, job.update(s.retainUntil())); err != nil {
			return Issued{}, fmt.Errorf("store sealed file: %w", err)
		}
	}
	// When nothing is left to write after this batch (the update's move
	// job inserted ahead, the event queued in it), the commit goes with
	// it: the issue's writes after the seal's signature are one round
	// trip. The version's number is then checked in the batch, before
	// the commit.
	commits := job.stager != nil && rows.moveAhead && sent == nil
	if commits {
		queueVersionIs(writes, v)
		err = storage.CommitBatch(ctx, tx, writes)
		o.committed = err == nil
	} else {
		err = storage.SendBatch(ctx, tx, writes)
	}
	if err != nil {
		if commits && isVersionMismatch(err) {
			return Issued{}, fmt.Errorf("sealed version: numbered %d, expected %d after the latest read under the document's lock", inserted.Number, v.Number)
		}
		return Issued{}, err
	}
	if inserted.Number != v.Number {
		return Issued{}, fmt.Errorf("sealed version: numbered %d, expected %d after the latest read under the document's lock", inserted.Number, v.Number)
	}
	if sent != nil {
		if err := sent(ctx, tx); err != nil {
			return Issued{}, fmt.Errorf("publish document.issued: %w", err)
		}
	}
	// The PUT begun with the seal has travelled meanwhile; the commit
	// waits for it (or, for a file already put, its retention).
	if err := s.storeSealed(ctx, tx, job, v, rows.moveAhead, blobKey); err != nil {
		return Issued{}, err
	}
	return Issued{Number: number, Symbol: symbol, IssuedAt: at, Version: v.Number, RegisterID: reg.ID, Warnings: warnings}, nil
}

// issueRows are the rows of an issue that do not depend on the sealed
// bytes, being written while the seal is signed (startRows).
type issueRows struct {
	done  chan struct{}
	err   error
	clash []string // the other series of the organisation with the same symbol this year
	// moveAhead: the job that moves the seal's update staged onto the
	// version sealed is inserted (storage/blob/staged.InsertMoveOnto).
	moveAhead bool
}

// startRows writes, in tx and in the background, the symbol clash check,
// the document's number and status, and the deliveries (with their ids
// filled in) and the e-mails queued for them, in one round trip (and the
// e-mail queue's own), then, given a mover, the job that moves the seal's
// update staged onto the version sealed (named by sealed). Nothing else
// may use tx until wait returns.
func (s *Service) startRows(ctx context.Context, tx pgx.Tx, doc documents.Document, orgID, registerID string, year int, symbol string,
	at time.Time, deliveries []storage.Delivery, mover *staged.Store, sealed string) *issueRows {
	r := &issueRows{done: make(chan struct{})}
	writes := &pgx.Batch{}
	storage.QueueSymbolUsedElsewhere(writes, orgID, registerID, year, symbol, &r.clash)
	storage.QueueMarkIssued(writes, doc.ID, symbol, documents.SearchText(doc.Subject, &symbol), at)
	ids := make([]string, len(deliveries))
	for i := range deliveries {
		storage.QueueInsertDelivery(writes, deliveries[i], &ids[i])
	}
	go func() {
		defer close(r.done)
		if r.err = storage.SendBatch(ctx, tx, writes); r.err != nil {
			return
		}
		for i, d := range deliveries {
			if d.Channel == "email" && s.Mailer != nil {
				if err := s.Mailer.EnqueueDeliveryEmail(ctx, tx, ids[i]); err != nil {
					r.err = fmt.Errorf("queue the e-mail to %s: %w", d.Email, err)
					return
				}
			}
		}
		if mover != nil {
			if err := mover.InsertMoveOnto(ctx, tx, sealed); err != nil {
				r.err = fmt.Errorf("store sealed file: %w", err)
				return
			}
			r.moveAhead = true
		}
	}()
	return r
}

// wait waits for the rows startRows writes; it may be called again.
func (r *issueRows) wait() error {
	<-r.done
	return r.err
}

// series chooses the register a document is numbered in: the one asked
// for, if it is of the organisation and fits; else the confidential series
// for a document marked mật or above, a series of the document's type, or
// the organisation's default register (copies for SY/TrS/SL, outgoing for
// everything else).
func (s *Service) series(ctx context.Context, q storage.Querier, doc documents.Document, typ storage.DocumentTypeInfo, asked string) (storage.Register, error) {
	all, err := storage.ListRegisters(ctx, q, doc.OrganizationID)
	if err != nil {
		return storage.Register{}, err
	}
	return seriesOf(all, doc, typ, asked)
}

// seriesOf is series's choice among the organisation's registers all.
func seriesOf(all []storage.Register, doc documents.Document, typ storage.DocumentTypeInfo, asked string) (storage.Register, error) {
	kind := storage.RegisterOutgoing
	if typ.IsCopy {
		kind = storage.RegisterCopies
	}
	confidential := documents.Confidential(doc)
	if asked != "" {
		i := slices.IndexFunc(all, func(r storage.Register) bool { return r.ID == asked })
		if i < 0 {
			return storage.Register{}, because(rRegisterUnknown, invalid("register_id names no register of your organisation"))
		}
		r := all[i]
		switch {
		case r.Kind != kind:
			return r, because(rRegisterKind, invalid("register %q is a %s register; a %s is numbered in a %s register", r.Name, r.Kind, typ.Name, kind), r.Name)
		case r.Confidential != confidential:
			if confidential {
				return r, because(rRegisterConfidentialNeeded, invalid("the document is marked %s: it is numbered in a confidential series, not %q", doc.Confidentiality, r.Name), r.Name)
			}
			return r, because(rRegisterNotConfidential, invalid("register %q is the confidential series; the document is not marked mật", r.Name), r.Name)
		case len(r.DocumentTypes) > 0 && !slices.Contains(r.DocumentTypes, doc.Type):
			return r, because(rRegisterTypes, invalid("register %q numbers %s, not %s", r.Name, strings.Join(r.DocumentTypes, ", "), doc.Type), r.Name, doc.Type)
		}
		return r, nil
	}
	var pick, fallback *storage.Register
	for i := range all {
		r := &all[i]
		if r.Kind != kind {
			continue
		}
		if r.Default {
			fallback = r
		}
		typed := slices.Contains(r.DocumentTypes, doc.Type)
		switch {
		case confidential && r.Confidential && (typed || len(r.DocumentTypes) == 0):
			if pick == nil || !pick.Confidential || (typed && len(pick.DocumentTypes) == 0) {
				pick = r
			}
		case !confidential && !r.Confidential && typed && pick == nil:
			pick = r
		}
	}
	if pick == nil {
		pick = fallback
	}
	if pick == nil {
		// A missing series is the administrators' to add, not a failure.
		return storage.Register{}, because(rNoRegister, invalid("the organisation has no default %s register; an administrator adds one", kind))
	}
	return *pick, nil
}

// Symbol builds a document's number and symbol (Decree 30 Appendix I):
// number/TYPE-ORG ("05/QĐ-UBND"); a type without an abbreviation in the
// symbol (công văn) names the drafting unit instead ("123/UBND-VP", or
// "123/UBND" with none). Numbers under 10 take a leading 0.
func Symbol(number int, typ storage.DocumentTypeInfo, orgCode, unitCode string) string {
	n := fmt.Sprintf("%02d", number)
	if typ.InSymbol {
		return n + "/" + typ.Code + "-" + orgCode
	}
	if unitCode == "" {
		return n + "/" + orgCode
	}
	return n + "/" + orgCode + "-" + unitCode
}

// level is the organisation's PAdES level, refused when the service cannot
// make it.
func (s *Service) level(ctx context.Context, q storage.Querier, orgID string) (signing.Level, error) {
	l, err := storage.OrganizationSigningLevel(ctx, q, orgID)
	if err != nil {
		return "", fmt.Errorf("organisation's signing level: %w", err)
	}
	return s.levelOf(l)
}

// levelOf refuses the organisation's level l when the service cannot make
// it.
func (s *Service) levelOf(l string) (signing.Level, error) {
	level := signing.Level(l)
	if level != signing.LevelBB && s.TSAURL == "" {
		return "", fmt.Errorf("%w: level %s needs a timestamp authority and the service has none configured", ErrUnavailable, level)
	}
	if (level == signing.LevelBLT || level == signing.LevelBLTA) && s.Extender == nil {
		return "", fmt.Errorf("%w: level %s needs revocation data and the service cannot collect it", ErrUnavailable, level)
	}
	return level, nil
}

// sealJob is the organisation's signature prepared up to what depends on
// the number: the signed file read, checked and measured (the signer's
// widget, the blanks of the number and the date), the seal image, and the
// seal key opened.
type sealJob struct {
	in   io.ReaderAt // in memory, or a temporary file when large
	size int64
	// inMemory: in is held in memory, and so is the sealed file at B-B
	// and B-T (sealed, stored by putSealed once nothing can refuse it).
	inMemory bool
	// src is the version parsed once (startRead), checked, measured and
	// signed.
	src      *signing.Source
	sealed   []byte
	sealedAt string // the SHA-256 key of sealed
	base     string // the SHA-256 key of in, which sealed appends to
	putter   blob.KnownPutter
	org      storage.Organization
	at       time.Time
	seal     image.Image // nil: a text-only appearance, rendered with the symbol
	// encoded is seal encoded for the PDF, the costliest part of the
	// signature's bytes, made before the number is taken.
	encoded *signing.EncodedImage
	layout  *Layout
	qr      *issueQR // the verification QR code drawn beside the seal (nil: none)
	key     keys.Key
	done    func()
	// stager takes sealed's update into the transaction (storeSealed)
	// instead of a PUT before the commit; nil: it is put.
	stager *staged.Store
	// put is the PUT of sealed under way (startPut), awaited by waitPut.
	put       chan error
	cancelPut context.CancelFunc
}

// stager is the blob store's write-ahead (storage/blob/staged) when the
// sealed file can go through it: the version sealed (last) was opened
// from its known bytes and SHA-256 state, so the seal's update is checked
// from that state, and the update is within the store's limit.
func (s *Service) stager(j *sealJob, last documents.Version) (*staged.Store, bool) {
	st, ok := s.Docs.Blobs.(*staged.Store)
	if !ok {
		return nil, false
	}
	k := j.src.Known()
	if k == nil || k.Key() != last.SHA256 || k.Size() != j.size || int64(len(j.sealed)) <= j.size {
		return nil, false
	}
	return st, st.CanStage(len(j.sealed) - int(j.size))
}

// update is the seal's update to stage: what sealed appends to the
// version sealed, with that version's SHA-256 state.
func (j *sealJob) update(until time.Time) staged.Append {
	return staged.Append{Key: j.sealedAt, BaseKey: j.base, BaseSize: j.size,
		BaseState: j.src.Known().State(), Tail: j.sealed[j.size:], Until: until}
}

// startPut stores sealed with its retention in the background, while the
// register entry, the deliveries and the audit entry are written.
func (j *sealJob) startPut(ctx context.Context, until time.Time) {
	pctx, cancel := context.WithCancel(ctx)
	j.put, j.cancelPut = make(chan error, 1), cancel
	go func() {
		// The seal is an incremental update: the store may keep only
		// what it appended to the version sealed.
		_, err := blob.PutKnownAfter(pctx, j.putter, j.sealedAt, j.sealed, j.base, j.in, j.size, until)
		j.put <- err
	}()
}

// waitPut waits for the PUT startPut began (none: nil).
func (j *sealJob) waitPut() error {
	if j.put == nil {
		return nil
	}
	err := <-j.put
	j.put = nil
	j.cancelPut()
	return err
}

func (j *sealJob) close() {
	if j.put != nil {
		// The issue failed before storeSealed: stop the PUT (the caller
		// discards what it may have stored).
		j.cancelPut()
		j.waitPut()
	}
	if j.key != nil {
		keys.Close(j.key)
	}
	if j.done != nil {
		j.done()
	}
}

// prepareSeal does the organisation's signature's work that the number
// does not change.
func (s *Service) prepareSeal(ctx context.Context, p accounts.Principal, read *versionRead, org storage.Organization,
	binding storage.KeyBinding, at time.Time) (*sealJob, error) {
	j := &sealJob{org: org, at: at}
	ok := false
	defer func() {
		if !ok {
			j.close()
		}
	}()
	// The seal's image, its encoding and the seal key are had while the
	// version is still being read; their refusals come after the
	// version's, as they always have.
	stored, sealErr := s.sealImage(ctx, org)
	if j.seal = sealPixels(stored); sealErr == nil && j.seal != nil {
		if j.encoded, sealErr = encodeSeal(stored); sealErr != nil {
			sealErr = fmt.Errorf("%w: seal image of %s: %v", ErrSeal, org.Code, sealErr)
		}
	}
	key, keyErr := accounts.SigningKey(ctx, p, binding, s.Accounts.PIN, s.Accounts.Keystore, at)
	if keyErr != nil && !errors.Is(keyErr, accounts.ErrForbidden) && !errors.Is(keyErr, storage.ErrNotFound) {
		keyErr = fmt.Errorf("%w: %v", ErrNoSealKey, keyErr)
	}
	if keyErr == nil {
		if j.key, keyErr = withBoundChain(key, binding); keyErr != nil {
			keys.Close(key)
		}
	}
	in, size, done, err := read.take()
	if err != nil {
		return nil, err
	}
	_, isFile := in.(*os.File)
	j.in, j.size, j.inMemory, j.done = in, size, !isFile, done
	if read.checkErr != nil {
		return nil, read.checkErr
	}
	j.layout, j.src = read.layout, read.src
	if sealErr != nil {
		return nil, sealErr
	}
	if keyErr != nil {
		return nil, keyErr
	}
	ok = true
	return j, nil
}

// finishSeal applies the organisation's signature with the number to the
// signed version last and stores the result (or begins to: storeSealed
// finishes), returning its SHA-256 key and size. blobKey names the stored
// file for the caller to discard when the transaction does not commit.
// It does not use the transaction, which writes the issue's other rows
// meanwhile.
func (s *Service) finishSeal(ctx context.Context, j *sealJob, level signing.Level, number int, symbol string, last documents.Version,
	blobKey *string) (string, int64, []string, error) {
	img := j.seal
	if img == nil {
		var err error
		if img, err = textSeal(j.org, j.at, symbol); err != nil {
			return "", 0, nil, err
		}
	}
	vis, warnings, err := j.layout.Visible(img, number, j.at)
	if err != nil {
		return "", 0, nil, err
	}
	if j.encoded != nil {
		vis.Image, vis.Encoded = nil, j.encoded
	}
	if j.qr != nil {
		if err := j.qr.draw(vis, img); err != nil {
			return "", 0, nil, err
		}
	}
	opts := signing.Options{Level: level, TSAURL: s.TSAURL, HTTPClient: s.HTTPClient, Extender: s.Extender, Time: j.at,
		Name: j.org.Name, Reason: "Phát hành " + symbol, Lock: true, Visible: vis}
	kp, known := s.Docs.Blobs.(blob.KnownPutter)
	if known && j.inMemory && (level == signing.LevelBB || level == signing.LevelBT) {
		// Sealed in memory, hashed once, and stored with its retention in
		// one request while the issue's rows are written; storeSealed
		// waits for it before commit.
		// Room for the signature's update (the seal's encoding, the
		// signature and its timestamp), so the 1 MB copy is never grown.
		room := 64 << 10
		if j.encoded != nil {
			room += j.encoded.Size()
		}
		out := signing.NewBuffer(int(j.size) + room)
		if err := j.src.Sign(ctx, out, j.key, opts); err != nil {
			return "", 0, nil, signingError(err)
		}
		sum := sealedSum(j.src, out.Bytes())
		j.sealed, j.sealedAt, j.putter, j.base = out.Bytes(), hex.EncodeToString(sum[:]), kp, last.SHA256
		if st, ok := s.stager(j, last); ok {
			// The seal's update is written ahead with the issue's rows
			// (storeSealed) and moved into the store after the commit.
			j.stager = st
			return j.sealedAt, int64(len(j.sealed)), warnings, nil
		}
		*blobKey = j.sealedAt
		j.startPut(ctx, s.retainUntil())
		return j.sealedAt, int64(len(j.sealed)), warnings, nil
	}
	out, err := os.CreateTemp(s.TempDir, "vanthu-issue-out-*.pdf")
	if err != nil {
		return "", 0, nil, fmt.Errorf("issue: temporary file: %w", err)
	}
	defer func() { out.Close(); os.Remove(out.Name()) }()
	if err := j.src.Sign(ctx, out, j.key, opts); err != nil {
		return "", 0, nil, signingError(err)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return "", 0, nil, fmt.Errorf("sealed file: %w", err)
	}
	info, err := s.Docs.Blobs.Put(ctx, out, blob.PutOptions{})
	if err != nil {
		return "", 0, nil, fmt.Errorf("store sealed file: %w", err)
	}
	*blobKey = info.Key
	return info.Key, info.Size, warnings, nil
}

// movesAhead is the write-ahead store (storage/blob/staged) the seal's
// update will be staged in when that is known before the seal is signed
// (stager decides after: the update within the store's limit), for its
// move job to be inserted with the rows that do not depend on the sealed
// bytes; nil: it is inserted after, if at all.
func (s *Service) movesAhead(j *sealJob, last documents.Version, level signing.Level) *staged.Store {
	st, ok := s.Docs.Blobs.(*staged.Store)
	if !ok || !j.inMemory || (level != signing.LevelBB && level != signing.LevelBT) {
		return nil
	}
	if k := j.src.Known(); k == nil || k.Key() != last.SHA256 || k.Size() != j.size || !st.CanStage(1) {
		return nil
	}
	return st
}

// storeSealed finishes storing the sealed version, retained like every
// signed version, before commit: a seal's update written ahead
// (storage/blob/staged) gets its move job in tx, a file sealed in memory
// otherwise waits for its PUT (begun by finishSeal, carrying its
// retention), a file already put gets its retention. blobKey names the stored file for the caller to discard
// when the transaction does not commit.
func (s *Service) storeSealed(ctx context.Context, tx pgx.Tx, j *sealJob, v documents.Version, moveAhead bool, blobKey *string) error {
	if j.stager != nil {
		// Its row went with the issue's last writes; its move job now,
		// unless it went ahead (startRows).
		if !moveAhead {
			if err := j.stager.InsertMove(ctx, tx, j.sealedAt); err != nil {
				return fmt.Errorf("store sealed file: %w", err)
			}
		}
		// Reads of the issued file that follow (the deliveries, the
		// e-mails, the download) come from memory.
		j.stager.Remember(j.sealedAt, j.sealed)
		return nil
	}
	if j.sealed != nil {
		*blobKey = j.sealedAt
		if err := j.waitPut(); err != nil {
			return fmt.Errorf("store sealed file: %w", err)
		}
		return nil
	}
	if until := s.retainUntil(); !until.IsZero() {
		if err := s.Docs.Blobs.Retain(ctx, v.SHA256, until); err != nil {
			return fmt.Errorf("retain sealed file: %w", err)
		}
	}
	return nil
}

// retainUntil is when a version stored now may be deleted (zero: no
// retention).
func (s *Service) retainUntil() time.Time {
	if s.Docs.Retention > 0 {
		return s.now().Add(s.Docs.Retention)
	}
	return time.Time{}
}

// versionRead is a version's bytes being read, checked and measured in
// the background.
type versionRead struct {
	done   chan struct{}
	cancel context.CancelFunc
	in     io.ReaderAt
	size   int64
	remove func()
	err    error
	taken  bool
	// src is the bytes parsed once and layout measured from them for the
	// seal (sealable), or checkErr why they cannot be sealed.
	src      *signing.Source
	layout   *Layout
	checkErr error
}

// startRead begins reading v's bytes (readVersion) in the background, and
// checking and measuring them for the seal (sealable): the parsing, too,
// is done while the database answers.
func (s *Service) startRead(ctx context.Context, v documents.Version) *versionRead {
	rctx, cancel := context.WithCancel(ctx)
	r := &versionRead{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(r.done)
		if s.readKept(rctx, v, r) {
			return
		}
		r.in, r.size, r.remove, r.err = s.readVersion(rctx, v)
		if r.err == nil {
			r.src, r.layout, r.checkErr = sealable(r.in, r.size)
		}
	}()
	return r
}

// sealable parses a version once, refuses it when its signatures lock it,
// and measures where the seal, the number and the date go.
func sealable(in io.ReaderAt, size int64) (*signing.Source, *Layout, error) {
	src, err := signing.OpenSource(in, size)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	if err := src.CheckLocked(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	l, err := measure(src)
	return src, l, err
}

// take waits for the bytes; from then on the caller removes them (done).
func (r *versionRead) take() (io.ReaderAt, int64, func(), error) {
	<-r.done
	r.taken = true
	return r.in, r.size, r.remove, r.err
}

// discard stops a read nobody took and removes what it read.
func (r *versionRead) discard() {
	r.cancel()
	<-r.done
	if !r.taken && r.err == nil && r.remove != nil {
		r.remove()
	}
}

// inMemoryMax is the largest version sealed in memory; a larger one goes
// through temporary files, so a few large issues at once do not take the
// service's memory.
const inMemoryMax = 32 << 20

// readVersion reads a version larger than inMemoryMax (smaller ones come
// from readKept) into a temporary file (an *os.File) that done removes.
func (s *Service) readVersion(ctx context.Context, v documents.Version) (io.ReaderAt, int64, func(), error) {
	rc, err := s.Docs.Open(ctx, v, 0, -1)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read version %d: %w", v.Number, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(s.TempDir, "vanthu-issue-in-*.pdf")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("issue: temporary file: %w", err)
	}
	done := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, rc)
	if err == nil && n != v.Size {
		err = fmt.Errorf("%d bytes, want %d", n, v.Size)
	}
	if err != nil {
		done()
		return nil, 0, nil, fmt.Errorf("read version %d: %w", v.Number, err)
	}
	return f, n, done, nil
}

// signingError sorts a failure of the signing library.
func signingError(err error) error {
	switch {
	case errors.Is(err, signing.ErrLocked):
		return because(rLocked, fmt.Errorf("%w: %v", ErrSeal, err))
	case errors.Is(err, signing.ErrTSA), errors.Is(err, signing.ErrLevelUnavailable):
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	case errors.Is(err, signing.ErrCertificateNotValid), errors.Is(err, signing.ErrKeyUsage), errors.Is(err, signing.ErrKeyMismatch), errors.Is(err, keys.ErrExpired):
		return because(rSealKeyInvalid, fmt.Errorf("%w: %v", ErrNoSealKey, err))
	}
	return err
}

// boundKey is a key whose chain is the binding's: a token usually holds
// the certificate alone, and the issuing CAs bound with it must go into
// the signature for it to verify.
type boundKey struct {
	keys.Key
	chain []*x509.Certificate
}

func (k boundKey) Chain() []*x509.Certificate { return k.chain }

func withBoundChain(k keys.Key, b storage.KeyBinding) (keys.Key, error) {
	var chain []*x509.Certificate
	for _, der := range append([][]byte{b.Certificate}, b.Chain...) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("seal key binding %s: certificate: %w", b.ID, err)
		}
		chain = append(chain, c)
	}
	if len(k.Chain()) >= len(chain) {
		return k, nil
	}
	if !k.Chain()[0].Equal(chain[0]) {
		return nil, fmt.Errorf("%w: the key's certificate is not the one bound", ErrNoSealKey)
	}
	return boundKey{k, chain}, nil
}
