package documents

import (
	"errors"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage"
)

// FuzzDecodeCursor: the list's cursor comes back from the client as it
// likes; whatever it sends is a cursor this service made (and reads back
// the same) or the invalid-cursor refusal, never a panic.
func FuzzDecodeCursor(f *testing.F) {
	good := encodeCursor(storage.Cursor{CreatedAt: time.Date(2026, 3, 12, 9, 41, 5, 123, time.UTC), ID: "6f1c1f4e-0000-4000-8000-000000000000"})
	for _, s := range []string{good, "", "garbage", "AA", good[:len(good)-3], "MjAyNi0wMS0wMVQwMDowMDowMFp8eA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidCursor) {
				t.Fatalf("%q: %v is not the invalid-cursor refusal", s, err)
			}
			return
		}
		if !storage.IsUUID(c.ID) {
			t.Fatalf("%q: cursor with id %q", s, c.ID)
		}
	})
}
