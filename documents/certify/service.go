package certify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/documents/scancheck"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
)

// The events of the procedure.
const (
	EventReceived  events.Kind = "certification.received"
	EventRefused   events.Kind = "certification.refused"
	EventCertified events.Kind = "certification.certified"
)

// Refusals, each wrapped with words the desk can act on.
var (
	// ErrState: the request is not at the step asked for (no scan yet,
	// already refused or certified).
	ErrState = errors.New("the request is not at this step")
	// ErrNoKey: the certifier has no key the service holds.
	ErrNoKey = errors.New("no usable certifier key")
	// ErrLinkGone: an unknown or expired download link (answered as not
	// found, so links cannot be probed).
	ErrLinkGone = errors.New("the download link is unknown or has expired")
)

// Refusal grounds of Decree 23/2015/NĐ-CP art. 22 (bản chính không được
// dùng làm cơ sở để chứng thực bản sao), as fixed codes.
const (
	GroundAltered     = "altered"     // bị tẩy xóa, sửa chữa, thêm, bớt nội dung không hợp lệ
	GroundUnreadable  = "unreadable"  // bị hư hỏng, cũ nát, không xác định được nội dung
	GroundSecret      = "secret"      // đóng dấu mật, hoặc ghi rõ không được sao chụp
	GroundUnlawful    = "unlawful"    // nội dung trái pháp luật, đạo đức xã hội
	GroundUnconfirmed = "unconfirmed" // giấy tờ cá nhân tự lập, không có xác nhận của cơ quan có thẩm quyền
)

// Grounds maps each refusal code to its wording in the decree.
var Grounds = map[string]string{
	GroundAltered:     "Bản chính bị tẩy xóa, sửa chữa, thêm, bớt nội dung không hợp lệ",
	GroundUnreadable:  "Bản chính bị hư hỏng, cũ nát, không xác định được nội dung",
	GroundSecret:      "Bản chính đóng dấu mật của cơ quan, tổ chức có thẩm quyền hoặc ghi rõ không được sao chụp",
	GroundUnlawful:    "Bản chính có nội dung trái pháp luật, đạo đức xã hội",
	GroundUnconfirmed: "Bản chính do cá nhân tự lập nhưng không có xác nhận và đóng dấu của cơ quan, tổ chức có thẩm quyền",
}

// Limits of a request.
const (
	maxCopies    = 50
	maxPages     = 2000
	maxNameRunes = 200
	maxNoteRunes = 1000
	// DefaultLinkTTL is how long the citizen's download link works.
	DefaultLinkTTL = 30 * 24 * time.Hour
)

// Permanent is the retention of certified copies: the register and its
// copies are kept without end (Decree 23/2015 art. 13), which the blob
// store's object lock expresses as the latest date it takes.
var Permanent = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Service runs the procedure.
type Service struct {
	DB        *storage.DB
	Docs      *documents.Service
	Accounts  *accounts.Service
	Registers *register.Service // the seal key, the PAdES level, the TSA and seal image
	Events    events.Publisher
	// LinkTTL is how long download links work; 0 is DefaultLinkTTL.
	LinkTTL time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// TempDir holds the files being signed ("" is the system's).
	TempDir string
	// PublicURL is the deployment's address as the public reaches it: the
	// QR code beside each copy's statement carries PublicURL/v/{code}
	// ("": the origin Certify is given).
	PublicURL string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func invalid(format string, a ...any) error {
	return &accounts.InputError{Msg: fmt.Sprintf(format, a...)}
}

func refuse(kind error, format string, a ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, a...))
}

// NewRequest is what the desk officer records when a citizen hands in an
// original.
type NewRequest struct {
	RequesterName     string     `json:"requester_name"`
	RequesterIDNumber string     `json:"requester_id_number"`
	OriginalName      string     `json:"original_name"`
	PageCount         int        `json:"page_count"`
	Copies            int        `json:"copies"`
	ReceivedAt        *time.Time `json:"received_at"` // nil: now
}

func cleanText(reason refusal.Reason, field, v string, maxRunes int) (string, error) {
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return "", because(reason, invalid("%s is not valid text", field), maxRunes)
	}
	v = strings.Join(strings.Fields(norm.NFC.String(v)), " ")
	if v == "" || utf8.RuneCountInString(v) > maxRunes {
		return "", because(reason, invalid("%s is required, at most %d characters", field, maxRunes), maxRunes)
	}
	return v, nil
}

