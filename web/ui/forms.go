package ui

import (
	"net/http"
	"slices"
)

// The form handlers' shared steps. The cross-origin check is the router's
// (crossOrigin); what is left to every POST handler is reading its form
// and answering a refusal, the same way on every page.

// readForm parses a url-encoded form of at most limit bytes; false when
// it answered already (the error page: the form is not one the pages
// send).
func (u *UI) readForm(w http.ResponseWriter, r *http.Request, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, http.StatusBadRequest, u.tr(r, "error.badform"))
		return false
	}
	return true
}

// formRefused answers a service's refusal of a form: what the reader can
// correct shows the form again through show, with explain's status and
// message; an internal error, a missing thing and a forbidden action get
// the error page, unless inForm lists that status too (a refusal of a
// choice the form itself offers).
func (u *UI) formRefused(w http.ResponseWriter, r *http.Request, err error, show func(status int, msg string), inForm ...int) {
	status, msg := u.explain(r, err)
	switch {
	case slices.Contains(inForm, status):
	case status == http.StatusInternalServerError, status == http.StatusForbidden, status == http.StatusNotFound:
		u.failErr(w, r, err)
		return
	}
	show(status, msg)
}
