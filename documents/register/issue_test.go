package register_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/pdfupdate"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// clock is the issuing service's injectable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// world is an organisation (UBND, unit VP) with a clerk, a signer, a
// drafter and the dev PKI's seal key bound as its seal (a sealed PKCS#12),
// a second organisation (SoTC) with its own clerk, and the issuing service.
type world struct {
	t                      testing.TB
	db                     *storage.DB
	pki                    *devpki.PKI
	svc                    *register.Service
	clock                  *clock
	org, other             storage.Organization
	vp                     storage.Unit
	clerk, signer, drafter accounts.Principal
	otherClerk             accounts.Principal
	signedKey, draftKey    string // blob keys of the signer's signed version and the draft
	signedSize, draftSize  int64
	signedBytes            []byte
}

func newWorld(t testing.TB) *world {
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
	blobs, err := localdisk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pki := testharness.DevPKI(t)
	ks, err := accounts.OpenKeystore(filepath.Join(t.TempDir(), "keystore-key"))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, pki: pki, clock: &clock{}}
	docs := &documents.Service{DB: db, Blobs: blobs, MaxUpload: 20 << 20, Retention: time.Hour}
	w.svc = &register.Service{DB: db, Docs: docs, Accounts: &accounts.Service{DB: db, Keystore: ks},
		TSAURL: pki.TSAURL(), TempDir: t.TempDir(), Now: w.clock.now,
		SealImage: func(ctx context.Context, org storage.Organization) (image.Image, error) {
			return appearance.DemoSeal(org.Name), nil
		}}
	if w.org, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã An Bình"}); err != nil {
		t.Fatal(err)
	}
	if w.other, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "SoTC", Name: "Sở Tài chính"}); err != nil {
		t.Fatal(err)
	}
	if w.vp, err = storage.CreateUnit(ctx, db.Pool, storage.Unit{OrganizationID: w.org.ID, Code: "VP", Name: "Văn phòng"}); err != nil {
		t.Fatal(err)
	}
	w.clerk = w.user("vanthu", "Lê Văn Thư", w.org.ID, storage.RoleClerk)
	w.signer = w.user("an", "Nguyễn Văn An", w.org.ID, storage.RoleSigner)
	w.drafter = w.user("chuyenvien", "Trần Chuyên Viên", w.org.ID, storage.RoleDrafter)
	w.otherClerk = w.user("vanthu-stc", "Phạm Văn Thư", w.other.ID, storage.RoleClerk)

	p12, err := os.ReadFile(pki.P12Path(devpki.Seal))
	if err != nil {
		t.Fatal(err)
	}
	b, err := accounts.BindingFor(ctx, accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: p12, Password: pki.Password()}, nil,
		[]*x509.Certificate{pki.Root()}, ks, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.OrganizationID = w.org.ID
	if _, err := storage.CreateKeyBinding(ctx, db.Pool, b); err != nil {
		t.Fatal(err)
	}

	// The draft, and the signer's signature on it: a visible widget with
	// the handwritten image, as documents/docsign makes it.
	draft := testpdf.Bytes(testpdf.Options{Text: "QUYET DINH ve viec ban hanh quy che"})
	key, err := pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "signed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	err = signing.Sign(ctx, bytes.NewReader(draft), int64(len(draft)), out, key, signing.Options{Level: signing.LevelBT, TSAURL: pki.TSAURL(),
		Name: "Nguyễn Văn An", Reason: "Ký ban hành",
		Visible: &signing.Visible{Page: 1, Rect: [4]float64{320, 120, 520, 220}, Image: appearance.DemoSignature("Nguyễn Văn An")}})
	if err != nil {
		t.Fatal(err)
	}
	if w.signedBytes, err = os.ReadFile(out.Name()); err != nil {
		t.Fatal(err)
	}
	w.draftKey, w.draftSize = w.put(draft)
	w.signedKey, w.signedSize = w.put(w.signedBytes)
	return w
}

