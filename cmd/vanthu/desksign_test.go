package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"image/png"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob/s3"
	"github.com/vanthu/vanthu/web"
)

// deskTurns stands in for the approval chain (the one faked part): the
// turn of one document is one user's, for its latest version.
type deskTurns struct {
	mu     sync.Mutex
	turnOf map[string]string
	forms  []string
}

func (d *deskTurns) BeginSign(ctx context.Context, tx pgx.Tx, p documents.Principal, id string) (documents.SignTurn, error) {
	d.mu.Lock()
	owner, ok := d.turnOf[id]
	d.mu.Unlock()
	if !ok {
		return documents.SignTurn{}, errors.New("the document is not awaiting a signature")
	}
	t := documents.SignTurn{DocumentID: id, TurnOf: owner}
	err := tx.QueryRow(ctx, "SELECT number, blob_key FROM document_versions WHERE document_id = $1 ORDER BY number DESC LIMIT 1 FOR UPDATE", id).
		Scan(&t.Version, &t.VersionSHA256)
	return t, err
}

func (d *deskTurns) FinishSign(ctx context.Context, tx pgx.Tx, p documents.Principal, t documents.SignTurn, n int, sha, form string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.turnOf, t.DocumentID)
	d.forms = append(d.forms, form)
	return nil
}

// TestDeskSignSoftHSM runs `vanthu desk-sign` against a running service
// with the official's key on a SoftHSM2 token, as an official would with a
// USB token: the service stores version 2, VALID for the verifier and
// pdfsig, with only the handwritten signature drawn in the gap above the
// printed name. A token holding another person's key is refused before
// anything is signed.
func TestDeskSignSoftHSM(t *testing.T) {
	ctx := context.Background()
	pki := testharness.DevPKI(t)
	dbURL := testharness.Postgres(t)
	if err := storage.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	mc := testharness.MinIO(t)
	blobs, err := s3.New(ctx, s3.Config{Endpoint: mc.Endpoint, AccessKey: mc.AccessKey, SecretKey: mc.SecretKey, Bucket: mc.Bucket, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	acc := &accounts.Service{DB: db, Anchors: []*x509.Certificate{pki.Root()}}
	docs := &documents.Service{DB: db, Blobs: blobs, MaxUpload: 20 << 20, Retention: time.Hour}
	turns := &deskTurns{turnOf: map[string]string{}}
	srv := httptest.NewServer((&web.Server{DB: db, Blobs: blobs, Docs: docs, Accounts: acc, Turns: turns,
		Signing: web.SigningConfig{TSAURL: pki.TSAURL(), TempDir: t.TempDir()}}).Handler())
	t.Cleanup(srv.Close)

	op := accounts.Operator("test")
	org, err := acc.CreateOrganization(ctx, op, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân tỉnh Mẫu"})
	if err != nil {
		t.Fatal(err)
	}
	an, err := acc.CreateUser(ctx, op, accounts.NewUser{Username: "an", FullName: "Nguyễn Văn An", Title: "Chủ tịch", OrganizationID: org.ID, Roles: []string{storage.RoleSigner}})
	if err != nil {
		t.Fatal(err)
	}
	drafter, err := acc.CreateUser(ctx, op, accounts.NewUser{Username: "cv", FullName: "Chuyên viên", OrganizationID: org.ID, Roles: []string{storage.RoleDrafter}})
	if err != nil {
		t.Fatal(err)
	}
	officialChain, err := pki.Chain(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.BindKey(ctx, op, an.ID, "", accounts.KeyMaterial{Kind: storage.KeyExternal, Certificates: officialChain}); err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	png.Encode(&img, appearance.DemoSignature(an.FullName))
	sum := sha256.Sum256(img.Bytes())
	if _, err := storage.PutSignatureImage(ctx, db.Pool, storage.SignatureImage{UserID: an.ID, PNG: img.Bytes(), SHA256: hex.EncodeToString(sum[:]), Width: 600, Height: 220}); err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile(filepath.Join(testharness.Drafts(t), "qd-chu-tich.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	pd := accounts.Principal{User: drafter}
	f, err := docs.StoreFile(ctx, bytes.NewReader(in), "qd.pdf")
	if err != nil {
		t.Fatal(err)
	}
	meta, err := docs.CheckMeta(ctx, pd, documents.Meta{Type: "QĐ", Subject: "Ban hành quy chế"})
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := docs.Create(ctx, pd, meta, f, "")
	if err != nil {
		t.Fatal(err)
	}
	turns.turnOf[doc.ID] = an.ID

	token, _, err := acc.IssueToken(ctx, op, an.ID, "desk", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)

	tok := testharness.SoftHSM(t)
	deskSign := func(keyName string) (string, error) {
		k, err := pki.Key(keyName)
		if err != nil {
			t.Fatal(err)
		}
		uri := testharness.ImportKey(t, tok, k, k.Chain(), keyName, []byte(keyName))
		cmd := newDeskSignCmd()
		var out bytes.Buffer
		cmd.SetArgs([]string{doc.ID, "--url", srv.URL, "--token-file", tokenFile, "--key", uri})
		cmd.SetOut(&out)
		cmd.SetErr(io.Discard)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err = cmd.ExecuteContext(ctx)
		if strings.Contains(out.String(), tok.PIN) || (err != nil && strings.Contains(err.Error(), tok.PIN)) || strings.Contains(out.String(), token) {
			t.Fatal("desk-sign printed a secret")
		}
		return out.String(), err
	}
	if _, err := deskSign(devpki.Deputy); err == nil || !strings.Contains(err.Error(), "--key-id") || !strings.Contains(err.Error(), "Trần Thị Bình") {
		t.Fatalf("another person's token: %v", err)
	}
	out, err := deskSign(devpki.Official)
	if err != nil {
		t.Fatalf("desk-sign: %v", err)
	}
	if !strings.Contains(out, "signed: version 2 of document "+doc.ID) {
		t.Fatalf("desk-sign said %q", out)
	}
	v, err := storage.GetVersion(ctx, db.Pool, doc.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := docs.Open(ctx, v, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	signed, _ := io.ReadAll(rc)
	rc.Close()
	rep, err := verify.Verify(ctx, bytes.NewReader(signed), int64(len(signed)), verify.Options{Trust: chain.NewStore(pki.Root())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid {
		t.Fatalf("verifier: %s", rep.Verdict)
	}
	rendercheck.AssertPdfsigValid(t, signed, 1)
	rendercheck.AssertOnlyInNameGap(t, in, signed, "Nguyễn Văn An")
	if len(turns.forms) != 1 {
		t.Fatalf("FinishSign %v", turns.forms)
	}
}
