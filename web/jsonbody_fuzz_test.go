package web

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/register"
)

// goTypeName is how a Go type name would show in an answer's detail.
var goTypeName = regexp.MustCompile(`\b(web|storage|documents|accounts|chain|calendar|register|handling|notify|time|big)\.[A-Za-z]`)

// FuzzDecodeJSON: every JSON route's body goes through decodeJSON into
// its request type; no body may panic it, and a refusal is a malformed-JSON
// problem whose detail is valid UTF-8, says nothing of Go's types and
// echoes no value sent (a password, say) beyond a field's name.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"username":"a","password":"b"}`, `{"roles":["drafter"]}`, `{"kind":"pkcs12","pkcs12":"AAAA","password":"x"}`,
		`{"holidays":[{"date":"2026-04-30","name":"30/4"}]}`, `{"stages":[{"kind":"review"}]}`, `{"recipients":[{"name":"x"}]}`,
		`{"ends_at":"2026-13-45T00:00:00Z"}`, `{"session_id":"x","signature":"!!"}`, `null`, `[]`, `{"roles":{}}`, `{"a":1}{}`, `{"password":"bí mật\u0000"}`} {
		f.Add([]byte(s))
	}
	targets := []func() any{
		func() any { return new(loginRequest) }, func() any { return new(rolesRequest) }, func() any { return new(keyRequest) },
		func() any { return new(userRequest) }, func() any { return new(delegationRequest) }, func() any { return new(completeRequest) },
		func() any { return new(signRequest) }, func() any { return new(calendar.Year) }, func() any { return new(chain.TemplateRequest) },
		func() any { return new(register.IssueRequest) }, func() any { return new(tokenRequest) },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range targets {
			r := httptest.NewRequest("POST", "/api/v1/x", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			err := decodeJSON(httptest.NewRecorder(), r, target())
			if err == nil {
				continue
			}
			var bad *malformedJSON
			if !errors.As(err, &bad) {
				t.Fatalf("%T: %v is not a malformed-JSON refusal", target(), err)
			}
			if m := goTypeName.FindString(bad.detail); m != "" || !utf8.ValidString(bad.detail) {
				t.Fatalf("%T: detail %q names a Go type or is not UTF-8", target(), bad.detail)
			}
			if bytes.Contains(body, []byte(`"bí mật`)) && bytes.Contains([]byte(bad.detail), []byte("bí mật")) {
				t.Fatalf("detail %q echoes a value", bad.detail)
			}
		}
	})
}
