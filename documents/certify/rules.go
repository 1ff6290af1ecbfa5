package certify

import (
	"time"

	"github.com/vanthu/vanthu/documents/calendar"
)

// Fee rates (Circular 226/2016/TT-BTC), in đồng.
const (
	feeFirstPages     = 2000   // each of pages 1 and 2
	feeFurtherPages   = 1000   // each page from page 3
	feeMaxPerCopy     = 200000 // a copy never costs more
	feeFirstPageCount = 2
)

// Fee is what certifying copies copies of an original of pages pages
// costs, in đồng: 2,000 đ a page for pages 1–2, 1,000 đ a page from page
// 3, at most 200,000 đ a copy, times the copies.
func Fee(pages, copies int) int64 {
	if pages <= 0 || copies <= 0 {
		return 0
	}
	first := min(pages, feeFirstPageCount)
	perCopy := int64(first*feeFirstPages + (pages-first)*feeFurtherPages)
	return min(perCopy, feeMaxPerCopy) * int64(copies)
}

// cutoff is the hour after which a request is done the next working day.
const cutoffHour = 15

// Deadline is when a request received at received must be done: the end
// of that working day, or of the next working day when it came after
// 15:00 (Vietnam time) — and of the next working day too when it came on a
// day off.
func Deadline(cal *calendar.Calendar, received time.Time) time.Time {
	local := received.In(Vietnam)
	if local.Hour() >= cutoffHour {
		return cal.AddDays(received, 1)
	}
	return cal.AddDays(received, 0)
}
