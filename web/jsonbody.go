package web

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
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
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, jsonLimit))
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
	return nil
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
