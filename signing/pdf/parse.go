package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// parser reads PDF objects from an in-memory byte slice. Every loop advances
// pos or returns, and nesting is bounded by maxDepth, so no input can make it
// hang or exhaust the stack.
type parser struct {
	b        []byte
	pos      int
	maxDepth int
	warn     func(string)
}

var errEOF = errors.New("unexpected end of data")

func isWS(c byte) bool {
	return c == 0 || c == 9 || c == 10 || c == 12 || c == 13 || c == 32
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isRegular(c byte) bool { return !isWS(c) && !isDelim(c) }

// skipWS skips whitespace and comments.
func (p *parser) skipWS() {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		if isWS(c) {
			p.pos++
			continue
		}
		if c == '%' {
			for p.pos < len(p.b) && p.b[p.pos] != '\n' && p.b[p.pos] != '\r' {
				p.pos++
			}
			continue
		}
		return
	}
}

// keyword reads a run of regular characters.
func (p *parser) keyword() []byte {
	start := p.pos
	for p.pos < len(p.b) && isRegular(p.b[p.pos]) {
		p.pos++
	}
	return p.b[start:p.pos]
}

// expectKeyword skips whitespace and consumes kw if it is next as a whole
// token.
func (p *parser) expectKeyword(kw string) bool {
	p.skipWS()
	save := p.pos
	if bytes.Equal(p.keyword(), []byte(kw)) {
		return true
	}
	p.pos = save
	return false
}

// readInt reads a non-negative decimal integer token.
func (p *parser) readUint() (int64, bool) {
	p.skipWS()
	start := p.pos
	for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start || p.pos-start > 18 || (p.pos < len(p.b) && isRegular(p.b[p.pos])) {
		p.pos = start
		return 0, false
	}
	n, err := strconv.ParseInt(string(p.b[start:p.pos]), 10, 64)
	if err != nil {
		p.pos = start
		return 0, false
	}
	return n, true
}

func (p *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("at offset %d: %s", p.pos, fmt.Sprintf(format, a...))
}

// parseObject parses one direct object (which may be a reference). Streams
// are handled by the caller, which knows the enclosing indirect object.
func (p *parser) parseObject(depth int) (Object, error) {
	if depth > p.maxDepth {
		return nil, p.errorf("objects nested deeper than %d", p.maxDepth)
	}
	p.skipWS()
	if p.pos >= len(p.b) {
		return nil, errEOF
	}
	c := p.b[p.pos]
	switch {
	case c == '/':
		return p.parseName()
	case c == '(':
		return p.parseLiteral()
	case c == '<':
		if p.pos+1 < len(p.b) && p.b[p.pos+1] == '<' {
			return p.parseDict(depth)
		}
		return p.parseHex()
	case c == '[':
		p.pos++
		arr := Array{}
		for {
			p.skipWS()
			if p.pos >= len(p.b) {
				return nil, p.errorf("unterminated array")
			}
			if p.b[p.pos] == ']' {
				p.pos++
				return arr, nil
			}
			o, err := p.parseObject(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, o)
		}
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return p.parseNumberOrRef()
	case isRegular(c):
		kw := p.keyword()
		switch string(kw) {
		case "true":
			return Bool(true), nil
		case "false":
			return Bool(false), nil
		case "null":
			return Null{}, nil
		}
		return nil, p.errorf("unexpected keyword %q", truncate(kw))
	}
	return nil, p.errorf("unexpected character %q", c)
}

func truncate(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "…"
	}
	return string(b)
}

