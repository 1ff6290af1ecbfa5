package reception

import (
	"strings"
	"testing"
	"time"
)

func TestSplitSymbol(t *testing.T) {
	for _, c := range []struct{ in, number, notation string }{
		{"05/QĐ-UBND", "05", "QĐ-UBND"},
		{" 123/UBND-VP ", "123", "UBND-VP"},
		{"QĐ-UBND", "", "QĐ-UBND"},
		{"17", "17", ""},
		{"", "", ""},
		{"a/b", "", "a/b"},
		{"/QĐ", "", "/QĐ"},
	} {
		if n, s := splitSymbol(c.in); n != c.number || s != c.notation {
			t.Errorf("splitSymbol(%q) = %q, %q; want %q, %q", c.in, n, s, c.number, c.notation)
		}
	}
}

func TestDupKey(t *testing.T) {
	d := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	d2 := time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)
	same := dupKey("Bộ Tài chính", "012", "TT-BTC", &d)
	for _, c := range []struct {
		name string
		key  string
		eq   bool
	}{
		{"case and marks", dupKey("BỘ TÀI CHÍNH", "12", "tt-btc", &d), true},
		{"spaces", dupKey("Bộ  Tài chính ", "12", "TT - BTC", &d), true},
		{"another year", dupKey("Bộ Tài chính", "12", "TT-BTC", &d2), false},
		{"another number", dupKey("Bộ Tài chính", "13", "TT-BTC", &d), false},
		{"another issuer", dupKey("Bộ Tư pháp", "12", "TT-BTC", &d), false},
	} {
		if (c.key == same) != c.eq {
			t.Errorf("%s: %q vs %q", c.name, c.key, same)
		}
	}
	if dupKey("x", "", "CV", &d) != "" || dupKey("x", "0", "CV", &d) != "" || dupKey("x", "1", "CV", nil) != "" {
		t.Error("a document without number or date has a duplicate key")
	}
}

// FuzzSymbol: whatever a clerk types as the symbol, splitting it never
// panics, gives back digits only as the number and loses nothing.
func FuzzSymbol(f *testing.F) {
	for _, s := range []string{"05/QĐ-UBND", "123/UBND-VP", "QĐ", "17", "", "//", "0/", "\xff/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, rest := splitSymbol(s)
		if strings.Trim(n, "0123456789") != "" {
			t.Fatalf("number %q of %q", n, s)
		}
		// Nothing but white space, and a trailing slash after a bare
		// number, is dropped.
		squash := func(v string) string { return strings.TrimSuffix(strings.Join(strings.Fields(v), ""), "/") }
		if got := symbolOf(n, rest); squash(got) != squash(s) {
			t.Fatalf("%q split into %q and %q", s, n, rest)
		}
		d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		_ = dupKey(s, n, rest, &d)
	})
}
