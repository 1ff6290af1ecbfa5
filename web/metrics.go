package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/metrics"
)

// measure counts and times every request by the route pattern chi matched
// ("/api/v1/documents/{id}"), so that ids never become metric labels; a
// request no route matched counts as "unmatched". A request answered by a
// group's middleware before its routes were reached (a 401 from
// authentication) is looked up in root for its full pattern.
func measure(root *chi.Mux) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			route := ""
			if rc := chi.RouteContext(r.Context()); rc != nil {
				route = rc.RoutePattern()
			}
			if route == "" || strings.HasSuffix(route, "/*") {
				if found := root.Find(chi.NewRouteContext(), r.Method, r.URL.Path); found != "" {
					route = found
				}
			}
			if route == "" {
				route = "unmatched"
			}
			metrics.ObserveRequest(r.Method, route, rec.status, time.Since(start))
		})
	}
}
