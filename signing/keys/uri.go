package keys

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// PKCS11URI is a parsed RFC 7512 PKCS#11 URI, for example
//
//	pkcs11:token=vanthu;object=official;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin
//
// Path attributes select the token and the key; query attributes say how to
// reach it. The vendor attribute x-chain-file names a PEM file of extra
// chain certificates (issuing CAs) to append after the token's certificate;
// x-max-sessions (1–64, default 4) is how many sessions the key may keep
// open, so how many signatures it makes at once: a network HSM serves
// more than a USB token.
type PKCS11URI struct {
	// Token selection (at least one of Token, Serial, SlotID).
	Token        string
	Manufacturer string
	Model        string
	Serial       string
	SlotID       *int

	// Object selection (at least one of Object, ID).
	Object string
	ID     []byte
	Type   string // "private", "cert", ... — informational; the private key is always used

	ModulePath string
	ModuleName string
	PINSource  string
	// PINValue is secret: Redacted never shows it and no error mentions it.
	PINValue    string
	ChainFile   string
	MaxSessions int // 0: the default
}

// DefaultPKCS11Sessions is the sessions a key keeps open unless its URI
// says x-max-sessions.
const DefaultPKCS11Sessions = 4

// pathAttrs and queryAttrs are the RFC 7512 attributes this parser knows;
// library-* and slot-* descriptions are accepted and ignored.
var ignoredAttrs = map[string]bool{
	"library-manufacturer": true, "library-description": true, "library-version": true,
	"slot-manufacturer": true, "slot-description": true,
}

// ParsePKCS11URI parses an RFC 7512 URI. Errors name the offending attribute
// but never repeat a value, since the URI may carry a PIN.
func ParsePKCS11URI(s string) (*PKCS11URI, error) {
	rest, ok := strings.CutPrefix(s, "pkcs11:")
	if !ok {
		return nil, errors.New("pkcs11 URI must start with \"pkcs11:\"")
	}
	path, query, _ := strings.Cut(rest, "?")
	u := &PKCS11URI{}
	seen := map[string]bool{}
	if path != "" {
		for _, attr := range strings.Split(path, ";") {
			name, raw, ok := strings.Cut(attr, "=")
			if !ok || name == "" {
				return nil, errors.New("pkcs11 URI: a path attribute has no name=value form")
			}
			if seen[name] {
				return nil, fmt.Errorf("pkcs11 URI: attribute %q given twice", safeName(name))
			}
			seen[name] = true
			val, err := url.PathUnescape(raw)
			if err != nil {
				return nil, fmt.Errorf("pkcs11 URI: attribute %q: bad percent-encoding", safeName(name))
			}
			if err := u.setPath(name, val); err != nil {
				return nil, err
			}
		}
	}
	if query != "" {
		for _, attr := range strings.Split(query, "&") {
			name, raw, ok := strings.Cut(attr, "=")
			if !ok || name == "" {
				return nil, errors.New("pkcs11 URI: a query attribute has no name=value form")
			}
			if seen["?"+name] {
				return nil, fmt.Errorf("pkcs11 URI: attribute %q given twice", safeName(name))
			}
			seen["?"+name] = true
			val, err := url.PathUnescape(raw)
			if err != nil {
				return nil, fmt.Errorf("pkcs11 URI: attribute %q: bad percent-encoding", safeName(name))
			}
			switch name {
			case "module-path":
				u.ModulePath = val
			case "module-name":
				u.ModuleName = val
			case "pin-source":
				u.PINSource = val
			case "pin-value":
				u.PINValue = val
			case "x-chain-file":
				u.ChainFile = val
			case "x-max-sessions":
				n, err := strconv.Atoi(val)
				if err != nil || n < 1 || n > 64 {
					return nil, errors.New("pkcs11 URI: x-max-sessions must be a number from 1 to 64")
				}
				u.MaxSessions = n
			default:
				if !strings.HasPrefix(name, "x-") {
					return nil, fmt.Errorf("pkcs11 URI: unknown query attribute %q", safeName(name))
				}
			}
		}
	}
	if u.PINValue != "" && u.PINSource != "" {
		return nil, errors.New("pkcs11 URI: pin-value and pin-source are mutually exclusive")
	}
	return u, nil
}

func (u *PKCS11URI) setPath(name, val string) error {
	switch name {
	case "token":
		u.Token = val
	case "manufacturer":
		u.Manufacturer = val
	case "model":
		u.Model = val
	case "serial":
		u.Serial = val
	case "slot-id":
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return fmt.Errorf("pkcs11 URI: slot-id must be a non-negative decimal number")
		}
		u.SlotID = &n
	case "object":
		u.Object = val
	case "id":
		u.ID = []byte(val)
	case "type":
		switch val {
		case "private", "public", "cert", "secret-key", "data":
			u.Type = val
		default:
			return fmt.Errorf("pkcs11 URI: unknown object type")
		}
	case "x-chain-file":
		u.ChainFile = val
	default:
		if !ignoredAttrs[name] && !strings.HasPrefix(name, "x-") {
			return fmt.Errorf("pkcs11 URI: unknown path attribute %q", safeName(name))
		}
	}
	return nil
}

// safeName keeps attribute names in messages short and printable: a garbled
// URI could otherwise put a PIN where a name is expected.
func safeName(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// Redacted renders the URI for logs and errors: pin-value is replaced by
// "***".
func (u *PKCS11URI) Redacted() string {
	var path []string
	add := func(name, val string) {
		if val != "" {
			path = append(path, name+"="+escape(val))
		}
	}
	add("token", u.Token)
	add("manufacturer", u.Manufacturer)
	add("model", u.Model)
	add("serial", u.Serial)
	if u.SlotID != nil {
		add("slot-id", strconv.Itoa(*u.SlotID))
	}
	add("object", u.Object)
	add("id", string(u.ID))
	add("type", u.Type)
	var q []string
	addq := func(name, val string) {
		if val != "" {
			q = append(q, name+"="+escape(val))
		}
	}
	addq("module-path", u.ModulePath)
	addq("module-name", u.ModuleName)
	addq("pin-source", u.PINSource)
	if u.PINValue != "" {
		q = append(q, "pin-value=***")
	}
	addq("x-chain-file", u.ChainFile)
	if u.MaxSessions > 0 {
		addq("x-max-sessions", strconv.Itoa(u.MaxSessions))
	}
	s := "pkcs11:" + strings.Join(path, ";")
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}

// escape percent-encodes everything outside RFC 7512's unreserved set plus
// the few characters it allows literally in values ("/" for paths, ":" and
// "@").
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/', c == ':', c == '@', c == '!', c == '$', c == '\'', c == '(', c == ')', c == '*', c == '+', c == ',':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
