package web

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/metrics"
)

// measure counts and times every request by the route pattern chi matched
// ("/api/v1/documents/{id}"), so that ids never become metric labels; a
// request no route matched counts as "unmatched".
func measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		metrics.ObserveRequest(r.Method, route, rec.status, time.Since(start))
	})
}