func (s *Service) check(n NewRequest, now time.Time) (storage.Certification, error) {
	var c storage.Certification
	var err error
	if c.RequesterName, err = cleanText(rRequesterName, "requester_name", n.RequesterName, maxNameRunes); err != nil {
		return c, err
	}
	if c.OriginalName, err = cleanText(rOriginalName, "original_name", n.OriginalName, 500); err != nil {
		return c, err
	}
	id := strings.ToUpper(strings.TrimSpace(n.RequesterIDNumber))
	if len(id) < 6 || len(id) > 20 || strings.IndexFunc(id, func(r rune) bool { return !unicode.IsDigit(r) && (r < 'A' || r > 'Z') }) >= 0 {
		return c, because(rIdNumber, invalid("requester_id_number is the number of the identity card or passport: 6 to 20 letters and digits"))
	}
	c.RequesterIDNumber = id
	if n.PageCount < 1 || n.PageCount > maxPages {
		return c, because(rPageCount, invalid("page_count is the original's number of pages, 1 to %d", maxPages), maxPages)
	}
	if n.Copies < 1 || n.Copies > maxCopies {
		return c, because(rCopies, invalid("copies is the number of certified copies wanted, 1 to %d", maxCopies), maxCopies)
	}
	c.PageCount, c.Copies = n.PageCount, n.Copies
	c.ReceivedAt = now
	if n.ReceivedAt != nil {
		c.ReceivedAt = *n.ReceivedAt
		if c.ReceivedAt.After(now.Add(5*time.Minute)) || c.ReceivedAt.Before(now.AddDate(0, 0, -30)) {
			return c, because(rReceivedAt, invalid("received_at is when the original was handed in: not in the future, at most 30 days ago"))
		}
	}
	c.Fee = Fee(c.PageCount, c.Copies)
	return c, nil
}

// Open records a new request of p's organisation (the desk officer's) with
// its fee and deadline.
func (s *Service) Open(ctx context.Context, p accounts.Principal, n NewRequest) (storage.Certification, error) {
	if err := accounts.Authorize(p, accounts.CertificationReceive, accounts.Target{OrgID: p.OrganizationID}); err != nil {
		return storage.Certification{}, err
	}
	c, err := s.check(n, s.now())
	if err != nil {
		return c, err
	}
	c.OrganizationID, c.OpenedBy = p.OrganizationID, p.ID
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		cal, err := calendar.Load(ctx, tx)
		if err != nil {
			return fmt.Errorf("working calendar: %w", err)
		}
		c.DueAt = Deadline(cal, c.ReceivedAt)
		if c, err = storage.InsertCertification(ctx, tx, c); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, p.Event("certification.open", "certification:"+c.ID, map[string]any{
			"pages": c.PageCount, "copies": c.Copies, "fee": c.Fee, "received_at": c.ReceivedAt.In(Vietnam).Format(time.RFC3339),
			"due_at": c.DueAt.In(Vietnam).Format(time.RFC3339)})); err != nil {
			return err
		}
		return events.Publish(ctx, s.Events, tx, events.Event{Kind: EventReceived, OrganizationID: c.OrganizationID, ActorID: p.ID,
			Summary: "Tiếp nhận yêu cầu chứng thực bản sao: " + c.OriginalName,
			Data:    map[string]any{"certification_id": c.ID, "due_at": c.DueAt}})
	})
	if err != nil {
		return storage.Certification{}, err
	}
	return c, nil
}

// get returns a request of p's organisation that p may act on with a:
// another organisation's is not found, whoever asks.
func (s *Service) get(ctx context.Context, q storage.Querier, p accounts.Principal, a accounts.Action, id string, forUpdate bool) (storage.Certification, error) {
	c, err := storage.GetCertification(ctx, q, id, forUpdate)
	if err != nil {
		return c, err
	}
	if err := accounts.Authorize(p, a, accounts.Target{OrgID: c.OrganizationID}); err != nil {
		return storage.Certification{}, err
	}
	return c, nil
}

// View is a request as the API shows it.
type View struct {
	storage.Certification
	CertifiedCopies []storage.CertifiedCopy `json:"copies"`
}

// Get returns a request with its copies.
func (s *Service) Get(ctx context.Context, p accounts.Principal, id string) (View, error) {
	c, err := s.get(ctx, s.DB.Pool, p, accounts.CertificationRead, id, false)
	if err != nil {
		return View{}, err
	}
	cs, err := storage.CertifiedCopies(ctx, s.DB.Pool, c.ID)
	if err != nil {
		return View{}, err
	}
	if cs == nil {
		cs = []storage.CertifiedCopy{}
	}
	return View{c, cs}, nil
}

