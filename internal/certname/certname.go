// Package certname owns how a certificate's distinguished name is shown
// to people, on the public check and on the office's pages alike: by its
// common name (the person's or the organisation's name) and organisation.
// The rest of a subject is not for pages: an official's certificate
// carries their citizen ID number (CCCD) in its UID or SERIALNUMBER, which
// is never read out of it here.
package certname

import "strings"

// Name is what a page may show of a distinguished name.
type Name struct {
	// Common is the first common name (CN), Organization the first
	// organisation (O); either may be "".
	Common, Organization string
}

// Parse reads the shown parts of dn, a name as crypto/x509 writes it (RFC
// 2253: a backslash escapes the next character); it may come from any
// uploaded PDF, so anything else in it is ignored.
func Parse(dn string) Name {
	var n Name
	for _, attr := range splitAttributes(dn) {
		typ, val, ok := strings.Cut(attr, "=")
		if !ok {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(typ)) {
		case "CN", "2.5.4.3":
			if n.Common == "" {
				n.Common = strings.TrimSpace(val)
			}
		case "O", "2.5.4.10":
			if n.Organization == "" {
				n.Organization = strings.TrimSpace(val)
			}
		}
	}
	return n
}

// Shown names the holder in one phrase: the common name, else the
// organisation (a seal's certificate may have no common name).
func (n Name) Shown() string {
	if n.Common != "" {
		return n.Common
	}
	return n.Organization
}

// Shown is Parse(dn).Shown(): what the public answer says of a signer.
func Shown(dn string) string { return Parse(dn).Shown() }

// splitAttributes splits a distinguished name at its unescaped ',' and
// '+' into type=value pieces, with the escapes undone.
func splitAttributes(dn string) []string {
	var out []string
	var b strings.Builder
	escaped := false
	for _, r := range dn {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == ',' || r == '+':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
