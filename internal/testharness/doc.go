// Package testharness starts the real services the tests talk to — one
// throwaway PostgreSQL cluster and one MinIO server per `go test` run, SoftHSM2
// tokens and the development PKI's OCSP/CRL/TSA responder — and hands each test
// its own database, bucket or token.
//
// `make test` starts the shared PostgreSQL and MinIO once through
// ./internal/testharness/cmd/testenv and passes them to every package through
// VANTHU_TEST_* environment variables; a plain `go test ./...` without them
// makes each package's TestMain start its own. A missing tool fails the test
// with the command that installs it: nothing skips.
//
// API (implemented in this package's other files):
//
//	func Main(m *testing.M)                          // use as TestMain body: os.Exit handled
//	func Postgres(t testing.TB) string               // URL of a new, empty database, dropped at cleanup
//	func MinIO(t testing.TB) S3Config                // a new bucket with versioning + object lock
//	func Tool(t testing.TB, name, debPkg string) string // path of an external command, or t.Fatal with the apt-get line
//	func SoftHSM(t testing.TB) SoftHSMToken          // a freshly initialised SoftHSM2 token
//	func DevPKI(t testing.TB) *devpki.PKI            // a dev PKI in t.TempDir() with OCSP/CRL/TSA served on loopback
//	func Work(t testing.TB, fn func()) Allocated     // what fn allocated; fails if fn has not returned within a minute
package testharness
