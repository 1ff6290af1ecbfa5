// Package copies owns the organisation's copies of documents (Decree 30
// art. 25–27): SAO Y (a full copy), TRÍCH SAO (an excerpt: chosen pages)
// and SAO LỤC (a copy of a bản sao y). A copy is a new document of type
// SY, TrS or SL: the original's pages in a new PDF, the organisation's
// text-only signature top right of page 1 (form of copy, organisation,
// time, number, and the QR code of its public verification), numbered in
// the organisation's copies series, registered and linked to its
// original, all in one transaction.
package copies
