package publicverify

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/vanthu/vanthu/storage"
)

// Limit is how many public verifications one client address may ask for
// in a window.
type Limit struct {
	Requests int
	Window   time.Duration
}

// DefaultLimit: a person checking papers at a desk, not a crawler.
var DefaultLimit = Limit{Requests: 30, Window: time.Minute}

// prunePerRequest bounds the expired windows each request removes: more
// than the one row a request can add, so the table shrinks back to the
// addresses asking within a window, at a bounded cost per request.
const prunePerRequest = 32

// Allow counts a request of address against the limit, before any of its
// body is read, in the database so every instance of the service shares
// the count; it returns how long to wait when the limit is reached. In the
// same statement it removes up to prunePerRequest windows of other
// addresses that have expired (oldest first, skipping rows another request
// holds), so the table never grows with every address that ever asked.
func Allow(ctx context.Context, q storage.Querier, address string, l Limit) (ok bool, retryAfter time.Duration, err error) {
	if l.Requests <= 0 || l.Window <= 0 {
		return true, 0, nil
	}
	var n int
	var left float64
	err = q.QueryRow(ctx, `
		WITH expired AS (
			DELETE FROM public_verify_throttle WHERE subject IN (
				SELECT subject FROM public_verify_throttle
				WHERE window_start <= now() - $2 * interval '1 microsecond' AND subject <> $1
				ORDER BY window_start LIMIT $3 FOR UPDATE SKIP LOCKED))
		INSERT INTO public_verify_throttle AS t (subject, window_start, requests) VALUES ($1, now(), 1)
		ON CONFLICT (subject) DO UPDATE SET
			requests = CASE WHEN t.window_start <= now() - $2 * interval '1 microsecond' THEN 1 ELSE t.requests + 1 END,
			window_start = CASE WHEN t.window_start <= now() - $2 * interval '1 microsecond' THEN now() ELSE t.window_start END
		RETURNING requests, extract(epoch FROM t.window_start + $2 * interval '1 microsecond' - now())::float8`,
		"ip:"+address, l.Window.Microseconds(), prunePerRequest).Scan(&n, &left)
	if err != nil {
		return false, 0, fmt.Errorf("public verification limit: %w", err)
	}
	if n <= l.Requests {
		return true, 0, nil
	}
	return false, time.Duration(math.Ceil(max(left, 1))) * time.Second, nil
}
