package certify_test

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

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/documents/scancheck/scantest"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/s3"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// world is a commune (UBND) with a desk officer, a certifier holding the
// dev PKI's official key, the commune's seal key, and a second commune
// with its own certifier.
type world struct {
	t               testing.TB
	db              *storage.DB
	pki             *devpki.PKI
	svc             *certify.Service
	org, other      storage.Organization
	desk, certifier accounts.Principal
	otherCertifier  accounts.Principal
	drafter         accounts.Principal
	recorded        *recorder
	dbURL, keystore string
	s3              s3.Config
}

// recorder keeps the events published, as the notifications engine would.
type recorder struct {
	mu    sync.Mutex
	kinds []string
}

func (r *recorder) Publish(_ context.Context, _ pgx.Tx, ev events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kinds = append(r.kinds, string(ev.Kind))
	return nil
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
	mc := testharness.MinIO(t)
	blobs, err := s3.New(ctx, s3.Config{Endpoint: mc.Endpoint, AccessKey: mc.AccessKey, SecretKey: mc.SecretKey, Bucket: mc.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	pki := testharness.DevPKI(t)
	ksPath := filepath.Join(t.TempDir(), "keystore-key")
	ks, err := accounts.OpenKeystore(ksPath)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, pki: pki, recorded: &recorder{}, dbURL: url, keystore: ksPath,
		s3: s3.Config{Endpoint: mc.Endpoint, AccessKey: mc.AccessKey, SecretKey: mc.SecretKey, Bucket: mc.Bucket}}
	docs := &documents.Service{DB: db, Blobs: blobs, MaxUpload: 20 << 20, Retention: time.Hour}
	acc := &accounts.Service{DB: db, Keystore: ks}
	regs := &register.Service{DB: db, Docs: docs, Accounts: acc, TSAURL: pki.TSAURL(), TempDir: t.TempDir(),
		SealImage: func(ctx context.Context, org storage.Organization) (image.Image, error) {
			return appearance.DemoSeal(org.Name), nil
		}}
	w.svc = &certify.Service{DB: db, Docs: docs, Accounts: acc, Registers: regs, TempDir: t.TempDir(), Events: w.recorded}
	if w.org, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBNDXAB", Name: "Ủy ban nhân dân xã An Bình"}); err != nil {
		t.Fatal(err)
	}
	if w.other, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBNDXBC", Name: "Ủy ban nhân dân xã Bình Châu"}); err != nil {
		t.Fatal(err)
	}
	w.desk = w.user("motcua", "Lý Thị Tiếp", "Công chức Văn phòng – Thống kê", w.org.ID, storage.RoleDesk)
	w.certifier = w.user("chungthuc", "Đỗ Văn Thực", "Công chức Tư pháp – Hộ tịch", w.org.ID, storage.RoleCertifier)
	w.drafter = w.user("chuyenvien", "Trần Chuyên Viên", "Chuyên viên", w.org.ID, storage.RoleDrafter)
	w.otherCertifier = w.user("chungthuc-bc", "Phạm Văn Chứng", "Công chức Tư pháp – Hộ tịch", w.other.ID, storage.RoleCertifier)
	w.bind(devpki.Official, w.certifier.ID, "")
	w.bind(devpki.Seal, "", w.org.ID)
	w.bind(devpki.Deputy, w.otherCertifier.ID, "")
	w.bind(devpki.Seal, "", w.other.ID)
	return w
}

func (w *world) user(username, fullName, title, orgID, role string) accounts.Principal {
	w.t.Helper()
	u, err := storage.CreateUser(context.Background(), w.db.Pool, storage.User{Username: username, FullName: fullName, Title: title,
		OrganizationID: orgID, Roles: []string{role}}, "")
	if err != nil {
		w.t.Fatal(err)
	}
	return accounts.Principal{User: u}
}

