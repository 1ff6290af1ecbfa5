// Package signing makes PAdES signatures: key sources (PKCS#12 files, PKCS#11
// tokens, external two-step signing), Vietnamese visible appearances,
// timestamps and long-term validation data. It knows nothing of the database or
// HTTP: it takes bytes and keys and returns bytes, so the CLI, the service and
// the tests share the same code.
package signing
