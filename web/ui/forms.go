package ui

import (
	"context"
	"errors"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/refusal"
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
	if f := refusedFieldOf(r); f != nil {
		f.name = fieldOf(err)
	}
	switch {
	case slices.Contains(inForm, status):
	case status == http.StatusInternalServerError, status == http.StatusForbidden, status == http.StatusNotFound:
		u.failErr(w, r, err)
		return
	}
	show(status, msg)
}

// The error summary of a refused form names the field the refusal is
// about and links to it, as GOV.UK's summaries do: a reason (package
// refusal) names its form field here, the one place; the page renders the
// summary with the field's own label (found on the page by the field's
// name) and marks the field aria-invalid. A refusal of no one field is
// listed without a link.

// reasonFields is the form field (its name attribute) each reason is
// about.
var reasonFields = map[string]string{}

func fieldsOf(field string, reasons ...string) {
	for _, r := range reasons {
		reasonFields[r] = field
	}
}

func init() {
	fieldsOf("subject", "document.subject-required", "document.subject-long")
	fieldsOf("type", "document.type-required", "document.type-unknown")
	fieldsOf("comment", "chain.return-comment", "chain.comment-empty", "chain.comment-long")
	fieldsOf("to_user_id", "chain.to-user-required", "chain.to-user-unknown", "chain.to-user-disabled", "chain.to-drafter",
		"chain.turn-theirs", "chain.holds-turn", "chain.forward-no-delegation", "chain.already-signer", "chain.not-fit")
	fieldsOf("template_id", "chain.route-required", "chain.template-or-stages", "chain.template-unknown", "chain.template-not-for-document")
	fieldsOf("name", "chain.template-name", "name-required", "register.name")
	fieldsOf("types", "chain.template-doc-type", "unknown-document-type", "pass-types", "register.type-unknown", "register.types-kind")
	fieldsOf("units", "chain.template-unit", "unit-not-in-org", "pass-units")
	fieldsOf("username", "username-format", "username-taken")
	fieldsOf("full_name", "full-name-required")
	fieldsOf("password", "weak-password")
	fieldsOf("roles", "unknown-role")
	fieldsOf("code", "code-format", "org-code-taken", "unit-code-taken", "register.code")
	fieldsOf("parent", "parent-unknown")
	fieldsOf("expires", "expires-past")
	fieldsOf("scopes", "unknown-scope", "scope-beyond-maker")
	fieldsOf("to", "delegate-unknown", "delegate-self", "delegate-other-org", "delegate-disabled", "delegate-not-signer")
	fieldsOf("ends", "period-required", "period-reversed", "period-ended", "pass-period")
	fieldsOf("basis", "basis-required")
	fieldsOf("form", "unknown-form", "pass-tuq", "pass-not-tl", "pass-as-tl", "copy.form")
	fieldsOf("kind", "register.kind")
	fieldsOf("from", "arrival.from", "stats.period-format", "stats.period-range")
	fieldsOf("number", "arrival.number")
	fieldsOf("symbol", "arrival.symbol")
	fieldsOf("signer", "arrival.signer")
	fieldsOf("medium", "arrival.medium")
	fieldsOf("date", "arrival.date-format", "arrival.date-future")
	fieldsOf("reason", "chain.reject-comment", "arrival.force-reason", "arrival.return-reason", "arrival.reason-long", "issue.recall-reason")
	fieldsOf("requester_name", "cert.requester-name")
	fieldsOf("original_name", "cert.original-name")
	fieldsOf("note", "cert.note", "arrival.note-long")
	fieldsOf("receiver", "arrival.receiver-long")
	fieldsOf("requester_id_number", "cert.id-number")
	fieldsOf("page_count", "cert.page-count")
	fieldsOf("copies", "cert.copies")
	fieldsOf("received_at", "cert.received-at")
	fieldsOf("reasons", "cert.ground-required", "cert.ground-unknown")
	fieldsOf("pages", "copy.pages-not-trs", "copy.pages-required", "copy.pages-max", "copy.page-number", "copy.page-twice")
	fieldsOf("original", "copy.original-description")
	fieldsOf("year", "calendar.year")
	fieldsOf("email", "notify.email-format", "notify.email-required")
	fieldsOf("url", "notify.url", "notify.url-unresolved", "notify.url-private", "notify.url-private-admin")
	fieldsOf("note", "handling.note-required", "handling.note-long")
	fieldsOf("handler", "handling.handler-required", "handling.handler-unknown", "handling.handler-not-in-unit")
	fieldsOf("direction", "handling.direction-long")
	fieldsOf("reply_document_id", "handling.reply-unknown")
	fieldsOf("copies_kept", "issue.copies-kept-long")
	fieldsOf(reasonFieldRecipients, "issue.recipients-none", "issue.recipients-max", "issue.recipient-org-unknown", "issue.recipient-self", "issue.recipient-both")
	fieldsOf("emails", "issue.recipient-email", "issue.recipient-name")
	// The issue form's register is chosen on its preview's form (the
	// one visible field; the issue form carries the choice hidden).
	fieldsOf("register", "issue.register-unknown", "issue.register-kind", "issue.register-types",
		"issue.register-confidential-needed", "issue.register-not-confidential")
}

