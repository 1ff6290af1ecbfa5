package certify

import (
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/calendar"
)

func TestFee(t *testing.T) {
	tests := []struct {
		pages, copies int
		want          int64
	}{
		{1, 1, 2000},
		{2, 1, 4000},
		{3, 1, 5000},
		{3, 2, 10000},
		{10, 1, 12000},
		{198, 1, 200000},
		{199, 1, 200000}, // 4,000 + 197,000 = 201,000: the cap
		{500, 3, 600000},
		{0, 1, 0},
		{3, 0, 0},
	}
	for _, tt := range tests {
		if got := Fee(tt.pages, tt.copies); got != tt.want {
			t.Errorf("Fee(%d pages, %d copies) = %d, want %d", tt.pages, tt.copies, got, tt.want)
		}
	}
}

func TestDeadline(t *testing.T) {
	cal, err := calendar.New(nil) // Monday–Friday, the default hours
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, Vietnam)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	day := func(tm time.Time) string { return tm.In(Vietnam).Format("2006-01-02 Mon") }
	tests := []struct {
		received, wantDay string
	}{
		{"2026-11-25 09:00", "2026-11-25 Wed"}, // the same day
		{"2026-11-25 14:59", "2026-11-25 Wed"},
		{"2026-11-25 15:00", "2026-11-26 Thu"}, // after 15:00: the next working day
		{"2026-11-27 16:30", "2026-11-30 Mon"}, // Friday afternoon: Monday
		{"2026-11-28 10:00", "2026-11-30 Mon"}, // Saturday: Monday
	}
	for _, tt := range tests {
		got := Deadline(cal, at(tt.received))
		if day(got) != tt.wantDay {
			t.Errorf("Deadline(%s) = %s, want on %s", tt.received, got.In(Vietnam), tt.wantDay)
		}
		if !got.After(at(tt.received)) {
			t.Errorf("Deadline(%s) = %s is not after it was received", tt.received, got)
		}
	}
}
