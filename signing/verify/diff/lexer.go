package diff

import (
	"bytes"
	"strconv"
)

// A small tokenizer for content streams: enough to follow text, images and
// paths. It never fails; what it cannot read it skips and flags as bad.

type tokKind int

const (
	tokNumber tokKind = iota
	tokName
	tokString
	tokArray
	tokDict
	tokOperator
	tokOther
)

type token struct {
	kind  tokKind
	num   float64
	str   string // name (without slash) or operator
	op    string
	bytes []byte
	arr   []token
}

type lexer struct {
	b   []byte
	pos int
	bad bool
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelimiter(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}

func (l *lexer) skip() {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if isSpace(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		return
	}
}

func (l *lexer) next() (token, bool) { return l.token(0) }

func (l *lexer) token(depth int) (token, bool) {
	l.skip()
	if l.pos >= len(l.b) {
		return token{}, false
	}
	if depth > 32 {
		l.bad = true
		return token{}, false
	}
	c := l.b[l.pos]
	switch {
	case c == '/':
		l.pos++
		start := l.pos
		for l.pos < len(l.b) && !isSpace(l.b[l.pos]) && !isDelimiter(l.b[l.pos]) {
			l.pos++
		}
		return token{kind: tokName, str: string(l.b[start:l.pos])}, true
	case c == '(':
		return token{kind: tokString, bytes: l.literal()}, true
	case c == '<' && l.pos+1 < len(l.b) && l.b[l.pos+1] == '<':
		l.pos += 2
		for {
			l.skip()
			if l.pos+1 < len(l.b) && l.b[l.pos] == '>' && l.b[l.pos+1] == '>' {
				l.pos += 2
				return token{kind: tokDict}, true
			}
			if _, ok := l.token(depth + 1); !ok {
				return token{kind: tokDict}, true
			}
		}
	case c == '<':
		return token{kind: tokString, bytes: l.hex()}, true
	case c == '[':
		l.pos++
		t := token{kind: tokArray}
		for {
			l.skip()
			if l.pos >= len(l.b) {
				return t, true
			}
			if l.b[l.pos] == ']' {
				l.pos++
				return t, true
			}
			e, ok := l.token(depth + 1)
			if !ok {
				return t, true
			}
			if len(t.arr) < 10_000 {
				t.arr = append(t.arr, e)
			}
		}
	case c == ']' || c == '>' || c == ')' || c == '{' || c == '}':
		l.pos++
		return token{kind: tokOther}, true
	}
	start := l.pos
	for l.pos < len(l.b) && !isSpace(l.b[l.pos]) && !isDelimiter(l.b[l.pos]) {
		l.pos++
	}
	w := string(l.b[start:l.pos])
	if f, err := strconv.ParseFloat(w, 64); err == nil && (c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9') {
		return token{kind: tokNumber, num: f}, true
	}
	return token{kind: tokOperator, op: w}, true
}

func (l *lexer) literal() []byte {
	l.pos++ // (
	var out []byte
	depth := 1
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '\\':
			if l.pos >= len(l.b) {
				return out
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
			case '\n':
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; k++ {
						v = v*8 + int(l.b[l.pos]-'0')
						l.pos++
					}
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		case '(':
			depth++
			out = append(out, c)
		case ')':
			depth--
			if depth == 0 {
				return out
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

func (l *lexer) hex() []byte {
	l.pos++ // <
	var out []byte
	var hi byte
	half := false
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		if c == '>' {
			break
		}
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			continue
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
	return out
}

// skipInlineImage moves past an inline image's dictionary and data (after
// BI, to just past EI).
func (l *lexer) skipInlineImage() {
	i := bytes.Index(l.b[l.pos:], []byte("ID"))
	if i < 0 {
		l.pos, l.bad = len(l.b), true
		return
	}
	l.pos += i + 3
	for {
		j := bytes.Index(l.b[l.pos:], []byte("EI"))
		if j < 0 {
			l.pos, l.bad = len(l.b), true
			return
		}
		at := l.pos + j
		l.pos = at + 2
		if at > 0 && isSpace(l.b[at-1]) && (l.pos >= len(l.b) || isSpace(l.b[l.pos])) {
			return
		}
	}
}
