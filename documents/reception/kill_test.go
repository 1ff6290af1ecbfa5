package reception_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
)

const killChildEnv = "VANTHU_TEST_RECEPTION_KILL_CHILD"

type killConfig struct {
	DatabaseURL string
	BlobDir     string
	Clerk       string
	Arrivals    []string
}

// TestRegisterKillChild is the process TestRegisterSurvivesKill kills:
// run by it (and only then), it registers the arrivals with 20 workers
// until it is killed.
func TestRegisterKillChild(t *testing.T) {
	raw := os.Getenv(killChildEnv)
	if raw == "" {
		return // only a child of TestRegisterSurvivesKill does anything here
	}
	var c killConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, c.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := localdisk.New(c.BlobDir)
	if err != nil {
		t.Fatal(err)
	}
	u, err := storage.GetUser(ctx, db.Pool, c.Clerk)
	if err != nil {
		t.Fatal(err)
	}
	svc := &reception.Service{DB: db, Docs: &documents.Service{DB: db, Blobs: blobs}}
	next := make(chan string)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				if _, err := svc.Register(ctx, accounts.Principal{User: u}, id, reception.RegisterRequest{}); err != nil {
					fmt.Fprintln(os.Stderr, "register:", err)
				}
			}
		}()
	}
	for _, id := range c.Arrivals {
		next <- id
	}
	close(next)
	wg.Wait()
	t.Fatal("the child registered everything before it was killed")
}

// TestRegisterSurvivesKill kills (SIGKILL) a process registering arrivals
// with 20 workers, while one of its transactions holds a số đến it has
// taken (held at the audit log's lock, which it awaits in its commit): the
// numbers taken are 1..k without
// a gap, each with its incoming document, version, register entry,
// registered arrival and audit entry; the counter stands at k, and the next
// registration takes k+1.
func TestRegisterSurvivesKill(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const n = 300
	key, size := w.put(testpdf.Bytes(testpdf.Options{Text: "scan"}))
	date := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	ids := make([]string, n)
	for i := range ids {
		a, err := storage.InsertArrival(ctx, w.db.Pool, storage.Arrival{OrganizationID: w.receiver.ID, Source: "upload", Medium: "paper",
			FromName: "Bộ Tài chính", CodeNumber: fmt.Sprint(i + 1), CodeNotation: "BTC", IssuedDate: &date, Type: "CV",
			Subject: fmt.Sprintf("Công văn %d", i+1), Urgency: "thuong", Confidentiality: "thuong", BlobKey: key, Size: size,
			FileName: "scan.pdf", Verdict: "UNSIGNED", Verification: []byte(`{"verdict":"UNSIGNED"}`), ReceivedBy: w.clerk.ID, ArrivedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	cfg, _ := json.Marshal(killConfig{DatabaseURL: w.db.Pool.Config().ConnString(), BlobDir: w.blobDir, Clerk: w.clerk.ID, Arrivals: ids})
	child := exec.Command(os.Args[0], "-test.run=^TestRegisterKillChild$", "-test.count=1")
	child.Env = append(os.Environ(), killChildEnv+"="+string(cfg))
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
	fail := func(format string, a ...any) {
		child.Process.Kill()
		log, _ := os.ReadFile(out.Name())
		t.Fatalf(format+"\nchild:\n%s", append(a, log)...)
	}
	// Let some registrations commit, then hold the audit log's lock: the
	// next transaction to reach it holds its number and waits there.
	for w.count("SELECT count(*) FROM incoming_entries") < 10 {
		select {
		case err := <-exited:
			fail("the child ended early: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	tx, err := w.db.Pool.Begin(ctx)
	if err != nil {
		fail("%v", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('vanthu.audit.append', 0))"); err != nil {
		fail("%v", err)
	}
	for waiting := 0; waiting == 0; {
		waiting = w.count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
			AND wait_event = 'advisory' AND pid <> $1`, tx.Conn().PgConn().PID())
		select {
		case err := <-exited:
			fail("the child ended early: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	tx.Rollback(ctx)

	// The killed sessions' transactions are rolled back once the server
	// sees their connections gone.
	var k int
	for i := 0; ; i++ {
		// The transaction that held its number waits for the audit lock
		// in its commit (the chain is appended at commit), so once the
		// lock is free it may still commit after its client is gone:
		// wait until no other session is working, then count (in this
		// order: a count taken before may miss that last commit).
		busy := w.count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'
			AND pid <> pg_backend_pid() AND (state = 'active' OR state LIKE 'idle in transaction%')`)
		var last int
		k = w.count("SELECT count(*) FROM incoming_entries")
		err := w.db.Pool.QueryRow(ctx, "SELECT coalesce(max(last_number), 0) FROM register_counters c JOIN registers r ON r.id = c.register_id WHERE r.organization_id = $1",
			w.receiver.ID).Scan(&last)
		if err != nil {
			t.Fatal(err)
		}
		if busy == 0 && last == k {
			break
		}
		if i == 200 {
			t.Fatalf("counter %d with %d entries after the kill", last, k)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("killed; %d registrations committed (the one holding its number at the kill commits or rolls back whole)", k)
	if k < 10 || k >= n {
		t.Fatalf("%d registrations before the kill", k)
	}
	if got := w.count("SELECT count(DISTINCT number) FROM incoming_entries WHERE number BETWEEN 1 AND $1", k); got != k {
		t.Fatalf("numbers 1..%d: only %d distinct", k, got)
	}
	complete := w.count(`SELECT count(*) FROM incoming_entries e
		JOIN arrivals a ON a.id = e.arrival_id AND a.status = 'registered' AND a.document_id = e.document_id
		JOIN documents d ON d.id = e.document_id AND d.status = 'received'
		JOIN document_versions v ON v.document_id = d.id AND v.number = 1
		WHERE EXISTS (SELECT 1 FROM audit_log l WHERE l.action = 'reception.register' AND l.object = 'document:' || d.id::text)`)
	if complete != k {
		t.Fatalf("%d of %d registrations complete", complete, k)
	}
	if got := w.count("SELECT count(*) FROM arrivals WHERE status = 'registered'"); got != k {
		t.Fatalf("%d arrivals registered, %d entries", got, k)
	}
	if got := w.count("SELECT count(*) FROM documents WHERE organization_id = $1", w.receiver.ID); got != k {
		t.Fatalf("%d incoming documents, %d entries", got, k)
	}
	var rest string
	if err := w.db.Pool.QueryRow(ctx, "SELECT id FROM arrivals WHERE status = 'arrived' LIMIT 1").Scan(&rest); err != nil {
		t.Fatal(err)
	}
	r, err := w.svc.Register(ctx, w.clerk, rest, reception.RegisterRequest{})
	if err != nil || r.ArrivalNumber != k+1 {
		t.Fatalf("after the kill: %+v %v, want số đến %d", r, err, k+1)
	}
}
