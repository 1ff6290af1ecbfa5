package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/web/ui"
)

// pages builds the HTML pages (web/ui) on the same services, session
// cookie and verification slots as the API.
func (s *Server) pages() http.Handler {
	cfg := ui.Config{DB: s.DB, Docs: s.Docs, Accounts: s.Accounts, Sessions: cookieSessions{s},
		ClientAddress: s.clientAddress, VerifyUpload: s.verifyReader,
		VerifyVersion: func(ctx context.Context, v documents.Version) (*verify.Report, error) {
			return s.verifyStored(ctx, v, s.Verify)
		},
		CreateDocument: s.createFromForm, AddVersion: s.versionFromForm, UploadURL: "/api/v1/documents", SecureCookies: s.SecureCookies,
		Chain: s.Chain, Registers: s.registers(), Calendar: s.Calendar,
		Copies: s.copies(), Certify: s.certifications(), CertifyOrigin: s.origin, PublicVerify: s.publicVerify(), PublicAllow: s.publicAllow,
		Sign: func(ctx context.Context, p accounts.Principal, id string, req docsign.Request) (documents.Version, error) {
			return s.signer().Sign(ctx, p, id, req)
		}}
	cfg.Reception, cfg.Handling, cfg.Notify = s.reception(), s.Handling, s.Notify                       // incoming, statistics and notifications pages
	cfg.SignatureImage, cfg.PutSignatureImage = s.signer().SignatureImage, s.signer().PutSignatureImage // the account pages
	if s.OIDC != nil {
		cfg.OIDCLogin = oidcPath
	}
	return ui.New(cfg).Router()
}

// cookieSessions gives the pages the API's session cookie.
type cookieSessions struct{ s *Server }

func (c cookieSessions) Secret(r *http.Request) string {
	if k, err := r.Cookie(sessionCookie); err == nil {
		return k.Value
	}
	return ""
}

func (c cookieSessions) Start(w http.ResponseWriter, r *http.Request, secret string) {
	c.s.setSessionCookie(w, r, secret)
}

func (c cookieSessions) End(w http.ResponseWriter, r *http.Request) { c.s.clearSessionCookie(w, r) }

// verifyReader validates a PDF uploaded to the verification page, held
// like the API's uploads and on the same slots.
func (s *Server) verifyReader(ctx context.Context, r io.Reader) (*verify.Report, error) {
	buf, err := s.buffer(ctx, r, s.Docs.MaxUpload)
	if errors.Is(err, blob.ErrTooLarge) {
		return nil, &documents.InputError{Kind: documents.ErrTooLarge, Detail: fmt.Sprintf("the file is larger than the limit of %d bytes", s.Docs.MaxUpload)}
	}
	if err != nil {
		// A body that ends mid-file is the client's malformed upload.
		return nil, bodyError(err, s.Docs.MaxUpload)
	}
	defer buf.Close()
	return s.runVerify(ctx, buf, s.Verify)
}

// createFromForm is POST /api/v1/documents for the upload page's form
// when scripts are off.
func (s *Server) createFromForm(w http.ResponseWriter, r *http.Request, p accounts.Principal) (documents.Document, documents.Meta, error) {
	if err := s.Docs.CanCreate(p); err != nil {
		return documents.Document{}, documents.Meta{}, err
	}
	r = r.WithContext(context.WithValue(r.Context(), principalKey, p))
	// The form carries a key of its own (a page's rendering), as the API's
	// Idempotency-Key: posted twice (a double click, back and re-post),
	// it makes one document, and the second post lands on it.
	key := r.URL.Query().Get("key")
	if d, err := s.replayedUpload(w, r, p, key); err != nil || d != nil {
		if err != nil {
			return documents.Document{}, documents.Meta{}, err
		}
		return *d, documents.Meta{}, nil
	}
	meta, stored, err := s.readUpload(w, r, true)
	if err != nil {
		return documents.Document{}, meta, err
	}
	doc, _, err := s.Docs.Create(r.Context(), p, meta, stored, key)
	return doc, meta, err
}

// versionFromForm is POST /api/v1/documents/{id}/versions for the
// document page's new-version form.
func (s *Server) versionFromForm(w http.ResponseWriter, r *http.Request, p accounts.Principal, id string) (documents.Version, error) {
	// A document the caller may not change is refused before the file is read.
	if _, err := s.Docs.Changeable(r.Context(), p, id); err != nil {
		return documents.Version{}, err
	}
	r = r.WithContext(context.WithValue(r.Context(), principalKey, p))
	_, stored, err := s.readUpload(w, r, false)
	if err != nil {
		return documents.Version{}, err
	}
	return s.Docs.AddVersion(r.Context(), p, id, stored)
}
