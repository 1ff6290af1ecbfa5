package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/storage"
)

// accountsProblem answers the errors of authorization and of the directory:
// refused (403), hidden or missing (404: the same answer, so existence
// does not leak), refused input (422, or 400 for a body that is not JSON),
// a name taken or the last administrator taken away (409). It reports whether err was one of them.
func accountsProblem(w http.ResponseWriter, r *http.Request, err error) bool {
	var in *accounts.InputError
	var bad *malformedJSON
	var locked *accounts.LockedError
	switch {
	case errors.As(err, &bad):
		writeProblem(w, r, http.StatusBadRequest, "malformed-json", "The body is not valid JSON for this route", bad.detail)
	case errors.Is(err, accounts.ErrLastAdmin):
		writeProblem(w, r, http.StatusConflict, "last-administrator", "The organisation would have no administrator", err.Error())
	case errors.Is(err, accounts.ErrForbidden):
		writeProblem(w, r, http.StatusForbidden, "forbidden", "Forbidden", strings.TrimPrefix(err.Error(), accounts.ErrForbidden.Error()+": "))
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, documents.ErrNotFound):
		writeProblem(w, r, http.StatusNotFound, "not-found", "Not found", "")
	case errors.As(err, &in):
		writeProblem(w, r, http.StatusUnprocessableEntity, "invalid-input", "A field is missing or invalid", in.Msg)
	case errors.Is(err, accounts.ErrDelegation):
		writeProblem(w, r, http.StatusUnprocessableEntity, "delegation-refused", "Delegation refused", err.Error())
	case errors.Is(err, accounts.ErrKeyRefused):
		writeProblem(w, r, http.StatusUnprocessableEntity, "key-refused", "Key refused", err.Error())
	case errors.Is(err, storage.ErrConflict):
		writeProblem(w, r, http.StatusConflict, "conflict", "Already exists", "the code or name is already taken")
	case errors.As(err, &locked):
		writeProblem(w, r, http.StatusTooManyRequests, "locked-out", "Too many failed logins", locked.Error())
	case errors.Is(err, accounts.ErrBusy):
		// Password hashing is bounded; a second later a slot is likely free.
		w.Header().Set("Retry-After", "1")
		writeProblem(w, r, http.StatusServiceUnavailable, "busy", "Too many logins at once", err.Error())
	default:
		return false
	}
	return true
}
