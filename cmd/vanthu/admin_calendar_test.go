package main

import (
	"strings"
	"testing"
)

func TestAdminCalendar(t *testing.T) {
	a := newAdminEnv(t)
	if out := a.ok("calendar", "show", "2025"); !strings.Contains(out, "saturday,sunday") {
		t.Fatalf("the default year:\n%s", out)
	}
	a.ok("calendar", "set", "2025", "--holiday", "2025-04-30=Giải phóng miền Nam", "--holiday", "2025-05-02=Nghỉ bù",
		"--working-day", "2025-04-26=Làm bù")
	out := a.ok("calendar", "show", "2025")
	for _, want := range []string{"2025-04-26  working day  Làm bù", "2025-05-02  holiday      Nghỉ bù"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	// From a file, replacing the year.
	file := writeFile(t, "2026.json", `{"holidays": [{"date": "2026-02-17", "name": "Tết"}], "hours": [{"start": "07:30", "end": "11:30"}, {"start": "13:00", "end": "17:00"}]}`)
	a.ok("calendar", "set", "2026", "--file", file)
	var y struct {
		Holidays []struct{ Date string }
		Hours    []struct{ Start string }
	}
	a.okJSON(&y, "calendar", "show", "2026")
	if len(y.Holidays) != 1 || y.Holidays[0].Date != "2026-02-17" || y.Hours[0].Start != "07:30" {
		t.Fatalf("2026: %+v", y)
	}
	for _, args := range [][]string{
		{"calendar", "set", "2025", "--holiday", "2025-04-27"}, // a Sunday
		{"calendar", "set", "2025", "--holiday", "2026-01-01"},
		{"calendar", "set", "năm", "--holiday", "2025-01-01"},
		{"calendar", "set", "2025", "--file", file, "--holiday", "2025-01-01"},
	} {
		if _, _, err := a.run("", args...); err == nil {
			t.Errorf("admin %s succeeded", strings.Join(args, " "))
		}
	}
}
