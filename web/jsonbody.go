package web

import (
	"bufio"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// jsonLimit bounds a JSON request body; the largest is a key binding with
// a PKCS#12 file and its certificates.
const jsonLimit = 1 << 20

// malformedJSON is a body that is not the JSON object a route expects
// (HTTP 400); a well-formed request with wrong values is a 422.
type malformedJSON struct{ detail string }

func (e *malformedJSON) Error() string { return "malformed JSON body: " + e.detail }

// decodeJSON reads one JSON object into v, refusing unknown fields,
// trailing data and bodies over jsonLimit.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &malformedJSON{detail: "send the request as application/json"}
		}
	}
	body := bufio.NewReader(http.MaxBytesReader(w, r.Body, jsonLimit))
	// A route's body is an object: null, an array or a bare value would
	// decode into the zero request (null clearing a calendar's holidays,
	// say), so they are refused before decoding.
	if t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		if first, err := firstByte(body); err == nil && first != '{' {
			return &malformedJSON{detail: "the body must be a JSON object"}
		}
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return &malformedJSON{detail: fmt.Sprintf("the body is larger than %d bytes", jsonLimit)}
		case errors.Is(err, io.EOF):
			return &malformedJSON{detail: "the body is empty; send a JSON object"}
		case errors.As(err, &syntax):
			return &malformedJSON{detail: fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)}
		case errors.As(err, &typ):
			if typ.Field == "" {
				return &malformedJSON{detail: "the body must be " + jsonKind(typ.Type)}
			}
			return &malformedJSON{detail: fmt.Sprintf("field %s must be %s", typ.Field, jsonKind(typ.Type))}
		case errors.As(err, new(*time.ParseError)):
			return &malformedJSON{detail: "times are RFC 3339, such as 2026-03-12T09:41:05+07:00"}
		case errors.As(err, new(base64.CorruptInputError)):
			return &malformedJSON{detail: "binary fields (pkcs12) are standard base64"}
		}
		// Unknown fields and other decoding errors name the field, never
		// a value.
		return &malformedJSON{detail: safeDecodeError(err)}
	}
	if dec.More() {
		return &malformedJSON{detail: "the body holds more than one JSON value"}
	}
	// JSON may carry \u0000, which no text column stores: refused here, for
	// every route, rather than by PostgreSQL mid-transaction.
	if hasNUL(reflect.ValueOf(v)) {
		return &malformedJSON{detail: "a text field holds the NUL character (\\u0000), which no field may hold"}
	}
	return nil
}

// firstByte is the first byte of body past JSON's white space, left
// unread.
func firstByte(body *bufio.Reader) (byte, error) {
	for {
		b, err := body.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			body.Discard(1)
			continue
		}
		return b[0], nil
	}
}

// hasNUL reports whether a string anywhere in v holds a NUL character;
// byte slices (files, signatures) may hold any byte.
func hasNUL(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && hasNUL(v.Elem())
	case reflect.String:
		return strings.IndexByte(v.String(), 0) >= 0
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && hasNUL(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return false
		}
		for i := range v.Len() {
			if hasNUL(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if hasNUL(it.Key()) || hasNUL(it.Value()) {
				return true
			}
		}
	}
	return false
}

// jsonKind names what JSON a Go type takes, in the words of JSON (the
// client never sees Go's type names, which say nothing to it and tell
// an attacker about the code).
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a JSON value of another kind"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		if t == reflect.TypeFor[time.Time]() {
			return "an RFC 3339 time string"
		}
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a JSON value of another kind"
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// safeDecodeError keeps the messages of encoding/json that name a field or
// a position; anything else becomes a generic message, so a value (a
// password, say) is never echoed.
func safeDecodeError(err error) string {
	msg := err.Error()
	const unknown = "json: unknown field "
	if len(msg) > len(unknown) && msg[:len(unknown)] == unknown && len(msg) < len(unknown)+80 {
		return "unknown field " + msg[len(unknown):]
	}
	return "the body is not the JSON object this route expects"
}
