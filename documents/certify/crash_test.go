package certify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob/s3"
)

// crashChildEnv carries the child's configuration (crashConfig as JSON).
const crashChildEnv = "VANTHU_TEST_CERTIFY_CRASH_CHILD"

type crashConfig struct {
	DatabaseURL, Keystore, TSA, TempDir string
	S3                                  s3.Config
	Certification, Certifier            string
}

// TestCertifyCrashChild is the process TestCertifySurvivesKill kills: run
// by it (and only then), it certifies through a TSA that never answers, so
// it is killed with the certifying transaction open and a number taken.
func TestCertifyCrashChild(t *testing.T) {
	raw := os.Getenv(crashChildEnv)
	if raw == "" {
		return // only a child of TestCertifySurvivesKill does anything here
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
	u, err := storage.GetUser(ctx, db.Pool, c.Certifier)
	if err != nil {
		t.Fatal(err)
	}
	docs := &documents.Service{DB: db, Blobs: blobs}
	acc := &accounts.Service{DB: db, Keystore: ks}
	svc := &certify.Service{DB: db, Docs: docs, Accounts: acc, TempDir: c.TempDir,
		Registers: &register.Service{DB: db, Docs: docs, Accounts: acc, TSAURL: c.TSA, TempDir: c.TempDir}}
	out, err := svc.Certify(ctx, accounts.Principal{User: u}, c.Certification, "")
	t.Fatalf("the child was not killed mid-certifying: %+v %v", out, err)
}

// TestCertifySurvivesKill kills (SIGKILL) a process in the middle of
// certifying — the number taken, the statement drawn, the certifier's
// timestamp awaited — and finds the number given back, no copy, the
// request still waiting; certifying it again takes number 1.
func TestCertifySurvivesKill(t *testing.T) {
	w := newWorld(t)
	c := w.scanned(1, 1)
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
	cfg, _ := json.Marshal(crashConfig{DatabaseURL: w.dbURL, Keystore: w.keystore, TSA: hang.URL, TempDir: t.TempDir(), S3: w.s3,
		Certification: c.ID, Certifier: w.certifier.ID})
	child := exec.Command(os.Args[0], "-test.run=^TestCertifyCrashChild$", "-test.count=1")
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
	// Mid-certifying: the child's transaction holds the request's row.
	ctx := context.Background()
	tx, err := w.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "SELECT 1 FROM certifications WHERE id = $1 FOR UPDATE NOWAIT", c.ID)
	tx.Rollback(ctx)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
		t.Fatalf("the request is not locked by the certifying child: %v", err)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited

	if n := w.count("SELECT coalesce(sum(last_number), 0) FROM register_counters"); n != 0 {
		t.Fatalf("the killed certification kept %d numbers", n)
	}
	if n := w.count("SELECT count(*) FROM certified_copies"); n != 0 {
		t.Fatalf("the killed certification left %d copies", n)
	}
	var out2 certify.Certified
	for i := 0; i < 50; i++ { // until the dead session's locks are gone
		if out2, err = w.svc.Certify(ctx, w.certifier, c.ID, ""); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || out2.Number != 1 {
		t.Fatalf("certifying after the kill: number %d, %v", out2.Number, err)
	}
}
