package publicverify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/internal/certname"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
)

// Answer is what anyone learns about a file. Found false says only that
// this deployment did not issue, copy or certify these exact bytes — or
// that it will not say (a confidential document answers the same).
type Answer struct {
	Found  bool   `json:"found"`
	SHA256 string `json:"sha256"`
	// Kind: issued, copy or certified-copy.
	Kind         string        `json:"kind,omitempty"`
	Organization *Organization `json:"organization,omitempty"`
	// Number is the number and symbol (05/QĐ-UBND, 12/SY-UBND).
	Number   string     `json:"number,omitempty"`
	Type     string     `json:"type,omitempty"`
	Subject  string     `json:"subject,omitempty"`
	Date     string     `json:"date,omitempty"` // YYYY-MM-DD, Vietnam time
	IssuedAt *time.Time `json:"issued_at,omitempty"`
	// Recalled: the organisation recalled (thu hồi) the document.
	Recalled bool      `json:"recalled,omitempty"`
	Register *Entry    `json:"register_entry,omitempty"`
	CopyOf   *Original `json:"copy_of,omitempty"`
	// Certification is a certified copy's statement: its number and book.
	Certification *Certification `json:"certification,omitempty"`
	// Verdict and Signatures are the verifier's, run on the recorded file
	// when asked.
	Verdict    string      `json:"verdict,omitempty"`
	Signatures []Signature `json:"signatures,omitempty"`
	CheckedAt  *time.Time  `json:"checked_at,omitempty"`

	// what the answer is built from, never shown
	documentID string
	version    int
	size       int64
}

// Organization is the issuing, copying or certifying organisation.
type Organization struct {
	Name string `json:"name"`
	Code string `json:"code"`
}

// Entry is the file's line in its register.
type Entry struct {
	Register string `json:"register"`
	Year     int    `json:"year"`
	Number   int    `json:"number"`
}

// Original is what a copy copies.
type Original struct {
	Form   string `json:"form"` // SY, TrS, SL
	Number string `json:"number,omitempty"`
	Type   string `json:"type,omitempty"`
	Date   string `json:"date,omitempty"`
	// Pages a TRÍCH SAO took.
	Pages []int `json:"pages,omitempty"`
	// Description of a paper original.
	Description string `json:"description,omitempty"`
}

// Certification is what a certified copy's statement (lời chứng) shows of
// its certification: the number and book, and which copy of how many made
// at once. Who asked for it, and what the original is, are the citizen's
// and never answered.
type Certification struct {
	Number int    `json:"number"`
	Book   string `json:"book"`
	Copy   int    `json:"copy"`
	Copies int    `json:"copies"`
}

// certifiedCopyType is the type a certified copy is answered as.
const certifiedCopyType = "Bản sao điện tử được chứng thực từ bản chính"

// Signature is one signature's verdict, as the document's own signature
// panel shows it.
type Signature struct {
	Signer        string     `json:"signer"`
	Type          string     `json:"type"`
	SigningTime   *time.Time `json:"signing_time,omitempty"`
	TimestampTime *time.Time `json:"timestamp_time,omitempty"`
	Level         string     `json:"level,omitempty"`
	Indication    string     `json:"indication"`
	SubIndication string     `json:"sub_indication,omitempty"`
	Coverage      string     `json:"coverage"`
}

var vietnam = time.FixedZone("+07", 7*3600)

