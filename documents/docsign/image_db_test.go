package docsign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/storage"
)

// TestSignatureImageReadOnce: the opening reads a signer's PNG only when
// this process holds no image with its SHA-256; the image held is used
// as it is, a replaced image is read and decoded, and one held when the
// opening was sent but dropped since (the cache started again) is read
// again in the transaction.
func TestSignatureImageReadOnce(t *testing.T) {
	ctx := context.Background()
	url := testharness.Postgres(t)
	if err := storage.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	org, err := storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := storage.CreateUser(ctx, db.Pool, storage.User{Username: "an", FullName: "Nguyễn Văn An", OrganizationID: org.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	put := func(name string) []byte {
		b := encode(t, appearance.DemoSignature(name))
		sum := sha256.Sum256(b)
		if _, err := storage.PutSignatureImage(ctx, db.Pool, storage.SignatureImage{UserID: u.ID, PNG: b, SHA256: hex.EncodeToString(sum[:]),
			Width: 1, Height: 1, UpdatedBy: u.ID}); err != nil {
			t.Fatal(err)
		}
		return b
	}
	saved := decodedImages
	t.Cleanup(func() { decodedImages = saved })
	decodedImages = &decodedCache{max: 16 << 20}

	// open reads the image as the opening does and, once between has
	// run, makes it as begin does.
	open := func(between func()) (storage.SignatureImage, storedImage) {
		t.Helper()
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		var si storage.SignatureImage
		var missing error
		b := &pgx.Batch{}
		storage.QueueSignatureImage(b, u.ID, decodedImages.heldFor(u.ID), &si, &missing)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
		between()
		stored, err := signatureImage(ctx, tx, u.ID, si, missing)
		if err != nil {
			t.Fatal(err)
		}
		return si, stored
	}
	nothing := func() {}
	first := put("Nguyễn Văn An")
	si, a := open(nothing)
	if !bytes.Equal(si.PNG, first) || a.img == nil || a.sha != sha(first) {
		t.Fatalf("first signature: PNG of %d bytes read, image %v, SHA-256 %s", len(si.PNG), a.img != nil, a.sha)
	}
	si, again := open(nothing)
	if si.PNG != nil || again.img != a.img || again.sum != a.sum || again.sha != a.sha {
		t.Fatalf("second signature: PNG of %d bytes read again, or another image", len(si.PNG))
	}

	second := put("N. V. An")
	si, b := open(nothing)
	if !bytes.Equal(si.PNG, second) || b.img == a.img || b.sha != sha(second) {
		t.Fatalf("replaced image: PNG of %d bytes, the same image %v", len(si.PNG), b.img == a.img)
	}

	// Held when the opening was sent, dropped before it was used.
	si, c := open(func() { decodedImages = &decodedCache{max: 16 << 20} })
	if si.PNG != nil || c.img == nil || c.sha != sha(second) || c.sum != b.sum {
		t.Fatalf("dropped image: PNG of %d bytes read while held, SHA-256 %s", len(si.PNG), c.sha)
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
