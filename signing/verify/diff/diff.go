// Package diff decides whether the changes made to a PDF after a signature
// are permitted. It owns the change analysis of the verifier: every object
// added, modified or freed in a revision after the signed one must be
// cleared by a named rule at the document's modification level, and
// anything no rule clears is a disallowed change (default deny, as in
// pyHanko's diff_analysis and the EU DSS object-modification checks).
package diff

import (
	"github.com/vanthu/vanthu/signing/pdf"
)

// Level is what the document permits after the signed revision.
type Level int

const (
	// Approval is an approval signature in a document without DocMDP:
	// FormFilling, plus annotations over no signed content when the
	// signature locks no field.
	Approval Level = 0
	// NoChanges is DocMDP /P 1: only DSS updates and document timestamps.
	NoChanges Level = 1
	// FormFilling is DocMDP /P 2, and the default for approval signatures:
	// filling in form fields, signing, DSS and document timestamps.
	FormFilling Level = 2
	// Annotations is DocMDP /P 3: additionally adding, changing and
	// deleting annotations.
	Annotations Level = 3
)

// Lock is a FieldMDP restriction from a signature field's /Lock dictionary
// (or a signature reference's TransformParams).
type Lock struct {
	Action string   // All, Include or Exclude
	Fields []string // fully qualified field names, for Include and Exclude
}

// Change is one object added, modified or freed after the signed revision.
type Change struct {
	Ref      pdf.Ref
	Revision int
	Kind     string // added, modified, freed, or structure for file-level findings
	Rule     string // name of the rule that cleared it, empty if none
	Allowed  bool
	Detail   string
	// Visual marks a disallowed change to what a page shows (its content,
	// resources, annotations or appearances, or the page tree): the shadow
	// attacks' hide, replace and hide-and-replace.
	Visual bool
}

// Result lists every change and whether any of them is disallowed.
type Result struct {
	Changes    []Change
	Disallowed bool
}