// ScanError is a scan the check refused: the problems name the pages.
type ScanError struct{ Refusal *scancheck.Refusal }

func (e *ScanError) Error() string { return e.Refusal.Error() }
func (e *ScanError) Unwrap() error { return e.Refusal }

// Scan checks and records the scan of the original (the desk officer's):
// PDF 1.4 or later, colour and at least 200 dpi on every page, as many
// pages as the request says. A refused scan is never stored.
func (s *Service) Scan(ctx context.Context, p accounts.Principal, id string, r io.Reader, fileName string) (storage.Certification, error) {
	c, err := s.get(ctx, s.DB.Pool, p, accounts.CertificationReceive, id, false)
	if err != nil {
		return c, err
	}
	if c.Status != storage.CertificationReceived && c.Status != storage.CertificationScanned {
		return c, because(rScanStep, refuse(ErrState, "the request is %s; a scan is taken before it is certified or refused", c.Status))
	}
	limit := s.Docs.MaxUpload
	if limit <= 0 {
		limit = 100 << 20
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return c, fmt.Errorf("read scan: %w", err)
	}
	if int64(len(data)) > limit {
		return c, fmt.Errorf("%w: the scan is larger than the limit of %d bytes", documents.ErrTooLarge, limit)
	}
	rep, err := scancheck.Check(data)
	var ref *scancheck.Refusal
	if errors.As(err, &ref) {
		return c, &ScanError{ref}
	}
	if err != nil {
		return c, err
	}
	if len(rep.Pages) != c.PageCount {
		return c, because(rScanPages, invalid("the scan has %d pages; the original was recorded with %d", len(rep.Pages), c.PageCount), len(rep.Pages), c.PageCount)
	}
	f, err := s.Docs.StoreFile(ctx, bytes.NewReader(data), fileName)
	if err != nil {
		return c, err
	}
	at := s.now()
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		cur, err := storage.GetCertification(ctx, tx, c.ID, true)
		if err != nil {
			return err
		}
		if cur.Status != storage.CertificationReceived && cur.Status != storage.CertificationScanned {
			return because(rScanStep, refuse(ErrState, "the request is %s; a scan is taken before it is certified or refused", cur.Status))
		}
		if err := s.Docs.CommitFile(ctx, tx, f); err != nil {
			return err
		}
		if err := storage.SetCertificationScan(ctx, tx, c.ID, f.Key, f.Size, f.FileName, p.ID, at); err != nil {
			return err
		}
		dpi := make([]float64, len(rep.Pages))
		for i, pg := range rep.Pages {
			dpi[i] = pg.DPI
		}
		return audit.Append(ctx, tx, p.Event("certification.scan", "certification:"+c.ID, map[string]any{
			"sha256": f.Key, "size": f.Size, "pages": len(rep.Pages), "pdf_version": rep.Version, "dpi": dpi, "replaced": cur.ScanSHA256}))
	})
	if err != nil {
		s.Docs.Discard(ctx, f)
		return c, err
	}
	return storage.GetCertification(ctx, s.DB.Pool, c.ID, false)
}

// RefuseRequest names the grounds (codes of Grounds) and an optional note.
type RefuseRequest struct {
	Reasons []string `json:"reasons"`
	Note    string   `json:"note"`
}

