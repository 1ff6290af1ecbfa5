package accounts

import (
	"errors"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/refusal"
)

// TestCheckNewPassword: the rules of a new password, each refusal with its
// reason for the pages' wording.
func TestCheckNewPassword(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		reason         string
	}{
		{"long enough", "mười ký tự!", ""},
		{"ten letters with diacritics count as ten", "đặng thị ả", ""},
		{"nine characters", "123456789", "weak-password"},
		{"empty", "", "weak-password"},
		{"at the byte limit", strings.Repeat("a", MaxPasswordLength), ""},
		{"over the byte limit", strings.Repeat("a", MaxPasswordLength+1), "long-password"},
		{"a NUL", "mật khẩu\x00dài đủ", "password-control"},
		{"a line break", "mật khẩu dài\nđủ", "password-control"},
	} {
		err := CheckNewPassword(tc.password)
		reason, _ := refusal.Of(err)
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.reason != "" && reason.String() != tc.reason:
			t.Errorf("%s: reason %q (%v), want %q", tc.name, reason, err, tc.reason)
		case tc.reason != "":
			var in *InputError
			if !errors.As(err, &in) {
				t.Errorf("%s: %v is no InputError", tc.name, err)
			}
		}
	}
}