// lookup reads the record of a file by its hash or its code; a
// confidential document (its own or, for a copy, its original's details)
// is never read out.
func lookup(ctx context.Context, q storage.Querier, column, value string) (Answer, error) {
	var a Answer
	var conf, status, form, origText string
	var issuedAt, origIssued *time.Time
	var regName *string
	var regYear, regNumber *int
	var origNumber, origType, origConf *string
	var pages []int32
	err := q.QueryRow(ctx, `
		SELECT p.sha256, p.kind, p.document_id, p.version, v.size, o.name, o.code,
			coalesce(t.name, d.type_code), d.subject, d.status, d.confidentiality,
			coalesce(e.symbol, d.number, ''), coalesce(e.issued_at, d.issued_at),
			r.name, e.year, e.number,
			coalesce(c.form, ''), coalesce(c.original_text, ''), coalesce(c.pages, '{}'),
			od.number, ot.name, od.issued_at, od.confidentiality
		FROM public_records p
		JOIN documents d ON d.id = p.document_id
		JOIN document_versions v ON v.document_id = p.document_id AND v.number = p.version
		JOIN organizations o ON o.id = p.organization_id
		LEFT JOIN document_types t ON t.code = d.type_code
		LEFT JOIN register_entries e ON e.document_id = p.document_id
		LEFT JOIN registers r ON r.id = e.register_id
		LEFT JOIN document_copies c ON c.document_id = p.document_id
		LEFT JOIN documents od ON od.id = c.original_id
		LEFT JOIN document_types ot ON ot.code = od.type_code
		WHERE p.`+column+` = $1`, value).Scan(&a.SHA256, &a.Kind, &a.documentID, &a.version, &a.size,
		orgName(&a), orgCode(&a), &a.Type, &a.Subject, &status, &conf, &a.Number, &issuedAt,
		&regName, &regYear, &regNumber, &form, &origText, &pages, &origNumber, &origType, &origIssued, &origConf)
	if errors.Is(err, pgx.ErrNoRows) {
		return lookupCertified(ctx, q, column, value)
	}
	if err != nil {
		return Answer{}, fmt.Errorf("public record: %w", err)
	}
	if conf != "" && conf != "thuong" {
		return Answer{}, nil // answered exactly as an unknown file
	}
	a.Found = true
	a.Recalled = status == "recalled"
	if issuedAt != nil {
		t := issuedAt.In(vietnam)
		a.IssuedAt, a.Date = &t, t.Format("2006-01-02")
	}
	if regName != nil && regYear != nil && regNumber != nil {
		a.Register = &Entry{Register: *regName, Year: *regYear, Number: *regNumber}
	}
	if form != "" {
		a.CopyOf = &Original{Form: form, Description: origText}
		for _, p := range pages {
			a.CopyOf.Pages = append(a.CopyOf.Pages, int(p))
		}
		if origConf != nil && *origConf == "thuong" {
			if origNumber != nil {
				a.CopyOf.Number = *origNumber
			}
			if origType != nil {
				a.CopyOf.Type = *origType
			}
			if origIssued != nil {
				a.CopyOf.Date = origIssued.In(vietnam).Format("2006-01-02")
			}
		}
	}
	return a, nil
}

// lookupCertified reads the record of a certified copy of a citizen's
// original: the certifying body, the certification's number, book and
// date, and its line in the certified-copies register — only what the
// statement on the copy shows.
func lookupCertified(ctx context.Context, q storage.Querier, column, value string) (Answer, error) {
	var a Answer
	var cert Certification
	var certifiedAt time.Time
	var regName *string
	var year int
	err := q.QueryRow(ctx, `
		SELECT p.sha256, p.kind, cc.size, o.name, o.code, c.number, c.book, c.year, c.certified_at, r.name,
			cc.copy_number, (SELECT count(*) FROM certified_copies x WHERE x.certification_id = c.id)
		FROM public_records p
		JOIN certified_copies cc ON cc.id = p.certified_copy_id
		JOIN certifications c ON c.id = cc.certification_id
		JOIN organizations o ON o.id = p.organization_id
		LEFT JOIN registers r ON r.id = c.register_id
		WHERE p.`+column+` = $1 AND c.status = 'certified'`, value).Scan(&a.SHA256, &a.Kind, &a.size, orgName(&a), orgCode(&a),
		&cert.Number, &cert.Book, &year, &certifiedAt, &regName, &cert.Copy, &cert.Copies)
	if errors.Is(err, pgx.ErrNoRows) {
		return Answer{}, nil
	}
	if err != nil {
		return Answer{}, fmt.Errorf("public record of a certified copy: %w", err)
	}
	a.Found = true
	a.Type = certifiedCopyType
	a.Number = fmt.Sprintf("%d, quyển số %s", cert.Number, cert.Book)
	t := certifiedAt.In(vietnam)
	a.IssuedAt, a.Date = &t, t.Format("2006-01-02")
	a.Certification = &cert
	if regName != nil {
		a.Register = &Entry{Register: *regName, Year: year, Number: cert.Number}
	}
	return a, nil
}

func orgName(a *Answer) *string {
	if a.Organization == nil {
		a.Organization = &Organization{}
	}
	return &a.Organization.Name
}

func orgCode(a *Answer) *string {
	if a.Organization == nil {
		a.Organization = &Organization{}
	}
	return &a.Organization.Code
}

// Verifier validates a file's signatures (the service's verifier, on its
// bounded slots).
type Verifier func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error)

// Service answers public verification.
type Service struct {
	DB     *storage.DB
	Blobs  blob.Store
	Verify Verifier
	// TempDir holds the recorded file while it is verified; it is never
	// held in memory, whatever its size.
	TempDir string
	// Verdicts reuses recent verdicts (nil: every answer runs the
	// verifier).
	Verdicts *VerdictCache
}

