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
