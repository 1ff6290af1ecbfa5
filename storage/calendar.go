package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CalendarYears reads every year of the working calendar an administrator
// set, as stored JSON by year.
func CalendarYears(ctx context.Context, q Querier) (map[int]json.RawMessage, error) {
	rows, err := q.Query(ctx, "SELECT year, definition FROM calendar_years")
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	defer rows.Close()
	out := map[int]json.RawMessage{}
	for rows.Next() {
		var y int
		var def []byte
		if err := rows.Scan(&y, &def); err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		out[y] = def
	}
	return out, rows.Err()
}

// QueueCalendarYears queues CalendarYears' query on b, the years going to
// out when the batch is read.
func QueueCalendarYears(b *pgx.Batch, out map[int]json.RawMessage) {
	b.Queue("SELECT year, definition FROM calendar_years").Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var y int
			var def []byte
			if err := rows.Scan(&y, &def); err != nil {
				return fmt.Errorf("calendar: %w", err)
			}
			out[y] = def
		}
		return rows.Err()
	})
}

// CalendarYear reads one year's definition, or ErrNotFound.
func CalendarYear(ctx context.Context, q Querier, year int) (json.RawMessage, error) {
	var def []byte
	err := q.QueryRow(ctx, "SELECT definition FROM calendar_years WHERE year = $1", year).Scan(&def)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("calendar %d: %w", year, err)
	}
	return def, nil
}

// PutCalendarYear sets one year's definition; updatedBy is "" for the
// operator.
func PutCalendarYear(ctx context.Context, q Querier, year int, definition []byte, updatedBy string) error {
	_, err := q.Exec(ctx, `
		INSERT INTO calendar_years (year, definition, updated_by) VALUES ($1, $2, $3)
		ON CONFLICT (year) DO UPDATE SET definition = excluded.definition, updated_by = excluded.updated_by, updated_at = now()`,
		year, definition, nullable(updatedBy))
	if err != nil {
		return fmt.Errorf("set calendar %d: %w", year, err)
	}
	return nil
}
