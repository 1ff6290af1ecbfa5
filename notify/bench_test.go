package notify_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/notify"
)

// BenchmarkRemindersDueAtOnce: items overdue all at once, one scan and
// every reminder-batch job worked, per op (one working day). It reports
// reminders per second and checks that each item was reminded once.
// VANTHU_BENCH_REMINDERS sets how many items (default 5,000; the issue's
// target is 100,000 within 60 s).
//
//	VANTHU_BENCH_REMINDERS=100000 go run ./internal/testharness/cmd/testenv -- go test -run XXX -bench RemindersDueAtOnce -benchtime 1x ./notify/
func BenchmarkRemindersDueAtOnce(b *testing.B) {
	items := 5000
	if v := os.Getenv("VANTHU_BENCH_REMINDERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("VANTHU_BENCH_REMINDERS=%q is not a positive number", v)
		}
		items = n
	}
	w := newWorld(b)
	doc := w.document("Văn bản quá hạn")
	if _, err := w.db.Pool.Exec(w.ctx, `INSERT INTO inbox_items (organization_id, user_id, document_id, source, label, task, due_at)
		SELECT $1, $2, $3, 'chain', 'Việc ' || g, 'check', $4 FROM generate_series(1, $5) g`,
		w.org.ID, w.id("drafter"), doc, time.Date(2025, 3, 3, 17, 0, 0, 0, calendar.Vietnam), items); err != nil {
		b.Fatal(err)
	}
	// The engine's own scan on start runs on a Sunday (nobody is reminded)
	// and ends before the measured scan, which would otherwise race it.
	w.setClock(time.Date(2025, 3, 2, 9, 0, 0, 0, calendar.Vietnam))
	e := w.engine(notify.Config{Deadlines: []notify.Deadlines{notify.ChainDeadlines{}}, ReminderEvery: time.Hour}, true)
	eventually(b, "the scan on start", func() bool {
		return w.count("SELECT count(*) FROM river_job WHERE kind = 'reminder-scan' AND state = 'completed'") > 0
	})
	day := time.Date(2025, 3, 4, 9, 0, 0, 0, calendar.Vietnam)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for !calendarWorking(day) {
			day = day.AddDate(0, 0, 1)
		}
		w.setClock(day)
		scanStart := time.Now()
		n, err := e.ScanReminders(w.ctx)
		if err != nil || n != items {
			b.Fatalf("queued %d, %v", n, err)
		}
		scanned := time.Since(scanStart)
		w.settled()
		fmt.Printf("scan %v, batches worked %v\n", scanned.Round(time.Millisecond), (time.Since(scanStart) - scanned).Round(time.Millisecond))
		day = day.AddDate(0, 0, 1)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if got := w.count("SELECT count(*) FROM notifications"); got != items*b.N {
		b.Fatalf("%d notifications, want %d: some item reminded twice or not at all", got, items*b.N)
	}
	if got := w.count("SELECT count(DISTINCT (n.user_id, e.data->>'item', e.data->>'day')) FROM notifications n JOIN notify_events e ON e.id = n.event_id"); got != items*b.N {
		b.Fatalf("%d distinct reminders among %d notifications: one was told twice", got, items*b.N)
	}
	b.ReportMetric(float64(items*b.N)/elapsed.Seconds(), "reminders/s")
	fmt.Printf("%d reminders in %v\n", items*b.N, elapsed.Round(time.Millisecond))
}

func calendarWorking(t time.Time) bool {
	return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday
}
