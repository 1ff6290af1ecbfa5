package audit_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/pgembed"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// openDB returns a migrated database connected as its owner (the cluster's
// superuser), and its URL.
func openDB(t *testing.T) (*storage.DB, string) {
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
	return db, url
}

// serviceDB connects to the database at url as the service's role.
func serviceDB(t *testing.T, url string) *storage.DB {
	t.Helper()
	surl, err := storage.RoleURL(url, storage.ServiceRole)
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(context.Background(), surl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func record(t *testing.T, db *storage.DB, n int) {
	t.Helper()
	for range n {
		var i int
		if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log").Scan(&i); err != nil {
			t.Fatal(err)
		}
		e := audit.Event{ActorName: "vanthu1", Action: fmt.Sprintf("document.create.%d", i+1), Object: fmt.Sprintf("document:%d", i+1),
			Details: map[string]any{"subject": "Quyết định số " + fmt.Sprint(i+1), "size": i + 1}}
		if err := audit.Record(context.Background(), db, e); err != nil {
			t.Fatal(err)
		}
	}
}

func anchor(t *testing.T, db *storage.DB, tsaURL string) {
	t.Helper()
	ok, err := audit.Anchor(context.Background(), db, tsaURL, nil)
	if err != nil || !ok {
		t.Fatalf("anchor: %v %v", ok, err)
	}
}

// tamper runs SQL as the database owner with the append-only triggers off,
// as someone with direct access to PostgreSQL would.
func tamper(t *testing.T, db *storage.DB, fn func(ctx context.Context, tx pgx.Tx) error) {
	t.Helper()
	ctx := context.Background()
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		for _, s := range []string{"ALTER TABLE audit_log DISABLE TRIGGER USER", "ALTER TABLE audit_anchors DISABLE TRIGGER USER"} {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		if err := fn(ctx, tx); err != nil {
			return err
		}
		for _, s := range []string{"ALTER TABLE audit_log ENABLE TRIGGER USER", "ALTER TABLE audit_anchors ENABLE TRIGGER USER"} {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func execSQL(sqls ...string) func(context.Context, pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		for _, s := range sqls {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	}
}

// rewrite edits entry seq and recomputes every hash from there on, as a
// forger who knows the scheme would, so only the anchors can tell.
func rewrite(seq int64, edit func(*audit.Entry)) func(context.Context, pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		entries, err := audit.Entries(ctx, tx, "", 0, 1000)
		if err != nil {
			return err
		}
		var prev []byte
		for i := range entries {
			en := &entries[i]
			if en.Seq < seq {
				prev = en.Hash
				continue
			}
			if en.Seq == seq {
				edit(en)
			}
			en.PrevHash = prev
			en.Hash = en.ComputeHash()
			prev = en.Hash
			if _, err := tx.Exec(ctx, "UPDATE audit_log SET action = $2, details = $3, prev_hash = $4, hash = $5 WHERE seq = $1",
				en.Seq, en.Action, string(en.Details), en.PrevHash, en.Hash); err != nil {
				return err
			}
		}
		return nil
	}
}

// forgeInsert renumbers the entries after seq-1 and slips a forged entry,
// well formed and hashed, in at seq.
func forgeInsert(seq int64) func(context.Context, pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		var prev []byte
		if err := tx.QueryRow(ctx, "SELECT hash FROM audit_log WHERE seq = $1", seq-1).Scan(&prev); err != nil {
			return err
		}
		if err := execSQL(
			fmt.Sprintf("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= %d", seq),
			fmt.Sprintf("UPDATE audit_log SET seq = seq - 999 WHERE seq >= %d", seq+1000),
		)(ctx, tx); err != nil {
			return err
		}
		en := audit.Entry{Seq: seq, At: time.Now().UTC().Truncate(time.Microsecond), ActorName: "forger", Action: "document.create",
			Object: "document:forged", Details: json.RawMessage(`{}`), PrevHash: prev}
		en.Hash = en.ComputeHash()
		_, err := tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor_name, action, object, details, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, en.Seq, en.At, en.ActorName, en.Action, en.Object, string(en.Details), en.PrevHash, en.Hash)
		return err
	}
}

// TamperCase is one way of tampering with a log of six entries anchored at
// entries 3 and 6, and the break Verify must report.
type TamperCase struct {
	Name    string
	Tamper  func(context.Context, pgx.Tx) error
	Seq     int64
	Because string
	Anchor  bool
}

// TamperCases are shared by Verify's test and the CLI's.
var TamperCases = []TamperCase{
	{"details edited", execSQL(`UPDATE audit_log SET details = '{"size":4,"subject":"Quyết định số 9"}' WHERE seq = 4`), 4, "edited", false},
	{"action edited", execSQL(`UPDATE audit_log SET action = 'document.read' WHERE seq = 2`), 2, "edited", false},
	{"actor edited", execSQL(`UPDATE audit_log SET actor_name = 'someone' WHERE seq = 5`), 5, "edited", false},
	{"time edited", execSQL(`UPDATE audit_log SET at = at - interval '1 day' WHERE seq = 3`), 3, "edited", false},
	{"hash replaced", execSQL(`UPDATE audit_log SET hash = sha256(hash) WHERE seq = 4`), 4, "edited", false},
	{"middle deleted", execSQL(`DELETE FROM audit_log WHERE seq = 3`), 3, "missing", false},
	{"middle deleted and renumbered", execSQL(`DELETE FROM audit_log WHERE seq = 3`, `UPDATE audit_log SET seq = seq - 1 WHERE seq > 3`), 3, "does not follow", false},
	{"first deleted", execSQL(`DELETE FROM audit_log WHERE seq = 1`), 1, "missing", false},
	{"last deleted", execSQL(`DELETE FROM audit_log WHERE seq = 6`), 6, "deleted", false},
	{"last two deleted", execSQL(`DELETE FROM audit_log WHERE seq >= 5`), 5, "deleted", false},
	{"two swapped", execSQL(`UPDATE audit_log SET seq = -1 WHERE seq = 2`, `UPDATE audit_log SET seq = 2 WHERE seq = 3`, `UPDATE audit_log SET seq = 3 WHERE seq = -1`), 2, "does not follow", false},
	{"forged entry appended", execSQL(`INSERT INTO audit_log (seq, at, action, prev_hash, hash)
		SELECT 7, now(), 'user.create', hash, sha256(hash) FROM audit_log WHERE seq = 6`), 7, "edited", false},
	{"forged entry inserted with a good hash", forgeInsert(4), 5, "does not follow", false},
	{"rewritten and rehashed from entry 2", rewrite(2, func(en *audit.Entry) { en.Action = "document.read" }), 3, "rewritten", false},
	{"rewritten and rehashed from entry 5", rewrite(5, func(en *audit.Entry) { en.Details = json.RawMessage(`{"size":0}`) }), 6, "rewritten after entry 3", false},
	{"anchor token altered", execSQL(`UPDATE audit_anchors SET token = set_byte(token, length(token) - 11, get_byte(token, length(token) - 11) # 255) WHERE seq = 6`), 6, "token does not verify", true},
	{"anchor head hash altered", execSQL(`UPDATE audit_anchors SET head_hash = sha256(head_hash) WHERE seq = 3`), 3, "does not cover", true},
	{"anchor time altered", execSQL(`UPDATE audit_anchors SET at = at - interval '1 hour' WHERE seq = 6`), 6, "stored time", true},
	{"anchor moved to another entry", execSQL(`UPDATE audit_anchors SET seq = 4 WHERE seq = 3`), 4, "timestamps entry 3 (moved)", true},
	{"anchor moved back", execSQL(`UPDATE audit_anchors SET seq = 5 WHERE seq = 6`), 5, "timestamps entry 6 (moved)", true},
	{"anchored tail deleted with its anchor's token forged", execSQL(`DELETE FROM audit_log WHERE seq = 6`, `UPDATE audit_anchors SET token = 'x' WHERE seq = 6`), 6, "token does not verify", true},
}

// TamperedLog builds the six-entry log anchored at 3 and 6 that the tamper
// cases work on.
func TamperedLog(t *testing.T, db *storage.DB, tsaURL string) {
	t.Helper()
	record(t, db, 3)
	anchor(t, db, tsaURL)
	record(t, db, 3)
	anchor(t, db, tsaURL)
}

func TestVerifyDetectsTampering(t *testing.T) {
	pki := testharness.DevPKI(t)
	for _, tc := range TamperCases {
		t.Run(tc.Name, func(t *testing.T) {
			db, _ := openDB(t)
			TamperedLog(t, db, pki.TSAURL())
			r, err := audit.Verify(context.Background(), db.Pool)
			if err != nil || r.Break != nil || r.Entries != 6 || r.Anchors != 2 || r.Anchored != 6 {
				t.Fatalf("before tampering: %+v %v", r, err)
			}
			tamper(t, db, tc.Tamper)
			r, err = audit.Verify(context.Background(), db.Pool)
			if err != nil {
				t.Fatal(err)
			}
			// One connection (a transaction) does as well as the pool.
			err = db.InTx(context.Background(), func(tx pgx.Tx) error {
				rtx, err := audit.Verify(context.Background(), tx)
				if err == nil && fmt.Sprint(rtx.Break) != fmt.Sprint(r.Break) {
					err = fmt.Errorf("in a transaction: %v, with the pool: %v", rtx.Break, r.Break)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if r.Break == nil || r.Break.Seq != tc.Seq || !strings.Contains(r.Break.Reason, tc.Because) || r.Break.Anchor != tc.Anchor {
				t.Fatalf("break %+v, want entry %d (%s, anchor %v)", r.Break, tc.Seq, tc.Because, tc.Anchor)
			}
			if r.Head != nil || r.Entries != tc.Seq-1 {
				t.Errorf("a broken log reports head %x and %d good entries, want none and %d", r.Head, r.Entries, tc.Seq-1)
			}
			t.Logf("%v", r.Break)
		})
	}
}

func TestAnchor(t *testing.T) {
	pki := testharness.DevPKI(t)
	db, _ := openDB(t)
	ctx := context.Background()
	if ok, err := audit.Anchor(ctx, db, pki.TSAURL(), nil); ok || err != nil {
		t.Fatalf("anchoring an empty log: %v %v", ok, err)
	}
	record(t, db, 2)
	anchor(t, db, pki.TSAURL())
	if ok, err := audit.Anchor(ctx, db, pki.TSAURL(), nil); ok || err != nil {
		t.Fatalf("anchoring a head that did not move: %v %v", ok, err)
	}
	record(t, db, 1)
	anchor(t, db, pki.TSAURL())
	record(t, db, 1)

	roots := x509.NewCertPool()
	roots.AddCert(pki.Root())
	for _, tc := range []struct {
		name  string
		opts  audit.VerifyOptions
		fault string
	}{
		{"carried certificate", audit.VerifyOptions{}, ""},
		{"trusted root", audit.VerifyOptions{TSARoots: roots}, ""},
		{"foreign root", audit.VerifyOptions{TSARoots: foreignRoot(t)}, "not trusted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := audit.VerifyWith(ctx, db.Pool, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.fault != "" {
				if r.Break == nil || !r.Break.Anchor || r.Break.Seq != 2 || !strings.Contains(r.Break.Reason, tc.fault) {
					t.Fatalf("break %+v, want the anchor of entry 2: %s", r.Break, tc.fault)
				}
				return
			}
			if r.Break != nil || r.Entries != 4 || r.Anchors != 2 || r.Anchored != 3 || len(r.TSAs) != 1 || r.AnchoredAt.IsZero() {
				t.Fatalf("%+v", r)
			}
			if time.Since(r.AnchoredAt) > time.Hour || !strings.Contains(r.TSAs[0], "CN=") {
				t.Errorf("anchor time %v, TSA %q", r.AnchoredAt, r.TSAs[0])
			}
		})
	}
	if _, err := audit.Anchor(ctx, db, "http://127.0.0.1:1/tsa", nil); err == nil {
		t.Error("anchoring through an unreachable TSA succeeded")
	}
}

func TestRunAnchorerAnchorsOnlyWhenTheHeadMoved(t *testing.T) {
	pki := testharness.DevPKI(t)
	db, _ := openDB(t)
	record(t, db, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { audit.RunAnchorer(ctx, db, pki.TSAURL(), 50*time.Millisecond); close(done) }()
	anchors := func() (n int) {
		db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_anchors").Scan(&n)
		return n
	}
	waitFor(t, func() bool { return anchors() == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := anchors(); n != 1 {
		t.Fatalf("%d anchors of an unchanged head", n)
	}
	record(t, db, 1)
	waitFor(t, func() bool { return anchors() == 2 })
	cancel()
	<-done
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) { // a hang, not a speed
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

func foreignRoot(t *testing.T) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Foreign root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return pool
}

// TestServiceRoleCannotRewrite connects as the role the service runs as:
// it appends and anchors, and works on the other tables, but may not
// change, delete or truncate audit rows, nor touch the schema version.
func TestServiceRoleCannotRewrite(t *testing.T) {
	pki := testharness.DevPKI(t)
	owner, url := openDB(t)
	svc := serviceDB(t, url)
	ctx := context.Background()
	record(t, svc, 2)
	anchor(t, svc, pki.TSAURL())
	if r, err := audit.Verify(ctx, svc.Pool); err != nil || r.Break != nil || r.Entries != 2 || r.Anchors != 1 {
		t.Fatalf("verify as the service: %+v %v", r, err)
	}
	for _, tc := range []struct {
		sql    string
		denied bool
	}{
		{"UPDATE audit_log SET action = 'x' WHERE seq = 1", true},
		{"DELETE FROM audit_log WHERE seq = 2", true},
		{"TRUNCATE audit_log", true},
		{"UPDATE audit_anchors SET at = now()", true},
		{"DELETE FROM audit_anchors", true},
		{"TRUNCATE audit_anchors", true},
		{"ALTER TABLE audit_log DISABLE TRIGGER USER", true},
		{"DROP TRIGGER audit_log_append_only ON audit_log", true},
		{"DELETE FROM goose_db_version", true},
		{"INSERT INTO users (username, full_name, is_superadmin) VALUES ('clerk1', 'Văn thư', true)", false},
		{"UPDATE users SET full_name = 'Văn thư 1' WHERE username = 'clerk1'", false},
		{"DELETE FROM users WHERE username = 'clerk1'", false},
	} {
		_, err := svc.Pool.Exec(ctx, tc.sql)
		var pgErr *pgconn.PgError
		switch {
		case tc.denied && !(errors.As(err, &pgErr) && (pgErr.Code == "42501" || strings.Contains(pgErr.Message, "must be owner"))):
			t.Errorf("%s as %s: %v, want permission denied", tc.sql, storage.ServiceRole, err)
		case !tc.denied && err != nil:
			t.Errorf("%s as %s: %v", tc.sql, storage.ServiceRole, err)
		}
	}
	if can, err := audit.CanRewrite(ctx, svc.Pool); err != nil || can {
		t.Errorf("CanRewrite as the service: %v %v", can, err)
	}
	if can, err := audit.CanRewrite(ctx, owner.Pool); err != nil || !can {
		t.Errorf("CanRewrite as the owner: %v %v", can, err)
	}
	if r, err := audit.Verify(ctx, owner.Pool); err != nil || r.Break != nil || r.Entries != 2 {
		t.Fatalf("after the refused changes: %+v %v", r, err)
	}
}

// TestTriggersRefuseEvenTheOwner: the owner's changes are refused too
// (the owner can drop the triggers, which is what the chain is for).
func TestTriggersRefuseEvenTheOwner(t *testing.T) {
	db, _ := openDB(t)
	record(t, db, 2)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, "INSERT INTO audit_anchors (seq, head_hash, token, at) SELECT seq, hash, 'x', now() FROM audit_log"); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
		"UPDATE audit_anchors SET seq = 1", "DELETE FROM audit_anchors", "TRUNCATE audit_anchors"} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", sql, err)
		}
	}
}

// TestConcurrentAppendsStayLinear appends from many goroutines, some in
// transactions that roll back, and checks the chain has exactly the
// committed entries, in seq order, linked.
func TestConcurrentAppendsStayLinear(t *testing.T) {
	db, url := openDB(t)
	svc := serviceDB(t, url)
	const workers, each = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := audit.Event{Action: "verify", Object: fmt.Sprintf("w%d-%d", w, i)}
				if i%5 == 4 {
					// Rolled back after appending: its seq is given to the next.
					err := svc.InTx(context.Background(), func(tx pgx.Tx) error {
						if err := audit.Append(context.Background(), tx, e); err != nil {
							return err
						}
						return errRollback
					})
					if !errors.Is(err, errRollback) {
						errs <- err
					}
					continue
				}
				errs <- audit.Record(context.Background(), svc, e)
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
	const committed = workers * each * 4 / 5
	r, err := audit.Verify(context.Background(), db.Pool)
	if err != nil || r.Break != nil || r.Entries != committed {
		t.Fatalf("%+v %v, want %d entries", r, err, committed)
	}
}

var errRollback = errors.New("roll back")

func TestAppendNeedsReadCommitted(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		return audit.Append(ctx, tx, audit.Event{Action: "verify"})
	})
	if err == nil || !strings.Contains(err.Error(), "READ COMMITTED") {
		t.Fatalf("append in a REPEATABLE READ transaction: %v", err)
	}
	if err := audit.Append(ctx, nil, audit.Event{}); err == nil {
		t.Error("an event without action was accepted")
	}
}