func (w *world) user(username, fullName, orgID, role string) accounts.Principal {
	w.t.Helper()
	u, err := storage.CreateUser(context.Background(), w.db.Pool, storage.User{Username: username, FullName: fullName, OrganizationID: orgID, Roles: []string{role}}, "")
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

// signedDocument is a document of the organisation's unit VP whose chain
// has finished: the drafter's version 1, the signer's signed version 2,
// status signed.
func (w *world) signedDocument(typ, confidentiality string) storage.Document {
	w.t.Helper()
	ctx := context.Background()
	d, err := storage.InsertDocument(ctx, w.db.Pool, storage.Document{Type: typ, Subject: "Ban hành quy chế làm việc", Urgency: "thuong",
		Confidentiality: confidentiality, Unit: w.vp.Code, UnitID: w.vp.ID, OrganizationID: w.org.ID, CreatedBy: w.drafter.ID, SearchText: "ban hanh quy che"})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := storage.InsertVersion(ctx, w.db.Pool, storage.Version{DocumentID: d.ID, SHA256: w.draftKey, Size: w.draftSize, FileName: "qd.pdf", CreatedBy: w.drafter.ID}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := storage.InsertVersion(ctx, w.db.Pool, storage.Version{DocumentID: d.ID, SHA256: w.signedKey, Size: w.signedSize, FileName: "qd.pdf", Signed: true, CreatedBy: w.signer.ID}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.db.Pool.Exec(ctx, "UPDATE documents SET status = 'signed' WHERE id = $1", d.ID); err != nil {
		w.t.Fatal(err)
	}
	d.Status = documents.StatusSigned
	return d
}

func (w *world) outgoing() storage.Register {
	w.t.Helper()
	rs, err := w.svc.List(context.Background(), w.clerk, w.org.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range rs {
		if r.Kind == storage.RegisterOutgoing && r.Default {
			return r
		}
	}
	w.t.Fatal("no default outgoing register")
	return storage.Register{}
}

func (w *world) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

var toSoTC = func(w *world) []register.Recipient {
	return []register.Recipient{{OrganizationID: w.other.ID}, {Name: "Công ty ABC", Email: "vanthu@abc.example"}}
}

// Every organisation gets its four default registers, whether created
// before the migration or after.
func TestDefaultRegisters(t *testing.T) {
	w := newWorld(t)
	rs, err := w.svc.List(context.Background(), w.clerk, w.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range rs {
		if r.Default {
			kinds = append(kinds, r.Kind)
		}
	}
	slices.Sort(kinds)
	if want := []string{"certified-copies", "copies", "incoming", "outgoing"}; !slices.Equal(kinds, want) {
		t.Fatalf("default registers %v, want %v", kinds, want)
	}
	if _, err := w.svc.List(context.Background(), w.otherClerk, w.org.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("another organisation's clerk lists registers: %v", err)
	}
}

func TestCreateRegister(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin := w.user("quantri", "Quản Trị", w.org.ID, storage.RoleAdmin)
	otherAdmin := w.user("quantri-stc", "Quản Trị STC", w.other.ID, storage.RoleAdmin)
	ok := register.NewRegister{Kind: "outgoing", Name: "Sổ văn bản mật", Confidential: true}
	cases := []struct {
		name string
		p    accounts.Principal
		n    register.NewRegister
		want error
	}{
		{"clerk refused", w.clerk, ok, accounts.ErrForbidden},
		{"other organisation's admin", otherAdmin, ok, storage.ErrNotFound},
		{"bad kind", admin, register.NewRegister{Kind: "outbound", Name: "x"}, &accounts.InputError{}},
		{"no name", admin, register.NewRegister{Kind: "outgoing"}, &accounts.InputError{}},
		{"unknown type", admin, register.NewRegister{Kind: "outgoing", Name: "x", DocumentTypes: []string{"XX"}}, &accounts.InputError{}},
		{"typed incoming", admin, register.NewRegister{Kind: "incoming", Name: "x", DocumentTypes: []string{"QĐ"}}, &accounts.InputError{}},
		{"admin", admin, ok, nil},
		{"same name again", admin, ok, storage.ErrConflict},
	}
	for _, c := range cases {
		_, err := w.svc.Create(ctx, c.p, w.org.ID, c.n)
		var in *accounts.InputError
		switch want := c.want.(type) {
		case nil:
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		case *accounts.InputError:
			if !errors.As(err, &in) {
				t.Errorf("%s: %v, want an input error", c.name, err)
			}
		default:
			if !errors.Is(err, want) {
				t.Errorf("%s: %v, want %v", c.name, err, want)
			}
		}
	}
	if n := w.count("SELECT count(*) FROM audit_log WHERE action = 'register.create'"); n != 1 {
		t.Fatalf("%d audit entries of register.create, want 1", n)
	}
}

func TestSymbol(t *testing.T) {
	qd := storage.DocumentTypeInfo{Code: "QĐ", InSymbol: true}
	cv := storage.DocumentTypeInfo{Code: "CV", InSymbol: false}
	cases := []struct {
		n    int
		typ  storage.DocumentTypeInfo
		unit string
		want string
	}{
		{5, qd, "VP", "05/QĐ-UBND"},
		{10, qd, "", "10/QĐ-UBND"},
		{123, cv, "VP", "123/UBND-VP"},
		{7, cv, "", "07/UBND"},
	}
	for _, c := range cases {
		if got := register.Symbol(c.n, c.typ, "UBND", c.unit); got != c.want {
			t.Errorf("Symbol(%d, %s, %q) = %q, want %q", c.n, c.typ.Code, c.unit, got, c.want)
		}
	}
}

// Issuing a signed document: 201's fields, the number in the document and
// its register, the sealed version signed and retained, the deliveries,
// the audit entry, and the issued file VALID with both signatures.
func TestIssue(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	d := w.signedDocument("QĐ", "thuong")
	parses := pdfupdate.Parses()
	out, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w), CopiesKept: "Lưu: VT, VP"})
	if err != nil {
		t.Fatal(err)
	}
	// The lock check, the layout (the signer's widget, the blanks) and
	// the organisation's signature read one parse of the version.
	if n := pdfupdate.Parses() - parses; n != 1 {
		t.Fatalf("issuing parsed the signed version %d times, want once", n)
	}
	if out.Number != 1 || out.Symbol != "01/QĐ-UBND" || out.Version != 3 || out.RegisterID != w.outgoing().ID {
		t.Fatalf("issued %+v", out)
	}
	got, err := storage.GetDocument(ctx, w.db.Pool, d.ID)
	if err != nil || got.Status != documents.StatusIssued || got.Number == nil || *got.Number != "01/QĐ-UBND" {
		t.Fatalf("document after issue: %+v %v", got, err)
	}
	v, err := storage.GetVersion(ctx, w.db.Pool, d.ID, 3)
	if err != nil || !v.Signed || v.CreatedBy != w.clerk.ID {
		t.Fatalf("sealed version %+v %v", v, err)
	}
	if err := w.svc.Docs.Blobs.Delete(ctx, v.SHA256); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("the sealed version is not retained: %v", err)
	}
	if n := w.count("SELECT count(*) FROM document_deliveries WHERE document_id = $1", d.ID); n != 2 {
		t.Fatalf("%d deliveries, want 2", n)
	}
	if n := w.count("SELECT count(*) FROM document_recipients WHERE document_id = $1 AND organization_id = $2", d.ID, w.other.ID); n != 1 {
		t.Fatalf("the receiving organisation is not a recipient (%d)", n)
	}
	if n := w.count("SELECT count(*) FROM audit_log WHERE action = 'document.issue' AND object = $1", "document:"+d.ID); n != 1 {
		t.Fatalf("%d audit entries of the issue", n)
	}
	_, year, es, err := w.svc.Entries(ctx, w.clerk, out.RegisterID, 0)
	if err != nil || len(es) != 1 || year != register.Year(out.IssuedAt) {
		t.Fatalf("entries %+v year %d %v", es, year, err)
	}
	e := es[0]
	if e.Symbol != out.Symbol || e.SignerName != "Nguyễn Văn An" || e.Recipients != "Sở Tài chính; Công ty ABC" || e.CopiesKept != "Lưu: VT, VP" || e.Copies != 3 || e.TypeName != "Quyết định" {
		t.Fatalf("entry %+v", e)
	}

	// Issued once: again is refused, and no number is taken.
	if _, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); !errors.Is(err, register.ErrNotSigned) {
		t.Fatalf("second issue: %v", err)
	}

	rc, err := w.svc.Docs.Open(ctx, v, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, w.signedBytes) {
		t.Fatal("the sealed file does not keep the signed file's bytes (an incremental update)")
	}
	// The seal, at real size (36 mm), covers the left third of the
	// signer's widget [320 120 520 220], centred on its height.
	page, seal, err := register.SignerWidget(bytes.NewReader(pdf), int64(len(pdf)))
	if err != nil {
		t.Fatal(err)
	}
	dia := 36 / 25.4 * 72
	want := appearance.Rect{X1: 320 + 200.0/3 - dia, Y1: 170 - dia/2, X2: 320 + 200.0/3, Y2: 170 + dia/2}
	if page != 1 || math.Abs(seal.X1-want.X1) > 0.5 || math.Abs(seal.X2-want.X2) > 0.5 || math.Abs(seal.Y1-want.Y1) > 0.5 || math.Abs(seal.Y2-want.Y2) > 0.5 {
		t.Fatalf("seal widget on page %d at %s, want page 1 at %s", page, seal, want)
	}
	rep, err := verify.Verify(ctx, bytes.NewReader(pdf), int64(len(pdf)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 {
		t.Fatalf("verifier: %s with %d signatures: %v", rep.Verdict, len(rep.Signatures), rep.Errors)
	}
	for _, s := range rep.Signatures {
		if s.Indication != etsi.TotalPassed {
			t.Fatalf("signature %s: %s %s", s.Field, s.Indication, s.SubIndication)
		}
	}
}

// Only the issuing organisation's clerks issue: another organisation's
// clerk does not find the document, a drafter is refused, and a document
// not yet signed is refused; none takes a number.
func TestIssueRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	d := w.signedDocument("QĐ", "thuong")
	req := register.IssueRequest{Recipients: toSoTC(w)}
	if _, err := w.svc.Issue(ctx, w.otherClerk, d.ID, req); !errors.Is(err, documents.ErrNotFound) {
		t.Errorf("another organisation's clerk: %v, want not found", err)
	}
	if _, err := w.svc.Issue(ctx, w.drafter, d.ID, req); !errors.Is(err, accounts.ErrForbidden) {
		t.Errorf("drafter: %v, want forbidden", err)
	}
	var in *accounts.InputError
	for _, bad := range []register.IssueRequest{
		{},
		{Recipients: []register.Recipient{{Name: "x", Email: "not an address"}}},
		{Recipients: []register.Recipient{{OrganizationID: w.org.ID}}},
		{Recipients: []register.Recipient{{OrganizationID: "8d1f2b8e-0000-4000-8000-000000000000"}}},
		{Recipients: toSoTC(w), RegisterID: "nope"},
	} {
		if _, err := w.svc.Issue(ctx, w.clerk, d.ID, bad); !errors.As(err, &in) {
			t.Errorf("request %+v: %v, want an input error", bad, err)
		}
	}
	if _, err := w.db.Pool.Exec(ctx, "UPDATE documents SET status = 'approved' WHERE id = $1", d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Issue(ctx, w.clerk, d.ID, req); !errors.Is(err, register.ErrNotSigned) {
		t.Errorf("approved document: %v, want not signed", err)
	}
	if n := w.count("SELECT coalesce(sum(last_number), 0) FROM register_counters"); n != 0 {
		t.Fatalf("refused issues took %d numbers", n)
	}
}

// A failure after the number is taken (the seal key cannot be opened, the
// timestamp authority is down) leaves no number taken and nothing written:
// the next issue gets number 1.
func TestFailureAfterNumberingTakesNoNumber(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	d := w.signedDocument("QĐ", "thuong")
	req := register.IssueRequest{Recipients: toSoTC(w)}

	ks := w.svc.Accounts.Keystore
	w.svc.Accounts.Keystore = nil
	if _, err := w.svc.Issue(ctx, w.clerk, d.ID, req); !errors.Is(err, register.ErrNoSealKey) {
		t.Fatalf("without the keystore: %v", err)
	}
	w.svc.Accounts.Keystore = ks
	tsa := w.svc.TSAURL
	w.svc.TSAURL = "http://127.0.0.1:1/tsa"
	if _, err := w.svc.Issue(ctx, w.clerk, d.ID, req); !errors.Is(err, register.ErrUnavailable) {
		t.Fatalf("with the TSA down: %v", err)
	}
	w.svc.TSAURL = tsa
	for _, table := range []string{"register_entries", "document_deliveries", "document_recipients"} {
		if n := w.count("SELECT count(*) FROM " + table); n != 0 {
			t.Fatalf("%d rows in %s after failed issues", n, table)
		}
	}
	if n := w.count("SELECT count(*) FROM document_versions WHERE document_id = $1", d.ID); n != 2 {
		t.Fatalf("%d versions after failed issues, want 2", n)
	}
	out, err := w.svc.Issue(ctx, w.clerk, d.ID, req)
	if err != nil || out.Number != 1 {
		t.Fatalf("issue after the failures: %+v %v, want number 1", out, err)
	}
}

// 100 clerks' requests at once into one series: numbers 1..100, each once,
// each with its document, sealed version and register entry.
func TestConcurrentIssuesAreGapFree(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const n = 100
	docs := make([]storage.Document, n)
	for i := range docs {
		docs[i] = w.signedDocument("QĐ", "thuong")
	}
	numbers := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := w.svc.Issue(ctx, w.clerk, docs[i].ID, register.IssueRequest{Recipients: []register.Recipient{{OrganizationID: w.other.ID}}})
			numbers[i], errs[i] = out.Number, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("issue %d: %v", i, err)
		}
	}
	slices.Sort(numbers)
	for i, got := range numbers {
		if got != i+1 {
			t.Fatalf("numbers %v: not 1..%d without gap or repeat", numbers, n)
		}
	}
	if c := w.count("SELECT count(*) FROM register_entries e JOIN document_versions v ON v.document_id = e.document_id AND v.number = e.version AND v.signed JOIN documents d ON d.id = e.document_id AND d.status = 'issued'"); c != n {
		t.Fatalf("%d complete register entries, want %d", c, n)
	}
	if c := w.count("SELECT last_number FROM register_counters WHERE register_id = $1", w.outgoing().ID); c != n {
		t.Fatalf("counter at %d, want %d", c, n)
	}
}

