package cms

import (
	"errors"
)

// maxBERDepth bounds recursion on hostile input.
const maxBERDepth = 64

// berToDER rewrites indefinite-length encodings as definite ones. It does
// not merge constructed strings; CMS producers that use BER for PDF
// signatures only use indefinite lengths in practice.
func berToDER(b []byte) ([]byte, error) {
	out, n, err := berElem(b, 0)
	if err != nil {
		return nil, err
	}
	// Keep the padding so the caller can still judge what follows.
	return append(out, b[n:]...), nil
}

func berElem(b []byte, depth int) ([]byte, int, error) {
	if depth > maxBERDepth {
		return nil, 0, errors.New("BER nested too deep")
	}
	if len(b) < 2 {
		return nil, 0, errors.New("BER truncated")
	}
	i := 1
	if b[0]&0x1f == 0x1f { // high tag number form
		for i < len(b) && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if i >= len(b) {
		return nil, 0, errors.New("BER truncated tag")
	}
	tag := b[:i]
	constructed := b[0]&0x20 != 0
	l := int(b[i])
	i++
	if l == 0x80 {
		if !constructed {
			return nil, 0, errors.New("indefinite length on a primitive")
		}
		var content []byte
		for {
			if i+2 > len(b) {
				return nil, 0, errors.New("BER missing end-of-contents")
			}
			if b[i] == 0 && b[i+1] == 0 {
				i += 2
				break
			}
			e, n, err := berElem(b[i:], depth+1)
			if err != nil {
				return nil, 0, err
			}
			content = append(content, e...)
			i += n
		}
		return append(append(append([]byte{}, tag...), derLen(len(content))...), content...), i, nil
	}
	if l&0x80 != 0 {
		nb := l & 0x7f
		if nb == 0 || nb > 4 || i+nb > len(b) {
			return nil, 0, errors.New("BER bad length")
		}
		l = 0
		for k := 0; k < nb; k++ {
			l = l<<8 | int(b[i+k])
		}
		i += nb
	}
	if l < 0 || i+l > len(b) {
		return nil, 0, errors.New("BER length beyond data")
	}
	if !constructed {
		return append(append(append([]byte{}, tag...), derLen(l)...), b[i:i+l]...), i + l, nil
	}
	var content []byte
	for j := i; j < i+l; {
		e, n, err := berElem(b[j:i+l], depth+1)
		if err != nil {
			return nil, 0, err
		}
		content = append(content, e...)
		j += n
	}
	return append(append(append([]byte{}, tag...), derLen(len(content))...), content...), i + l, nil
}

func derLen(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	var bs []byte
	for v := n; v > 0; v >>= 8 {
		bs = append([]byte{byte(v)}, bs...)
	}
	return append([]byte{0x80 | byte(len(bs))}, bs...)
}
