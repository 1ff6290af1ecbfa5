package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/storage"
)

// TestQueueInsertNumberedVersion: a version inserted with the number its
// caller knew goes in when it is the next, with the transaction's time;
// a number already taken or past the next fails the batch, its COMMIT
// with it, and leaves nothing. QueueCheckSignedVersion fails a batch
// whose signed version is not in it.
func TestQueueInsertNumberedVersion(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	org, err := storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := storage.CreateUser(ctx, db.Pool, storage.User{Username: "chutich", FullName: "Nguyễn Văn An", OrganizationID: org.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := storage.InsertDocument(ctx, db.Pool, storage.Document{Type: "QĐ", Subject: "Quyết định", Urgency: "thuong", Confidentiality: "thuong",
		CreatedBy: u.ID, OrganizationID: org.ID})
	if err != nil {
		t.Fatal(err)
	}
	key := func(c byte) string { return strings.Repeat(string(c), 64) }
	if _, err := storage.InsertVersion(ctx, db.Pool, storage.Version{DocumentID: doc.ID, SHA256: key('a'), Size: 1, FileName: "du-thao.pdf", CreatedBy: u.ID}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		number int
		check  int // the signed version checked after the insert (0: none)
		ok     bool
	}{
		{"taken", 1, 0, false},
		{"past the next", 3, 0, false},
		{"another version checked", 2, 1, false},
		{"the next", 2, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var at time.Time
			tx, err := storage.BeginBatch(ctx, db.Pool, func(b *pgx.Batch) { storage.QueueTransactionTime(b, &at) })
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			b := &pgx.Batch{}
			sha := key('b')
			storage.QueueInsertNumberedVersion(b, storage.Version{DocumentID: doc.ID, Number: tc.number, SHA256: sha, Size: 2, FileName: "du-thao.pdf", Signed: true, CreatedBy: u.ID})
			if tc.check != 0 {
				storage.QueueCheckSignedVersion(b, doc.ID, tc.check, sha)
			}
			err = storage.CommitBatch(ctx, tx, b)
			if (err == nil) != tc.ok {
				t.Fatalf("commit: %v, want ok %v", err, tc.ok)
			}
			var n int
			if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM document_versions WHERE document_id = $1", doc.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 1, true: 2}[tc.ok]; n != want {
				t.Errorf("%d versions, want %d", n, want)
			}
			if !tc.ok {
				return
			}
			v, err := storage.GetVersion(ctx, db.Pool, doc.ID, tc.number)
			if err != nil {
				t.Fatal(err)
			}
			if !v.CreatedAt.Equal(at) || !v.Signed || v.SHA256 != sha {
				t.Errorf("version %+v, want signed %s made at %v (the transaction's time)", v, sha, at)
			}
		})
	}
}