func (w *world) bind(name, userID, orgID string) {
	w.t.Helper()
	ctx := context.Background()
	p12, err := os.ReadFile(w.pki.P12Path(name))
	if err != nil {
		w.t.Fatal(err)
	}
	b, err := accounts.BindingFor(ctx, accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: p12, Password: w.pki.Password()}, nil,
		[]*x509.Certificate{w.pki.Root()}, w.svc.Accounts.Keystore, time.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	b.UserID, b.OrganizationID = userID, orgID
	if _, err := storage.CreateKeyBinding(ctx, w.db.Pool, b); err != nil {
		w.t.Fatal(err)
	}
}

// scan is an A5 scan of pages pages at dpi in colour c.
func scan(pages int, dpi float64, c scantest.Colour) []byte {
	return scantest.PDF(scantest.Options{Pages: scantest.Pages(pages, dpi, c)})
}

// opened opens a request for an original of pages pages.
func (w *world) opened(pages, copies int) storage.Certification {
	w.t.Helper()
	c, err := w.svc.Open(context.Background(), w.desk, certify.NewRequest{RequesterName: "Nguyễn Thị Hồng", RequesterIDNumber: "001190012345",
		OriginalName: "Giấy khai sinh", PageCount: pages, Copies: copies})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) scanned(pages, copies int) storage.Certification {
	w.t.Helper()
	c := w.opened(pages, copies)
	if _, err := w.svc.Scan(context.Background(), w.desk, c.ID, bytes.NewReader(scan(pages, 200, scantest.RGB)), "giay-khai-sinh.pdf"); err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func tokenOf(t *testing.T, url string) (string, int) {
	t.Helper()
	i := strings.Index(url, "/c/")
	if i < 0 {
		t.Fatalf("download URL %q has no /c/ path", url)
	}
	parts := strings.Split(url[i+3:], "/")
	n := 1
	if len(parts) > 1 {
		fmt.Sscan(parts[1], &n)
	}
	return parts[0], n
}

// A three-page 200-dpi colour scan certified end to end: fee 5,000 đ for
// one copy; the copy carries the statement on its last page in real text,
// the certifier's certification signature (DocMDP P=2) and the commune's
// seal signature, both valid; the citizen's link serves it without login;
// the register has the entry.
func TestCertifyEndToEnd(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.opened(3, 1)
	if c.Fee != 5000 {
		t.Fatalf("fee %d, want 5000", c.Fee)
	}
	if !c.DueAt.After(c.ReceivedAt) {
		t.Fatalf("due %s is not after received %s", c.DueAt, c.ReceivedAt)
	}
	if _, err := w.svc.Scan(ctx, w.desk, c.ID, bytes.NewReader(scan(3, 200, scantest.RGB)), "giay-khai-sinh.pdf"); err != nil {
		t.Fatal(err)
	}
	out, err := w.svc.Certify(ctx, w.certifier, c.ID, "https://motcua.anbinh.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	year := time.Now().In(certify.Vietnam).Year()
	if out.Number != 1 || out.Book != fmt.Sprintf("01/%d-SCTĐT/BS", year) || out.Fee != 5000 || len(out.Copies) != 1 {
		t.Fatalf("certified %+v", out)
	}
	token, n := tokenOf(t, out.Copies[0].DownloadURL)
	if !strings.HasPrefix(out.Copies[0].DownloadURL, "https://motcua.anbinh.gov.vn/c/") || n != 1 {
		t.Fatalf("download URL %q", out.Copies[0].DownloadURL)
	}
	// The token is kept only as its hash.
	if w.count("SELECT count(*) FROM certifications WHERE position($1::bytea IN link_hash) > 0 OR receipt_blob_key = $2", []byte(token), token) != 0 {
		t.Fatal("the token is stored")
	}
	rc, cc, err := w.svc.Download(ctx, token, 1)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if cc.SHA256 != out.Copies[0].SHA256 {
		t.Fatalf("downloaded copy %s, certified %s", cc.SHA256, out.Copies[0].SHA256)
	}
	// Kept without end: the object store refuses to delete the copy.
	if err := w.svc.Docs.Blobs.Delete(ctx, cc.SHA256); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("deleting a certified copy: %v, want retained", err)
	}
	if _, _, err := w.svc.Download(ctx, token[:42]+"A", 1); !errors.Is(err, certify.ErrLinkGone) {
		t.Fatalf("a wrong token: %v", err)
	}
	if _, _, err := w.svc.Download(ctx, token, 2); !errors.Is(err, certify.ErrLinkGone) {
		t.Fatalf("a copy that does not exist: %v", err)
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
	if rep.Signatures[0].Certification != 2 {
		t.Fatalf("the certifier's signature has DocMDP P=%d, want 2", rep.Signatures[0].Certification)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "copy.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	pdfsig := testharness.Tool(t, "pdfsig", "poppler-utils")
	sig, err := exec.Command(pdfsig, file).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, sig)
	}
	if got := strings.Count(string(sig), "Signature Validation: Signature is Valid."); got != 2 {
		t.Fatalf("pdfsig finds %d valid signatures, want 2:\n%s", got, sig)
	}
	pdftotext := testharness.Tool(t, "pdftotext", "poppler-utils")
	text, err := exec.Command(pdftotext, "-f", "3", "-l", "3", "-layout", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	for _, want := range []string{"Chứng thực bản sao đúng với bản chính.", fmt.Sprintf("Số chứng thực 1, quyển số 01/%d-SCTĐT/BS", year),
		"CÔNG CHỨC TƯ PHÁP – HỘ TỊCH", "Đỗ Văn Thực", fmt.Sprintf("năm %d", year)} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the last page's text lacks %q:\n%s", want, text)
		}
	}
	pdftoppm := testharness.Tool(t, "pdftoppm", "poppler-utils")
	if msg, err := exec.Command(pdftoppm, "-f", "3", "-l", "3", "-r", "40", "-png", file, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, msg)
	}

	// The receipt: a PDF with the fee and the link.
	rr, size, err := w.svc.Receipt(ctx, w.desk, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	receipt, _ := io.ReadAll(rr)
	rr.Close()
	if int64(len(receipt)) != size || !bytes.HasPrefix(receipt, []byte("%PDF-")) {
		t.Fatalf("receipt of %d bytes (size %d)", len(receipt), size)
	}
	rfile := filepath.Join(dir, "receipt.pdf")
	os.WriteFile(rfile, receipt, 0o600)
	rtext, err := exec.Command(pdftotext, rfile, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext receipt: %v\n%s", err, rtext)
	}
	for _, want := range []string{"Lệ phí: 5.000 đ", "Nguyễn Thị Hồng", "Giấy khai sinh", "Số chứng thực: 1, quyển số"} {
		if !strings.Contains(string(rtext), want) {
			t.Errorf("the receipt lacks %q:\n%s", want, rtext)
		}
	}

	// The register.
	reg, year2, rows, err := w.svc.Register(ctx, w.certifier, w.certifiedRegister().ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if year2 != year || len(rows) != 1 || rows[0].Number != "1" || rows[0].Requester != "Nguyễn Thị Hồng" || rows[0].Copies != 1 || rows[0].Fee != "5.000 đ" ||
		!strings.Contains(rows[0].Signer, "Đỗ Văn Thực") || reg.Kind != storage.RegisterCertifiedCopies {
		t.Fatalf("register %s %d: %+v", reg.Kind, year2, rows)
	}
	if got := w.recorded.kinds; !slices.Equal(got, []string{"certification.received", "certification.certified"}) {
		t.Fatalf("events %v", got)
	}
	// Nothing left to certify twice.
	if _, err := w.svc.Certify(ctx, w.certifier, c.ID, ""); !errors.Is(err, certify.ErrState) {
		t.Fatalf("certifying again: %v", err)
	}
}

func (w *world) certifiedRegister() storage.Register {
	w.t.Helper()
	rs, err := storage.ListRegisters(context.Background(), w.db.Pool, w.org.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range rs {
		if r.Kind == storage.RegisterCertifiedCopies {
			return r
		}
	}
	w.t.Fatal("no certified-copies register")
	return storage.Register{}
}

// Two copies of one original share one certification number; the fee is
// per copy (10,000 đ); each copy has its own file and link.
func TestCopiesShareNumber(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.scanned(3, 2)
	if c.Fee != 10000 {
		t.Fatalf("fee %d, want 10000", c.Fee)
	}
	out, err := w.svc.Certify(ctx, w.certifier, c.ID, "http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Copies) != 2 || out.Fee != 10000 || out.Number != 1 {
		t.Fatalf("certified %+v", out)
	}
	tok1, n1 := tokenOf(t, out.Copies[0].DownloadURL)
	tok2, n2 := tokenOf(t, out.Copies[1].DownloadURL)
	if tok1 != tok2 || n1 != 1 || n2 != 2 {
		t.Fatalf("links %q and %q", out.Copies[0].DownloadURL, out.Copies[1].DownloadURL)
	}
	for n := 1; n <= 2; n++ {
		rc, cc, err := w.svc.Download(ctx, tok1, n)
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if cc.CopyNumber != n || cc.SHA256 != out.Copies[n-1].SHA256 {
			t.Fatalf("copy %d: %+v", n, cc)
		}
	}
	// The link expires (30 days by default).
	later := *w.svc
	later.Now = func() time.Time { return time.Now().Add(certify.DefaultLinkTTL + time.Minute) }
	if _, _, err := later.Download(ctx, tok1, 1); !errors.Is(err, certify.ErrLinkGone) {
		t.Fatalf("an expired link: %v", err)
	}
	if n := w.count("SELECT count(DISTINCT number) FROM certifications WHERE id = $1", c.ID); n != 1 {
		t.Fatalf("%d numbers for one request", n)
	}
	if n := w.count("SELECT last_number FROM register_counters"); n != 1 {
		t.Fatalf("two copies took %d numbers", n)
	}
}

// A scan under 200 dpi or in grey is refused naming the page (and the dpi
// found), nothing is stored, and the request stays open for a new scan.
func TestScanRefused(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.opened(3, 1)
	pages := scantest.Pages(3, 200, scantest.RGB)
	pages[1].DPI = 150
	_, err := w.svc.Scan(ctx, w.desk, c.ID, bytes.NewReader(scantest.PDF(scantest.Options{Pages: pages})), "scan.pdf")
	var se *certify.ScanError
	if !errors.As(err, &se) || len(se.Refusal.Problems) != 1 || se.Refusal.Problems[0].Page != 2 || se.Refusal.Problems[0].DPI != 150 ||
		!strings.Contains(err.Error(), "page 2 is scanned at 150 dpi") {
		t.Fatalf("150 dpi page 2: %v", err)
	}
	pages = scantest.Pages(3, 300, scantest.RGB)
	pages[2].Colour = scantest.Gray
	_, err = w.svc.Scan(ctx, w.desk, c.ID, bytes.NewReader(scantest.PDF(scantest.Options{Pages: pages})), "scan.pdf")
	if !errors.As(err, &se) || se.Refusal.Problems[0].Page != 3 || !strings.Contains(err.Error(), "page 3 is not a colour scan") {
		t.Fatalf("grey page 3: %v", err)
	}
	var in *accounts.InputError
	if _, err := w.svc.Scan(ctx, w.desk, c.ID, bytes.NewReader(scan(2, 200, scantest.RGB)), "scan.pdf"); !errors.As(err, &in) {
		t.Fatalf("two pages for a three-page original: %v", err)
	}
	if n := w.count("SELECT count(*) FROM certifications WHERE scan_blob_key IS NOT NULL"); n != 0 {
		t.Fatalf("a refused scan was recorded")
	}
	if _, err := w.svc.Certify(ctx, w.certifier, c.ID, ""); !errors.Is(err, certify.ErrState) {
		t.Fatalf("certifying without a scan: %v", err)
	}
	if got, err := w.svc.Scan(ctx, w.desk, c.ID, bytes.NewReader(scan(3, 200, scantest.RGB)), "scan.pdf"); err != nil || got.Status != storage.CertificationScanned {
		t.Fatalf("a good scan after the refused ones: %v %v", got.Status, err)
	}
}

// Each ground of Decree 23/2015 art. 22 refuses the request on its own and
// is recorded; a refused request is never certified and takes no number.
func TestRefusalGrounds(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	grounds := []string{certify.GroundAltered, certify.GroundUnreadable, certify.GroundSecret, certify.GroundUnlawful, certify.GroundUnconfirmed}
	for i, g := range grounds {
		c := w.opened(1, 1)
		if i%2 == 1 { // refused after the scan as well as before it
			if _, err := w.svc.Scan(ctx, w.desk, c.ID, bytes.NewReader(scan(1, 200, scantest.RGB)), "scan.pdf"); err != nil {
				t.Fatal(err)
			}
		}
		who := w.desk
		if i == 4 {
			who = w.certifier // the certifier reviewing refuses too
		}
		got, err := w.svc.Refuse(ctx, who, c.ID, certify.RefuseRequest{Reasons: []string{g}})
		if err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		if got.Status != storage.CertificationRefused || !slices.Equal(got.RefusalReasons, []string{g}) {
			t.Fatalf("%s: status %s, reasons %v", g, got.Status, got.RefusalReasons)
		}
		if _, err := w.svc.Certify(ctx, w.certifier, c.ID, ""); !errors.Is(err, certify.ErrState) {
			t.Fatalf("%s: certifying a refused request: %v", g, err)
		}
		if _, err := w.svc.Refuse(ctx, w.desk, c.ID, certify.RefuseRequest{Reasons: []string{g}}); !errors.Is(err, certify.ErrState) {
			t.Fatalf("%s: refusing twice: %v", g, err)
		}
	}
	c := w.opened(1, 1)
	var in *accounts.InputError
	for _, bad := range []certify.RefuseRequest{{}, {Reasons: []string{"ugly"}}, {Reasons: []string{certify.GroundAltered, "x"}}} {
		if _, err := w.svc.Refuse(ctx, w.desk, c.ID, bad); !errors.As(err, &in) {
			t.Errorf("refusal %+v: %v, want an input error", bad, err)
		}
	}
	got, err := w.svc.Refuse(ctx, w.desk, c.ID, certify.RefuseRequest{Reasons: []string{certify.GroundSecret, certify.GroundAltered, certify.GroundSecret}, Note: "Có dấu MẬT"})
	if err != nil || !slices.Equal(got.RefusalReasons, []string{certify.GroundSecret, certify.GroundAltered}) || got.RefusalNote != "Có dấu MẬT" {
		t.Fatalf("two grounds: %+v %v", got, err)
	}
	if n := w.count("SELECT count(*) FROM audit_log WHERE action = 'certification.refuse'"); n != 6 {
		t.Fatalf("%d refusals audited, want 6", n)
	}
	if n := w.count("SELECT count(*) FROM register_counters"); n != 0 {
		t.Fatalf("refusals took numbers")
	}
}

// Only the desk opens and scans, only a certifier certifies, and another
// commune's staff find nothing.
func TestAuthorization(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	req := certify.NewRequest{RequesterName: "A", RequesterIDNumber: "001190012345", OriginalName: "B", PageCount: 1, Copies: 1}
	for _, p := range []accounts.Principal{w.certifier, w.drafter} {
		if _, err := w.svc.Open(ctx, p, req); !errors.Is(err, accounts.ErrForbidden) {
			t.Errorf("%s opens: %v", p.Username, err)
		}
	}
	c := w.scanned(1, 1)
	if _, err := w.svc.Certify(ctx, w.desk, c.ID, ""); !errors.Is(err, accounts.ErrForbidden) {
		t.Errorf("the desk certifies: %v", err)
	}
	if _, err := w.svc.Get(ctx, w.drafter, c.ID); !errors.Is(err, accounts.ErrForbidden) {
		t.Errorf("a drafter reads a citizen's request: %v", err)
	}
	for name, call := range map[string]func() error{
		"certify": func() error { _, err := w.svc.Certify(ctx, w.otherCertifier, c.ID, ""); return err },
		"get":     func() error { _, err := w.svc.Get(ctx, w.otherCertifier, c.ID); return err },
		"refuse": func() error {
			_, err := w.svc.Refuse(ctx, w.otherCertifier, c.ID, certify.RefuseRequest{Reasons: []string{certify.GroundAltered}})
			return err
		},
		"receipt": func() error { _, _, err := w.svc.Receipt(ctx, w.otherCertifier, c.ID); return err },
		"register": func() error {
			_, _, _, err := w.svc.Register(ctx, w.otherCertifier, w.certifiedRegister().ID, 0)
			return err
		},
	} {
		if err := call(); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("another commune's certifier: %s: %v, want not found", name, err)
		}
	}
	var in *accounts.InputError
	for _, bad := range []certify.NewRequest{
		{RequesterIDNumber: "001190012345", OriginalName: "B", PageCount: 1, Copies: 1},
		{RequesterName: "A", RequesterIDNumber: "12", OriginalName: "B", PageCount: 1, Copies: 1},
		{RequesterName: "A", RequesterIDNumber: "001190012345", OriginalName: "B", PageCount: 0, Copies: 1},
		{RequesterName: "A", RequesterIDNumber: "001190012345", OriginalName: "B", PageCount: 1, Copies: 51},
		{RequesterName: "A\x00", RequesterIDNumber: "001190012345", OriginalName: "B", PageCount: 1, Copies: 1},
	} {
		if _, err := w.svc.Open(ctx, w.desk, bad); !errors.As(err, &in) {
			t.Errorf("request %+v: %v, want an input error", bad, err)
		}
	}
}

// Certifications made at the same time take consecutive numbers without
// gaps, and a certification that fails (the certifier's key revoked in
// between) gives its number back.
func TestNumbersGapFreeUnderConcurrency(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const n = 4
	ids := make([]string, n)
	for i := range ids {
		ids[i] = w.scanned(1, 1).ID
	}
	var wg sync.WaitGroup
	numbers := make([]int, n)
	errs := make([]error, n)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := w.svc.Certify(ctx, w.certifier, ids[i], "")
			numbers[i], errs[i] = out.Number, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(numbers)
	if !slices.Equal(numbers, []int{1, 2, 3, 4}) {
		t.Fatalf("numbers %v, want 1–4", numbers)
	}
	// A failure inside the transaction, after the number was taken (the
	// timestamp authority unreachable while signing), gives it back and
	// leaves no copy.
	failing := w.scanned(1, 1)
	regs := *w.svc.Registers
	regs.TSAURL = "http://127.0.0.1:1/tsa"
	down := *w.svc
	down.Registers = &regs
	if _, err := down.Certify(ctx, w.certifier, failing.ID, ""); !errors.Is(err, register.ErrUnavailable) {
		t.Fatalf("certifying with the TSA down: %v", err)
	}
	if got := w.count("SELECT last_number FROM register_counters"); got != n {
		t.Fatalf("the counter is at %d after a failed certification, want %d", got, n)
	}
	if got := w.count("SELECT count(*) FROM certified_copies"); got != n {
		t.Fatalf("%d copies recorded, want %d", got, n)
	}
}
