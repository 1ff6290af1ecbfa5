// Package calendar owns working time: which days an office works
// (Monday–Friday unless a year says otherwise, minus public holidays and
// compensating days off, plus working Saturdays), its working hours, and
// the deadline arithmetic every stage, assignment and reminder counts in.
// The calendar is data an administrator sets per year (Tết and the
// compensating days move every year); this package validates it, stores it
// (Service) and computes with it (Calendar).
package calendar

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Vietnam is the offices' time zone; dates and hours are read in it.
var Vietnam = time.FixedZone("ICT", 7*3600)

// Year is one year's working calendar as an administrator sets it.
type Year struct {
	// Weekend lists the weekdays off ("saturday", "sunday" when empty).
	Weekend []string `json:"weekend"`
	// Holidays are days off that would otherwise be worked: public
	// holidays and compensating days off (nghỉ bù).
	Holidays []Day `json:"holidays"`
	// WorkingDays are weekend days worked (làm bù).
	WorkingDays []Day `json:"working_days"`
	// Hours are the working hours of a working day, in order
	// (08:00–12:00 and 13:00–17:00 when empty).
	Hours []Span `json:"hours"`
}

// Day is one date (YYYY-MM-DD) and what it is.
type Day struct {
	Date string `json:"date"`
	Name string `json:"name,omitempty"`
}

// Span is a stretch of working hours, "HH:MM" to "HH:MM".
type Span struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// DefaultYear is a year nobody has set: Saturdays and Sundays off, no
// holidays, eight working hours.
func DefaultYear() Year {
	return Year{Weekend: []string{"saturday", "sunday"}, Holidays: []Day{}, WorkingDays: []Day{},
		Hours: []Span{{"08:00", "12:00"}, {"13:00", "17:00"}}}
}

// ErrInvalid is the error of a year that cannot be a calendar; the
// wrapping message says what is wrong.
var ErrInvalid = errors.New("invalid calendar")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

var weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}

// compiled is a validated year ready for arithmetic.
type compiled struct {
	weekend [7]bool
	off, on map[int]bool // day of year (1-based) off although a weekday, worked although a weekend day
	spans   [][2]int     // minutes after midnight
}

// Normalize validates y as the calendar of year and returns it with its
// defaults filled in and its days in order.
func Normalize(year int, y Year) (Year, error) {
	if _, err := compile(year, &y); err != nil {
		return Year{}, err
	}
	return y, nil
}

func compile(year int, y *Year) (compiled, error) {
	var c compiled
	if year < 1970 || year > 9999 {
		return c, because(rYear, invalid("year %d is out of range", year), year)
	}
	def := DefaultYear()
	if len(y.Weekend) == 0 {
		y.Weekend = def.Weekend
	}
	if len(y.Hours) == 0 {
		y.Hours = def.Hours
	}
	if y.Holidays == nil {
		y.Holidays = []Day{}
	}
	if y.WorkingDays == nil {
		y.WorkingDays = []Day{}
	}
	for i, w := range y.Weekend {
		wd, ok := weekdays[strings.ToLower(strings.TrimSpace(w))]
		if !ok {
			return c, because(rWeekday, invalid("weekend day %q is not a weekday name (monday … sunday)", w), w)
		}
		y.Weekend[i] = strings.ToLower(strings.TrimSpace(w))
		c.weekend[wd] = true
	}
	if len(y.Weekend) == 7 {
		return c, because(rNoWorkingDay, invalid("a week needs at least one working day"))
	}
	c.off, c.on = map[int]bool{}, map[int]bool{}
	seen := map[string]string{}
	read := func(list []Day, what string, into map[int]bool, wantWeekend bool) error {
		for i, d := range list {
			t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(d.Date), Vietnam)
			if err != nil {
				return because(rDateFormat, invalid("%s %q is not a date YYYY-MM-DD", what, d.Date), d.Date)
			}
			if t.Year() != year {
				return because(rDateYear, invalid("%s %s lies outside %d", what, d.Date, year), d.Date, year)
			}
			key := t.Format(time.DateOnly)
			if prev, dup := seen[key]; dup {
				return because(rDateTwice, invalid("%s is listed twice (%s and %s)", key, prev, what), key)
			}
			seen[key] = what
			if c.weekend[t.Weekday()] != wantWeekend {
				if wantWeekend {
					return because(rExtraWorking, invalid("working day %s is a %s, already a working day", key, strings.ToLower(t.Weekday().String())), key)
				}
				return because(rHolidayWeekend, invalid("holiday %s is a %s, already a day off", key, strings.ToLower(t.Weekday().String())), key)
			}
			list[i].Date, list[i].Name = key, strings.TrimSpace(d.Name)
			into[t.YearDay()] = true
		}
		slices.SortFunc(list, func(a, b Day) int { return strings.Compare(a.Date, b.Date) })
		return nil
	}
	if err := read(y.Holidays, "holiday", c.off, false); err != nil {
		return c, err
	}
	if err := read(y.WorkingDays, "working day", c.on, true); err != nil {
		return c, err
	}
	last := -1
	for _, s := range y.Hours {
		a, err1 := minutes(s.Start)
		b, err2 := minutes(s.End)
		if err1 != nil || err2 != nil {
			return c, because(rHoursFormat, invalid("working hours %q–%q: use HH:MM", s.Start, s.End), s.Start, s.End)
		}
		if b <= a || a < last {
			return c, because(rHoursOrder, invalid("working hours must be in order and not overlap (%s–%s)", s.Start, s.End), s.Start, s.End)
		}
		last = b
		c.spans = append(c.spans, [2]int{a, b})
	}
	return c, nil
}

func minutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(hhmm))
	if err != nil {
		if strings.TrimSpace(hhmm) == "24:00" {
			return 24 * 60, nil
		}
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Calendar answers working-time questions across years; a year nobody set
// is DefaultYear.
type Calendar struct {
	years map[int]compiled
}

// New builds a calendar from the years an administrator set.
func New(years map[int]Year) (*Calendar, error) {
	c := &Calendar{years: map[int]compiled{}}
	for year, y := range years {
		cy, err := compile(year, &y)
		if err != nil {
			return nil, fmt.Errorf("calendar %d: %w", year, err)
		}
		c.years[year] = cy
	}
	return c, nil
}

var defaultCompiled = func() compiled {
	y := DefaultYear()
	c, err := compile(2000, &y)
	if err != nil {
		panic(err)
	}
	return c
}()

func (c *Calendar) year(y int) compiled {
	if c != nil {
		if cy, ok := c.years[y]; ok {
			return cy
		}
	}
	return defaultCompiled
}

// IsWorkingDay reports whether the date of t (in Vietnam) is worked.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	t = t.In(Vietnam)
	cy := c.year(t.Year())
	switch {
	case cy.on[t.YearDay()]:
		return true
	case cy.off[t.YearDay()]:
		return false
	}
	return !cy.weekend[t.Weekday()]
}

// midnight is the start of t's day in Vietnam.
func midnight(t time.Time) time.Time {
	t = t.In(Vietnam)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Vietnam)
}

// searchLimit bounds every walk through days: no deadline lies ten years on.
const searchLimit = 3660

// AddDays is the deadline n working days after from: the end of the
// working hours of the nth working day after from's date. With n = 0 it is
// the end of from's own working day, or of the next one when from falls on
// a day off or after hours.
func (c *Calendar) AddDays(from time.Time, n int) time.Time {
	day := midnight(from)
	if n <= 0 {
		for i := 0; i < searchLimit; i++ {
			if c.IsWorkingDay(day) {
				if end := c.dayEnd(day); from.Before(end) {
					return end
				}
			}
			day = day.AddDate(0, 0, 1)
		}
		return day
	}
	for i := 0; i < searchLimit && n > 0; i++ {
		day = day.AddDate(0, 0, 1)
		if c.IsWorkingDay(day) {
			n--
		}
	}
	return c.dayEnd(day)
}

// AddHours is the moment h working hours after from, counting only the
// working hours of working days.
func (c *Calendar) AddHours(from time.Time, h int) time.Time {
	left := time.Duration(h) * time.Hour
	day := midnight(from)
	for i := 0; i < searchLimit; i++ {
		if c.IsWorkingDay(day) {
			for _, s := range c.year(day.Year()).spans {
				start := day.Add(time.Duration(s[0]) * time.Minute)
				end := day.Add(time.Duration(s[1]) * time.Minute)
				if !from.Before(end) {
					continue
				}
				if start.Before(from) {
					start = from
				}
				if avail := end.Sub(start); left <= avail {
					return start.Add(left)
				} else {
					left -= avail
				}
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return day
}

// Due is the deadline of a task started at from that is given days
// working days and hours working hours (both zero: no deadline, nil).
func (c *Calendar) Due(from time.Time, days, hours int) *time.Time {
	if days <= 0 && hours <= 0 {
		return nil
	}
	t := from
	if days > 0 {
		t = c.AddDays(t, days)
	}
	if hours > 0 {
		t = c.AddHours(t, hours)
	}
	t = t.UTC()
	return &t
}

// dayEnd is the end of the last working span of day.
func (c *Calendar) dayEnd(day time.Time) time.Time {
	spans := c.year(day.Year()).spans
	return midnight(day).Add(time.Duration(spans[len(spans)-1][1]) * time.Minute)
}
