// Package metrics owns the service's Prometheus metrics: what is measured
// (HTTP requests by route pattern and status, logins and lockouts,
// verifications and signings by outcome, the database pool, blob store
// operations), the registry that holds them, and the handler that serves
// them. serve exposes that handler on its own --metrics-addr, a loopback
// address by default, never on the public API's listener.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every metric of the process. It is the package's own, not
// Prometheus's global default, so that no library registers into it behind
// the service's back.
var Registry = prometheus.NewRegistry()

// durations are the histogram buckets, in seconds, from a cached read to a
// verification of a large PDF.
var durations = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

var (
	httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vanthu_http_requests_total",
		Help: "HTTP requests answered, by method, route pattern and status.",
	}, []string{"method", "route", "status"})
	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vanthu_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by method, route pattern and status.",
		Buckets: durations,
	}, []string{"method", "route", "status"})

	logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vanthu_logins_total",
		Help: "Password logins by outcome: success, failure (wrong password or unknown user), locked (refused by a lockout), busy (no password-hashing slot), error.",
	}, []string{"outcome"})
	lockouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vanthu_login_lockouts_total",
		Help: "Lockouts begun, by what was locked: username or address.",
	}, []string{"subject"})
	passwordHashes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "vanthu_password_hashes_waiting",
		Help: "Password hashes running or waiting for a slot.",
	})

	verifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vanthu_verifications_total",
		Help: "Signature verifications by outcome: the file's verdict (VALID, INVALID, INDETERMINATE, UNSIGNED) or error.",
	}, []string{"outcome"})
	verificationDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vanthu_verification_duration_seconds",
		Help:    "Time to verify one PDF, by outcome.",
		Buckets: durations,
	}, []string{"outcome"})
	signings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vanthu_signings_total",
		Help: "Signatures made by the service, by outcome: signed or error.",
	}, []string{"outcome"})
	signingDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vanthu_signing_duration_seconds",
		Help:    "Time to sign one PDF, by outcome.",
		Buckets: durations,
	}, []string{"outcome"})

	blobOps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vanthu_blob_operations_total",
		Help: "Blob store operations by operation and outcome (ok or error).",
	}, []string{"op", "outcome"})
	blobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vanthu_blob_operation_duration_seconds",
		Help:    "Time of a blob store operation, by operation (for put and open, until the call returns).",
		Buckets: durations,
	}, []string{"op"})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		httpRequests, httpDuration, logins, lockouts, passwordHashes,
		verifications, verificationDuration, signings, signingDuration,
		blobOps, blobDuration,
	)
}

// Handler serves the registry in the Prometheus exposition format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry})
}

// ObserveRequest records one answered HTTP request; route is the pattern
// that matched ("/api/v1/documents/{id}"), never the path, so that ids do
// not become labels.
func ObserveRequest(method, route string, status int, d time.Duration) {
	s := statusText(status)
	httpRequests.WithLabelValues(method, route, s).Inc()
	httpDuration.WithLabelValues(method, route, s).Observe(d.Seconds())
}

// Login outcomes.
const (
	LoginSuccess = "success"
	LoginFailure = "failure"
	LoginLocked  = "locked"
	LoginBusy    = "busy"
	LoginError   = "error"
)

// ObserveLogin counts a password login by outcome.
func ObserveLogin(outcome string) { logins.WithLabelValues(outcome).Inc() }

// ObserveLockout counts a lockout begun on a "username" or an "address".
func ObserveLockout(subject string) { lockouts.WithLabelValues(subject).Inc() }

// PasswordHashesWaiting reports how many hashes hold a place.
func PasswordHashesWaiting(n int) { passwordHashes.Set(float64(n)) }

// ObserveVerification records one verification: outcome is the verdict, or
// "error" when none could be given.
func ObserveVerification(outcome string, d time.Duration) {
	verifications.WithLabelValues(outcome).Inc()
	verificationDuration.WithLabelValues(outcome).Observe(d.Seconds())
}

// ObserveSigning records one signature made by the service: outcome is
// "signed" or "error".
func ObserveSigning(outcome string, d time.Duration) {
	signings.WithLabelValues(outcome).Inc()
	signingDuration.WithLabelValues(outcome).Observe(d.Seconds())
}

func statusText(code int) string {
	const digits = "0123456789"
	if code < 100 || code > 999 {
		return "unknown"
	}
	return string([]byte{digits[code/100], digits[code/10%10], digits[code%10]})
}
