package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/minio/minio-go/v7"

	"github.com/vanthu/vanthu/storage"
)

// databaseRetryAfter is what a 503 asks clients to wait: about the first
// delay before the embedded database is restarted.
const databaseRetryAfter = "5"

type databaseKey struct{}

// withDatabase lets writeError ask whether the database answers, so an
// outage is told apart from a fault of the service.
func (s *Server) withDatabase(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), databaseKey{}, s.DB)))
	})
}

// databaseUnreachable reports whether err is the database's absence: a
// connection that could not be made or was lost, a server shutting down or
// starting, or any failure while the database does not answer a ping.
func databaseUnreachable(r *http.Request, err error) bool {
	var connect *pgconn.ConnectError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &connect):
		return true
	case errors.As(err, &pgErr):
		// Class 08 (connection exception); 57P01-03: shutting down, crashed, starting.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	db, _ := r.Context().Value(databaseKey{}).(*storage.DB)
	if db == nil || db.Pool == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	return db.Ping(ctx) != nil
}

// badValue reports whether PostgreSQL refused a value as such: bytes that
// are not text in its encoding (22021, 22P05), a number out of range
// (22003), text that is not of the column's type (22P02).
func badValue(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "22021", "22P05", "22003", "22P02":
		return true
	}
	return false
}

// storageFull reports whether err comes from a full disk: the file system
// (ENOSPC, a quota), PostgreSQL's (disk_full, SQLSTATE 53100) or MinIO's.
func storageFull(err error) bool {
	var pgErr *pgconn.PgError
	var s3Err minio.ErrorResponse
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		(errors.As(err, &pgErr) && pgErr.Code == "53100") ||
		(errors.As(err, &s3Err) && (s3Err.Code == "XMinioStorageFull" || s3Err.Code == "StorageFull"))
}

// resourceProblem answers the failures that are no bug of the service: a
// body sent too slowly (408), the database out of reach (503 with
// Retry-After), a full disk (507). It reports whether err was one of them.
func resourceProblem(w http.ResponseWriter, r *http.Request, err error) bool {
	if errors.Is(err, errBodyTooSlow) {
		w.Header().Set("Connection", "close")
		writeProblem(w, r, http.StatusRequestTimeout, "slow-body", "The request body arrived too slowly",
			"the connection brought too little of the body for too long; send it again")
		return true
	}
	if badValue(err) {
		// A safety net: the routes check their input, but text or a number
		// PostgreSQL cannot take is the client's error wherever it slips through.
		slog.Warn("input refused by the database", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, r, http.StatusBadRequest, "invalid-field", "A field is missing or invalid",
			"a value is not valid text (UTF-8 without NUL) or is out of range")
		return true
	}
	if storageFull(err) {
		slog.Error("storage full", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, r, http.StatusInsufficientStorage, "insufficient-storage", "The server has no room to store this",
			"the server's storage is full; nothing was stored. Try again later and tell the administrator")
		return true
	}
	if databaseUnreachable(r, err) {
		slog.Warn("database unreachable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", databaseRetryAfter)
		writeProblem(w, r, http.StatusServiceUnavailable, "database-unavailable", "The database is unavailable",
			"the service cannot reach its database; nothing was changed. Try again shortly")
		return true
	}
	return false
}
