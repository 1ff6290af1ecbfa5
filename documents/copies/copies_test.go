package copies_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/copies"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// world is an organisation (UBND) with a clerk, a signer, a drafter and
// the dev PKI's seal bound as its seal, another organisation with its
// clerk, the issuing and the copies services, and one issued document of
// three pages.
type world struct {
	t            *testing.T
	db           *storage.DB
	pki          *devpki.PKI
	reg          *register.Service
	svc          *copies.Service
	pub          *publicverify.Service
	org, other   storage.Organization
	clerk        accounts.Principal
	drafter      accounts.Principal
	signer       accounts.Principal
	otherClerk   accounts.Principal
	signedKey    string
	signedSize   int64
	draftKey     string
	draftSize    int64
	trust        *chain.Store
	issuedDocID  string
	issuedSHA256 string
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
	blobs, err := localdisk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pki := testharness.DevPKI(t)
	ks, err := accounts.OpenKeystore(filepath.Join(t.TempDir(), "keystore-key"))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, pki: pki, trust: chain.NewStore(pki.Root())}
	docs := &documents.Service{DB: db, Blobs: blobs, MaxUpload: 20 << 20, Retention: time.Hour}
	w.reg = &register.Service{DB: db, Docs: docs, Accounts: &accounts.Service{DB: db, Keystore: ks},
		TSAURL: pki.TSAURL(), TempDir: t.TempDir(),
		SealImage: func(ctx context.Context, org storage.Organization) (image.Image, error) {
			return appearance.DemoSeal(org.Name), nil
		}}
	w.svc = &copies.Service{DB: db, Docs: docs, Register: w.reg, PublicURL: "https://vanthu.example/", TempDir: t.TempDir()}
	w.pub = &publicverify.Service{DB: db, Blobs: blobs, TempDir: t.TempDir(),
		Verify: func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
			return verify.Verify(ctx, r, size, verify.Options{Trust: w.trust})
		}}
	if w.org, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã An Bình"}); err != nil {
		t.Fatal(err)
	}
	if w.other, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "SoTC", Name: "Sở Tài chính"}); err != nil {
		t.Fatal(err)
	}
	w.clerk = w.user("vanthu", "Lê Văn Thư", w.org.ID, storage.RoleClerk)
	w.drafter = w.user("chuyenvien", "Trần Chuyên Viên", w.org.ID, storage.RoleDrafter)
	w.signer = w.user("an", "Nguyễn Văn An", w.org.ID, storage.RoleSigner)
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
	draft := testpdf.Bytes(testpdf.Options{Pages: 3, Text: "QUYET DINH ve viec ban hanh quy che"})
	key, err := pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	var signed bytes.Buffer
	err = signing.Sign(ctx, bytes.NewReader(draft), int64(len(draft)), &memOut{b: &signed}, key, signing.Options{Level: signing.LevelBT, TSAURL: pki.TSAURL(),
		Name: "Nguyễn Văn An", Reason: "Ký ban hành",
		Visible: &signing.Visible{Page: 1, Rect: [4]float64{320, 120, 520, 220}, Image: appearance.DemoSignature("Nguyễn Văn An")}})
	if err != nil {
		t.Fatal(err)
	}
	w.draftKey, w.draftSize = w.put(docs, draft)
	w.signedKey, w.signedSize = w.put(docs, signed.Bytes())
	return w
}

// memOut is a signing.Output in memory.
type memOut struct{ b *bytes.Buffer }

func (m *memOut) Write(p []byte) (int, error) { return m.b.Write(p) }
func (m *memOut) WriteAt(p []byte, off int64) (int, error) {
	copy(m.b.Bytes()[off:], p)
	return len(p), nil
}

func (w *world) user(username, fullName, orgID, role string) accounts.Principal {
	w.t.Helper()
	u, err := storage.CreateUser(context.Background(), w.db.Pool, storage.User{Username: username, FullName: fullName, OrganizationID: orgID, Roles: []string{role}}, "")
	if err != nil {
		w.t.Fatal(err)
	}
	return accounts.Principal{User: u}
}

