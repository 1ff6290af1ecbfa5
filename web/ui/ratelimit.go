package ui

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// rateLimitKey marks a request the service refused for its address's
// limit before handing it to the pages.
type rateLimitKey struct{}

// RateLimited marks r's context as refused by the public verification
// limit, with the wait: the service counts GET /v/{code} itself, and hands
// a browser refused there to the pages, which answer in their layout
// (429, Retry-After) instead of problem+json.
func RateLimited(ctx context.Context, wait time.Duration) context.Context {
	return context.WithValue(ctx, rateLimitKey{}, wait)
}

// refusedForLimit answers a request marked RateLimited with the readable
// page, reporting whether it did.
func (u *UI) refusedForLimit(w http.ResponseWriter, r *http.Request) bool {
	wait, ok := r.Context().Value(rateLimitKey{}).(time.Duration)
	if !ok {
		return false
	}
	secs := max(1, int(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	u.fail(w, r, http.StatusTooManyRequests, u.tr(r, "error.ratelimited", secs))
	return true
}
