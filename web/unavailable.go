package web

import (
	"errors"
	"log/slog"
	"net/http"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// storageFull reports whether err comes from a full disk: the file system
// (ENOSPC, a quota) or PostgreSQL's (disk_full, SQLSTATE 53100).
func storageFull(err error) bool {
	var pgErr *pgconn.PgError
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		(errors.As(err, &pgErr) && pgErr.Code == "53100")
}

// resourceProblem answers the failures that are no bug of the service: a
// body sent too slowly (408), a full disk (507). It reports whether err was
// one of them.
func resourceProblem(w http.ResponseWriter, r *http.Request, err error) bool {
	if errors.Is(err, errBodyTooSlow) {
		w.Header().Set("Connection", "close")
		writeProblem(w, r, http.StatusRequestTimeout, "slow-body", "The request body arrived too slowly",
			"the connection brought too little of the body for too long; send it again")
		return true
	}
	if storageFull(err) {
		slog.Error("storage full", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, r, http.StatusInsufficientStorage, "insufficient-storage", "The server has no room to store this",
			"the server's storage is full; nothing was stored. Try again later and tell the administrator")
		return true
	}
	return false
}