// reasonFieldRecipients is the issue form's group of recipients (a
// fieldset named as its checkboxes are).
const reasonFieldRecipients = "orgs"

// documentFields are the documents service's input kinds that concern one
// field of the upload form.
var documentFields = []struct {
	kind  error
	field string
}{
	{documents.ErrEmptyFile, "file"}, {documents.ErrNotPDF, "file"}, {documents.ErrEncryptedPDF, "file"},
	{documents.ErrTruncatedPDF, "file"}, {documents.ErrUnparsablePDF, "file"}, {documents.ErrTooLarge, "file"},
	{documents.ErrMissingFile, "file"}, {documents.ErrUnknownUnit, "unit"},
}

// fieldOf is the form field err is about, "" when none.
func fieldOf(err error) string {
	if reason, _ := refusal.Of(err); reason != (refusal.Reason{}) {
		return reasonFields[reason.String()]
	}
	for _, d := range documentFields {
		if errors.Is(err, d.kind) {
			return d.field
		}
	}
	return ""
}

// refusedField carries, through a request, the field its refused form is
// about: formRefused sets it, renderErr reads it (the two meet only in
// the handler's closure).
type refusedField struct {
	name string
	// form is the id of the refused form when the page holds several
	// forms with a field of that name (the document page's actions): the
	// field is looked for in that form only.
	form string
}

type refusedFieldKey struct{}

// withRefusedField gives every page request its slot.
func withRefusedField(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), refusedFieldKey{}, &refusedField{})))
	})
}

// refuseField names the field of a refusal the page itself makes (before
// any service is asked).
func refuseField(r *http.Request, name string) {
	if f := refusedFieldOf(r); f != nil {
		f.name = name
	}
}

// refuseInForm names the form (its id) a refusal of this request is
// about, for a page with several forms whose fields share names.
func refuseInForm(r *http.Request, form string) {
	if f := refusedFieldOf(r); f != nil {
		f.form = form
	}
}

func refusedFieldOf(r *http.Request) *refusedField {
	f, _ := r.Context().Value(refusedFieldKey{}).(*refusedField)
	return f
}

// FieldLink is the error summary's link to the refused field.
type FieldLink struct{ ID, Label string }

var (
	labelTags = regexp.MustCompile(`(?s)<[^>]+>`)
	spaces    = regexp.MustCompile(`\s+`)
	// summaryLabel is the part of a label marked data-summary-label.
	summaryLabel = regexp.MustCompile(`(?s)<[a-z]+\b[^>]*\bdata-summary-label\b[^>]*>(.*?)</`)
)