// Refuse records that the original cannot be certified, on one or more of
// the grounds of art. 22 (the desk officer's or the certifier's).
func (s *Service) Refuse(ctx context.Context, p accounts.Principal, id string, req RefuseRequest) (storage.Certification, error) {
	c, err := s.get(ctx, s.DB.Pool, p, accounts.CertificationRefuse, id, false)
	if err != nil {
		return c, err
	}
	var reasons []string
	for _, r := range req.Reasons {
		r = strings.TrimSpace(r)
		if _, ok := Grounds[r]; !ok {
			codes := make([]string, 0, len(Grounds))
			for k := range Grounds {
				codes = append(codes, k)
			}
			slices.Sort(codes)
			return c, because(rGroundUnknown, invalid("unknown refusal ground %q: one of %s", r, strings.Join(codes, ", ")), r)
		}
		if !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	if len(reasons) == 0 {
		return c, because(rGroundRequired, invalid("reasons: at least one ground of Decree 23/2015 art. 22"))
	}
	note := ""
	if strings.TrimSpace(req.Note) != "" {
		if note, err = cleanText(rNote, "note", req.Note, maxNoteRunes); err != nil {
			return c, err
		}
	}
	at := s.now()
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		cur, err := storage.GetCertification(ctx, tx, c.ID, true)
		if err != nil {
			return err
		}
		if cur.Status != storage.CertificationReceived && cur.Status != storage.CertificationScanned {
			return because(rDecided, refuse(ErrState, "the request is already %s", cur.Status))
		}
		if err := storage.RefuseCertification(ctx, tx, c.ID, reasons, note, p.ID, at); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, p.Event("certification.refuse", "certification:"+c.ID, map[string]any{"reasons": reasons})); err != nil {
			return err
		}
		return events.Publish(ctx, s.Events, tx, events.Event{Kind: EventRefused, OrganizationID: c.OrganizationID, ActorID: p.ID,
			UserIDs: []string{c.OpenedBy}, Summary: "Từ chối chứng thực bản sao: " + c.OriginalName,
			Data: map[string]any{"certification_id": c.ID, "reasons": reasons}})
	})
	if err != nil {
		return c, err
	}
	return storage.GetCertification(ctx, s.DB.Pool, c.ID, false)
}

// Copy is one certified copy and the citizen's link to it.
type Copy struct {
	DocumentID  string `json:"document_id"`
	SHA256      string `json:"sha256"`
	DownloadURL string `json:"download_url"`
	// VerifyURL is what the QR code beside the statement carries.
	VerifyURL string `json:"verify_url"`
}

// Certified is what certifying gives.
type Certified struct {
	ID          string    `json:"id"`
	Number      int       `json:"number"`
	Book        string    `json:"book"`
	Fee         int64     `json:"fee"`
	CertifiedAt time.Time `json:"certified_at"`
	DueAt       time.Time `json:"due_at"`
	OnTime      bool      `json:"on_time"`
	Copies      []Copy    `json:"copies"`
	ReceiptURL  string    `json:"receipt_url"`
	LinkExpires time.Time `json:"link_expires_at"`
}

// LinkPath is the path of the citizen's download of copy n (1-based) by
// token; CopyLinkPath(token, 0) is the link on the receipt (the first copy).
func LinkPath(token string, n int) string {
	if n <= 1 {
		return "/c/" + token
	}
	return fmt.Sprintf("/c/%s/%d", token, n)
}

// userBinding is p's newest usable key held by the service.
func userBinding(ctx context.Context, q storage.Querier, p accounts.Principal, at time.Time) (storage.KeyBinding, error) {
	all, err := storage.ListKeyBindings(ctx, q, p.ID, "")
	if err != nil {
		return storage.KeyBinding{}, fmt.Errorf("certifier keys: %w", err)
	}
	for _, b := range all {
		if b.UserID == p.ID && b.RevokedAt == nil && !at.Before(b.NotBefore) && at.Before(b.NotAfter) &&
			(b.Kind == storage.KeyPKCS11 || b.Kind == storage.KeyPKCS12) {
			return b, nil
		}
	}
	return storage.KeyBinding{}, because(rNoKey, refuse(ErrNoKey, "%s has no valid key held by the service; bind one (PKCS#11 or PKCS#12)", p.Username), p.Username)
}

// Certify certifies the copies of a scanned request (the certifier's):
// in one transaction the next number of the certified-copies register,
// the statement on the last page, for each copy the certifier's
// certification signature (DocMDP P=2) and the organisation's seal
// signature, the copies kept permanently, the download link, the receipt,
// the audit entry and the event. origin is the service's address as the
// citizen reaches it (https://host), for the links.
func (s *Service) Certify(ctx context.Context, p accounts.Principal, id, origin string) (Certified, error) {
	c, err := s.get(ctx, s.DB.Pool, p, accounts.CertificationCertify, id, false)
	if err != nil {
		return Certified{}, err
	}
	if err := certifiable(c); err != nil {
		return Certified{}, err
	}
	at := s.now()
	own, err := userBinding(ctx, s.DB.Pool, p, at)
	if err != nil {
		return Certified{}, err
	}
	seal, err := s.Registers.SealBinding(ctx, c.OrganizationID, at)
	if err != nil {
		return Certified{}, err
	}
	level, err := s.Registers.Level(ctx, s.DB.Pool, c.OrganizationID)
	if err != nil {
		return Certified{}, err
	}
	org, err := storage.GetOrganization(ctx, s.DB.Pool, c.OrganizationID)
	if err != nil {
		return Certified{}, err
	}
	sigImg, err := s.signatureImage(ctx, p, at)
	if err != nil {
		return Certified{}, err
	}
	sealImg, err := s.Registers.SealImageOf(ctx, org)
	if err != nil {
		return Certified{}, err
	}
	token, hash, err := newLink()
	if err != nil {
		return Certified{}, err
	}
	ttl := s.LinkTTL
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	j := &job{s: s, p: p, c: c, org: org, at: at, level: level, own: own, seal: seal, sigImg: sigImg, sealImg: sealImg,
		token: token, origin: strings.TrimSuffix(origin, "/"), verifyBase: cmp.Or(s.PublicURL, origin), expires: at.Add(ttl)}
	var out Certified
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		out, err = j.run(ctx, tx, hash)
		return err
	})
	if err != nil {
		for _, k := range j.stored {
			s.Docs.Discard(ctx, documents.StoredFile{Key: k})
		}
		return Certified{}, err
	}
	slog.InfoContext(ctx, "copies certified", "certification", c.ID, "number", out.Number, "book", out.Book, "copies", len(out.Copies), "certifier", p.Username)
	return out, nil
}

