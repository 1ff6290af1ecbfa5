package accounts

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("mật khẩu đủ dài")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") || strings.Contains(h, "mật") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := HashPassword("mật khẩu đủ dài")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		hash, password string
		ok             bool
		bad            bool
	}{
		{h, "mật khẩu đủ dài", true, false},
		{h, "mat khau du dai", false, false},
		{h, "", false, false},
		{"$2a$10$bcrypt", "x", false, true},
		{"$argon2id$v=19$m=0,t=3,p=2$c2FsdA$a2V5", "x", false, true},
		{"$argon2id$v=19$m=99999999,t=3,p=2$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5", "x", false, true},
		{strings.Replace(h, "v=19", "v=16", 1), "mật khẩu đủ dài", false, true},
	} {
		ok, err := CheckPassword(tc.hash, tc.password)
		if ok != tc.ok || (err != nil) != tc.bad {
			t.Errorf("CheckPassword(%.30q, %q) = %v, %v", tc.hash, tc.password, ok, err)
		}
	}
	if _, err := HashPassword("ngắn"); err != ErrWeakPassword {
		t.Errorf("short password: %v", err)
	}
}
