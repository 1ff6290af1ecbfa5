package documents_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
)

func TestMain(m *testing.M) { testharness.Main(m) }

func newService(t *testing.T) (*documents.Service, documents.Principal) {
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
	org, err := storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := storage.CreateUser(ctx, db.Pool, storage.User{Username: "drafter", FullName: "Trần Chuyên Viên", OrganizationID: org.ID, Roles: []string{storage.RoleDrafter}}, "")
	if err != nil {
		t.Fatal(err)
	}
	return &documents.Service{DB: db, Blobs: blobs, MaxUpload: 1 << 20}, documents.Principal{User: u}
}

// The sweeper must never delete bytes a document version points at, even
// when it decided the object was an orphan before the row committed.
func TestSweeperKeepsReferencedBlobs(t *testing.T) {
	s, u := newService(t)
	ctx := context.Background()
	kept, err := s.StoreFile(ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: "kept"})), "a.pdf")
	if err != nil {
		t.Fatal(err)
	}
	meta, err := s.CheckMeta(ctx, u, documents.Meta{Type: "QĐ", Subject: "Quyết định giữ lại", Urgency: "Hỏa tốc"})
	if err != nil || meta.Urgency != "hoa-toc" {
		t.Fatalf("meta %+v %v", meta, err)
	}
	if _, _, err := s.Create(ctx, u, meta, kept, ""); err != nil {
		t.Fatal(err)
	}
	orphan, err := s.StoreFile(ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: "orphan"})), "b.pdf")
	if err != nil {
		t.Fatal(err)
	}
	// The request that stored it was killed long ago: its hold is abandoned.
	if _, err := s.DB.Pool.Exec(ctx, "UPDATE blob_holds SET created_at = now() - interval '2 hours'"); err != nil {
		t.Fatal(err)
	}

	// Deleting through the sweeper's view refuses the referenced object.
	if err := s.SweptBlobs().Delete(ctx, kept.Key); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("delete of a referenced blob: %v", err)
	}
	n, err := blob.Sweep(ctx, s.SweptBlobs(), s.IsReferenced, 0)
	if err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want the one orphan", n, err)
	}
	if _, err := s.Blobs.Stat(ctx, kept.Key); err != nil {
		t.Fatalf("referenced blob gone: %v", err)
	}
	if _, err := s.Blobs.Stat(ctx, orphan.Key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("orphan still there: %v", err)
	}
}

func TestStoreFileRejectsBeforeStoring(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	valid := testpdf.Bytes(testpdf.Options{})
	for _, tc := range []struct {
		name string
		data []byte
		kind error
	}{
		{"empty", nil, documents.ErrEmptyFile},
		{"text", []byte("plain text"), documents.ErrNotPDF},
		{"truncated", valid[:len(valid)-40], documents.ErrTruncatedPDF},
		{"no trailer", bytes.Replace(valid, []byte("trailer"), []byte("trailor"), 1), documents.ErrUnparsablePDF},
		{"too large", testpdf.Bytes(testpdf.Options{Size: 2 << 20}), documents.ErrTooLarge},
	} {
		_, err := s.StoreFile(ctx, bytes.NewReader(tc.data), "x.pdf")
		if !errors.Is(err, tc.kind) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.kind)
		}
	}
	n := 0
	if err := s.Blobs.List(ctx, func(blob.Info) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("%d blobs stored by rejected files (%v)", n, err)
	}
	f, err := s.StoreFile(ctx, bytes.NewReader(valid), `C:\Users\vt\Tờ trình.pdf`)
	if err != nil || f.FileName != "Tờ trình.pdf" || f.Size != int64(len(valid)) || f.Signed {
		t.Fatalf("valid file: %+v %v", f, err)
	}
}

// A failed upload must not delete bytes another request, of another
// organisation, has stored and is about to commit: blobs are shared by
// content. The interleaving that lost them (3 of 3 tries before holds):
// B stores the same bytes as A (its Put finds the object there), A fails
// and discards, B commits.
func TestDiscardKeepsBlobAnotherUploadHolds(t *testing.T) {
	s, a := newService(t)
	ctx := context.Background()
	orgB, err := storage.CreateOrganization(ctx, s.DB.Pool, storage.Organization{Code: "UBND2", Name: "Ủy ban nhân dân phường"})
	if err != nil {
		t.Fatal(err)
	}
	ub, err := storage.CreateUser(ctx, s.DB.Pool, storage.User{Username: "drafter2", FullName: "Lê Văn B", OrganizationID: orgB.ID, Roles: []string{storage.RoleDrafter}}, "")
	if err != nil {
		t.Fatal(err)
	}
	b := documents.Principal{User: ub}
	pdf := testpdf.Bytes(testpdf.Options{Text: "shared bytes"})
	holds := func() (n int) {
		t.Helper()
		if err := s.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM blob_holds").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	fa, err := s.StoreFile(ctx, bytes.NewReader(pdf), "a.pdf")
	if err != nil {
		t.Fatal(err)
	}
	fb, err := s.StoreFile(ctx, bytes.NewReader(pdf), "b.pdf")
	if err != nil || fb.Key != fa.Key {
		t.Fatalf("second store: %+v %v", fb, err)
	}
	if n := holds(); n != 2 {
		t.Fatalf("%d holds for two uploads in flight, want 2", n)
	}
	s.Discard(ctx, fa) // A's request failed
	if _, err := s.Blobs.Stat(ctx, fa.Key); err != nil {
		t.Fatalf("A's discard deleted the blob B is committing: %v", err)
	}
	meta, err := s.CheckMeta(ctx, b, documents.Meta{Type: "QĐ", Subject: "Cùng nội dung"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(ctx, b, meta, fb, ""); err != nil {
		t.Fatalf("B's commit after A's discard: %v", err)
	}
	if n := holds(); n != 0 {
		t.Fatalf("%d holds left after one commit and one discard", n)
	}

	// The other order: A discards before B holds anything; B's Put then
	// stores the bytes again.
	other := testpdf.Bytes(testpdf.Options{Text: "stored twice"})
	fa, err = s.StoreFile(ctx, bytes.NewReader(other), "a.pdf")
	if err != nil {
		t.Fatal(err)
	}
	s.Discard(ctx, fa)
	if _, err := s.Blobs.Stat(ctx, fa.Key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("the last holder's discard kept the blob: %v", err)
	}
	fb, err = s.StoreFile(ctx, bytes.NewReader(other), "b.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(ctx, a, meta, fb, ""); err != nil {
		t.Fatalf("commit after an earlier discard: %v", err)
	}
	if n := holds(); n != 0 {
		t.Fatalf("%d holds left", n)
	}

	// A refused upload takes no hold, and the sweeper's deletes respect
	// holds as they respect rows.
	if _, err := s.StoreFile(ctx, bytes.NewReader([]byte("not a pdf")), "x.pdf"); err == nil {
		t.Fatal("text stored as a PDF")
	}
	third := testpdf.Bytes(testpdf.Options{Text: "swept"})
	f3, err := s.StoreFile(ctx, bytes.NewReader(third), "c.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SweptBlobs().Delete(ctx, f3.Key); !errors.Is(err, blob.ErrRetained) {
		t.Fatalf("sweeper delete of a held blob: %v", err)
	}
	s.Discard(ctx, f3)
	if n := holds(); n != 0 {
		t.Fatalf("%d holds left", n)
	}
}
