package certify

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/storage"
)

// List returns p's organisation's requests whose status is one of
// statuses (none: all), newest first: the desk's and the certifier's
// queues.
func (s *Service) List(ctx context.Context, p accounts.Principal, statuses ...string) ([]storage.Certification, error) {
	if err := accounts.Authorize(p, accounts.CertificationRead, accounts.Target{OrgID: p.OrganizationID}); err != nil {
		return nil, err
	}
	return storage.ListCertifications(ctx, s.DB.Pool, p.OrganizationID, statuses, 200)
}

// NumberPreview is the certification number and book certifying now
// would take; another certification made first takes it, and this one the
// next.
type NumberPreview struct {
	Number int
	Book   string
	Year   int
}

// Preview says which number certifying request id would take now (the
// certifier's), without taking it.
func (s *Service) Preview(ctx context.Context, p accounts.Principal, id string) (NumberPreview, error) {
	c, err := s.get(ctx, s.DB.Pool, p, accounts.CertificationCertify, id, false)
	if err != nil {
		return NumberPreview{}, err
	}
	if err := certifiable(c); err != nil {
		return NumberPreview{}, err
	}
	reg, err := certifiedRegister(ctx, s.DB.Pool, c.OrganizationID)
	if err != nil {
		return NumberPreview{}, err
	}
	year := register.Year(s.now())
	last, err := storage.LastRegisterNumber(ctx, s.DB.Pool, reg.ID, year)
	if err != nil {
		return NumberPreview{}, err
	}
	return NumberPreview{Number: last + 1, Book: Book(year, reg.Code), Year: year}, nil
}

// LinkView is what the citizen's link shows before the download: who
// certified what, and the copies to download. It holds no identity
// number: the link may be forwarded.
type LinkView struct {
	Organization  string
	OriginalName  string
	Number        int
	Book          string
	CertifiedAt   time.Time
	ExpiresAt     time.Time
	Copies        []storage.CertifiedCopy
	CertifierName string
}

// Link returns the view of the request whose link token is token, for
// anyone holding the link until it expires; an unknown or expired token is
// ErrLinkGone.
func (s *Service) Link(ctx context.Context, token string) (LinkView, error) {
	if len(token) != 43 {
		return LinkView{}, ErrLinkGone
	}
	sum := sha256.Sum256([]byte(token))
	c, err := storage.CertificationByLink(ctx, s.DB.Pool, sum[:])
	if errors.Is(err, storage.ErrNotFound) {
		return LinkView{}, ErrLinkGone
	}
	if err != nil {
		return LinkView{}, err
	}
	if c.LinkExpiresAt == nil || c.CertifiedAt == nil || !s.now().Before(*c.LinkExpiresAt) {
		return LinkView{}, ErrLinkGone
	}
	org, err := storage.GetOrganization(ctx, s.DB.Pool, c.OrganizationID)
	if err != nil {
		return LinkView{}, err
	}
	cs, err := storage.CertifiedCopies(ctx, s.DB.Pool, c.ID)
	if err != nil {
		return LinkView{}, err
	}
	return LinkView{Organization: org.Name, OriginalName: c.OriginalName, Number: c.Number, Book: c.Book, CertifiedAt: *c.CertifiedAt,
		ExpiresAt: *c.LinkExpiresAt, Copies: cs, CertifierName: c.CertifierName}, nil
}
