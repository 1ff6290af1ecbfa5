package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
)

func TestMain(m *testing.M) { testharness.Main(m) }

func open(t *testing.T) *storage.DB {
	t.Helper()
	ctx := context.Background()
	url := testharness.Postgres(t)
	// Twice: a second run must find nothing to do.
	for i := 0; i < 2; i++ {
		if err := storage.Migrate(ctx, url); err != nil {
			t.Fatalf("migrate run %d: %v", i+1, err)
		}
	}
	db, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func TestReferenceDataSeeded(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	for _, tc := range []struct {
		table string
		count int
		has   map[string]string
	}{
		// 27 Decree 30 types with abbreviations, công văn, thư công, 3 kinds of copy.
		{"document_types", 32, map[string]string{"QĐ": "Quyết định", "QyĐ": "Quy định", "CTr": "Chương trình", "CV": "Công văn", "TrS": "Bản trích sao", "GNP": "Giấy nghỉ phép"}},
		{"urgency_levels", 4, map[string]string{"thuong": "Thường", "khan": "Khẩn", "thuong-khan": "Thượng khẩn", "hoa-toc": "Hỏa tốc"}},
		{"confidentiality_levels", 4, map[string]string{"thuong": "Thường", "mat": "Mật", "toi-mat": "Tối mật", "tuyet-mat": "Tuyệt mật"}},
	} {
		got, err := storage.ReferenceCodes(ctx, db.Pool, tc.table)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.count {
			t.Errorf("%s: %d rows, want %d", tc.table, len(got), tc.count)
		}
		for code, name := range tc.has {
			if got[code] != name {
				t.Errorf("%s[%s] = %q, want %q", tc.table, code, got[code], name)
			}
		}
	}
	var inSymbol bool
	if err := db.Pool.QueryRow(ctx, "SELECT in_symbol FROM document_types WHERE code = 'CV'").Scan(&inSymbol); err != nil || inSymbol {
		t.Errorf("công văn must carry no abbreviation in its symbol: in_symbol=%v %v", inSymbol, err)
	}
	if _, err := storage.ReferenceCodes(ctx, db.Pool, "users; DROP TABLE users"); err == nil {
		t.Error("ReferenceCodes accepted a table outside the reference tables")
	}
}

func TestTokens(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	org, err := storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := storage.CreateUser(ctx, db.Pool, storage.User{Username: "vanthu1", FullName: "Nguyễn Văn Thư", OrganizationID: org.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	live, _ := storage.CreateToken(ctx, db.Pool, u.ID, "live", "tok-live", nil, nil)
	if _, err := storage.CreateToken(ctx, db.Pool, u.ID, "expiring", "tok-future", nil, &future); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.CreateToken(ctx, db.Pool, u.ID, "expired", "tok-past", nil, &past); err != nil {
		t.Fatal(err)
	}
	if err := storage.RevokeToken(ctx, db.Pool, live.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		token string
		ok    bool
	}{{"tok-future", true}, {"tok-live", false}, {"tok-past", false}, {"unknown", false}, {"", false}} {
		// Every API request asks this first: one round trip.
		traced, c := testharness.TracedPool(t, db.Pool)
		got, err := storage.UserByToken(ctx, traced, tc.token)
		if trips, _ := c.Counts(); trips != 1 {
			t.Errorf("%s: %d round trips, want 1:\n%s", tc.token, trips, c)
		}
		switch {
		case tc.ok && (err != nil || got.User.ID != u.ID || got.User.FullName != "Nguyễn Văn Thư" || got.Token.Scopes[0] != "*"):
			t.Errorf("%s: %+v %v", tc.token, got, err)
		case !tc.ok && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("%s: accepted (%+v, %v)", tc.token, got, err)
		}
	}
	// Only the hash is kept: the token text appears nowhere in the table.
	var n int
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM api_tokens WHERE position('tok-' in encode(token_hash, 'escape')) > 0").Scan(&n); err != nil || n != 0 {
		t.Errorf("token text stored: %d rows %v", n, err)
	}
	if err := storage.RevokeToken(ctx, db.Pool, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("revoke of an unknown token: %v", err)
	}
	if _, err := storage.CreateUser(ctx, db.Pool, storage.User{Username: "vanthu1", FullName: "x", OrganizationID: org.ID}, ""); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("duplicate username: %v", err)
	}
	if _, err := storage.CreateUser(ctx, db.Pool, storage.User{Username: "loner", FullName: "x"}, ""); err == nil {
		t.Error("a user outside any organisation accepted")
	}
}