func TestNoSecretsInDetails(t *testing.T) {
	db, _ := openDB(t)
	type withSecret struct {
		Name string `json:"name"`
		PIN  string `json:"user_pin"`
	}
	for _, tc := range []struct {
		name    string
		details map[string]any
		refused bool
	}{
		{"password", map[string]any{"password": "x"}, true},
		{"new password nested", map[string]any{"user": map[string]any{"new_password": "x"}}, true},
		{"token", map[string]any{"token": "x"}, true},
		{"api token", map[string]any{"api_token": "x"}, true},
		{"PIN", map[string]any{"PIN": "1234"}, true},
		{"so pin", map[string]any{"so-pin": "1234"}, true},
		{"client secret", map[string]any{"client_secret": "x"}, true},
		{"private key", map[string]any{"private_key": "x"}, true},
		{"key", map[string]any{"key": "x"}, true},
		{"keystore key", map[string]any{"keystore_key": "x"}, true},
		{"pkcs12", map[string]any{"pkcs12": "x"}, true},
		{"passphrase", map[string]any{"passphrase": "x"}, true},
		{"cookie", map[string]any{"session_cookie": "x"}, true},
		{"in a list", map[string]any{"keys": []any{map[string]any{"pin": "1"}}}, true},
		{"in a struct", map[string]any{"binding": withSecret{Name: "a", PIN: "1"}}, true},
		{"harmless", map[string]any{"scopes": []string{"*"}, "pinned": true, "fingerprint": "ab", "public_key": "x", "tokens": 3, "kind": "pkcs11"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := audit.Record(context.Background(), db, audit.Event{Action: "user.create", Details: tc.details})
			if tc.refused != errors.Is(err, audit.ErrSecretInDetails) || (!tc.refused && err != nil) {
				t.Fatalf("refused %v: %v", tc.refused, err)
			}
			if tc.refused && strings.Contains(err.Error(), `"x"`) {
				t.Errorf("the error shows the value: %v", err)
			}
		})
	}
	var n int
	db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log").Scan(&n)
	if n != 1 {
		t.Errorf("%d entries, want only the harmless one", n)
	}
}

