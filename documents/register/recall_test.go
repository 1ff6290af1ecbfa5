package register_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// recorder is a Publisher that keeps what was published, and writes a row
// in the publishing transaction so a test can see the event committed (or
// rolled back) with its cause.
type recorder struct {
	mu     sync.Mutex
	events []events.Event
}

func (r *recorder) Publish(ctx context.Context, tx pgx.Tx, ev events.Event) error {
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS test_events (kind text, document_id uuid)"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO test_events VALUES ($1, $2)", string(ev.Kind), ev.DocumentID); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

// Issuing publishes document.issued and queues one e-mail per e-mail
// delivery, in its transaction; recalling (a clerk of the issuing
// organisation, with a reason) freezes the document, marks each delivery
// recalled, calls the receivers' hook, audits and publishes
// document.recalled — all or nothing.
func TestRecall(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	rec := &recorder{}
	var mailed []string
	w.svc.Events = rec
	w.svc.Mailer = register.DeliveryMailerFunc(func(ctx context.Context, tx pgx.Tx, id string) error {
		mailed = append(mailed, id)
		return nil
	})
	d := w.signedDocument("QĐ", "thuong")
	if _, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != 1 || rec.events[0].Kind != events.DocumentIssued || rec.events[0].DocumentID != d.ID {
		t.Fatalf("events after issuing: %+v", rec.events)
	}
	if n := w.count("SELECT count(*) FROM document_deliveries WHERE document_id = $1 AND channel = 'email' AND id::text = $2", d.ID, mailed[0]); len(mailed) != 1 || n != 1 {
		t.Fatalf("e-mails queued for %v", mailed)
	}

	var in *accounts.InputError
	for _, c := range []struct {
		name   string
		p      accounts.Principal
		reason string
		want   error
	}{
		{"no reason", w.clerk, "  ", nil},
		{"receiving organisation's clerk", w.otherClerk, "sai nội dung", accounts.ErrForbidden},
		{"drafter", w.drafter, "sai nội dung", accounts.ErrForbidden},
	} {
		_, err := w.svc.Recall(ctx, c.p, d.ID, c.reason)
		if c.want == nil && !errors.As(err, &in) || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// A failing receivers' hook leaves nothing recalled.
	w.svc.Recaller = register.RecallerFunc(func(context.Context, pgx.Tx, accounts.Principal, string, string) error {
		return errors.New("reception down")
	})
	if _, err := w.svc.Recall(ctx, w.clerk, d.ID, "sai nội dung"); err == nil {
		t.Fatal("recall with a failing hook succeeded")
	}
	if n := w.count("SELECT count(*) FROM document_deliveries WHERE document_id = $1 AND status = 'recalled'", d.ID); n != 0 {
		t.Fatalf("%d deliveries recalled by a failed recall", n)
	}
	var hooked []string
	w.svc.Recaller = register.RecallerFunc(func(ctx context.Context, tx pgx.Tx, _ accounts.Principal, id, _ string) error {
		hooked = append(hooked, id)
		return nil
	})
	out, err := w.svc.Recall(ctx, w.clerk, d.ID, "  Sai nội dung tại Điều 2 ")
	if err != nil {
		t.Fatal(err)
	}
	if out.Deliveries != 2 || out.Reason != "Sai nội dung tại Điều 2" || out.Status != documents.StatusRecalled || len(hooked) != 1 || hooked[0] != d.ID {
		t.Fatalf("recall %+v, hook %v", out, hooked)
	}
	got, err := storage.GetDocument(ctx, w.db.Pool, d.ID)
	if err != nil || got.Status != documents.StatusRecalled || got.RecalledAt == nil || got.RecallReason != out.Reason {
		t.Fatalf("document after recall: %+v %v", got, err)
	}
	ds, err := w.svc.Deliveries(ctx, w.clerk, d.ID)
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries %+v %v", ds, err)
	}
	for _, x := range ds {
		if x.Status != "recalled" || x.Reason != out.Reason {
			t.Fatalf("delivery after recall: %+v", x)
		}
	}
	if n := w.count("SELECT count(*) FROM audit_log WHERE action = 'document.recall' AND object = $1", "document:"+d.ID); n != 1 {
		t.Fatalf("%d audit entries of the recall", n)
	}
	if n := w.count("SELECT count(*) FROM test_events WHERE kind = 'document.recalled' AND document_id = $1", d.ID); n != 1 || len(rec.events) != 2 {
		t.Fatalf("document.recalled committed %d times; %d events published", n, len(rec.events))
	}

	// Frozen: no second recall, no issue, no new version.
	if _, err := w.svc.Recall(ctx, w.clerk, d.ID, "lại"); !errors.Is(err, register.ErrNotIssued) {
		t.Fatalf("second recall: %v", err)
	}
	if _, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); !errors.Is(err, register.ErrNotSigned) {
		t.Fatalf("issuing a recalled document: %v", err)
	}
	_, err = w.svc.Docs.AddVersion(ctx, w.drafter, d.ID, documents.StoredFile{Key: w.signedKey, Size: w.signedSize, FileName: "qd.pdf", Signed: true})
	if !errors.Is(err, documents.ErrVersionRefused) && !errors.Is(err, documents.ErrNotFound) && !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("a version added to a recalled document: %v", err)
	}
	if n := w.count("SELECT count(*) FROM document_versions WHERE document_id = $1", d.ID); n != 3 {
		t.Fatalf("%d versions after recall, want 3", n)
	}
}

