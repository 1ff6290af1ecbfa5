// Package ltv owns long-term validation for PAdES: it gathers the evidence a
// verifier needs years from now (certificate chains, OCSP responses, CRLs,
// including those of the timestamping authorities and OCSP responders), checks
// that the evidence itself is authentic, and records it in the PDF's Document
// Security Store (/DSS with /VRI, ETSI EN 319 142-1 §5.4) as a new incremental
// update (PAdES B-LT). It also appends document timestamps (/DocTimeStamp,
// ETSI.RFC3161) that seal the DSS for B-LTA.
//
// The package never rewrites bytes that earlier signers signed: every change
// is appended after the last %%EOF. Network I/O takes a context and a
// per-request timeout; any unreachable responder, bad answer or evidence that
// does not verify is an error, so callers write output to a temporary file and
// keep it only on success.
package ltv