// Numbers restart at 00:00 on 1 January, Vietnam time: 23:59:59 on
// 31 December (+07:00) is still the old year's series, a second later the
// new year's number 01.
func TestNumbersRestartOnFirstOfJanuaryVietnamTime(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	vn := register.Vietnam
	req := register.IssueRequest{Recipients: []register.Recipient{{OrganizationID: w.other.ID}}}
	steps := []struct {
		at     time.Time
		year   int
		number int
	}{
		{time.Date(2026, 12, 31, 9, 0, 0, 0, vn), 2026, 1},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, vn), 2026, 2}, // 16:59:59 UTC
		{time.Date(2027, 1, 1, 0, 0, 0, 0, vn), 2027, 1},      // 17:00 UTC on 31 December
		{time.Date(2027, 1, 1, 8, 30, 0, 0, vn), 2027, 2},
	}
	for _, s := range steps {
		w.clock.set(s.at)
		d := w.signedDocument("QĐ", "thuong")
		out, err := w.svc.Issue(ctx, w.clerk, d.ID, req)
		if err != nil {
			t.Fatalf("issue at %s: %v", s.at, err)
		}
		if out.Number != s.number || register.Year(out.IssuedAt) != s.year || out.Symbol != fmt.Sprintf("%02d/QĐ-UBND", s.number) {
			t.Fatalf("issue at %s (UTC %s): %+v, want number %d of %d", s.at, s.at.UTC(), out, s.number, s.year)
		}
	}
	for year, want := range map[int]int{2026: 2, 2027: 2} {
		_, _, es, err := w.svc.Entries(ctx, w.clerk, w.outgoing().ID, year)
		if err != nil || len(es) != want {
			t.Fatalf("%d entries of %d (%v), want %d", len(es), year, err, want)
		}
	}
}