// The văn thư's queue lists the organisation's signed documents, Hỏa tốc,
// Thượng khẩn, Khẩn first, then by the time of their last signature.
func TestIssuingQueue(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var ids []string
	urgencies := []string{"thuong", "khan", "hoa-toc", "thuong", "thuong-khan"}
	for _, u := range urgencies {
		d := w.signedDocument("QĐ", "thuong")
		if _, err := w.db.Pool.Exec(ctx, "UPDATE documents SET urgency = $2 WHERE id = $1", d.ID, u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	q, err := w.svc.Queue(ctx, w.clerk)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ids[2], ids[4], ids[1], ids[0], ids[3]} // the two ordinary ones in the order they were signed
	if len(q) != len(want) {
		t.Fatalf("%d in the queue, want %d", len(q), len(want))
	}
	for i, a := range q {
		if a.ID != want[i] || a.SignedAt == nil {
			t.Fatalf("queue[%d] = %s (%s), want %s", i, a.ID, a.Urgency, want[i])
		}
	}
	if _, err := w.svc.Queue(ctx, w.drafter); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("a drafter's queue: %v", err)
	}
	if q, err := w.svc.Queue(ctx, w.otherClerk); err != nil || len(q) != 0 {
		t.Fatalf("another organisation's queue: %d %v", len(q), err)
	}
}

// A new document names the issued one it replaces (same type) or corrects
// (a công văn); once it is issued, the original shows "replaced by" /
// "corrected by", and both link.
func TestReplaceAndCorrect(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	req := register.IssueRequest{Recipients: []register.Recipient{{OrganizationID: w.other.ID}}}
	orig := w.signedDocument("QĐ", "thuong")
	if _, err := w.svc.Issue(ctx, w.clerk, orig.ID, req); err != nil {
		t.Fatal(err)
	}
	unissued := w.signedDocument("QĐ", "thuong")
	var in *documents.InputError
	for _, bad := range []documents.Meta{
		{Type: "QĐ", Subject: "x", Replaces: orig.ID, Corrects: orig.ID},
		{Type: "TB", Subject: "x", Replaces: orig.ID},
		{Type: "QĐ", Subject: "x", Corrects: orig.ID},
		{Type: "QĐ", Subject: "x", Replaces: unissued.ID},
		{Type: "QĐ", Subject: "x", Replaces: "not-a-uuid"},
	} {
		if _, err := w.svc.Docs.CheckMeta(ctx, w.drafter, bad); !errors.As(err, &in) {
			t.Errorf("meta %+v: %v, want an input error", bad, err)
		}
	}
	otherDrafter := w.user("cv-stc", "Chuyên Viên STC", w.other.ID, storage.RoleDrafter)
	if _, err := w.svc.Docs.CheckMeta(ctx, otherDrafter, documents.Meta{Type: "QĐ", Subject: "x", Replaces: orig.ID}); !errors.As(err, &in) {
		t.Errorf("another organisation replaces the document: %v", err)
	}

	for _, c := range []struct {
		typ      string
		meta     func(m *documents.Meta)
		field    func(storage.Document) string
		backlink func(storage.Document) string
	}{
		{"QĐ", func(m *documents.Meta) { m.Replaces = orig.ID }, func(d storage.Document) string { return d.Replaces }, func(d storage.Document) string { return d.ReplacedBy }},
		{"CV", func(m *documents.Meta) { m.Corrects = orig.ID }, func(d storage.Document) string { return d.Corrects }, func(d storage.Document) string { return d.CorrectedBy }},
	} {
		m := documents.Meta{Type: c.typ, Subject: "Thay thế / đính chính"}
		c.meta(&m)
		m, err := w.svc.Docs.CheckMeta(ctx, w.drafter, m)
		if err != nil {
			t.Fatal(err)
		}
		nd, _, err := w.svc.Docs.Create(ctx, w.drafter, m, documents.StoredFile{Key: w.signedKey, Size: w.signedSize, FileName: "qd.pdf", Signed: true}, "")
		if err != nil {
			t.Fatal(err)
		}
		if c.field(nd) != orig.ID {
			t.Fatalf("new document does not name the original: %+v", nd)
		}
		before, _ := storage.GetDocument(ctx, w.db.Pool, orig.ID)
		if c.backlink(before) != "" {
			t.Fatalf("the original links a document not yet issued: %+v", before)
		}
		if _, err := w.db.Pool.Exec(ctx, "UPDATE documents SET status = 'signed' WHERE id = $1", nd.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Issue(ctx, w.clerk, nd.ID, req); err != nil {
			t.Fatal(err)
		}
		after, err := storage.GetDocument(ctx, w.db.Pool, orig.ID)
		if err != nil || c.backlink(after) != nd.ID {
			t.Fatalf("original after the %s was issued: %+v %v", c.typ, after, err)
		}
	}
}
