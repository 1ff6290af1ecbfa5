// Package pdf is a hardened, revision-aware PDF reader for signature
// verification. It owns splitting a file into its incremental revisions
// (classic xref tables, xref streams, hybrid files, object streams, /Prev
// chains), resolving objects as they were visible in a given revision, and
// decoding streams within fixed limits.
//
// It is deliberately strict: a broken or missing cross-reference section is an
// error, not something silently reconstructed, because an auditor must know
// that the revisions we report are the ones the file declares. The one
// exception is a later revision (never the first) whose cross-reference
// data is damaged: viewers rebuild it and show what it defines, so it is
// rebuilt the same way, marked Revision.Repaired and reported in Warnings,
// for the change analysis to judge what a viewer shows. The few
// oddities it does tolerate (whitespace slack before an object or xref
// section, duplicate dictionary keys, trailing bytes) are reported by
// Warnings. Every input is processed in bounded time and memory: see Limits,
// and Budget for the decoded stream data held at once.
package pdf
