package calendar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/storage"
)

// Service keeps the calendar in the database: the system administrator
// sets a year (the holidays are the country's, so one calendar serves
// every organisation), anyone signed in reads it.
type Service struct {
	DB *storage.DB
}

// Load builds the calendar from every stored year, reading through q (a
// transaction's view when a deadline is set inside one).
func Load(ctx context.Context, q storage.Querier) (*Calendar, error) {
	raw, err := storage.CalendarYears(ctx, q)
	if err != nil {
		return nil, err
	}
	return FromStored(raw)
}

// FromStored makes the calendar of the years as stored (CalendarYears or
// QueueCalendarYears).
func FromStored(raw map[int]json.RawMessage) (*Calendar, error) {
	years := map[int]Year{}
	for y, def := range raw {
		var yr Year
		if err := json.Unmarshal(def, &yr); err != nil {
			return nil, fmt.Errorf("calendar %d: stored definition: %w", y, err)
		}
		years[y] = yr
	}
	return New(years)
}

// Year returns a year as set, or DefaultYear when nobody set it (set
// reports which).
func (s *Service) Year(ctx context.Context, p accounts.Principal, year int) (y Year, set bool, err error) {
	if err := accounts.Authorize(p, accounts.CalendarRead, accounts.Target{}); err != nil {
		return Year{}, false, err
	}
	if year < 1970 || year > 9999 {
		return Year{}, false, because(rYear, invalid("year %d is out of range", year), year)
	}
	def, err := storage.CalendarYear(ctx, s.DB.Pool, year)
	if errors.Is(err, storage.ErrNotFound) {
		return DefaultYear(), false, nil
	}
	if err != nil {
		return Year{}, false, err
	}
	if err := json.Unmarshal(def, &y); err != nil {
		return Year{}, false, fmt.Errorf("calendar %d: stored definition: %w", year, err)
	}
	return y, true, nil
}

// SetYear replaces a year's calendar, recorded in the audit log.
func (s *Service) SetYear(ctx context.Context, p accounts.Principal, year int, y Year) (Year, error) {
	if err := accounts.Authorize(p, accounts.CalendarManage, accounts.Target{}); err != nil {
		return Year{}, err
	}
	y, err := Normalize(year, y)
	if err != nil {
		return Year{}, err
	}
	def, err := json.Marshal(y)
	if err != nil {
		return Year{}, err
	}
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if err := storage.PutCalendarYear(ctx, tx, year, def, p.ID); err != nil {
			return err
		}
		e := p.Event("calendar.set", fmt.Sprintf("calendar:%d", year),
			map[string]any{"holidays": len(y.Holidays), "working_days": len(y.WorkingDays), "weekend": y.Weekend})
		e.OrgID = "" // the calendar is the deployment's, not an organisation's
		return audit.Append(ctx, tx, e)
	})
	if err != nil {
		return Year{}, fmt.Errorf("set calendar %d: %w", year, err)
	}
	return y, nil
}