func certifiable(c storage.Certification) error {
	switch c.Status {
	case storage.CertificationScanned:
		return nil
	case storage.CertificationReceived:
		return because(rNotScanned, refuse(ErrState, "the original has not been scanned yet"))
	case storage.CertificationRefused:
		return because(rRefused, refuse(ErrState, "the request was refused (%s)", strings.Join(c.RefusalReasons, ", ")))
	}
	return because(rCertified, refuse(ErrState, "the copies were already certified (number %d, book %s)", c.Number, c.Book), c.Number)
}

// signatureImage is the certifier's handwritten signature, or, without
// one, the words "đã ký" drawn where it goes.
func (s *Service) signatureImage(ctx context.Context, p accounts.Principal, at time.Time) (image.Image, error) {
	si, err := storage.GetSignatureImage(ctx, s.DB.Pool, p.ID)
	if err == nil {
		img, err := png.Decode(bytes.NewReader(si.PNG))
		if err != nil {
			return nil, fmt.Errorf("signature image of %s: %w", p.Username, err)
		}
		return img, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	return appearance.Render(appearance.Spec{Kind: appearance.Copy, Organization: "Đã ký số", Time: at}, sigW, sigH, 200)
}

// newLink makes a download token (32 random bytes) and its SHA-256, the
// only form kept.
func newLink() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("download link: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}

// job is one certification in progress.
type job struct {
	s               *Service
	p               accounts.Principal
	c               storage.Certification
	org             storage.Organization
	at              time.Time
	level           signing.Level
	own, seal       storage.KeyBinding
	sigImg, sealImg image.Image
	token, origin   string
	verifyBase      string // the public verification URLs' base
	expires         time.Time
	stored          []string // blobs put, for discarding when the transaction does not commit
}

func (j *job) run(ctx context.Context, tx pgx.Tx, hash []byte) (Certified, error) {
	c, err := storage.GetCertification(ctx, tx, j.c.ID, true)
	if err != nil {
		return Certified{}, err
	}
	if err := certifiable(c); err != nil {
		return Certified{}, err
	}
	reg, err := certifiedRegister(ctx, tx, c.OrganizationID)
	if err != nil {
		return Certified{}, err
	}
	year := register.Year(j.at)
	number, err := storage.NextRegisterNumber(ctx, tx, reg.ID, year)
	if err != nil {
		return Certified{}, err
	}
	book := Book(year, reg.Code)
	st := Statement{Number: number, Book: book, Date: j.at, Title: j.p.Title, Name: j.p.FullName}
	if strings.TrimSpace(st.Title) == "" {
		st.Title = "Người thực hiện chứng thực"
	}
	scanFile, scanSize, doneScan, err := j.readScan(ctx, c)
	if err != nil {
		return Certified{}, err
	}
	defer doneScan()
	official, err := accounts.SigningKey(ctx, j.p, j.own, j.s.Accounts.PIN, j.s.Accounts.Keystore, j.at)
	if err != nil {
		return Certified{}, fmt.Errorf("%w: %v", ErrNoKey, err)
	}
	defer keys.Close(official)
	if official, err = register.WithBoundChain(official, j.own); err != nil {
		return Certified{}, fmt.Errorf("%w: %v", ErrNoKey, err)
	}
	sealKey, err := accounts.SigningKey(ctx, j.p, j.seal, j.s.Accounts.PIN, j.s.Accounts.Keystore, j.at)
	if err != nil {
		if errors.Is(err, accounts.ErrForbidden) || errors.Is(err, storage.ErrNotFound) {
			return Certified{}, err
		}
		return Certified{}, fmt.Errorf("%w: %v", register.ErrNoSealKey, err)
	}
	defer keys.Close(sealKey)
	if sealKey, err = register.WithBoundChain(sealKey, j.seal); err != nil {
		return Certified{}, err
	}
	out := Certified{ID: c.ID, Number: number, Book: book, Fee: c.Fee, CertifiedAt: j.at, DueAt: c.DueAt, OnTime: !j.at.After(c.DueAt),
		LinkExpires: j.expires}
	var keysMade []string
	for n := 1; n <= c.Copies; n++ {
		// Each copy is its own file with its own verification code, drawn
		// beside its statement.
		code := publicverify.NewCode()
		st.VerifyURL = publicverify.URL(j.verifyBase, code)
		info, err := j.makeCopy(ctx, scanFile, scanSize, st, official, sealKey, number, book)
		if err != nil {
			return Certified{}, err
		}
		if err := storage.LockBlob(ctx, tx, info.Key); err != nil {
			return Certified{}, err
		}
		cc, err := storage.InsertCertifiedCopy(ctx, tx, storage.CertifiedCopy{CertificationID: c.ID, CopyNumber: n, SHA256: info.Key, Size: info.Size})
		if err != nil {
			return Certified{}, err
		}
		if _, err := publicverify.Record(ctx, tx, publicverify.Rec{SHA256: info.Key, Code: code, Kind: publicverify.KindCertifiedCopy,
			CertifiedCopyID: cc.ID, OrganizationID: c.OrganizationID}); err != nil {
			return Certified{}, err
		}
		keysMade = append(keysMade, info.Key)
		out.Copies = append(out.Copies, Copy{DocumentID: cc.ID, SHA256: cc.SHA256, DownloadURL: j.origin + LinkPath(j.token, n),
			VerifyURL: st.VerifyURL})
	}
	receipt, err := j.receipt(ctx, tx, c, out)
	if err != nil {
		return Certified{}, err
	}
	out.ReceiptURL = "/api/v1/certifications/" + c.ID + "/receipt"
	err = storage.MarkCertified(ctx, tx, c.ID, storage.CertifiedRecord{RegisterID: reg.ID, Book: book, Year: year, Number: number,
		By: j.p.ID, CertifierName: j.p.FullName, Title: st.Title, At: j.at, LinkHash: hash, LinkExpiresAt: j.expires, ReceiptSHA256: receipt})
	if err != nil {
		return Certified{}, err
	}
	err = audit.Append(ctx, tx, j.p.Event("certification.certify", "certification:"+c.ID, map[string]any{
		"register": reg.ID, "year": year, "number": number, "book": book, "copies": keysMade, "fee": c.Fee,
		"level": string(j.level), "key_binding": j.own.ID, "fingerprint": j.own.Fingerprint, "seal_binding": j.seal.ID,
		"seal_fingerprint": j.seal.Fingerprint, "certified_at": j.at.In(Vietnam).Format(time.RFC3339), "on_time": out.OnTime,
		"link_expires_at": j.expires.In(Vietnam).Format(time.RFC3339)}))
	if err != nil {
		return Certified{}, err
	}
	err = events.Publish(ctx, j.s.Events, tx, events.Event{Kind: EventCertified, OrganizationID: c.OrganizationID, ActorID: j.p.ID,
		UserIDs: []string{c.OpenedBy}, Summary: fmt.Sprintf("Đã chứng thực bản sao %s, số chứng thực %d, quyển số %s", c.OriginalName, number, book),
		Data: map[string]any{"certification_id": c.ID, "number": number, "book": book, "copies": len(out.Copies), "on_time": out.OnTime}})
	if err != nil {
		return Certified{}, err
	}
	// Retained last, once nothing else can refuse them: kept without end.
	for _, k := range keysMade {
		if err := j.s.Docs.Blobs.Retain(ctx, k, Permanent); err != nil {
			return Certified{}, fmt.Errorf("retain certified copy: %w", err)
		}
	}
	return out, nil
}

// Book is the certified-copies book of a year as the statement and the
// register show it: "01/2026-SCTĐT/BS" (one electronic book a year).
func Book(year int, code string) string {
	if code == "" {
		code = "SCTĐT/BS"
	}
	return fmt.Sprintf("01/%d-%s", year, code)
}

// certifiedRegister is the organisation's default certified-copies
// register.
func certifiedRegister(ctx context.Context, q storage.Querier, orgID string) (storage.Register, error) {
	all, err := storage.ListRegisters(ctx, q, orgID)
	if err != nil {
		return storage.Register{}, err
	}
	for _, r := range all {
		if r.Kind == storage.RegisterCertifiedCopies && r.Default {
			return r, nil
		}
	}
	return storage.Register{}, errors.New("the organisation has no certified-copies register")
}

// readScan reads the scan into a temporary file, once for all copies.
func (j *job) readScan(ctx context.Context, c storage.Certification) (*os.File, int64, func(), error) {
	rc, err := j.s.Docs.Blobs.Open(ctx, c.ScanSHA256, 0, -1)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read scan: %w", err)
	}
	defer rc.Close()
	in, err := os.CreateTemp(j.s.TempDir, "vanthu-certify-scan-*.pdf")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("certify: temporary file: %w", err)
	}
	done := func() { in.Close(); os.Remove(in.Name()) }
	n, err := io.Copy(in, rc)
	if err != nil {
		done()
		return nil, 0, nil, fmt.Errorf("read scan: %w", err)
	}
	return in, n, done, nil
}

