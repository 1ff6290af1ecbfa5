package notify_test

import (
	"bytes"
	"errors"
	"mime"
	"net/mail"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
)

// A published event is one notification per user, in the causing
// transaction; the list is one's own, newest first, paged by key, with the
// unread count; marking read is one's own only.
func TestNotificationsInAppOwnAndPaged(t *testing.T) {
	w := newWorld(t)
	e := w.engine(notify.Config{}, false)
	doc := w.document("Kế hoạch phòng chống thiên tai")

	// A rolled-back cause leaves nothing.
	boom := errors.New("rollback")
	err := w.db.InTx(w.ctx, func(tx pgx.Tx) error {
		if err := e.Publish(w.ctx, tx, events.Event{Kind: events.DocumentSubmitted, DocumentID: doc, UserIDs: []string{w.id("head")}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n := w.count("SELECT count(*) FROM notifications"); n != 0 {
		t.Fatalf("%d notifications after a rollback", n)
	}

	for i, kind := range []events.Kind{events.DocumentSubmitted, events.DocumentApproved, events.DocumentSigned} {
		w.publish(e, events.Event{Kind: kind, OrganizationID: w.org.ID, DocumentID: doc, ActorID: w.id("drafter"),
			UserIDs: []string{w.id("head"), w.id("clerk"), w.id("head")}, Summary: string(kind) + strings.Repeat("!", i)})
	}
	if n := w.count("SELECT count(*) FROM notifications"); n != 6 {
		t.Fatalf("%d notifications, want 3 events × 2 users (a repeated user told once)", n)
	}
	head := w.people["head"]
	p1, err := e.Notifications(w.ctx, head, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Items) != 2 || p1.Unread != 3 || p1.Next == "" || p1.Items[0].Kind != string(events.DocumentSigned) {
		t.Fatalf("first page: %+v", p1)
	}
	p2, err := e.Notifications(w.ctx, head, p1.Next, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Items) != 1 || p2.Next != "" || p2.Items[0].Kind != string(events.DocumentSubmitted) {
		t.Fatalf("second page: %+v", p2)
	}
	// The clerk's notification is not the head's to read.
	clerkPage, _ := e.Notifications(w.ctx, w.people["clerk"], "", 10)
	if err := e.MarkRead(w.ctx, head, clerkPage.Items[0].ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("marking another's notification: %v", err)
	}
	if err := e.MarkRead(w.ctx, head, p1.Items[0].ID); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "x", "00000000-0000-0000-0000-000000000000"} {
		if err := e.MarkRead(w.ctx, head, bad); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("mark %q: %v", bad, err)
		}
	}
	if p, _ := e.Notifications(w.ctx, head, "", 10); p.Unread != 2 || p.Items[0].ReadAt == nil {
		t.Fatalf("after reading one: %+v", p)
	}
	if p, _ := e.Notifications(w.ctx, w.people["clerk"], "", 10); p.Unread != 3 {
		t.Fatalf("the clerk's unread count changed: %+v", p)
	}
	var in *accounts.InputError
	if _, err := e.Notifications(w.ctx, head, "not-an-id", 10); !errors.As(err, &in) {
		t.Fatalf("bad cursor: %v", err)
	}
	if _, err := e.Notifications(w.ctx, head, "", 1000); !errors.As(err, &in) {
		t.Fatalf("huge limit: %v", err)
	}
}

// With the mail server down the e-mail is retried with backoff; once it is
// up exactly one mail arrives, to the user who chose e-mail only.
func TestEmailRetriedUntilServerUpAndSentOnce(t *testing.T) {
	w := newWorld(t)
	smtpd := testharness.SMTP(t)
	smtpd.Stop()
	w.setEmail("head", true)
	w.setEmail("clerk", false)
	e := w.engine(notify.Config{Mail: notify.MailConfig{Addr: smtpd.Addr, From: "vanthu@xa.gov.vn"}}, true)
	doc := w.document("Báo cáo tổng kết")
	w.publish(e, events.Event{Kind: events.DocumentSubmitted, DocumentID: doc, UserIDs: []string{w.id("head"), w.id("clerk")},
		Summary: "Văn bản chờ kiểm tra: Báo cáo tổng kết"})
	eventually(t, "two failed attempts", func() bool {
		return w.count("SELECT coalesce(max(array_length(errors, 1)), 0) FROM river_job WHERE kind = 'notify-email'") >= 2
	})
	if got := len(smtpd.Mails()); got != 0 {
		t.Fatalf("%d mails while the server was down", got)
	}
	smtpd.Start()
	eventually(t, "one mail", func() bool { return len(smtpd.Mails()) >= 1 })
	w.settled()
	mails := smtpd.Mails()
	if len(mails) != 1 || mails[0].To[0] != "head@xa.gov.vn" {
		t.Fatalf("mails: %+v", mails)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(mails[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Văn bản chờ kiểm tra: Báo cáo tổng kết" {
		t.Fatalf("subject %q", subject)
	}
	if n := w.count("SELECT count(*) FROM river_job WHERE kind = 'notify-email'"); n != 1 {
		t.Fatalf("%d e-mail jobs, want 1 (the clerk chose no e-mail)", n)
	}
}

// An issued document's e-mail delivery carries the sealed PDF as it is
// stored, marks the delivery mailed, and is queued once however often it
// is asked for.
func TestDeliveryEmailAttachesSealedPDF(t *testing.T) {
	w := newWorld(t)
	smtpd := testharness.SMTP(t)
	e := w.engine(notify.Config{Mail: notify.MailConfig{Addr: smtpd.Addr, From: "vanthu@xa.gov.vn"}}, false)
	doc := w.document("Quyết định khen thưởng")
	pdf := []byte("%PDF-1.7\n% sealed bytes \x00\x01\x02\xff\n%%EOF\n")
	info, err := w.blobs.Put(w.ctx, bytes.NewReader(pdf), blob.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO document_versions (document_id, number, blob_key, size, file_name, signed, created_by)
		VALUES ($1, 1, $2, $3, 'quyet-dinh.pdf', true, $4)`, doc, info.Key, info.Size, w.id("clerk")); err != nil {
		t.Fatal(err)
	}
	var delivery string
	if err := w.db.Pool.QueryRow(w.ctx, `INSERT INTO document_deliveries (document_id, name, email, channel)
		VALUES ($1, 'Công ty A', 'vanthu@congty-a.vn', 'email') RETURNING id`, doc).Scan(&delivery); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := w.db.InTx(w.ctx, func(tx pgx.Tx) error { return e.EnqueueDeliveryEmail(w.ctx, tx, delivery) }); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.count("SELECT count(*) FROM river_job WHERE kind = 'issue-email'"); n != 1 {
		t.Fatalf("%d jobs for one delivery", n)
	}
	if err := e.Start(w.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop(w.ctx) })
	eventually(t, "delivery mailed", func() bool {
		return w.count("SELECT count(*) FROM document_deliveries WHERE id = $1 AND mailed_at IS NOT NULL AND status = 'sent'", delivery) == 1
	})
	mails := smtpd.Mails()
	if len(mails) != 1 || mails[0].To[0] != "vanthu@congty-a.vn" {
		t.Fatalf("mails: %+v", mails)
	}
	attached := attachment(t, mails[0].Data, "quyet-dinh.pdf")
	if attached == nil {
		t.Fatal("no PDF attachment")
	}
	if got := decodeBase64(t, attached); !bytes.Equal(got, pdf) {
		t.Fatalf("attachment differs from the sealed file: %q", got)
	}
	// A delivery that is not by e-mail is refused.
	var internal string
	if err := w.db.Pool.QueryRow(w.ctx, `INSERT INTO document_deliveries (document_id, organization_id, channel)
		VALUES ($1, $2, 'internal') RETURNING id`, doc, w.org.ID).Scan(&internal); err != nil {
		t.Fatal(err)
	}
	if err := w.db.InTx(w.ctx, func(tx pgx.Tx) error { return e.EnqueueDeliveryEmail(w.ctx, tx, internal) }); err == nil {
		t.Fatal("an internal delivery was queued for e-mail")
	}
}
