package accounts_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
)

// TestSealedKeyKeptOpen: a sealed PKCS#12 key is opened once per binding
// row and kept in memory; the same row gets the very key again, a changed
// row never gets the kept one, the certificate's validity is still checked
// on every use, and a revoked binding is refused.
func TestSealedKeyKeptOpen(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	admin, signer := o.users[storage.RoleAdmin], o.users[storage.RoleSigner]
	p12, err := os.ReadFile(o.pki.P12Path(devpki.Official))
	if err != nil {
		t.Fatal(err)
	}
	b, err := o.svc.BindKey(ctx, admin, signer.ID, "", accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: p12, Password: o.pki.Password()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	first, err := accounts.SigningKey(ctx, signer, b, nil, o.svc.Keystore, now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := accounts.SigningKey(ctx, signer, b, nil, o.svc.Keystore, now)
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatal("the same binding row was opened again instead of using the key kept open")
	}

	changed := b
	changed.SealedKey = append([]byte(nil), b.SealedKey...)
	changed.SealedKey[len(changed.SealedKey)-1] ^= 1
	if _, err := accounts.SigningKey(ctx, signer, changed, nil, o.svc.Keystore, now); err == nil {
		t.Fatal("a binding row whose sealed key changed was served the key kept for the old row")
	}
	reopened, err := accounts.SigningKey(ctx, signer, b, nil, o.svc.Keystore, now)
	if err != nil {
		t.Fatal(err)
	}
	if reopened == first {
		t.Fatal("the key kept for a row was still used after the row changed")
	}

	if _, err := accounts.SigningKey(ctx, signer, b, nil, o.svc.Keystore, b.NotAfter.Add(time.Hour)); !errors.Is(err, keys.ErrExpired) {
		t.Fatalf("a kept key past its certificate: %v, want %v", err, keys.ErrExpired)
	}

	if err := o.svc.RevokeKey(ctx, admin, b.ID); err != nil {
		t.Fatal(err)
	}
	revoked, err := storage.GetKeyBinding(ctx, o.db.Pool, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.SigningKey(ctx, signer, revoked, nil, o.svc.Keystore, now); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("a revoked binding: %v, want %v", err, accounts.ErrForbidden)
	}
}