// makeCopy draws the statement (with the copy's verification code) on the
// scan into a temporary file, then signs and stores the copy.
func (j *job) makeCopy(ctx context.Context, scan *os.File, scanSize int64, st Statement, official, sealKey keys.Key, number int, book string) (blob.Info, error) {
	out, err := os.CreateTemp(j.s.TempDir, "vanthu-certify-stmt-*.pdf")
	if err != nil {
		return blob.Info{}, fmt.Errorf("certify: temporary file: %w", err)
	}
	defer func() { out.Close(); os.Remove(out.Name()) }()
	pl, err := drawStatement(scan, scanSize, out, st)
	if err != nil {
		return blob.Info{}, err
	}
	size, err := out.Seek(0, io.SeekCurrent)
	if err != nil {
		return blob.Info{}, fmt.Errorf("statement: %w", err)
	}
	return j.signCopy(ctx, out, size, pl, official, sealKey, number, book)
}

// sealDiameterPt is the seal's real size.
const sealDiameterPt = appearance.DefaultSealDiameterMM / 25.4 * 72

// signCopy makes one certified copy: the certifier's certification
// signature in the statement's signature box, then the organisation's
// seal over its left third, locking the document; and stores it.
func (j *job) signCopy(ctx context.Context, in *os.File, size int64, pl placed, official, sealKey keys.Key, number int, book string) (blob.Info, error) {
	mid, err := os.CreateTemp(j.s.TempDir, "vanthu-certify-sig-*.pdf")
	if err != nil {
		return blob.Info{}, fmt.Errorf("certify: temporary file: %w", err)
	}
	defer func() { mid.Close(); os.Remove(mid.Name()) }()
	r := j.s.Registers
	opts := signing.Options{Level: j.level, TSAURL: r.TSAURL, HTTPClient: r.HTTPClient, Extender: r.Extender, Time: j.at,
		Name: j.p.FullName, Reason: fmt.Sprintf("Chứng thực bản sao đúng với bản chính, số chứng thực %d, quyển số %s", number, book),
		Location: j.org.Name, Certify: 2, Visible: &signing.Visible{Page: pl.Page, Rect: pl.SigRect, Image: j.sigImg}}
	if err := signing.Sign(ctx, in, size, mid, official, opts); err != nil {
		return blob.Info{}, signingError(err, ErrNoKey)
	}
	midSize, err := mid.Seek(0, io.SeekEnd)
	if err != nil {
		return blob.Info{}, fmt.Errorf("certified copy: %w", err)
	}
	out, err := os.CreateTemp(j.s.TempDir, "vanthu-certify-out-*.pdf")
	if err != nil {
		return blob.Info{}, fmt.Errorf("certify: temporary file: %w", err)
	}
	defer func() { out.Close(); os.Remove(out.Name()) }()
	d := sealDiameterPt
	right := pl.SigRect[0] + (pl.SigRect[2]-pl.SigRect[0])/3
	cy := (pl.SigRect[1] + pl.SigRect[3]) / 2
	vis := &signing.Visible{Page: pl.Page, Rect: [4]float64{right - d, cy - d/2, right, cy + d/2}, Image: j.sealImg}
	if vis.Image == nil {
		spec := appearance.Spec{Kind: appearance.Copy, Organization: j.org.Name, Time: j.at, Lines: []string{fmt.Sprintf("Số chứng thực %d", number)}}
		if vis.Image, err = appearance.Render(spec, d, d, 200); err != nil {
			return blob.Info{}, fmt.Errorf("%w: seal appearance: %v", register.ErrSeal, err)
		}
	}
	sopts := signing.Options{Level: j.level, TSAURL: r.TSAURL, HTTPClient: r.HTTPClient, Extender: r.Extender, Time: j.at,
		Name: j.org.Name, Reason: fmt.Sprintf("Chứng thực bản sao, số chứng thực %d, quyển số %s", number, book), Lock: true, Visible: vis}
	if err := signing.Sign(ctx, mid, midSize, out, sealKey, sopts); err != nil {
		return blob.Info{}, signingError(err, register.ErrNoSealKey)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return blob.Info{}, fmt.Errorf("certified copy: %w", err)
	}
	info, err := j.s.Docs.Blobs.Put(ctx, out, blob.PutOptions{})
	if err != nil {
		return blob.Info{}, fmt.Errorf("store certified copy: %w", err)
	}
	j.stored = append(j.stored, info.Key)
	return info, nil
}