func (w *world) put(docs *documents.Service, b []byte) (string, int64) {
	w.t.Helper()
	info, err := docs.Blobs.Put(context.Background(), bytes.NewReader(b), blob.PutOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return info.Key, info.Size
}

// issued is an issued document (sealed, numbered 0x/QĐ-UBND) of the given
// confidentiality.
func (w *world) issued(confidentiality string) storage.Document {
	w.t.Helper()
	ctx := context.Background()
	d, err := storage.InsertDocument(ctx, w.db.Pool, storage.Document{Type: "QĐ", Subject: "Ban hành quy chế làm việc", Urgency: "thuong",
		Confidentiality: confidentiality, OrganizationID: w.org.ID, CreatedBy: w.drafter.ID, SearchText: "ban hanh quy che"})
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
	if _, err := w.reg.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: []register.Recipient{{Name: "Công ty ABC", Email: "vanthu@abc.example"}}}); err != nil {
		w.t.Fatal(err)
	}
	d, err = storage.GetDocument(ctx, w.db.Pool, d.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

func (w *world) file(c copies.Copy) []byte {
	w.t.Helper()
	rc, err := w.svc.Docs.Blobs.Open(context.Background(), c.SHA256, 0, -1)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(rc); err != nil {
		w.t.Fatal(err)
	}
	return b.Bytes()
}

// valid checks the copy with the verifier and with poppler's pdfsig.
func (w *world) valid(name string, pdf []byte, signatures int) {
	w.t.Helper()
	rep, err := verify.Verify(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), verify.Options{Trust: w.trust})
	if err != nil {
		w.t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != signatures {
		w.t.Fatalf("%s: verdict %s with %d signatures, want VALID with %d: %v %v", name, rep.Verdict, len(rep.Signatures), signatures, rep.Errors, rep.Signatures)
	}
	pdfsig := testharness.Tool(w.t, "pdfsig", "poppler-utils")
	path := filepath.Join(w.t.TempDir(), "copy.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		w.t.Fatal(err)
	}
	out, _ := exec.Command(pdfsig, "-nocert", path).CombinedOutput()
	if n := strings.Count(string(out), "Signature Validation: Signature is Valid."); n != signatures {
		w.t.Fatalf("%s: pdfsig finds %d valid signatures, want %d:\n%s", name, n, signatures, out)
	}
}

func pageCount(t *testing.T, pdf []byte) int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testharness.Tool(t, "pdfinfo", "poppler-utils"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "Pages:" {
			var n int
			fmt.Sscan(f[1], &n)
			return n
		}
	}
	t.Fatalf("pdfinfo gave no page count:\n%s", out)
	return 0
}

// TestCopyEndToEnd: a SAO Y, a TRÍCH SAO of pages 3 and 1, and a SAO LỤC of
// the SAO Y, each a numbered document of the copies series (01/SY-UBND,
// 02/TrS-UBND, 03/SL-UBND), VALID in the verifier and pdfsig with one
// signature (the organisation's copy block), registered, linked, found by
// public verification by its hash and its QR code.
func TestCopyEndToEnd(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	orig := w.issued("thuong")
	year := register.Year(time.Now())

	sy, err := w.svc.Make(ctx, w.clerk, orig.ID, copies.Request{Form: "SY"})
	if err != nil {
		t.Fatal(err)
	}
	if sy.Symbol != "01/SY-UBND" || sy.Status != documents.StatusIssued || sy.OriginalID != orig.ID || sy.OriginalVersion != 3 {
		t.Fatalf("SAO Y: %+v", sy)
	}
	syPDF := w.file(sy)
	w.valid("SAO Y", syPDF, 1)
	if n := pageCount(t, syPDF); n != 3 {
		t.Fatalf("SAO Y has %d pages, want 3", n)
	}

	trs, err := w.svc.Make(ctx, w.clerk, orig.ID, copies.Request{Form: "TrS", Pages: []int{3, 1}})
	if err != nil {
		t.Fatal(err)
	}
	trsPDF := w.file(trs)
	w.valid("TRÍCH SAO", trsPDF, 1)
	if trs.Symbol != "02/TrS-UBND" || pageCount(t, trsPDF) != 2 {
		t.Fatalf("TRÍCH SAO %s with %d pages, want 02/TrS-UBND with 2", trs.Symbol, pageCount(t, trsPDF))
	}

	sl, err := w.svc.Make(ctx, w.clerk, sy.ID, copies.Request{Form: "SL"})
	if err != nil {
		t.Fatal(err)
	}
	w.valid("SAO LỤC", w.file(sl), 1)
	if sl.Symbol != "03/SL-UBND" || sl.OriginalID != sy.ID {
		t.Fatalf("SAO LỤC %+v", sl)
	}

	// The copies register holds the three, in number order.
	rs, err := w.reg.List(ctx, w.clerk, w.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rs, func(r storage.Register) bool { return r.Kind == storage.RegisterCopies && r.Default })
	_, _, es, err := w.reg.Entries(ctx, w.clerk, rs[i].ID, year)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Symbol)
	}
	if want := []string{"01/SY-UBND", "02/TrS-UBND", "03/SL-UBND"}; !slices.Equal(got, want) {
		t.Fatalf("copies register %v, want %v", got, want)
	}

	// Public verification finds the copy by hash and by its QR code, and
	// names its original.
	a, err := w.pub.Upload(ctx, bytes.NewReader(trsPDF), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Found || a.Kind != publicverify.KindCopy || a.Number != "02/TrS-UBND" || a.Verdict != string(etsi.Valid) ||
		a.CopyOf == nil || a.CopyOf.Form != "TrS" || a.CopyOf.Number != *orig.Number || !slices.Equal(a.CopyOf.Pages, []int{3, 1}) ||
		a.Organization.Name != w.org.Name || a.Register == nil || a.Register.Number != 2 {
		t.Fatalf("public answer for the TRÍCH SAO: %+v", a)
	}
	code := strings.TrimPrefix(trs.VerifyURL, "https://vanthu.example/v/")
	byCode, err := w.pub.ByCode(ctx, code)
	if err != nil || !byCode.Found || byCode.SHA256 != trs.SHA256 {
		t.Fatalf("by QR code %q: %+v %v", code, byCode, err)
	}
	if n := count(t, w.db, "SELECT count(*) FROM audit_log WHERE action = 'document.copy'"); n != 3 {
		t.Fatalf("%d audit entries of copies, want 3", n)
	}
}

