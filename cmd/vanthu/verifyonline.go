package main

// The service binary verifies online (OCSP, CRLs) unless --offline /
// --verify-offline says otherwise: it links the HTTP fetcher of
// chain/online, which registers itself. It is also what the small `vanthu`
// binary (cmd/vanthu-cli) hands an online verification to.
import _ "github.com/vanthu/vanthu/signing/verify/chain/online"