// signingError sorts a failure of the signing library: the TSA or LTV
// data is the service's (retry later), a certificate problem the key's.
func signingError(err, keyErr error) error {
	switch {
	case errors.Is(err, signing.ErrTSA), errors.Is(err, signing.ErrLevelUnavailable):
		return fmt.Errorf("%w: %v", register.ErrUnavailable, err)
	case errors.Is(err, signing.ErrCertificateNotValid), errors.Is(err, signing.ErrKeyUsage), errors.Is(err, signing.ErrKeyMismatch), errors.Is(err, keys.ErrExpired):
		return fmt.Errorf("%w: %v", keyErr, err)
	}
	return err
}

// Receipt opens the receipt of a certified request.
func (s *Service) Receipt(ctx context.Context, p accounts.Principal, id string) (io.ReadCloser, int64, error) {
	c, err := s.get(ctx, s.DB.Pool, p, accounts.CertificationRead, id, false)
	if err != nil {
		return nil, 0, err
	}
	if c.ReceiptSHA256 == "" {
		return nil, 0, because(rReceiptEarly, refuse(ErrState, "the receipt is made when the copies are certified; the request is %s", c.Status))
	}
	st, err := s.Docs.Blobs.Stat(ctx, c.ReceiptSHA256)
	if err != nil {
		return nil, 0, fmt.Errorf("receipt: %w", err)
	}
	rc, err := s.Docs.Blobs.Open(ctx, c.ReceiptSHA256, 0, -1)
	if err != nil {
		return nil, 0, fmt.Errorf("receipt: %w", err)
	}
	return rc, st.Size, nil
}

