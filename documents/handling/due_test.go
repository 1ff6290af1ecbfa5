package handling_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/handling"
)

func TestDueJSON(t *testing.T) {
	for _, c := range []struct {
		in   string
		ok   bool
		want handling.Due
	}{
		{`5`, true, handling.Due{Days: 5}},
		{`"2027-02-18"`, true, handling.Due{Date: "2027-02-18"}},
		{`0`, false, handling.Due{}},
		{`366`, false, handling.Due{}},
		{`1.5`, false, handling.Due{}},
		{`"soon"`, false, handling.Due{}},
		{`"2027-02-30"`, false, handling.Due{}},
		{`true`, false, handling.Due{}},
		{`{}`, false, handling.Due{}},
	} {
		var d handling.Due
		err := json.Unmarshal([]byte(c.in), &d)
		if (err == nil) != c.ok || (c.ok && d != c.want) {
			t.Errorf("%s: %+v %v", c.in, d, err)
		}
	}
}

// FuzzDueJSON: any body decodes to a valid deadline or an error, never a panic.
func FuzzDueJSON(f *testing.F) {
	for _, s := range []string{`5`, `"2027-02-18"`, `-1`, `1e9`, `"x"`, `null`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d handling.Due
		if err := json.Unmarshal(b, &d); err != nil {
			return
		}
		if d.Days != 0 && (d.Days < 1 || d.Days > 365) {
			t.Fatalf("%q gave %d days", b, d.Days)
		}
		if d.Date != "" {
			if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
				t.Fatalf("%q gave date %q", b, d.Date)
			}
		}
	})
}
