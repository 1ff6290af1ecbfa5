package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
)

func TestMain(m *testing.M) { testharness.Main(m) }

func openDB(t *testing.T) *storage.DB {
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
	return db
}

func record(t *testing.T, db *storage.DB, n int) {
	t.Helper()
	for i := range n {
		e := audit.Event{ActorName: "vanthu1", Action: "document.create", Object: fmt.Sprintf("document:%d", i),
			Details: map[string]any{"subject": "Quyết định số " + fmt.Sprint(i), "size": i}}
		if err := audit.Record(context.Background(), db, e); err != nil {
			t.Fatal(err)
		}
	}
}

// tamper runs SQL as the database owner with the append-only triggers off,
// as someone with direct access to PostgreSQL would.
func tamper(t *testing.T, db *storage.DB, sqls ...string) {
	t.Helper()
	err := db.InTx(context.Background(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), "ALTER TABLE audit_log DISABLE TRIGGER USER"); err != nil {
			return err
		}
		for _, s := range sqls {
			if _, err := tx.Exec(context.Background(), s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		_, err := tx.Exec(context.Background(), "ALTER TABLE audit_log ENABLE TRIGGER USER")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestChainDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sql     []string
		seq     int64
		because string
	}{
		{"details edited", []string{`UPDATE audit_log SET details = '{"size":3,"subject":"Quyết định số 9"}' WHERE seq = 4`}, 4, "edited"},
		{"action edited", []string{`UPDATE audit_log SET action = 'document.read' WHERE seq = 2`}, 2, "edited"},
		{"actor edited", []string{`UPDATE audit_log SET actor_name = 'someone' WHERE seq = 5`}, 5, "edited"},
		{"time edited", []string{`UPDATE audit_log SET at = at - interval '1 day' WHERE seq = 3`}, 3, "edited"},
		{"middle deleted", []string{`DELETE FROM audit_log WHERE seq = 3`}, 3, "missing"},
		{"middle deleted and renumbered", []string{`DELETE FROM audit_log WHERE seq = 3`, `UPDATE audit_log SET seq = seq - 1 WHERE seq > 3`}, 3, "does not follow"},
		{"two swapped", []string{`UPDATE audit_log SET seq = -1 WHERE seq = 2`, `UPDATE audit_log SET seq = 2 WHERE seq = 3`, `UPDATE audit_log SET seq = 3 WHERE seq = -1`}, 2, "does not follow"},
		{"forged entry with a recomputed-looking hash", []string{`UPDATE audit_log SET hash = sha256(hash) WHERE seq = 4`}, 4, "edited"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			record(t, db, 6)
			if r, err := audit.Verify(context.Background(), db.Pool); err != nil || r.Break != nil || r.Entries != 6 {
				t.Fatalf("before tampering: %+v %v", r, err)
			}
			tamper(t, db, tc.sql...)
			r, err := audit.Verify(context.Background(), db.Pool)
			if err != nil {
				t.Fatal(err)
			}
			if r.Break == nil || r.Break.Seq != tc.seq || !strings.Contains(r.Break.Reason, tc.because) {
				t.Fatalf("break %+v, want entry %d (%s)", r.Break, tc.seq, tc.because)
			}
		})
	}
}

func TestAppendOnly(t *testing.T) {
	db := openDB(t)
	record(t, db, 2)
	ctx := context.Background()
	for _, sql := range []string{"UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", sql, err)
		}
	}
}

func TestConcurrentAppendsStayLinear(t *testing.T) {
	db := openDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				errs <- audit.Record(context.Background(), db, audit.Event{Action: "verify", Object: fmt.Sprintf("w%d-%d", w, i)})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r, err := audit.Verify(context.Background(), db.Pool)
	if err != nil || r.Break != nil || r.Entries != 200 {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestNoSecretsInDetails(t *testing.T) {
	db := openDB(t)
	for _, key := range []string{"password", "new_password", "token", "api_token", "pin", "user_pin", "client_secret", "private_key", "pkcs12"} {
		err := audit.Record(context.Background(), db, audit.Event{Action: "user.create", Details: map[string]any{"user": map[string]any{key: "x"}}})
		if !errors.Is(err, audit.ErrSecretInDetails) {
			t.Errorf("%s: %v", key, err)
		}
	}
	if err := audit.Record(context.Background(), db, audit.Event{Action: "token.create", Details: map[string]any{"scopes": []string{"*"}, "pinned": true}}); err != nil {
		t.Errorf("harmless details refused: %v", err)
	}
}

func TestExportRoundTrip(t *testing.T) {
	db := openDB(t)
	record(t, db, 3)
	var b strings.Builder
	n, err := audit.Export(context.Background(), db.Pool, 1, &b)
	if err != nil || n != 2 {
		t.Fatalf("%d %v", n, err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"seq":2`) || !strings.Contains(lines[0], `"subject":"Quyết định số 1"`) {
		t.Fatalf("export:\n%s", b.String())
	}
}