// Download opens copy n (1-based) of the request whose link token is
// token, for anyone holding the link until it expires. An unknown or
// expired token is ErrLinkGone.
func (s *Service) Download(ctx context.Context, token string, n int) (io.ReadCloser, storage.CertifiedCopy, error) {
	if len(token) != 43 || n < 1 || n > maxCopies {
		return nil, storage.CertifiedCopy{}, ErrLinkGone
	}
	sum := sha256.Sum256([]byte(token))
	c, err := storage.CertificationByLink(ctx, s.DB.Pool, sum[:])
	if errors.Is(err, storage.ErrNotFound) {
		return nil, storage.CertifiedCopy{}, ErrLinkGone
	}
	if err != nil {
		return nil, storage.CertifiedCopy{}, err
	}
	if c.LinkExpiresAt == nil || !s.now().Before(*c.LinkExpiresAt) {
		return nil, storage.CertifiedCopy{}, ErrLinkGone
	}
	cs, err := storage.CertifiedCopies(ctx, s.DB.Pool, c.ID)
	if err != nil {
		return nil, storage.CertifiedCopy{}, err
	}
	if n > len(cs) {
		return nil, storage.CertifiedCopy{}, ErrLinkGone
	}
	cc := cs[n-1]
	rc, err := s.Docs.Blobs.Open(ctx, cc.SHA256, 0, -1)
	if err != nil {
		return nil, storage.CertifiedCopy{}, fmt.Errorf("certified copy: %w", err)
	}
	return rc, cc, nil
}