func TestExportRoundTrip(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	record(t, db, 3)
	mid := time.Now()
	time.Sleep(10 * time.Millisecond)
	record(t, db, 2)
	want, err := audit.Entries(ctx, db.Pool, "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		f     audit.ExportFilter
		first int64
	}{
		{"all", audit.ExportFilter{}, 1},
		{"after entry 2", audit.ExportFilter{AfterSeq: 2}, 3},
		{"since a time", audit.ExportFilter{Since: mid}, 4},
		{"after the head", audit.ExportFilter{AfterSeq: 5}, 6},
		{"since the future", audit.ExportFilter{Since: time.Now().Add(time.Hour)}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			n, err := audit.Export(ctx, db.Pool, &b, tc.f)
			if err != nil || n != 6-tc.first {
				t.Fatalf("%d entries, %v; want %d", n, err, 6-tc.first)
			}
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			var got []audit.Entry
			for _, l := range lines {
				if l == "" {
					continue
				}
				var en audit.Entry
				if err := json.Unmarshal([]byte(l), &en); err != nil {
					t.Fatal(err)
				}
				got = append(got, en)
			}
			for i, en := range got {
				w := want[int(tc.first)-1+i]
				if en.Seq != w.Seq || !en.At.Equal(w.At) || en.Action != w.Action || string(en.Details) != string(w.Details) ||
					!bytes.Equal(en.Hash, w.Hash) || !bytes.Equal(en.PrevHash, w.PrevHash) {
					t.Fatalf("line %d: %+v, want %+v", i+1, en, w)
				}
			}
			r, err := audit.VerifyExport(bytes.NewReader(b.Bytes()))
			if err != nil || r.Break != nil || r.Entries != n {
				t.Fatalf("the export does not verify: %+v %v", r, err)
			}
			if n > 1 {
				forged := strings.Replace(b.String(), `"subject":"Quyết định số 5"`, `"subject":"Quyết định số 6"`, 1)
				if forged == b.String() {
					t.Fatal("nothing to forge")
				}
				if r, err := audit.VerifyExport(strings.NewReader(forged)); err != nil || r.Break == nil || r.Break.Seq != 5 {
					t.Fatalf("an edited export verifies: %+v %v", r, err)
				}
			}
		})
	}
	if !strings.Contains(want[0].At.Location().String(), "UTC") {
		t.Errorf("entries come back in %v, want UTC", want[0].At.Location())
	}
}

