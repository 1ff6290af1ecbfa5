package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/pgembed"
)

// auditCLI runs `vanthu audit ARGS` in process and returns stdout and the
// error main would print before exiting with exitCode(err).
func auditCLI(args ...string) (string, error) {
	cmd := newAuditCmd()
	cmd.SetArgs(args)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// auditLog makes a migrated database holding five entries, anchored at
// entry 5 by the dev TSA, and returns its owner's URL.
func auditLog(t *testing.T, tsaURL string) string {
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
	defer db.Close()
	for i, action := range []string{"user.create", "token.create", "document.create", "document.version", "login.failure"} {
		e := audit.Event{ActorName: "chuyenvien1", Action: action, Object: fmt.Sprintf("document:%d", i+1),
			Details: map[string]any{"subject": "Kế hoạch số " + fmt.Sprint(i+1)}}
		if err := audit.Record(ctx, db, e); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := audit.Anchor(ctx, db, tsaURL, nil); err != nil || !ok {
		t.Fatalf("anchor: %v %v", ok, err)
	}
	return url
}

// tamperSQL changes the audit tables as their owner, with the append-only
// triggers off, as someone with direct access to PostgreSQL would.
func tamperSQL(t *testing.T, url string, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		all := append([]string{"ALTER TABLE audit_log DISABLE TRIGGER USER", "ALTER TABLE audit_anchors DISABLE TRIGGER USER"}, sqls...)
		all = append(all, "ALTER TABLE audit_log ENABLE TRIGGER USER", "ALTER TABLE audit_anchors ENABLE TRIGGER USER")
		for _, s := range all {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuditVerifyCLI(t *testing.T) {
	t.Setenv("VANTHU_DATABASE_URL", "")
	pki := testharness.DevPKI(t)
	roots := filepath.Join(pki.Dir(), "root-ca.pem")
	for _, tc := range []struct {
		name  string
		sql   []string
		args  []string
		code  int
		names string // what the failure must say
	}{
		{"intact", nil, nil, 0, ""},
		{"intact with the TSA root", nil, []string{"--tsa-roots", roots}, 0, ""},
		{"details edited", []string{`UPDATE audit_log SET details = '{"subject":"Kế hoạch số 9"}' WHERE seq = 3`}, nil, 1, "entry 3 (document.create): content does not match its hash (edited)"},
		{"action edited", []string{`UPDATE audit_log SET action = 'login.success' WHERE seq = 5`}, nil, 1, "entry 5 (login.success): content does not match its hash (edited)"},
		{"middle deleted", []string{`DELETE FROM audit_log WHERE seq = 2`}, nil, 1, "entry 2: missing"},
		{"last deleted", []string{`DELETE FROM audit_log WHERE seq = 5`}, nil, 1, "entry 5: missing: the TSA timestamped the log up to entry 5"},
		{"swapped", []string{`UPDATE audit_log SET seq = 0 WHERE seq = 3`, `UPDATE audit_log SET seq = 3 WHERE seq = 4`, `UPDATE audit_log SET seq = 4 WHERE seq = 0`}, nil, 1, "entry 3 (document.version): does not follow its predecessor"},
		{"forged row", []string{`INSERT INTO audit_log (seq, at, action, prev_hash, hash) SELECT 6, now(), 'key.bind', hash, sha256(hash) FROM audit_log WHERE seq = 5`}, nil, 1, "entry 6 (key.bind): content does not match its hash"},
		{"anchor tampered", []string{`UPDATE audit_anchors SET head_hash = sha256(head_hash)`}, nil, 1, "anchor of entry 5 (login.failure): the TSA token does not cover"},
		{"TSA not trusted", nil, []string{"--tsa-roots", writeCerts(t, "foreign.pem", foreignCA(t))}, 1, "anchor of entry 5 (login.failure): the TSA certificate is not trusted"},
		{"TSA roots missing", nil, []string{"--tsa-roots", filepath.Join(t.TempDir(), "none.pem")}, 2, "--tsa-roots"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := auditLog(t, pki.TSAURL())
			tamperSQL(t, url, tc.sql...)
			out, err := auditCLI(append([]string{"verify", "--database-url", url}, tc.args...)...)
			if code := exitCodeOf(err); code != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s", code, err, tc.code, out)
			}
			if tc.code == 0 {
				if !strings.Contains(out, "intact: 5 entries checked") || !strings.Contains(out, "1 anchors checked, the latest timestamps entry 5") {
					t.Fatalf("output:\n%s", out)
				}
				return
			}
			if !strings.Contains(err.Error(), tc.names) {
				t.Fatalf("error %q does not say %q", err, tc.names)
			}
			if tc.code == 1 && !strings.Contains(out, "BROKEN") {
				t.Fatalf("output:\n%s", out)
			}
		})
	}
}

func exitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	return exitCode(err)
}

func TestAuditExportCLI(t *testing.T) {
	t.Setenv("VANTHU_DATABASE_URL", "")
	pki := testharness.DevPKI(t)
	url := auditLog(t, pki.TSAURL())
	dir := t.TempDir()
	for _, tc := range []struct {
		since string
		lines int
		first string
		code  int
	}{
		{"", 5, `"seq":1,`, 0},
		{"3", 2, `"seq":4,`, 0},
		{"2000-01-01", 5, `"seq":1,`, 0},
		{time.Now().Add(time.Hour).Format(time.RFC3339), 0, "", 0},
		{"yesterday", 0, "", 2},
	} {
		t.Run("since "+tc.since, func(t *testing.T) {
			path := filepath.Join(dir, "audit-"+strings.NewReplacer(":", "", "+", "").Replace(tc.since)+".jsonl")
			out, err := auditCLI("export", "--database-url", url, "--since", tc.since, "--out", path)
			if code := exitCodeOf(err); code != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s", code, err, tc.code, out)
			}
			if tc.code != 0 {
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), "\n"); n != tc.lines || (n > 0 && !strings.HasPrefix(string(b), "{"+tc.first)) {
				t.Fatalf("%d lines, want %d starting %s:\n%s", n, tc.lines, tc.first, b)
			}
			if r, err := audit.VerifyExport(bytes.NewReader(b)); err != nil || r.Break != nil || r.Entries != int64(tc.lines) {
				t.Fatalf("export does not verify: %+v %v", r, err)
			}
			if !strings.Contains(out, fmt.Sprintf("exported %d audit entries", tc.lines)) {
				t.Errorf("output: %s", out)
			}
		})
	}
	// Without --out the lines go to standard output.
	out, err := auditCLI("export", "--database-url", url, "--since", "4")
	if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"action":"login.failure"`) {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestAuditWithServe runs the binary as an office would: serve on the
// embedded database runs as the service role (which cannot rewrite the
// log) and anchors the head with the TSA; `vanthu audit verify --data-dir`
// works beside the running serve and after it stopped, and names the entry
// deleted directly in PostgreSQL.
func TestAuditWithServe(t *testing.T) {
	pki := testharness.DevPKI(t)
	dataDir := filepath.Join(t.TempDir(), "var")
	s := startService(t, dataDir, "VANTHU_TSA_URL="+pki.TSAURL(), "VANTHU_AUDIT_ANCHOR_INTERVAL=100ms")
	if strings.Contains(s.logs.String(), "can change or delete audit entries") {
		t.Errorf("serve on the embedded database warns about its role:\n%s", s.logs)
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "database-url"))
	if err != nil {
		t.Fatal(err)
	}
	svcURL := strings.TrimSpace(string(b))
	if storage.URLUser(svcURL) != storage.ServiceRole {
		t.Fatalf("database-url connects as %q, want %s", storage.URLUser(svcURL), storage.ServiceRole)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, svcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{"UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"} {
		var pgErr *pgconn.PgError
		if _, err := conn.Exec(ctx, sql); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s as the service: %v, want permission denied", sql, err)
		}
	}
	// An office is set up and a drafter uploads a document and a second
	// version; a refused upload leaves no entry.
	adminToken := readToken(t, dataDir)
	drafter := newDrafter(t, s.url, adminToken)
	upload := func(url, token string, meta bool) int {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		if meta {
			mw.WriteField("type", "KH")
			mw.WriteField("subject", "Kế hoạch kiểm tra")
		}
		w, _ := mw.CreateFormFile("file", "kh.pdf")
		w.Write(testpdf.Bytes(testpdf.Options{}))
		mw.Close()
		req, _ := http.NewRequest("POST", url, &body)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := upload(s.url+"/api/v1/documents", adminToken, true); code != 403 {
		t.Fatalf("upload as the administrator: %d", code)
	}
	if code := upload(s.url+"/api/v1/documents", drafter, true); code != 201 {
		t.Fatalf("upload: %d", code)
	}
	var docID string
	if err := conn.QueryRow(ctx, "SELECT id::text FROM documents").Scan(&docID); err != nil {
		t.Fatal(err)
	}
	if code := upload(s.url+"/api/v1/documents/"+docID+"/versions", drafter, false); code != 201 {
		t.Fatalf("new version: %d", code)
	}
	var actions string
	var head int64
	conn.QueryRow(ctx, "SELECT string_agg(action, ',' ORDER BY seq), max(seq) FROM audit_log").Scan(&actions, &head)
	if !strings.HasPrefix(actions, "user.create,token.create,") || !strings.HasSuffix(actions, ",document.create,document.version") {
		t.Errorf("audit actions %q: want the bootstrap administrator and its token first, the upload and its version last", actions)
	}
	var object string
	conn.QueryRow(ctx, "SELECT object FROM audit_log WHERE seq = $1", head).Scan(&object)
	if object != "document:"+docID {
		t.Errorf("the version's entry names %q", object)
	}
	// The anchorer timestamps the head once it moved.
	waitFor(t, func() bool {
		var n int
		conn.QueryRow(ctx, "SELECT count(*) FROM audit_anchors WHERE seq = $1", head).Scan(&n)
		return n == 1
	})
	conn.Close(ctx)

	verify := func(wantCode int, want ...string) {
		t.Helper()
		out, err := exec.Command(binary(t), "audit", "verify", "--data-dir", dataDir).CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != wantCode {
			t.Fatalf("audit verify exit %d, want %d\n%s", code, wantCode, out)
		}
		for _, w := range want {
			if !strings.Contains(string(out), w) {
				t.Fatalf("audit verify output lacks %q:\n%s", w, out)
			}
		}
	}
	verify(0, fmt.Sprintf("intact: %d entries checked", head), fmt.Sprintf("the latest timestamps entry %d", head))
	s.stop(t)
	verify(0, fmt.Sprintf("intact: %d entries checked", head)) // starts the embedded database itself

	// Someone with the server's account deletes the new version's entry.
	srv, err := pgembed.Start(ctx, filepath.Join(dataDir, "pg"), "vanthu")
	if err != nil {
		t.Fatal(err)
	}
	tamperSQL(t, srv.URL(), fmt.Sprintf("DELETE FROM audit_log WHERE seq = %d", head))
	srv.Stop()
	verify(1, "BROKEN", fmt.Sprintf("audit entry %d: missing: the TSA timestamped the log up to entry %d", head, head),
		fmt.Sprintf("%d entries before it are intact", head-1))

	out, err := exec.Command(binary(t), "audit", "export", "--data-dir", dataDir, "--since", fmt.Sprint(head-2)).Output()
	if err != nil || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), `"action":"document.create"`) {
		t.Fatalf("audit export: %v\n%s", err, out)
	}
	// The drafter's token was minted by the administrator: the export
	// names the token used and its minter beside the drafter.
	if !strings.Contains(string(out), `"credential":"token:`) || !strings.Contains(string(out), `"minted_by_name":"admin"`) {
		t.Fatalf("audit export lacks the credential or its minter:\n%s", out)
	}
}

// TestServeExternalDatabaseRoles: with an external database, serve migrates
// through VANTHU_MIGRATE_DATABASE_URL and runs as the service role without
// warning; run as the owner, it warns that its role could rewrite the log.
func TestServeExternalDatabaseRoles(t *testing.T) {
	const warning = "can change or delete audit entries"
	owner := testharness.Postgres(t)
	svc, err := storage.RoleURL(owner, storage.ServiceRole)
	if err != nil {
		t.Fatal(err)
	}
	s := startService(t, t.TempDir(), "VANTHU_DATABASE_URL="+svc, "VANTHU_MIGRATE_DATABASE_URL="+owner)
	if strings.Contains(s.logs.String(), warning) {
		t.Errorf("serve as %s warns:\n%s", storage.ServiceRole, s.logs)
	}
	s.stop(t)
	s = startService(t, t.TempDir(), "VANTHU_DATABASE_URL="+owner)
	if !strings.Contains(s.logs.String(), warning) {
		t.Errorf("serve as the owner does not warn:\n%s", s.logs)
	}
	s.stop(t)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) { // a hang, not a speed
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