func count(t *testing.T, db *storage.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCopyRefusals: who may copy what, in which form.
func TestCopyRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	orig := w.issued("thuong")
	draft, err := storage.InsertDocument(ctx, w.db.Pool, storage.Document{Type: "QĐ", Subject: "Dự thảo", Urgency: "thuong",
		Confidentiality: "thuong", OrganizationID: w.org.ID, CreatedBy: w.drafter.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.InsertVersion(ctx, w.db.Pool, storage.Version{DocumentID: draft.ID, SHA256: w.draftKey, Size: w.draftSize, FileName: "d.pdf", CreatedBy: w.drafter.ID}); err != nil {
		t.Fatal(err)
	}
	var input *documents.InputError
	cases := []struct {
		name string
		p    accounts.Principal
		id   string
		req  copies.Request
		want any
	}{
		{"drafter", w.drafter, orig.ID, copies.Request{Form: "SY"}, accounts.ErrForbidden},
		{"other organisation", w.otherClerk, orig.ID, copies.Request{Form: "SY"}, documents.ErrNotFound},
		{"unknown form", w.clerk, orig.ID, copies.Request{Form: "BS"}, &input},
		{"trích sao without pages", w.clerk, orig.ID, copies.Request{Form: "TrS"}, &input},
		{"page out of range", w.clerk, orig.ID, copies.Request{Form: "TrS", Pages: []int{4}}, &input},
		{"page twice", w.clerk, orig.ID, copies.Request{Form: "TrS", Pages: []int{1, 1}}, &input},
		{"pages for a sao y", w.clerk, orig.ID, copies.Request{Form: "SY", Pages: []int{1}}, &input},
		{"sao lục of an original", w.clerk, orig.ID, copies.Request{Form: "SL"}, copies.ErrNotCopyable},
		{"unsigned draft", w.clerk, draft.ID, copies.Request{Form: "SY"}, copies.ErrNotCopyable},
	}
	for _, c := range cases {
		_, err := w.svc.Make(ctx, c.p, c.id, c.req)
		switch want := c.want.(type) {
		case error:
			if !errors.Is(err, want) {
				t.Errorf("%s: %v, want %v", c.name, err, want)
			}
		default:
			if !errors.As(err, &input) {
				t.Errorf("%s: %v, want an input error", c.name, err)
			}
		}
	}
	if n := count(t, w.db, "SELECT count(*) FROM register_counters c JOIN registers r ON r.id = c.register_id WHERE r.kind = 'copies'"); n != 0 {
		t.Fatalf("refused copies took %d counters", n)
	}
}

// TestCopyNumbersGapFree: concurrent copies into the one series get
// 1..n, each once, each with its entry and its version.
func TestCopyNumbersGapFree(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	orig := w.issued("thuong")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			form := copies.Request{Form: "SY"}
			if i%2 == 1 {
				form = copies.Request{Form: "TrS", Pages: []int{2}}
			}
			_, err := w.svc.Make(ctx, w.clerk, orig.ID, form)
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, err := w.db.Pool.Query(ctx, `SELECT e.number FROM register_entries e JOIN registers r ON r.id = e.register_id
		JOIN document_versions v ON v.document_id = e.document_id AND v.number = e.version
		JOIN document_copies c ON c.document_id = e.document_id
		WHERE r.kind = 'copies' ORDER BY e.number`)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for rows.Next() {
		var k int
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	if len(got) != n {
		t.Fatalf("%d copies registered, want %d: %v", len(got), n, got)
	}
	for i, k := range got {
		if k != i+1 {
			t.Fatalf("numbers %v, want 1..%d without gaps", got, n)
		}
	}
}
