package calendar

import "github.com/vanthu/vanthu/refusal"

// The reasons of this package's refusals that a person can cause and
// correct; web/ui words each in Vietnamese and English (package refusal).
var (
	rYear           = refusal.Name("calendar.year")
	rWeekday        = refusal.Name("calendar.weekday")
	rNoWorkingDay   = refusal.Name("calendar.no-working-day")
	rDateFormat     = refusal.Name("calendar.date-format")
	rDateYear       = refusal.Name("calendar.date-year")
	rDateTwice      = refusal.Name("calendar.date-twice")
	rExtraWorking   = refusal.Name("calendar.extra-working")
	rHolidayWeekend = refusal.Name("calendar.holiday-weekend")
	rHoursFormat    = refusal.Name("calendar.hours-format")
	rHoursOrder     = refusal.Name("calendar.hours-order")
)

// because names err's reason, with the arguments of its wording.
func because(reason refusal.Reason, err error, args ...any) error {
	return refusal.Because(reason, err, args...)
}
