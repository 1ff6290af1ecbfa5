package notify_test

import (
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
)

// TestQueueCommitsDoNotWaitForTheirFlush: on a service whose sessions
// commit synchronously (as a production server's do; the test cluster's
// default is off), the events are committed by their cause as durably as
// it commits, while the engine's own commits (the fan-out that tells
// them and queues their jobs, River fetching and completing those jobs)
// return without waiting for their WAL flush: each would otherwise wait
// for a disk sync of its own, and what commits behind it for it. A
// trigger records the synchronous_commit each write ran under.
func TestQueueCommitsDoNotWaitForTheirFlush(t *testing.T) {
	w := newWorld(t)
	url := w.db.Pool.Config().ConnString()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	durable, err := storage.Open(w.ctx, url+sep+"synchronous_commit=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(durable.Close)
	w.db = durable
	if _, err := w.db.Pool.Exec(w.ctx, `CREATE TABLE commit_modes (what text NOT NULL, mode text NOT NULL);
		CREATE FUNCTION record_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN
			INSERT INTO commit_modes VALUES (TG_TABLE_NAME || ' ' || lower(TG_OP), current_setting('synchronous_commit'));
			RETURN NULL;
		END$$;
		CREATE TRIGGER record_commit_mode AFTER INSERT OR UPDATE ON notify_events FOR EACH ROW EXECUTE FUNCTION record_commit_mode();
		CREATE TRIGGER record_commit_mode AFTER INSERT OR UPDATE ON notifications FOR EACH ROW EXECUTE FUNCTION record_commit_mode();
		CREATE TRIGGER record_commit_mode AFTER UPDATE ON river_job FOR EACH ROW WHEN (NEW.kind = 'notify-email') EXECUTE FUNCTION record_commit_mode();`); err != nil {
		t.Fatal(err)
	}
	smtpd := testharness.SMTP(t)
	w.setEmail("head", true)
	e := w.engine(notify.Config{Mail: notify.MailConfig{Addr: smtpd.Addr, From: "vanthu@xa.gov.vn"}}, true)
	w.queueEvents(e, 3)
	eventually(t, "three mails", func() bool { return len(smtpd.Mails()) >= 3 })
	w.settled()
	rows, err := w.db.Pool.Query(w.ctx, "SELECT what, mode, count(*) FROM commit_modes GROUP BY what, mode ORDER BY what, mode")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var what, mode string
		var n int
		if err := rows.Scan(&what, &mode, &n); err != nil {
			t.Fatal(err)
		}
		got[what+": "+mode] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// The job's updates: fetched (running) and completed, at least; a
	// retry would add some, never with a durable commit.
	jobs := got["river_job update: off"]
	delete(got, "river_job update: off")
	want := map[string]int{
		"notify_events insert: on":  3, // the cause's commit
		"notify_events update: off": 3, // the fan-out's
		"notifications insert: off": 6,
	}
	if len(got) != len(want) || jobs < 6 {
		t.Fatalf("writes by commit mode: %v and %d job updates not waiting; want %v and at least 6", got, jobs, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("writes by commit mode: %v; want %v", got, want)
			break
		}
	}
}