// TempPattern names the temporary files of public verifications.
const TempPattern = "vanthu-publicverify-*"

// Upload answers for the file read from r (at most max bytes). The upload
// is hashed as it arrives into a temporary file (never memory); when it is
// a recorded file, those very bytes are what the verifier checks, and the
// file is removed before the answer.
func (s *Service) Upload(ctx context.Context, r io.Reader, max int64) (Answer, error) {
	buf, err := blob.Buffer(ctx, r, blob.BufferOptions{PutOptions: blob.PutOptions{Max: max}, Dir: s.TempDir, Pattern: TempPattern})
	if err != nil {
		return Answer{}, err
	}
	defer buf.Close()
	a, err := lookup(ctx, s.DB.Pool, "sha256", buf.Key)
	if err != nil || !a.Found {
		return Answer{SHA256: buf.Key}, err
	}
	if c, ok := s.Verdicts.get(a.SHA256, time.Now()); ok {
		return c.fill(a), nil
	}
	return s.verdictOf(ctx, a, buf, buf.Size)
}

// BySHA256 answers for the file with this hash.
func (s *Service) BySHA256(ctx context.Context, sha string) (Answer, error) {
	if !sha256Hex.MatchString(sha) {
		return Answer{SHA256: sha}, nil
	}
	a, err := lookup(ctx, s.DB.Pool, "sha256", sha)
	if err != nil || !a.Found {
		return Answer{SHA256: sha}, err
	}
	return s.withVerdict(ctx, a)
}

// ByCode answers for the file whose QR code carries code; an unknown
// code answers not found, without a hash.
func (s *Service) ByCode(ctx context.Context, code string) (Answer, error) {
	if !ValidCode(code) {
		return Answer{}, nil
	}
	a, err := lookup(ctx, s.DB.Pool, "code", code)
	if err != nil || !a.Found {
		return Answer{}, err
	}
	return s.withVerdict(ctx, a)
}

// withVerdict runs the verifier on the recorded file, read from the store
// into a temporary file (never memory).
func (s *Service) withVerdict(ctx context.Context, a Answer) (Answer, error) {
	if s.Verify == nil {
		return a, nil
	}
	if c, ok := s.Verdicts.get(a.SHA256, time.Now()); ok {
		return c.fill(a), nil
	}
	rc, err := s.Blobs.Open(ctx, a.SHA256, 0, -1)
	if err != nil {
		return Answer{}, fmt.Errorf("public verification: open recorded file: %w", err)
	}
	buf, err := blob.Buffer(ctx, rc, blob.BufferOptions{PutOptions: blob.PutOptions{Max: a.size}, Dir: s.TempDir, Pattern: TempPattern})
	rc.Close()
	if err != nil {
		return Answer{}, fmt.Errorf("public verification: read recorded file: %w", err)
	}
	defer buf.Close()
	if buf.Key != a.SHA256 {
		return Answer{}, fmt.Errorf("public verification: the stored bytes of %s hash to %s", a.SHA256, buf.Key)
	}
	return s.verdictOf(ctx, a, buf, buf.Size)
}

// verdictOf adds the verifier's verdict on the recorded file's bytes.
func (s *Service) verdictOf(ctx context.Context, a Answer, r io.ReaderAt, size int64) (Answer, error) {
	if s.Verify == nil {
		return a, nil
	}
	rep, err := s.Verify(ctx, r, size)
	if err != nil {
		return Answer{}, err
	}
	a.Verdict = string(rep.Verdict)
	checked := rep.CheckedAt.In(vietnam)
	a.CheckedAt = &checked
	for _, sig := range rep.Signatures {
		a.Signatures = append(a.Signatures, Signature{Signer: certname.Shown(sig.Signer), Type: sig.Type, SigningTime: inVietnam(sig.SigningTime),
			TimestampTime: inVietnam(sig.TimestampTime), Level: sig.Level, Indication: string(sig.Indication),
			SubIndication: string(sig.SubIndication), Coverage: string(sig.Coverage)})
	}
	s.Verdicts.put(a.SHA256, a, time.Now())
	return a, nil
}

func inVietnam(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.In(vietnam)
	return &v
}

func (c cachedVerdict) fill(a Answer) Answer {
	a.Verdict, a.Signatures, a.CheckedAt = c.verdict, c.signatures, c.checkedAt
	return a
}
