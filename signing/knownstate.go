package signing

import "bytes"

// State is crypto/sha256's marshalled state after k's bytes (a copy), for
// a caller that goes on hashing what is appended to them elsewhere: the
// write-ahead of an appended version (storage/blob/staged) checks the
// update against the whole file's key by hashing the update alone.
func (k *Known) State() []byte { return bytes.Clone(k.state) }
