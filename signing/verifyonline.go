package signing

// Every program that signs (the service binary and the tests of the
// packages that sign) also verifies what it signed and receives, online
// unless told otherwise: linking chain/online registers the HTTP fetcher
// that verify.Options falls back on. The `vanthu verify` binary users run
// (cmd/vanthu-cli) does not link this package, and so stays without
// net/http (see chain.Fetcher).
import _ "github.com/vanthu/vanthu/signing/verify/chain/online"
