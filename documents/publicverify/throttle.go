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

// Allow counts a request of address against the limit, before any of its
// body is read, in the database so every instance of the service shares
// the count; it returns how long to wait when the limit is reached.
func Allow(ctx context.Context, q storage.Querier, address string, l Limit) (ok bool, retryAfter time.Duration, err error) {
	if l.Requests <= 0 || l.Window <= 0 {
		return true, 0, nil
	}
	var n int
	var left float64
	err = q.QueryRow(ctx, `
		INSERT INTO public_verify_throttle AS t (subject, window_start, requests) VALUES ($1, now(), 1)
		ON CONFLICT (subject) DO UPDATE SET
			requests = CASE WHEN t.window_start <= now() - $2 * interval '1 microsecond' THEN 1 ELSE t.requests + 1 END,
			window_start = CASE WHEN t.window_start <= now() - $2 * interval '1 microsecond' THEN now() ELSE t.window_start END
		RETURNING requests, extract(epoch FROM t.window_start + $2 * interval '1 microsecond' - now())::float8`,
		"ip:"+address, l.Window.Microseconds()).Scan(&n, &left)
	if err != nil {
		return false, 0, fmt.Errorf("public verification limit: %w", err)
	}
	if n <= l.Requests {
		return true, 0, nil
	}
	return false, time.Duration(math.Ceil(max(left, 1))) * time.Second, nil
}