// findField finds, in a rendered page's main content (in the form whose
// id is form, when form is not ""), the first field named name: its
// opening tag, its id and its label's text.
func findField(page, form, name string) (tag string, link FieldLink, ok bool) {
	main := page
	if i := strings.Index(page, `<main`); i >= 0 {
		main = page[i:]
	}
	if form != "" {
		open := regexp.MustCompile(`<form\b[^>]*\bid="` + regexp.QuoteMeta(html.EscapeString(form)) + `"`).FindStringIndex(main)
		if open == nil {
			return "", FieldLink{}, false
		}
		main = main[open[0]:]
		if end := strings.Index(main, "</form>"); end >= 0 {
			main = main[:end]
		}
	}
	field := regexp.MustCompile(`<(?:input|select|textarea|fieldset)\b[^>]*\bname="` + regexp.QuoteMeta(html.EscapeString(name)) + `"[^>]*>`)
	tag = field.FindString(main)
	if tag == "" {
		return "", FieldLink{}, false
	}
	id := regexp.MustCompile(`\bid="([^"]+)"`).FindStringSubmatch(tag)
	if id == nil {
		return "", FieldLink{}, false
	}
	label := regexp.MustCompile(`(?s)<label\b[^>]*\bfor="` + regexp.QuoteMeta(id[1]) + `"[^>]*>(.*?)</label>`).FindStringSubmatch(main)
	if strings.HasPrefix(tag, "<fieldset") {
		// A group of choices (checkboxes) is named by its legend.
		label = regexp.MustCompile(`(?s)^<legend\b[^>]*>(.*?)</legend>`).FindStringSubmatch(strings.TrimSpace(main[strings.Index(main, tag)+len(tag):]))
	}
	if label == nil {
		label = labelledBy(main, tag)
	}
	if label == nil {
		return "", FieldLink{}, false
	}
	shown := label[1]
	if own := summaryLabel.FindStringSubmatch(shown); own != nil {
		// A label that holds more than the field's name (the upload's
		// drop zone with its hints) marks the part that names it.
		shown = own[1]
	}
	text := strings.TrimSpace(spaces.ReplaceAllString(html.UnescapeString(labelTags.ReplaceAllString(shown, " ")), " "))
	if text == "" {
		return "", FieldLink{}, false
	}
	return tag, FieldLink{ID: html.UnescapeString(id[1]), Label: text}, true
}

// labelledBy is the label of a field named by aria-labelledby (a cell of
// a table row, as the handling's assignment table does), in the form
// FindStringSubmatch gives: the texts of the elements it names, joined.
func labelledBy(page, tag string) []string {
	ids := regexp.MustCompile(`\baria-labelledby="([^"]+)"`).FindStringSubmatch(tag)
	if ids == nil {
		return nil
	}
	var parts []string
	for _, id := range strings.Fields(ids[1]) {
		if m := regexp.MustCompile(`(?s)<[a-z0-9]+\b[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</`).FindStringSubmatch(page); m != nil {
			parts = append(parts, m[1])
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return []string{"", strings.Join(parts, " — ")}
}

// errorReasonID is the id of the error summary's reason (the layout's),
// which the refused field names as its description.
const errorReasonID = "error-reason"

var describedBy = regexp.MustCompile(`\baria-describedby="([^"]*)"`)

// markInvalid marks the refused field's tag aria-invalid in the page and
// links it to the reason (aria-describedby, after its own hint if it has
// one), so a screen reader on the field reads why it was refused.
func markInvalid(page, tag string) string {
	if strings.Contains(tag, "aria-invalid") {
		return page
	}
	marked := strings.Replace(tag, " name=", ` aria-invalid="true" name=`, 1)
	if describedBy.MatchString(marked) {
		marked = describedBy.ReplaceAllString(marked, `aria-describedby="$1 `+errorReasonID+`"`)
	} else {
		marked = strings.Replace(marked, " name=", ` aria-describedby="`+errorReasonID+`" name=`, 1)
	}
	return strings.Replace(page, tag, marked, 1)
}

var _ = addMessages(map[string][2]string{
	"error.summary": {"Có lỗi cần sửa", "There is a problem"},
	// The mark of a service's own (English) words on a Vietnamese page.
	"error.tech": {"chi tiết kỹ thuật", "technical detail"},
})
