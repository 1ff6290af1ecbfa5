// Package documents holds the office's rules: documents and their immutable
// versions, document types and reference data, registers and numbering,
// approval chains, issuing, distribution and certified copies.
package documents
