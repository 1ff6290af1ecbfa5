package calendar

import (
	"errors"
	"testing"
	"time"
)

// year2025 is 2025 as the government set it: Tết Ất Tỵ from Saturday 25
// January to Sunday 2 February (the weekdays 27–31 January off), 30/4 and
// 1/5 with Friday 2 May off in exchange for Saturday 26 April worked, and
// National Day with Monday 1 September off.
var year2025 = Year{
	Holidays: []Day{
		{"2025-01-01", "Tết Dương lịch"},
		{"2025-01-27", "Tết Nguyên đán"}, {"2025-01-28", "Tết Nguyên đán"}, {"2025-01-29", "Tết Nguyên đán"},
		{"2025-01-30", "Tết Nguyên đán"}, {"2025-01-31", "Tết Nguyên đán"},
		{"2025-04-07", "Giỗ Tổ Hùng Vương"},
		{"2025-04-30", "Ngày Giải phóng miền Nam"}, {"2025-05-01", "Quốc tế Lao động"}, {"2025-05-02", "Nghỉ bù"},
		{"2025-09-01", "Quốc khánh"}, {"2025-09-02", "Quốc khánh"},
	},
	WorkingDays: []Day{{"2025-04-26", "Làm bù cho 02/05"}},
}

// year2026 is the test's 2026: New Year's Day, and Tết Bính Ngọ from
// Saturday 14 to Sunday 22 February.
var year2026 = Year{Holidays: []Day{
	{"2026-01-01", "Tết Dương lịch"},
	{"2026-02-16", "Tết"}, {"2026-02-17", "Tết"}, {"2026-02-18", "Tết"}, {"2026-02-19", "Tết"}, {"2026-02-20", "Tết"},
}}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Vietnam)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDeadlines(t *testing.T) {
	cal, err := New(map[int]Year{2025: year2025, 2026: year2026})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		from        string
		days, hours int
		want        string
	}{
		{"a plain weekday", "2025-03-04 10:00", 1, 0, "2025-03-05 17:00"},
		{"Friday to Monday over the weekend", "2025-03-07 10:00", 1, 0, "2025-03-10 17:00"},
		{"submitted on a Sunday counts from Monday", "2025-03-09 10:00", 1, 0, "2025-03-10 17:00"},
		{"the day before Tết jumps the whole holiday", "2025-01-24 10:00", 1, 0, "2025-02-03 17:00"},
		{"three days across Tết", "2025-01-23 09:00", 3, 0, "2025-02-04 17:00"},
		{"hours across Tết", "2025-01-24 16:00", 0, 2, "2025-02-03 09:00"},
		{"hours skip the lunch break", "2025-03-04 11:00", 0, 2, "2025-03-04 14:00"},
		{"hours before opening start at opening", "2025-03-04 06:00", 0, 1, "2025-03-04 09:00"},
		{"hours after closing go to the next day", "2025-03-04 18:00", 0, 4, "2025-03-05 12:00"},
		{"eight hours is one working day", "2025-03-04 08:00", 0, 8, "2025-03-04 17:00"},
		{"a working Saturday is worked", "2025-04-25 10:00", 1, 0, "2025-04-26 17:00"},
		{"the compensating day off is not", "2025-04-29 10:00", 1, 0, "2025-05-05 17:00"},
		{"same day", "2025-03-04 10:00", 0, 0, ""},
		{"across the new year into the next year's data", "2025-12-31 10:00", 1, 0, "2026-01-02 17:00"},
		{"Tết of the next year", "2026-02-13 15:00", 1, 0, "2026-02-23 17:00"},
		{"a year nobody set has weekends only", "2027-04-30 10:00", 1, 0, "2027-05-03 17:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cal.Due(at(tc.from), tc.days, tc.hours)
			if tc.want == "" {
				if got != nil {
					t.Fatalf("due %v, want none", got)
				}
				return
			}
			if got == nil || !got.Equal(at(tc.want)) {
				t.Fatalf("due %v, want %s", got, tc.want)
			}
			if got.Location() != time.UTC {
				t.Fatalf("due is stored in %v, want UTC", got.Location())
			}
		})
	}
}

func TestWorkingDays(t *testing.T) {
	cal, err := New(map[int]Year{2025: year2025})
	if err != nil {
		t.Fatal(err)
	}
	for day, want := range map[string]bool{
		"2025-01-24": true, "2025-01-27": false, "2025-01-31": false, "2025-02-03": true,
		"2025-04-26": true, "2025-04-27": false, "2025-05-02": false, "2025-09-01": false, "2025-09-03": true,
	} {
		if got := cal.IsWorkingDay(at(day + " 12:00")); got != want {
			t.Errorf("%s worked: %v, want %v", day, got, want)
		}
	}
	// The date is Vietnam's: 23:30 UTC on the 26th is already Monday the 27th there.
	if cal.IsWorkingDay(time.Date(2025, 1, 26, 23, 30, 0, 0, time.UTC)) {
		t.Error("UTC evening of 26 January is Tết in Vietnam")
	}
	if d := cal.AddDays(at("2025-01-31 10:00"), 0); !d.Equal(at("2025-02-03 17:00")) {
		t.Errorf("end of the working day from a holiday: %v", d)
	}
}

func TestInvalidYears(t *testing.T) {
	for _, tc := range []struct {
		name string
		year int
		y    Year
	}{
		{"date outside the year", 2025, Year{Holidays: []Day{{Date: "2026-01-01"}}}},
		{"not a date", 2025, Year{Holidays: []Day{{Date: "30/4"}}}},
		{"holiday on a weekend", 2025, Year{Holidays: []Day{{Date: "2025-01-25"}}}},
		{"working day on a weekday", 2025, Year{WorkingDays: []Day{{Date: "2025-01-24"}}}},
		{"listed twice", 2025, Year{Holidays: []Day{{Date: "2025-01-27"}, {Date: "2025-01-27"}}}},
		{"unknown weekday", 2025, Year{Weekend: []string{"caturday"}}},
		{"no working day at all", 2025, Year{Weekend: []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}}},
		{"hours overlap", 2025, Year{Hours: []Span{{"08:00", "12:00"}, {"11:00", "17:00"}}}},
		{"hours backwards", 2025, Year{Hours: []Span{{"17:00", "08:00"}}}},
		{"year out of range", 12, Year{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Normalize(tc.year, tc.y); !errors.Is(err, ErrInvalid) {
				t.Fatalf("accepted: %v", err)
			}
		})
	}
	y, err := Normalize(2025, Year{Weekend: []string{"Sunday"}, Holidays: []Day{{Date: " 2025-04-30 ", Name: " 30/4 "}}})
	if err != nil || y.Weekend[0] != "sunday" || y.Holidays[0] != (Day{"2025-04-30", "30/4"}) || len(y.Hours) != 2 {
		t.Fatalf("normalised %+v %v", y, err)
	}
}
