package pdf

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Ref is an indirect reference: object number and generation.
type Ref struct {
	Num uint32
	Gen uint16
}

func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// Object is one of Null, Bool, Integer, Real, String, Name, Array, Dict,
// *Stream or Ref.
type Object interface{}

type (
	Null    struct{}
	Bool    bool
	Integer int64
	Real    float64
	String  []byte
	Name    string
	Array   []Object
	Dict    map[Name]Object
)

// Stream is a stream object. Its data is not held in memory: Offset and
// Length locate the raw (still encoded) bytes in the file.
type Stream struct {
	Dict   Dict
	Offset int64 // of the raw data in the file
	Length int64 // of the raw data
	Ref    Ref   // the indirect object this stream was read from
}

// Equal reports whether two objects have the same value. Streams are equal
// when their dictionaries are equal and raw is nil or reports equal raw data.
// References are compared as references, not followed.
func Equal(a, b Object, raw func(x, y *Stream) bool) bool {
	return equalDepth(a, b, raw, 0)
}

func equalDepth(a, b Object, raw func(x, y *Stream) bool, depth int) bool {
	if depth > 256 {
		return false
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case Null:
		_, ok := b.(Null)
		return ok
	case Bool:
		y, ok := b.(Bool)
		return ok && x == y
	case Integer:
		switch y := b.(type) {
		case Integer:
			return x == y
		case Real:
			return float64(x) == float64(y)
		}
		return false
	case Real:
		switch y := b.(type) {
		case Integer:
			return float64(x) == float64(y)
		case Real:
			return x == y
		}
		return false
	case String:
		y, ok := b.(String)
		return ok && bytes.Equal(x, y)
	case Name:
		y, ok := b.(Name)
		return ok && x == y
	case Ref:
		y, ok := b.(Ref)
		return ok && x == y
	case Array:
		y, ok := b.(Array)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalDepth(x[i], y[i], raw, depth+1) {
				return false
			}
		}
		return true
	case Dict:
		y, ok := b.(Dict)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalDepth(v, w, raw, depth+1) {
				return false
			}
		}
		return true
	case *Stream:
		y, ok := b.(*Stream)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		if !equalDepth(x.Dict, y.Dict, raw, depth+1) {
			return false
		}
		return raw == nil || raw(x, y)
	}
	return false
}

// Format renders an object in PDF-like syntax for diagnostics, truncated to
// a bounded length so a report never grows without limit.
func Format(o Object) string {
	var sb strings.Builder
	format(&sb, o, 0)
	s := sb.String()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func format(sb *strings.Builder, o Object, depth int) {
	if depth > 8 || sb.Len() > 256 {
		sb.WriteString("…")
		return
	}
	switch x := o.(type) {
	case nil, Null:
		sb.WriteString("null")
	case Bool:
		sb.WriteString(strconv.FormatBool(bool(x)))
	case Integer:
		sb.WriteString(strconv.FormatInt(int64(x), 10))
	case Real:
		sb.WriteString(strconv.FormatFloat(float64(x), 'f', -1, 64))
	case String:
		fmt.Fprintf(sb, "(%q)", []byte(x))
	case Name:
		sb.WriteString("/" + string(x))
	case Ref:
		sb.WriteString(x.String())
	case Array:
		sb.WriteString("[")
		for i, e := range x {
			if i > 0 {
				sb.WriteString(" ")
			}
			format(sb, e, depth+1)
		}
		sb.WriteString("]")
	case Dict:
		sb.WriteString("<<")
		for _, k := range x.Keys() {
			sb.WriteString("/" + string(k) + " ")
			format(sb, x[k], depth+1)
		}
		sb.WriteString(">>")
	case *Stream:
		format(sb, x.Dict, depth)
		sb.WriteString(" stream")
	default:
		fmt.Fprintf(sb, "%T", o)
	}
}

// Keys returns the dictionary's keys in sorted order, so that diagnostics and
// comparisons are deterministic.
func (d Dict) Keys() []Name {
	ks := make([]Name, 0, len(d))
	for k := range d {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// Name returns d[k] if it is a name, else "".
func (d Dict) Name(k Name) Name {
	n, _ := d[k].(Name)
	return n
}

// Int returns d[k] if it is an integer.
func (d Dict) Int(k Name) (int64, bool) {
	i, ok := d[k].(Integer)
	return int64(i), ok
}
