package reception_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// recorder is a Publisher that keeps what it hears, in the transaction's
// order (tests read it after the commit).
type recorder struct {
	mu  sync.Mutex
	evs []events.Event
}

func (r *recorder) Publish(_ context.Context, _ pgx.Tx, ev events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	return nil
}

func (r *recorder) count(kind events.Kind, orgID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.evs {
		if e.Kind == kind && e.OrganizationID == orgID {
			n++
		}
	}
	return n
}

// world: the commune (UBND, the sender) with a clerk, a signer and the dev
// PKI's seal bound; the department of finance (SoTC, the receiver) with a
// clerk and a drafter; a third organisation's clerk; the issuing service
// of documents/register and the reception service.
type world struct {
	t                         *testing.T
	db                        *storage.DB
	pki                       *devpki.PKI
	blobDir                   string
	issuing                   *register.Service
	svc                       *reception.Service
	events                    *recorder
	sender, receiver, third   storage.Organization
	senderClerk, signer       accounts.Principal
	clerk, drafter, otherClrk accounts.Principal
	signedKey                 string
	signedSize                int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
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
	w := &world{t: t, db: db, blobDir: t.TempDir(), events: &recorder{}}
	blobs, err := localdisk.New(w.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	w.pki = testharness.DevPKI(t)
	ks, err := accounts.OpenKeystore(filepath.Join(t.TempDir(), "keystore-key"))
	if err != nil {
		t.Fatal(err)
	}
	docs := &documents.Service{DB: db, Blobs: blobs, MaxUpload: 20 << 20, Retention: time.Hour}
	w.issuing = &register.Service{DB: db, Docs: docs, Accounts: &accounts.Service{DB: db, Keystore: ks}, TSAURL: w.pki.TSAURL(), TempDir: t.TempDir()}
	w.svc = &reception.Service{DB: db, Docs: docs, Verify: verify.Options{Trust: chain.NewStore(w.pki.Root())}, TempDir: t.TempDir(), Events: w.events}
	for _, o := range []struct {
		dst        *storage.Organization
		code, name string
	}{{&w.sender, "UBND", "Ủy ban nhân dân xã An Bình"}, {&w.receiver, "STC", "Sở Tài chính"}, {&w.third, "SXD", "Sở Xây dựng"}} {
		if *o.dst, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: o.code, Name: o.name}); err != nil {
			t.Fatal(err)
		}
	}
	w.senderClerk = w.user("vanthu-ubnd", "Lê Văn Thư", w.sender.ID, storage.RoleClerk)
	w.signer = w.user("an", "Nguyễn Văn An", w.sender.ID, storage.RoleSigner)
	w.clerk = w.user("vanthu-stc", "Phạm Thị Đến", w.receiver.ID, storage.RoleClerk)
	w.drafter = w.user("chuyenvien-stc", "Trần Chuyên Viên", w.receiver.ID, storage.RoleDrafter)
	w.otherClrk = w.user("vanthu-sxd", "Hoàng Văn Xây", w.third.ID, storage.RoleClerk)

	p12, err := os.ReadFile(w.pki.P12Path(devpki.Seal))
	if err != nil {
		t.Fatal(err)
	}
	b, err := accounts.BindingFor(ctx, accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: p12, Password: w.pki.Password()}, nil,
		[]*x509.Certificate{w.pki.Root()}, ks, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.OrganizationID = w.sender.ID
	if _, err := storage.CreateKeyBinding(ctx, db.Pool, b); err != nil {
		t.Fatal(err)
	}
	draft := testpdf.Bytes(testpdf.Options{Text: "QUYET DINH ve viec ban hanh quy che"})
	key, err := w.pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := os.Create(filepath.Join(t.TempDir(), "signed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	defer signed.Close()
	err = signing.Sign(ctx, bytes.NewReader(draft), int64(len(draft)), signed, key, signing.Options{Level: signing.LevelBT, TSAURL: w.pki.TSAURL(),
		Name: "Nguyễn Văn An", Reason: "Ký ban hành",
		Visible: &signing.Visible{Page: 1, Rect: [4]float64{320, 120, 520, 220}, Image: appearance.DemoSignature("Nguyễn Văn An")}})
	if err != nil {
		t.Fatal(err)
	}
	signedBytes, err := os.ReadFile(signed.Name())
	if err != nil {
		t.Fatal(err)
	}
	w.signedKey, w.signedSize = w.put(signedBytes)
	return w
}

func (w *world) user(username, fullName, orgID, role string) accounts.Principal {
	w.t.Helper()
	u, err := storage.CreateUser(context.Background(), w.db.Pool, storage.User{Username: username, FullName: fullName, Title: "Chủ tịch",
		OrganizationID: orgID, Roles: []string{role}}, "")
	if err != nil {
		w.t.Fatal(err)
	}
	return accounts.Principal{User: u}
}

func (w *world) put(b []byte) (string, int64) {
	w.t.Helper()
	info, err := w.svc.Docs.Blobs.Put(context.Background(), bytes.NewReader(b), blob.PutOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return info.Key, info.Size
}

// issued is a decision of the sender, signed by its signer and issued by
// its clerk to the receiver (and an outside address).
func (w *world) issued(subject string) (storage.Document, register.Issued) {
	w.t.Helper()
	ctx := context.Background()
	d, err := storage.InsertDocument(ctx, w.db.Pool, storage.Document{Type: "QĐ", Subject: subject, Urgency: "khan",
		Confidentiality: "thuong", OrganizationID: w.sender.ID, CreatedBy: w.signer.ID, SearchText: "x"})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := storage.InsertVersion(ctx, w.db.Pool, storage.Version{DocumentID: d.ID, SHA256: w.signedKey, Size: w.signedSize, FileName: "qd.pdf", Signed: true, CreatedBy: w.signer.ID}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.db.Pool.Exec(ctx, "UPDATE documents SET status = 'signed' WHERE id = $1", d.ID); err != nil {
		w.t.Fatal(err)
	}
	out, err := w.issuing.Issue(ctx, w.senderClerk, d.ID, register.IssueRequest{Recipients: []register.Recipient{
		{OrganizationID: w.receiver.ID}, {Name: "Công ty ABC", Email: "vanthu@abc.example"}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return d, out
}

func (w *world) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// delivery is what the sender sees of its delivery to the receiver.
func (w *world) delivery(docID string) register.Delivery {
	w.t.Helper()
	ds, err := w.issuing.Deliveries(context.Background(), w.senderClerk, docID)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, d := range ds {
		if d.OrganizationID == w.receiver.ID {
			return d
		}
	}
	w.t.Fatalf("no delivery to the receiver in %+v", ds)
	return register.Delivery{}
}

func (w *world) queue(p accounts.Principal, status string) []reception.Item {
	w.t.Helper()
	items, err := w.svc.List(context.Background(), p, status)
	if err != nil {
		w.t.Fatal(err)
	}
	return items
}

// upload puts a scan (an unsigned PDF) in the receiver's queue.
func (w *world) upload(u reception.Upload, text string) reception.Item {
	w.t.Helper()
	ctx := context.Background()
	f, err := w.svc.Docs.StoreFile(ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: text})), "scan.pdf")
	if err != nil {
		w.t.Fatal(err)
	}
	it, err := w.svc.Receive(ctx, w.clerk, u, f)
	if err != nil {
		w.t.Fatal(err)
	}
	return it
}

// A delivery from the commune to the department arrives in the
// department's queue with the sealed PDF, its metadata and a report made
// once at arrival (VALID, both signatures); the sender sees it arrived and
// both organisations hear of it; no one else sees the queue.
func TestDeliveryArrives(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	doc, out := w.issued("Ban hành quy chế làm việc")
	if got := w.delivery(doc.ID); got.Status != "sent" {
		t.Fatalf("before arrival: %+v", got)
	}
	items := w.queue(w.clerk, "")
	if len(items) != 1 {
		t.Fatalf("%d items in the queue", len(items))
	}
	it := items[0]
	if it.Source != "delivery" || it.From != "Ủy ban nhân dân xã An Bình" || it.FromOrganizationID != w.sender.ID || it.Symbol != out.Symbol ||
		it.Number != "01" || it.Notation != "QĐ-UBND" || it.Type != "QĐ" || it.Subject != "Ban hành quy chế làm việc" || it.Urgency != "khan" ||
		it.Signer != "Nguyễn Văn An" || it.Status != "arrived" || it.Date != out.IssuedAt.In(reception.Vietnam).Format(time.DateOnly) {
		t.Fatalf("item %+v", it)
	}
	var rep verify.Report
	if err := json.Unmarshal(it.Verification, &rep); err != nil {
		t.Fatal(err)
	}
	v, err := storage.GetVersion(ctx, w.db.Pool, doc.ID, out.Version)
	if err != nil {
		t.Fatal(err)
	}
	if it.Verdict != "VALID" || rep.Verdict != "VALID" || len(rep.Signatures) != 2 || rep.SHA256 != v.SHA256 || it.SHA256 != v.SHA256 {
		t.Fatalf("verification %s %s, %d signatures, sha %s (sealed %s)", it.Verdict, rep.Verdict, len(rep.Signatures), rep.SHA256, v.SHA256)
	}
	if got := w.delivery(doc.ID); got.Status != "arrived" {
		t.Fatalf("the sender sees %+v", got)
	}
	// Verified once: listing again makes nothing arrive again.
	if n, err := w.svc.ProcessArrivals(ctx, "", 10); err != nil || n != 0 {
		t.Fatalf("second processing: %d %v", n, err)
	}
	if n := w.count("SELECT count(*) FROM arrivals"); n != 1 {
		t.Fatalf("%d arrivals", n)
	}
	if n := w.count("SELECT count(*) FROM audit_log WHERE action = 'reception.arrive'"); n != 1 {
		t.Fatalf("%d audit entries of the arrival", n)
	}
	if w.events.count(events.DocumentReceived, w.receiver.ID) != 1 || w.events.count(events.DocumentReceived, w.sender.ID) != 1 {
		t.Fatalf("events %+v", w.events.evs)
	}
	rc := func() []byte {
		_, r, err := w.svc.OpenFile(ctx, w.clerk, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var b bytes.Buffer
		b.ReadFrom(r)
		return b.Bytes()
	}()
	if int64(len(rc)) != v.Size {
		t.Fatalf("the arrived file has %d bytes, the sealed version %d", len(rc), v.Size)
	}

	// Only the receiver's clerks: another organisation does not find it,
	// a drafter of the receiver is refused, the sender's queue is its own.
	for _, c := range []struct {
		p    accounts.Principal
		want error
	}{{w.otherClrk, storage.ErrNotFound}, {w.senderClerk, storage.ErrNotFound}, {w.drafter, accounts.ErrForbidden}} {
		if _, err := w.svc.Get(ctx, c.p, it.ID); !errors.Is(err, c.want) {
			t.Errorf("%s reads the arrival: %v, want %v", c.p.Username, err, c.want)
		}
		if _, err := w.svc.Register(ctx, c.p, it.ID, reception.RegisterRequest{}); !errors.Is(err, c.want) {
			t.Errorf("%s registers the arrival: %v, want %v", c.p.Username, err, c.want)
		}
		if _, err := w.svc.Return(ctx, c.p, it.ID, "sai"); !errors.Is(err, c.want) {
			t.Errorf("%s returns the arrival: %v, want %v", c.p.Username, err, c.want)
		}
	}
	if got := w.queue(w.otherClrk, "all"); len(got) != 0 {
		t.Fatalf("another organisation's queue holds %d", len(got))
	}
	if _, err := w.svc.List(ctx, w.drafter, ""); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("a drafter lists the queue: %v", err)
	}
}

// Registration: số đến 1 in the default incoming register, an incoming
// document of the receiver holding the arrived file, the register entry
// with the Appendix IV columns, the delivery registered for the sender,
// the audit entry and the events; registering again is refused.
func TestRegister(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	doc, out := w.issued("Ban hành quy chế làm việc")
	it := w.queue(w.clerk, "")[0]
	got, err := w.svc.Register(ctx, w.clerk, it.ID, reception.RegisterRequest{Receiver: "Phòng Ngân sách", Note: "bản điện tử"})
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(reception.Vietnam).Format(time.DateOnly)
	if got.ArrivalNumber != 1 || got.ArrivalDate != today || got.DocumentID == "" {
		t.Fatalf("registered %+v", got)
	}
	in, err := storage.GetDocument(ctx, w.db.Pool, got.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	if in.OrganizationID != w.receiver.ID || in.Status != documents.StatusReceived || in.Number == nil || *in.Number != out.Symbol ||
		in.Type != "QĐ" || in.Subject != "Ban hành quy chế làm việc" || in.Versions != 1 {
		t.Fatalf("incoming document %+v", in)
	}
	v1, err := storage.GetVersion(ctx, w.db.Pool, in.ID, 1)
	sealed, err2 := storage.GetVersion(ctx, w.db.Pool, doc.ID, out.Version)
	if err != nil || err2 != nil || v1.SHA256 != sealed.SHA256 || !v1.Signed {
		t.Fatalf("version 1 %+v (sealed %+v) %v %v", v1, sealed, err, err2)
	}
	// The receiving clerk reads it as a document of their organisation.
	if _, err := w.svc.Docs.Get(ctx, w.clerk, in.ID); err != nil {
		t.Fatalf("the clerk reads the incoming document: %v", err)
	}
	if _, err := w.svc.Docs.Get(ctx, w.otherClrk, in.ID); !errors.Is(err, documents.ErrNotFound) {
		t.Fatalf("another organisation reads the incoming document: %v", err)
	}
	if got := w.delivery(doc.ID); got.Status != "registered" {
		t.Fatalf("the sender sees %+v", got)
	}
	regs, err := storage.ListRegisters(ctx, w.db.Pool, w.receiver.ID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(regs, func(r storage.Register) bool { return r.Kind == storage.RegisterIncoming && r.Default })
	if regs[i].ID != got.RegisterID {
		t.Fatalf("registered in %s, want the default incoming register %s", got.RegisterID, regs[i].ID)
	}
	es, err := w.svc.Entries(ctx, w.clerk, regs[i], time.Now().In(reception.Vietnam).Year())
	if err != nil || len(es) != 1 {
		t.Fatalf("entries %+v %v", es, err)
	}
	e := es[0]
	cells := e.Cells()
	want := []string{time.Now().In(reception.Vietnam).Format("02/01/2006"), "01", "Ủy ban nhân dân xã An Bình", out.Symbol,
		out.IssuedAt.In(reception.Vietnam).Format("02/01/2006"), "Quyết định Ban hành quy chế làm việc", "Phòng Ngân sách", "", "", "bản điện tử"}
	if !slices.Equal(cells, want) || e.DocumentID != in.ID {
		t.Fatalf("entry cells %q, want %q", cells, want)
	}
	if _, err := w.svc.Entries(ctx, w.otherClrk, regs[i], 2026); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("another organisation reads the incoming register: %v", err)
	}
	if n := w.count("SELECT count(*) FROM audit_log WHERE action = 'reception.register' AND object = $1", "document:"+in.ID); n != 1 {
		t.Fatalf("%d audit entries of the registration", n)
	}
	if w.events.count(events.DocumentRegistered, w.receiver.ID) != 1 || w.events.count(events.DocumentRegistered, w.sender.ID) != 1 {
		t.Fatalf("events %+v", w.events.evs)
	}
	if _, err := w.svc.Register(ctx, w.clerk, it.ID, reception.RegisterRequest{}); !errors.Is(err, reception.ErrState) {
		t.Fatalf("registered twice: %v", err)
	}
	if _, err := w.svc.Return(ctx, w.clerk, it.ID, "nhầm"); !errors.Is(err, reception.ErrState) {
		t.Fatalf("returned after registration: %v", err)
	}
	if n := w.count("SELECT last_number FROM register_counters WHERE register_id = $1", got.RegisterID); n != 1 {
		t.Fatalf("counter at %d", n)
	}
	// The queue no longer lists it; the registered listing does, with its số đến.
	if q := w.queue(w.clerk, ""); len(q) != 0 {
		t.Fatalf("queue after registration: %+v", q)
	}
	if q := w.queue(w.clerk, "registered"); len(q) != 1 || q[0].ArrivalNumber != 1 || q[0].DocumentID != in.ID {
		t.Fatalf("registered listing %+v", q)
	}
	// An incoming document keeps the file as it arrived.
	f, err := w.svc.Docs.StoreFile(ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: "other"})), "x.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Docs.AddVersion(ctx, w.clerk, in.ID, f); !errors.Is(err, documents.ErrVersionRefused) {
		t.Fatalf("a version added to an incoming document: %v", err)
	}
}

// An upload (a scan of paper, unsigned) is verified like a delivery — its
// report says UNSIGNED — and registered; a second arrival of the same
// document (issuer, number, symbol, year) is flagged in the queue, refused
// for registration with the earlier registration named, and registered
// only when forced with a reason, which is recorded.
func TestUploadAndDuplicate(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	u := reception.Upload{From: "Bộ Tài chính", Symbol: "12/TT-BTC", Date: "15/01/2026", Type: "CV", Subject: "Hướng dẫn quyết toán năm 2025",
		Signer: "Lê Văn Ký", SignerPosition: "Thứ trưởng", Urgency: "Thượng khẩn", Medium: "paper"}
	first := w.upload(u, "scan one")
	if first.Verdict != "UNSIGNED" || first.Number != "12" || first.Notation != "TT-BTC" || first.Date != "2026-01-15" ||
		first.Urgency != "thuong-khan" || first.Medium != "paper" || first.Source != "upload" || first.Duplicate != nil {
		t.Fatalf("uploaded %+v", first)
	}
	reg1, err := w.svc.Register(ctx, w.clerk, first.ID, reception.RegisterRequest{})
	if err != nil || reg1.ArrivalNumber != 1 {
		t.Fatalf("register: %+v %v", reg1, err)
	}
	// The same document again, typed a little differently.
	u.From, u.Symbol, u.Number, u.Date = "BỘ TÀI CHÍNH", "TT-BTC", "012", "2026-01-15"
	second := w.upload(u, "scan two")
	q := w.queue(w.clerk, "")
	if len(q) != 1 || q[0].ID != second.ID || q[0].Duplicate == nil || q[0].Duplicate.ArrivalNumber != 1 || q[0].Duplicate.DocumentID != reg1.DocumentID {
		t.Fatalf("queue %+v", q)
	}
	// Get flags it as the queue does, and the earlier one not at all.
	if got, err := w.svc.Get(ctx, w.clerk, second.ID); err != nil || got.Duplicate == nil || *got.Duplicate != *q[0].Duplicate {
		t.Fatalf("get the second arrival: %+v %v", got.Duplicate, err)
	}
	if got, err := w.svc.Get(ctx, w.clerk, first.ID); err != nil || got.Duplicate != nil {
		t.Fatalf("get the first arrival: %+v %v", got.Duplicate, err)
	}
	_, err = w.svc.Register(ctx, w.clerk, second.ID, reception.RegisterRequest{})
	var dup *reception.DuplicateError
	if !errors.As(err, &dup) || dup.Earlier.ArrivalNumber != 1 || dup.Earlier.DocumentID != reg1.DocumentID || dup.Earlier.ArrivalID != first.ID {
		t.Fatalf("duplicate registration: %v", err)
	}
	var in *accounts.InputError
	if _, err := w.svc.Register(ctx, w.clerk, second.ID, reception.RegisterRequest{Force: true}); !errors.As(err, &in) {
		t.Fatalf("forced without a reason: %v", err)
	}
	reg2, err := w.svc.Register(ctx, w.clerk, second.ID, reception.RegisterRequest{Force: true, Reason: "bản giấy gửi lại có dấu đỏ"})
	if err != nil || reg2.ArrivalNumber != 2 {
		t.Fatalf("forced registration %+v %v", reg2, err)
	}
	var details string
	if err := w.db.Pool.QueryRow(ctx, "SELECT details::text FROM audit_log WHERE action = 'reception.register' AND object = $1", "document:"+reg2.DocumentID).Scan(&details); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains([]byte(details), []byte("bản giấy gửi lại có dấu đỏ")) || !bytes.Contains([]byte(details), []byte(first.ID)) {
		t.Fatalf("audit details %s", details)
	}
	// Another year is another document.
	u.Date = "2025-12-31"
	third := w.upload(u, "scan three")
	if reg3, err := w.svc.Register(ctx, w.clerk, third.ID, reception.RegisterRequest{}); err != nil || reg3.ArrivalNumber != 3 {
		t.Fatalf("another year's document: %+v %v", reg3, err)
	}
}

// Upload refusals: missing or malformed fields, a non-clerk, a file that
// is not a PDF; nothing is stored or numbered.
func TestUploadRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ok := reception.Upload{From: "Bộ Tài chính", Symbol: "12/TT-BTC", Date: "2026-01-15", Type: "CV", Subject: "Hướng dẫn"}
	var in *accounts.InputError
	for _, bad := range []reception.Upload{
		{Symbol: "1/CV", Type: "CV", Subject: "x"},
		{From: "x", Type: "CV"},
		{From: "x", Type: "XX", Subject: "x"},
		{From: "x", Type: "CV", Subject: "x", Number: "12a"},
		{From: "x", Type: "CV", Subject: "x", Date: "32/01/2026"},
		{From: "x", Type: "CV", Subject: "x", Date: "2999-01-01"},
		{From: "x", Type: "CV", Subject: "x", Medium: "fax"},
		{From: "x\x00", Type: "CV", Subject: "x"},
	} {
		_, _, err := w.svc.CheckUpload(ctx, w.clerk, bad)
		var din *documents.InputError
		if !errors.As(err, &in) && !errors.As(err, &din) {
			t.Errorf("upload %+v: %v, want an input error", bad, err)
		}
	}
	if _, _, err := w.svc.CheckUpload(ctx, w.drafter, ok); !errors.Is(err, accounts.ErrForbidden) {
		t.Errorf("drafter uploads: %v", err)
	}
	if _, err := w.svc.Docs.StoreFile(ctx, bytes.NewReader([]byte("not a pdf at all")), "x.pdf"); !errors.Is(err, documents.ErrNotPDF) {
		t.Errorf("not a PDF: %v", err)
	}
	if n := w.count("SELECT count(*) FROM arrivals"); n != 0 {
		t.Fatalf("%d arrivals after refusals", n)
	}
}