func (p *parser) parseNumberOrRef() (Object, error) {
	start := p.pos
	tok := p.keyword()
	if len(tok) == 0 {
		p.pos++ // a lone sign followed by a delimiter; do not loop
		return nil, p.errorf("malformed number")
	}
	isInt := true
	for i, c := range tok {
		if c >= '0' && c <= '9' {
			continue
		}
		if (c == '+' || c == '-') && i == 0 {
			continue
		}
		isInt = false
	}
	if isInt {
		n, err := strconv.ParseInt(string(tok), 10, 64)
		if err != nil {
			// Out-of-range integers become reals, as viewers do.
			f, ferr := strconv.ParseFloat(string(tok), 64)
			if ferr != nil {
				return nil, p.errorf("malformed number %q", truncate(tok))
			}
			return Real(f), nil
		}
		// A reference is "num gen R" with unsigned num and gen.
		if tok[0] != '+' && tok[0] != '-' && n <= 0xFFFFFFFF {
			save := p.pos
			if gen, ok := p.readUint(); ok && gen <= 0xFFFF {
				if p.expectKeyword("R") {
					return Ref{Num: uint32(n), Gen: uint16(gen)}, nil
				}
			}
			p.pos = save
		}
		return Integer(n), nil
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		// Tolerate forms like "--5" or "1.2.3" only as an error, not a guess.
		p.pos = start + len(tok)
		return nil, p.errorf("malformed number %q", truncate(tok))
	}
	return Real(f), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (p *parser) parseName() (Object, error) {
	p.pos++ // '/'
	var out []byte
	for p.pos < len(p.b) && isRegular(p.b[p.pos]) {
		c := p.b[p.pos]
		if c == '#' && p.pos+2 < len(p.b) {
			h, ok1 := unhex(p.b[p.pos+1])
			l, ok2 := unhex(p.b[p.pos+2])
			if ok1 && ok2 {
				out = append(out, h<<4|l)
				p.pos += 3
				continue
			}
		}
		out = append(out, c)
		p.pos++
	}
	return Name(out), nil
}

func (p *parser) parseHex() (Object, error) {
	p.pos++ // '<'
	var out []byte
	var hi byte
	half := false
	for {
		if p.pos >= len(p.b) {
			return nil, p.errorf("unterminated hex string")
		}
		c := p.b[p.pos]
		p.pos++
		if c == '>' {
			break
		}
		if isWS(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return nil, p.errorf("invalid character %q in hex string", c)
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return String(out), nil
}

func (p *parser) parseLiteral() (Object, error) {
	p.pos++ // '('
	var out []byte
	nest := 1
	for {
		if p.pos >= len(p.b) {
			return nil, p.errorf("unterminated string")
		}
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '(':
			nest++
		case ')':
			nest--
			if nest == 0 {
				return String(out), nil
			}
		case '\\':
			if p.pos >= len(p.b) {
				return nil, p.errorf("unterminated string")
			}
			e := p.b[p.pos]
			p.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if p.pos < len(p.b) && p.b[p.pos] == '\n' {
					p.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '7'; i++ {
						v = v*8 + int(p.b[p.pos]-'0')
						p.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
}

func (p *parser) parseDict(depth int) (Object, error) {
	p.pos += 2 // '<<'
	d := Dict{}
	for {
		p.skipWS()
		if p.pos >= len(p.b) {
			return nil, p.errorf("unterminated dictionary")
		}
		if p.b[p.pos] == '>' {
			if p.pos+1 < len(p.b) && p.b[p.pos+1] == '>' {
				p.pos += 2
				return d, nil
			}
			return nil, p.errorf("malformed dictionary end")
		}
		if p.b[p.pos] != '/' {
			return nil, p.errorf("dictionary key is not a name")
		}
		k, _ := p.parseName()
		v, err := p.parseObject(depth + 1)
		if err != nil {
			return nil, err
		}
		key := k.(Name)
		if _, dup := d[key]; dup && p.warn != nil {
			// Viewers disagree on which copy wins; an auditor should know.
			p.warn(fmt.Sprintf("duplicate dictionary key /%s at offset %d", key, p.pos))
		}
		if _, isNull := v.(Null); isNull {
			// A null value is equivalent to an absent key.
			delete(d, key)
			continue
		}
		d[key] = v
	}
}