// TestServiceRoleCreatedOnceInAFreshCluster migrates several databases of
// a new cluster at once: they race to create the cluster-wide service role,
// and every migration must succeed and grant it.
func TestServiceRoleCreatedOnceInAFreshCluster(t *testing.T) {
	ctx := context.Background()
	srv, err := pgembed.Start(ctx, t.TempDir(), "postgres", pgembed.Setting("fsync", "off"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	conn, err := pgx.Connect(ctx, srv.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const n = 6
	urls := make([]string, n)
	for i := range urls {
		name := fmt.Sprintf("office%d", i)
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(srv.AdminURL())
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		urls[i] = u.String()
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, u := range urls {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = storage.Migrate(ctx, u) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrating database %d: %v", i, err)
		}
	}
	for _, u := range urls {
		svc := serviceDB(t, u)
		if err := audit.Record(ctx, svc, audit.Event{Action: "verify"}); err != nil {
			t.Fatal(err)
		}
		if can, err := audit.CanRewrite(ctx, svc.Pool); err != nil || can {
			t.Fatalf("CanRewrite as the service: %v %v", can, err)
		}
	}
}

// TestAppendLocksOnlyAtCommit: an entry recorded in a transaction still
// open holds nothing, so another transaction appends and commits past it;
// the open one is chained after it when it commits, and the chain the
// database wrote (in SQL, at commit) is the one Go verifies, whatever the
// fields hold.
func TestAppendLocksOnlyAtCommit(t *testing.T) {
	db, url := openDB(t)
	svc := serviceDB(t, url)
	ctx := context.Background()
	open, err := svc.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Rollback(ctx)
	if err := audit.Append(ctx, open, audit.Event{Action: "first.recorded", Object: "document:1"}); err != nil {
		t.Fatal(err)
	}
	tricky := []audit.Event{
		{Action: "second.recorded", ActorName: "Nguyễn Văn Ä", Object: "document:\"2\"\n\t\\",
			Details: map[string]any{"subject": "Quyết định số 1/QĐ-UBND 😀 e\u0301", "nul": "a\u0000b", "n": 1.5, "nested": []any{map[string]any{"x": nil}}}},
		{Action: "third.recorded", Actor: "0B5E3C55-3A2B-4A0C-9B8E-6F7D1E2C3B4A", MintedByName: "quản trị"},
		{Action: "fourth.recorded", Credential: "session:x"},
	}
	for _, e := range tricky {
		// Each commits while the first transaction is open: nothing waits for it.
		if err := audit.Record(ctx, svc, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := open.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := audit.Verify(ctx, db.Pool)
	if err != nil || r.Break != nil || r.Entries != 4 {
		t.Fatalf("verify: %+v %v", r, err)
	}
	var order string
	var pending int
	if err := db.Pool.QueryRow(ctx, "SELECT string_agg(action, ',' ORDER BY seq), (SELECT count(*) FROM audit_pending) FROM audit_log").Scan(&order, &pending); err != nil {
		t.Fatal(err)
	}
	if order != "second.recorded,third.recorded,fourth.recorded,first.recorded" || pending != 0 {
		t.Fatalf("chain order %s, %d left pending", order, pending)
	}
	// A rolled-back transaction's entry leaves nothing behind.
	_ = svc.InTx(ctx, func(tx pgx.Tx) error {
		if err := audit.Append(ctx, tx, audit.Event{Action: "rolled.back"}); err != nil {
			t.Fatal(err)
		}
		return errRollback
	})
	if err := db.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM audit_pending)").Scan(new(int), &pending); err != nil || pending != 0 {
		t.Fatalf("after a rollback: %d pending, %v", pending, err)
	}
}
