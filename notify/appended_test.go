package notify_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/metrics"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/s3"
)

// TestDeliveryEmailAttachesAnAppendedBlob: an issued file that MinIO keeps
// as the signed version plus the seal's appended update (as the service
// stores it, through the metrics wrapper) goes out whole, byte for byte,
// as the e-mail's attachment.
func TestDeliveryEmailAttachesAnAppendedBlob(t *testing.T) {
	w := newWorld(t)
	cfg := testharness.MinIO(t)
	bucket, err := s3.New(w.ctx, s3.Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	w.blobs = metrics.Blobs(bucket)
	ap, ok := w.blobs.(blob.AppendPutter)
	if !ok {
		t.Fatal("the wrapped MinIO store does not append")
	}
	signed := make([]byte, 300<<10)
	rand.New(rand.NewSource(9)).Read(signed)
	sealed := append(append([]byte{}, signed...), []byte("\n% the seal's incremental update\n%%EOF\n")...)
	signedKey, sealedKey := hexSum(signed), hexSum(sealed)
	until := time.Now().Add(time.Hour)
	if _, err := ap.PutKnown(w.ctx, signedKey, signed, until); err != nil {
		t.Fatal(err)
	}
	if _, err := ap.PutAppended(w.ctx, sealedKey, signedKey, sealed, int64(len(signed)), until); err != nil {
		t.Fatal(err)
	}
	smtpd := testharness.SMTP(t)
	e := w.engine(notify.Config{Mail: notify.MailConfig{Addr: smtpd.Addr, From: "vanthu@xa.gov.vn"}}, false)
	doc := w.document("Quyết định khen thưởng")
	if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO document_versions (document_id, number, blob_key, size, file_name, signed, created_by)
		VALUES ($1, 1, $2, $3, 'quyet-dinh.pdf', true, $4)`, doc, sealedKey, len(sealed), w.id("clerk")); err != nil {
		t.Fatal(err)
	}
	var delivery string
	if err := w.db.Pool.QueryRow(w.ctx, `INSERT INTO document_deliveries (document_id, name, email, channel)
		VALUES ($1, 'Công ty A', 'vanthu@congty-a.vn', 'email') RETURNING id`, doc).Scan(&delivery); err != nil {
		t.Fatal(err)
	}
	if err := w.db.InTx(w.ctx, func(tx pgx.Tx) error { return e.EnqueueDeliveryEmail(w.ctx, tx, delivery) }); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(w.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop(w.ctx) })
	eventually(t, "delivery mailed", func() bool {
		return w.count("SELECT count(*) FROM document_deliveries WHERE id = $1 AND mailed_at IS NOT NULL AND status = 'sent'", delivery) == 1
	})
	mails := smtpd.Mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	attached := attachment(t, mails[0].Data, "quyet-dinh.pdf")
	if got := decodeBase64(t, attached); !bytes.Equal(got, sealed) {
		t.Fatalf("attachment: %d bytes, not the %d sealed", len(got), len(sealed))
	}
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
