package docsign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/storage"
)

// Prepared is what a two-step signer receives: the signed attributes to
// sign (DataToSign) or, for a device that signs a hash, their Digest, with
// the algorithms, and the session to complete within its lifetime.
type Prepared struct {
	SessionID          string `json:"session_id"`
	DataToSign         []byte `json:"data_to_sign"`
	Digest             []byte `json:"digest"`
	DigestAlgorithm    string `json:"digest_algorithm"`
	SignatureAlgorithm string `json:"signature_algorithm"`
	// Certificate is the DER of the certificate the signature must be
	// made with, and KeyID its binding.
	Certificate []byte `json:"certificate"`
	KeyID       string `json:"key_id"`
	ExpiresAt   string `json:"expires_at"`
	Version     int    `json:"version"`
}

// Completion is a two-step signer's answer: the raw signature value over
// the prepared data, or a whole CMS SignedData made by a remote service.
type Completion struct {
	SessionID string
	Signature []byte
	CMS       []byte
	// IdempotencyKey makes Complete repeatable: the same completion again
	// answers with the version the first made.
	IdempotencyKey string `json:"-"`
}

func digestName(h crypto.Hash) string {
	switch h {
	case crypto.SHA384:
		return "SHA-384"
	case crypto.SHA512:
		return "SHA-512"
	}
	return "SHA-256"
}

func signatureAlgorithm(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSASSA-PKCS1-v1_5"
	case *ecdsa.PublicKey:
		return "ECDSA"
	}
	return "unknown"
}

// Prepare reserves the signature's place in the version the chain gives
// p's turn for and returns what p's own device must sign. The session is
// stored without secrets; nothing else changes, and the turn stays open.
func (s *Service) Prepare(ctx context.Context, p documents.Principal, documentID string, req Request) (Prepared, error) {
	at := s.now()
	// The turn is taken here and held for the session's life: the chain's
	// reservation commits with the session, so while the signer's token
	// signs no version is added, no one else signs and the draft is not
	// withdrawn under the prepared bytes (complete takes the turn again).
	var sess storage.SignSession
	var pr *signing.Prepared
	var binding storage.KeyBinding
	var chain []*x509.Certificate
	err := s.inTx(ctx, p, documentID, "", func(tx pgx.Tx, o *opening) (*pgx.Batch, error) {
		doc := o.doc
		var err error
		if binding, err = pickDeskBinding(p, usable(o.bindings, at, storage.KeyExternal, storage.KeyPKCS11, storage.KeyPKCS12), req.KeyID); err != nil {
			return nil, err
		}
		if err := mayUse(ctx, p, binding, at); err != nil {
			return nil, err
		}
		if chain, err = accounts.BindingChain(binding); err != nil {
			return nil, err
		}
		j, err := s.begin(ctx, tx, p, o, req, at)
		if err != nil {
			return nil, err
		}
		defer j.close()
		f, done, err := s.tempOut(j)
		if err != nil {
			return nil, err
		}
		defer done()
		if pr, err = j.src.Prepare(ctx, f.target(), chain, j.opts); err != nil {
			return nil, signingError(err)
		}
		params, err := json.Marshal(j.params)
		if err != nil {
			return nil, err
		}
		// The turn's reservation, the session and its audit entry go
		// with the commit.
		writes := j.reserved
		sess = storage.QueueInsertSignSession(writes, storage.SignSession{DocumentID: doc.ID, UserID: p.ID, KeyBindingID: binding.ID,
			Version: j.version.Number, VersionSHA256: j.version.SHA256, Params: params, Digest: pr.Digest, SignedAttributes: pr.SignedAttributes,
			DigestAlgorithm: digestName(pr.Hash), ExpiresAt: at.Add(SessionLifetime)})
		e := p.Event("document.sign_prepare", "document:"+doc.ID, map[string]any{"session": sess.ID, "version": sess.Version, "sha256": sess.VersionSHA256,
			"key_binding": binding.ID, "fingerprint": binding.Fingerprint, "expires_at": sess.ExpiresAt.UTC().Format(time.RFC3339)})
		e.OrgID = doc.OrganizationID
		if err := audit.Queue(writes, e); err != nil {
			return nil, err
		}
		return writes, nil
	})
	if err != nil {
		return Prepared{}, err
	}
	return Prepared{SessionID: sess.ID, DataToSign: pr.SignedAttributes, Digest: pr.Digest, DigestAlgorithm: digestName(pr.Hash),
		SignatureAlgorithm: signatureAlgorithm(chain[0].PublicKey), Certificate: chain[0].Raw, KeyID: binding.ID,
		ExpiresAt: sess.ExpiresAt.UTC().Format(time.RFC3339), Version: sess.Version}, nil
}

// pickDeskBinding chooses the certificate of a two-step signature: the
// binding asked for, else the newest certificate of a key the signer holds
// themselves (kind external), else any of their valid keys bs.
func pickDeskBinding(p documents.Principal, bs []storage.KeyBinding, keyID string) (storage.KeyBinding, error) {
	if keyID != "" {
		for _, b := range bs {
			if b.ID == keyID {
				return b, nil
			}
		}
		return storage.KeyBinding{}, because(rKeyNotBound, refuse(ErrNoKey, "key %q is not a valid key bound to %s", keyID, p.Username))
	}
	for _, b := range bs {
		if b.Kind == storage.KeyExternal {
			return b, nil
		}
	}
	if len(bs) > 0 {
		return bs[0], nil
	}
	return storage.KeyBinding{}, because(rNoTokenCert, refuse(ErrNoKey, "%s has no valid bound certificate; bind the desk token's certificate (kind external) first", p.Username), p.Username)
}

