package publicverify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// TestThrottlePrunes: every request removes up to prunePerRequest expired
// windows of other addresses, oldest first, so a table left with 100
// expired addresses is empty of them after four requests; live windows
// (another address's, the asker's own) are kept and still counted.
func TestThrottlePrunes(t *testing.T) {
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
	count := func(where string) int {
		t.Helper()
		var n int
		if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM public_verify_throttle WHERE "+where).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	l := Limit{Requests: 3, Window: time.Minute}
	for i := 0; i < 100; i++ {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO public_verify_throttle (subject, window_start, requests) VALUES ($1, now() - $2 * interval '1 second', 5)`,
			fmt.Sprintf("ip:10.0.0.%d", i), 120+i); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _, err := Allow(ctx, db.Pool, "192.0.2.7", l); err != nil || !ok {
		t.Fatalf("a live address: %v %v", ok, err)
	}
	// The oldest went first: the 32 aged 188 s and more.
	if got, older := count("window_start <= now() - interval '1 minute'"), count("window_start <= now() - interval '187.5 seconds'"); got != 100-prunePerRequest || older != 0 {
		t.Fatalf("after one request: %d expired windows (want %d), %d of the oldest", got, 100-prunePerRequest, older)
	}
	wantLeft := 100 - prunePerRequest
	for i := 1; i <= 4; i++ {
		ok, _, err := Allow(ctx, db.Pool, "192.0.2.1", l)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (i <= 3) {
			t.Fatalf("request %d of 3 allowed: %v", i, ok)
		}
		wantLeft = max(0, wantLeft-prunePerRequest)
		if got := count("window_start <= now() - interval '1 minute'"); got != wantLeft {
			t.Fatalf("after request %d: %d expired windows, want %d", i, got, wantLeft)
		}
	}
	if got := count("true"); got != 2 {
		t.Fatalf("%d windows kept, want the two live ones", got)
	}
	if count("subject = 'ip:192.0.2.1' AND requests = 4") != 1 || count("subject = 'ip:192.0.2.7' AND requests = 1") != 1 {
		t.Fatal("the live windows lost their counts")
	}
	// An expired window of the asker itself restarts (not pruned from
	// under it).
	if _, err := db.Pool.Exec(ctx, `UPDATE public_verify_throttle SET window_start = now() - interval '2 minutes' WHERE subject = 'ip:192.0.2.1'`); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := Allow(ctx, db.Pool, "192.0.2.1", l); err != nil || !ok || count("subject = 'ip:192.0.2.1' AND requests = 1") != 1 {
		t.Fatalf("a new window: %v %v", ok, err)
	}
}
