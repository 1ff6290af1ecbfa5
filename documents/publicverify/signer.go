package publicverify

import "strings"

// shownSigner is what a public answer says of a signer: the common name of
// the certificate's subject (the person's or the organisation's name),
// else its organisation. The rest of the subject is not the public's to
// read: an official's certificate carries their citizen ID number (CCCD)
// in its UID. dn is a subject as crypto/x509 writes it (RFC 2253: a
// backslash escapes the next character); it comes from any uploaded PDF.
func shownSigner(dn string) string {
	var cn, org string
	for _, attr := range splitAttributes(dn) {
		typ, val, ok := strings.Cut(attr, "=")
		if !ok {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(typ)) {
		case "CN", "2.5.4.3":
			if cn == "" {
				cn = strings.TrimSpace(val)
			}
		case "O", "2.5.4.10":
			if org == "" {
				org = strings.TrimSpace(val)
			}
		}
	}
	if cn != "" {
		return cn
	}
	return org
}

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