// Returning an arrival: it leaves the queue, the sender's delivery shows
// returned with the reason, and it can no longer be registered.
func TestReturn(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	doc, _ := w.issued("Gửi nhầm nơi nhận")
	it := w.queue(w.clerk, "")[0]
	var in *accounts.InputError
	if _, err := w.svc.Return(ctx, w.clerk, it.ID, "  "); !errors.As(err, &in) {
		t.Fatalf("return without a reason: %v", err)
	}
	got, err := w.svc.Return(ctx, w.clerk, it.ID, "Văn bản gửi nhầm cơ quan")
	if err != nil || got.Status != "returned" {
		t.Fatalf("return: %+v %v", got, err)
	}
	if d := w.delivery(doc.ID); d.Status != "returned" || d.Reason != "Văn bản gửi nhầm cơ quan" {
		t.Fatalf("the sender sees %+v", d)
	}
	if _, err := w.svc.Register(ctx, w.clerk, it.ID, reception.RegisterRequest{}); !errors.Is(err, reception.ErrState) {
		t.Fatalf("registered after return: %v", err)
	}
	if q := w.queue(w.clerk, ""); len(q) != 0 {
		t.Fatalf("queue after return %+v", q)
	}
	if n := w.count("SELECT count(*) FROM audit_log WHERE action = 'reception.return'"); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
	if n := w.count("SELECT count(*) FROM register_counters c JOIN registers r ON r.id = c.register_id WHERE r.organization_id = $1", w.receiver.ID); n != 0 {
		t.Fatalf("a return took a number")
	}
}

