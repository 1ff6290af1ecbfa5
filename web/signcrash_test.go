package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob/s3"
)

// crashChildEnv carries the child's configuration (crashConfig as JSON).
const crashChildEnv = "VANTHU_TEST_SIGN_CRASH_CHILD"

type crashConfig struct {
	DatabaseURL string
	S3          s3.Config
	Keystore    string
	TSA         string
	TempDir     string
	Document    string
	Signer      string
	TurnOf      string
}

// TestSignCrashChild is the process TestSignSurvivesKill kills: run by it
// (and only then: otherwise it has nothing to do), it signs a document
// through docsign with a TSA that never answers, so it is killed with the
// signing transaction open.
func TestSignCrashChild(t *testing.T) {
	raw := os.Getenv(crashChildEnv)
	if raw == "" {
		return // only a child of TestSignSurvivesKill does anything here
	}
	var c crashConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, c.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := s3.New(ctx, c.S3)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := accounts.OpenKeystore(c.Keystore)
	if err != nil {
		t.Fatal(err)
	}
	u, err := storage.GetUser(ctx, db.Pool, c.Signer)
	if err != nil {
		t.Fatal(err)
	}
	turns := newTestTurns()
	turns.give(c.Document, c.TurnOf)
	svc := &docsign.Service{DB: db, Docs: &documents.Service{DB: db, Blobs: blobs, Retention: time.Hour},
		Accounts: &accounts.Service{DB: db, Keystore: ks}, Turns: turns, TSAURL: c.TSA, TempDir: c.TempDir}
	v, err := svc.Sign(ctx, accounts.Principal{User: u}, c.Document, docsign.Request{})
	t.Fatalf("the child was not killed mid-signing: %+v %v", v, err)
}

// TestSignSurvivesKill kills (SIGKILL) a process in the middle of signing —
// the chain's turn begun, the document locked, the version read and signed,
// the timestamp awaited — and finds no new version, no signature in the
// audit log, no FinishSign, and the turn free to be taken again: the signer
// then signs normally.
func TestSignSurvivesKill(t *testing.T) {
	w := newSignWorld(t)
	ksPath := filepath.Join(t.TempDir(), "keystore-key")
	ks, err := accounts.OpenKeystore(ksPath)
	if err != nil {
		t.Fatal(err)
	}
	w.e.accounts.Keystore = ks
	w.bindP12(w.an, devpki.Official)
	in := draft(t, "qd-chu-tich.pdf")
	doc := w.e.uploadPDF("Quyết định", in)
	w.turns.give(doc.ID, w.an.user.ID)

	asked, release := make(chan struct{}, 1), make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	cfg, _ := json.Marshal(crashConfig{
		DatabaseURL: w.e.db.Pool.Config().ConnString(),
		S3:          s3.Config{Endpoint: w.e.s3.Endpoint, AccessKey: w.e.s3.AccessKey, SecretKey: w.e.s3.SecretKey, Bucket: w.e.s3.Bucket, SpoolDir: t.TempDir()},
		Keystore:    ksPath, TSA: hang.URL, TempDir: t.TempDir(),
		Document: doc.ID, Signer: w.an.user.ID, TurnOf: w.an.user.ID,
	})
	child := exec.Command(os.Args[0], "-test.run=^TestSignCrashChild$", "-test.count=1")
	child.Env = append(os.Environ(), crashChildEnv+"="+string(cfg))
	out, err := os.CreateTemp(t.TempDir(), "child-*.log")
	if err != nil {
		t.Fatal(err)
	}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	select {
	case <-asked:
	case err := <-exited:
		log, _ := os.ReadFile(out.Name())
		t.Fatalf("the child ended before asking for a timestamp: %v\n%s", err, log)
	case <-time.After(3 * time.Minute):
		child.Process.Kill()
		t.Fatal("the child never asked for a timestamp")
	}
	// Mid-signing: the child's transaction holds the document's lock.
	ctx := context.Background()
	tx, err := w.e.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "SELECT 1 FROM documents WHERE id = $1 FOR UPDATE NOWAIT", doc.ID)
	tx.Rollback(ctx)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
		t.Fatalf("the document is not locked by the signing child: %v", err)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited

	if n := w.versions(doc.ID); n != 1 {
		t.Fatalf("%d versions after the kill", n)
	}
	var audited int
	w.e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE action = 'document.sign'").Scan(&audited)
	if audited != 0 || len(w.turns.done()) != 0 {
		t.Fatalf("after the kill: %d audit entries, FinishSign %+v", audited, w.turns.done())
	}
	// The turn is taken again, as soon as the dead session's lock is gone.
	var resp *http.Response
	var b []byte
	for i := 0; i < 50; i++ {
		resp, b = w.call(w.an.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", nil)
		if resp.StatusCode != http.StatusInternalServerError {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("signing after the kill: %d %s", resp.StatusCode, b)
	}
	w.assertSigned(in, w.file(doc.ID, 2), 1, "Nguyễn Văn An")
	if fin := w.turns.done(); len(fin) != 1 {
		t.Fatalf("FinishSign %+v", fin)
	}
}