// Complete embeds the signature value (or CMS) for a prepared session and
// returns the new version. The prepared bytes are rebuilt from the session's
// parameters and must hash to what was handed out; the value is verified
// against the certificate before it is embedded. The turn, the version,
// FinishSign and the audit entry commit together.
func (s *Service) Complete(ctx context.Context, p documents.Principal, documentID string, c Completion) (documents.Version, error) {
	if (len(c.Signature) == 0) == (len(c.CMS) == 0) {
		return documents.Version{}, invalid("give exactly one of signature (the signature value, base64) and cms (a CMS SignedData, base64)")
	}
	idem, err := newIdempotency(p, documentID, "sign-complete", c.IdempotencyKey, c)
	if err != nil {
		return documents.Version{}, err
	}
	return idem.run(ctx, s.DB.Pool, func() (documents.Version, error) { return s.complete(ctx, p, documentID, c, idem) })
}

func (s *Service) complete(ctx context.Context, p documents.Principal, documentID string, c Completion, idem *idempotency) (documents.Version, error) {
	at := s.now()
	var doc documents.Document
	var v documents.Version
	var blobKey string
	// The session is locked with the transaction's begin, after the
	// document (as Prepare inserts it, under the document's lock).
	err := s.inTx(ctx, p, documentID, c.SessionID, func(tx pgx.Tx, o *opening) (*pgx.Batch, error) {
		doc = o.doc
		sess, err := o.session, o.sessionErr
		if err != nil || sess.UserID != p.ID || sess.DocumentID != doc.ID {
			return nil, refuse(documents.ErrNotFound, "no signing session %q of yours for this document", c.SessionID)
		}
		switch {
		case sess.CompletedAt != nil:
			return nil, because(rSessionUsed, refuse(ErrSessionUsed, "it made version %d", deref(sess.CompletedVersion)))
		case !at.Before(sess.ExpiresAt):
			return nil, because(rSessionExpired, refuse(ErrSessionExpired, "it expired at %s; prepare again", sess.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")))
		}
		var params sessionParams
		if err := json.Unmarshal(sess.Params, &params); err != nil {
			return nil, fmt.Errorf("session parameters: %w", err)
		}
		binding, err := o.binding(ctx, tx, sess.KeyBindingID)
		if err != nil {
			return nil, err
		}
		if err := mayUse(ctx, p, binding, at); err != nil {
			return nil, err
		}
		chain, err := accounts.BindingChain(binding)
		if err != nil {
			return nil, err
		}
		j, err := s.begin(ctx, tx, p, o, Request{Level: params.Level, Page: params.Page, Rect: params.Rect}, params.Time)
		if err != nil {
			return nil, err
		}
		defer j.close()
		j.alsoWrite = func(b *pgx.Batch, v documents.Version) error {
			storage.QueueCompleteSignSession(b, sess.ID, v.Number)
			return idem.queue(b, v)
		}
		if j.version.Number != sess.Version || j.version.SHA256 != sess.VersionSHA256 || j.form != params.Form || j.params.ImageSHA != params.ImageSHA {
			return nil, because(rPreparedStale, refuse(ErrStale, "the turn, the version or the signature image changed since it was prepared; prepare again"))
		}
		out, done, err := s.tempOut(j)
		if err != nil {
			return nil, err
		}
		defer done()
		pr, err := j.src.Prepare(ctx, out.target(), chain, j.opts)
		if err != nil {
			return nil, signingError(err)
		}
		if !bytes.Equal(pr.Digest, sess.Digest) || !bytes.Equal(pr.SignedAttributes, sess.SignedAttributes) {
			return nil, because(rPreparedMismatch, refuse(ErrStale, "the document rebuilt for signing no longer hashes to what was prepared; prepare again"))
		}
		if len(c.CMS) > 0 {
			err = signing.FinalizeCMS(ctx, pr, out.target(), c.CMS)
		} else {
			err = signing.Finalize(ctx, pr, out.target(), c.Signature)
		}
		if errors.Is(err, signing.ErrTSA) {
			return nil, signingError(err)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRejected, err)
		}
		if j.opts.Level == signing.LevelBLT || j.opts.Level == signing.LevelBLTA {
			if _, err := s.Extender.ExtendFile(ctx, out.file, pr.Size, j.opts.Level == signing.LevelBLTA); err != nil {
				return nil, fmt.Errorf("%w: extend to %s: %v", ErrUnavailable, j.opts.Level, err)
			}
		}
		var writes *pgx.Batch
		v, writes, err = s.store(ctx, tx, p, j, out, binding, map[string]any{"mode": "two-step", "session": sess.ID}, &blobKey)
		return writes, err
	})
	if err != nil {
		s.discard(ctx, blobKey)
		return documents.Version{}, err
	}
	slog.InfoContext(ctx, "document signed in two steps", "document", doc.ID, "version", v.Number, "signer", p.Username)
	return v, nil
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// mayUse applies accounts' rules for using a bound key (not revoked, p's
// own, a token scoped for signing) to a certificate whose key p holds
// outside the service: nothing is opened.
func mayUse(ctx context.Context, p documents.Principal, b storage.KeyBinding, at time.Time) error {
	b.Kind = storage.KeyExternal
	if _, err := accounts.SigningKey(ctx, p, b, nil, nil, at); err != nil {
		if errors.Is(err, accounts.ErrForbidden) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrNoKey, err)
	}
	return nil
}