// The sender's recall through reception.Recall, in the sender's
// transaction: the registered incoming document leaves handling (status
// recalled, its open inbox items closed), the queue shows the recall, the
// arrival cannot be registered or returned; the receiver confirms and the
// sender's delivery shows recalled. A delivery that had not arrived yet is
// recalled at once and never arrives.
func TestRecall(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	doc, _ := w.issued("Quyết định có sai sót")
	it := w.queue(w.clerk, "")[0]
	reg, err := w.svc.Register(ctx, w.clerk, it.ID, reception.RegisterRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Pool.Exec(ctx, `INSERT INTO inbox_items (organization_id, user_id, document_id, source, label, task)
		VALUES ($1, $2, $3, 'handling', 'Xử lý', 'handle')`, w.receiver.ID, w.drafter.ID, reg.DocumentID); err != nil {
		t.Fatal(err)
	}
	recall := func(docID string) []reception.Recalled {
		var out []reception.Recalled
		err := w.db.InTx(ctx, func(tx pgx.Tx) (err error) {
			out, err = w.svc.Recall(ctx, tx, w.senderClerk, docID, "Sai thẩm quyền ban hành")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := recall(doc.ID)
	if len(out) != 1 || out[0].OrganizationID != w.receiver.ID || out[0].DocumentID != reg.DocumentID {
		t.Fatalf("recalled %+v", out)
	}
	if again := recall(doc.ID); len(again) != 0 {
		t.Fatalf("recalled twice: %+v", again)
	}
	in, err := storage.GetDocument(ctx, w.db.Pool, reg.DocumentID)
	if err != nil || in.Status != documents.StatusRecalled {
		t.Fatalf("incoming document after the recall: %+v %v", in, err)
	}
	if n := w.count("SELECT count(*) FROM inbox_items WHERE document_id = $1 AND state = 'open'", reg.DocumentID); n != 0 {
		t.Fatalf("%d open inbox items after the recall", n)
	}
	q := w.queue(w.clerk, "")
	if len(q) != 1 || q[0].Recall == nil || q[0].Recall.Reason != "Sai thẩm quyền ban hành" || q[0].Recall.ConfirmedAt != nil {
		t.Fatalf("queue after the recall %+v", q)
	}
	if w.events.count(events.DocumentRecalled, w.receiver.ID) != 1 {
		t.Fatalf("the receiver was not told: %+v", w.events.evs)
	}
	if d := w.delivery(doc.ID); d.Status != "registered" {
		t.Fatalf("before confirmation the sender sees %+v", d)
	}
	if _, err := w.svc.ConfirmRecall(ctx, w.otherClrk, it.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("another organisation confirms: %v", err)
	}
	got, err := w.svc.ConfirmRecall(ctx, w.clerk, it.ID)
	if err != nil || got.Status != "recalled" || got.Recall == nil || got.Recall.ConfirmedAt == nil {
		t.Fatalf("confirm: %+v %v", got, err)
	}
	if d := w.delivery(doc.ID); d.Status != "recalled" || d.Reason != "Sai thẩm quyền ban hành" {
		t.Fatalf("after confirmation the sender sees %+v", d)
	}
	if _, err := w.svc.ConfirmRecall(ctx, w.clerk, it.ID); !errors.Is(err, reception.ErrState) {
		t.Fatalf("confirmed twice: %v", err)
	}
	if w.events.count(events.DocumentRecalled, w.sender.ID) != 1 {
		t.Fatalf("the sender was not told: %+v", w.events.evs)
	}
	if n := w.count("SELECT count(*) FROM audit_log WHERE action IN ('reception.recall', 'reception.confirm_recall')"); n != 2 {
		t.Fatalf("%d audit entries of the recall", n)
	}

	// Recalled before it arrived: the delivery is recalled, nothing arrives.
	doc2, _ := w.issued("Thông báo gửi nhầm")
	if out := recall(doc2.ID); len(out) != 0 {
		t.Fatalf("recall before arrival reached %+v", out)
	}
	if d := w.delivery(doc2.ID); d.Status != "recalled" {
		t.Fatalf("the undelivered delivery: %+v", d)
	}
	if n, err := w.svc.ProcessArrivals(ctx, "", 10); err != nil || n != 0 {
		t.Fatalf("a recalled delivery arrived: %d %v", n, err)
	}
	// An arrival not yet registered: recalled, then neither registered nor returned.
	doc3, _ := w.issued("Kế hoạch bị thu hồi")
	a3 := w.queue(w.clerk, "arrived")
	recall(doc3.ID)
	if len(a3) != 1 {
		t.Fatalf("queue %+v", a3)
	}
	if _, err := w.svc.Register(ctx, w.clerk, a3[0].ID, reception.RegisterRequest{}); !errors.Is(err, reception.ErrState) {
		t.Fatalf("registered a recalled arrival: %v", err)
	}
}

// 50 registrations at once: số đến 1..50, each once, each with its
// document, version and register entry.
func TestConcurrentRegistrations(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const n = 50
	ids := make([]string, n)
	for i := range ids {
		ids[i] = w.upload(reception.Upload{From: "Bộ Tài chính", Number: fmt.Sprint(i + 1), Symbol: "BTC-NSNN", Date: "2026-01-15",
			Type: "CV", Subject: fmt.Sprintf("Công văn %d", i+1)}, "scan").ID
	}
	numbers := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := w.svc.Register(ctx, w.clerk, ids[i], reception.RegisterRequest{})
			numbers[i], errs[i] = r.ArrivalNumber, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	slices.Sort(numbers)
	for i, got := range numbers {
		if got != i+1 {
			t.Fatalf("numbers %v: not 1..%d", numbers, n)
		}
	}
	if c := w.count("SELECT count(*) FROM incoming_entries e JOIN documents d ON d.id = e.document_id JOIN document_versions v ON v.document_id = d.id"); c != n {
		t.Fatalf("%d complete registrations", c)
	}
	if c := w.count("SELECT last_number FROM register_counters"); c != n {
		t.Fatalf("counter at %d", c)
	}
}

// Số đến restart at 00:00 on 1 January, Vietnam time: the last arrival
// registered on 31 December at 23:59 +07:00 and the first on 1 January at
// 00:01 +07:00 both get 01, in their own years.
func TestArrivalNumbersRollOver(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 31, 23, 59, 0, 0, reception.Vietnam)
	w.svc.Now = func() time.Time { return now }
	u := reception.Upload{From: "Bộ Tài chính", Date: "2026-01-15", Type: "CV", Subject: "Công văn"}
	u.Number = "1"
	a := w.upload(u, "one")
	u.Number = "2"
	b := w.upload(u, "two")
	u.Number = "3"
	c := w.upload(u, "three")
	for _, x := range []struct {
		id   string
		want int
		date string
	}{{a.ID, 1, "2026-12-31"}, {b.ID, 2, "2026-12-31"}, {c.ID, 1, "2027-01-01"}} {
		if x.id == c.ID {
			now = time.Date(2027, 1, 1, 0, 1, 0, 0, reception.Vietnam)
		}
		r, err := w.svc.Register(ctx, w.clerk, x.id, reception.RegisterRequest{})
		if err != nil || r.ArrivalNumber != x.want || r.ArrivalDate != x.date {
			t.Fatalf("registered %+v %v, want số đến %d on %s", r, err, x.want, x.date)
		}
	}
	if n := w.count("SELECT count(*) FROM incoming_entries WHERE year = 2027 AND number = 1"); n != 1 {
		t.Fatalf("%d entries of 2027", n)
	}
}