// The series a document is numbered in: confidential documents in the
// confidential series, a type with its own series there, everything else
// in the outgoing register; công văn take the drafting unit in the symbol.
func TestSeriesChoice(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin := w.user("quantri", "Quản Trị", w.org.ID, storage.RoleAdmin)
	mat, err := w.svc.Create(ctx, admin, w.org.ID, register.NewRegister{Kind: "outgoing", Name: "Sổ văn bản mật", Confidential: true})
	if err != nil {
		t.Fatal(err)
	}
	nq, err := w.svc.Create(ctx, admin, w.org.ID, register.NewRegister{Kind: "outgoing", Name: "Sổ nghị quyết", DocumentTypes: []string{"NQ"}})
	if err != nil {
		t.Fatal(err)
	}
	outgoing := w.outgoing()
	req := register.IssueRequest{Recipients: []register.Recipient{{OrganizationID: w.other.ID}}}
	cases := []struct {
		typ, conf, register, symbol string
	}{
		{"QĐ", "thuong", outgoing.ID, "01/QĐ-UBND"},
		{"QĐ", "mat", mat.ID, "01/QĐ-UBND"},
		{"NQ", "thuong", nq.ID, "01/NQ-UBND"},
		{"CV", "thuong", outgoing.ID, "02/UBND-VP"},
		{"NQ", "toi-mat", mat.ID, "02/NQ-UBND"},
	}
	for _, c := range cases {
		d := w.signedDocument(c.typ, c.conf)
		out, err := w.svc.Issue(ctx, w.clerk, d.ID, req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.typ, c.conf, err)
		}
		if out.RegisterID != c.register || out.Symbol != c.symbol {
			t.Errorf("%s %s: register %s symbol %s, want %s %s", c.typ, c.conf, out.RegisterID, out.Symbol, c.register, c.symbol)
		}
		// 01/QĐ-UBND of the confidential series clashes with the
		// ordinary one's: issued, with Decree 30's warning.
		clashes := 0
		for _, warning := range out.Warnings {
			if strings.Contains(warning, "in another series") {
				clashes++
			}
		}
		if clash := c.conf == "mat" && c.typ == "QĐ"; clash != (clashes == 1) {
			t.Errorf("%s %s: warnings %q", c.typ, c.conf, out.Warnings)
		}
	}
	// Asking for a series that does not fit is refused.
	d := w.signedDocument("QĐ", "mat")
	var in *accounts.InputError
	if _, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{RegisterID: outgoing.ID, Recipients: req.Recipients}); !errors.As(err, &in) {
		t.Fatalf("a confidential document into the ordinary register: %v", err)
	}
}
