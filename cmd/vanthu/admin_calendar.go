package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/documents/calendar"
)

func (a *admin) calendarCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "calendar", Short: "The working calendar: weekends, holidays, compensating days, working hours", Args: cobra.NoArgs}
	var file string
	var holidays, workingDays, weekend []string
	set := &cobra.Command{
		Use:   "set YEAR (--file year.json | [--holiday 2026-02-17=Tết ...] [--working-day 2026-02-07=Làm bù ...] [--weekend saturday,sunday])",
		Short: "Replace a year's working calendar, which every deadline counts in",
		Long: `Replace one year's working calendar. Deadlines count working days (Monday to
Friday unless --weekend says otherwise, minus --holiday days, plus
--working-day weekend days worked) and working hours (08:00–12:00 and
13:00–17:00 unless the file says otherwise).

--file reads the year as JSON ("-" for stdin), as GET /api/v1/calendar/YEAR
shows it: {"weekend": [...], "holidays": [{"date", "name"}],
"working_days": [...], "hours": [{"start": "08:00", "end": "12:00"}]}.
Days are YYYY-MM-DD within YEAR; a holiday must fall on a working weekday, a
working day on a weekend day.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			year, err := strconv.Atoi(args[0])
			if err != nil {
				return usage("YEAR must be a year such as 2026, not %q", args[0])
			}
			var y calendar.Year
			if file != "" {
				if len(holidays)+len(workingDays)+len(weekend) > 0 {
					return usage("give --file or the day flags, not both")
				}
				var r io.Reader = cmd.InOrStdin()
				if file != "-" {
					f, err := os.Open(file)
					if err != nil {
						return err
					}
					defer f.Close()
					r = f
				}
				dec := json.NewDecoder(r)
				dec.DisallowUnknownFields()
				if err := dec.Decode(&y); err != nil {
					return fmt.Errorf("%s: not a calendar year as JSON: %w", file, err)
				}
			} else {
				y.Weekend = weekend
				y.Holidays, y.WorkingDays = days(holidays), days(workingDays)
			}
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				got, err := (&calendar.Service{DB: e.db}).SetYear(ctx, e.op, year, y)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.log, "calendar %d set: %d holidays, %d working weekend days\n", year, len(got.Holidays), len(got.WorkingDays))
				return nil
			})
		},
	}
	f := set.Flags()
	f.StringVar(&file, "file", "", "the year as JSON (- for stdin)")
	f.StringArrayVar(&holidays, "holiday", nil, "a day off, DATE or DATE=name (repeatable)")
	f.StringArrayVar(&workingDays, "working-day", nil, "a weekend day worked, DATE or DATE=name (repeatable)")
	f.StringSliceVar(&weekend, "weekend", nil, "weekdays off (default saturday,sunday)")
	show := &cobra.Command{
		Use:   "show YEAR",
		Short: "Show a year's working calendar (the default when nobody set it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			year, err := strconv.Atoi(args[0])
			if err != nil {
				return usage("YEAR must be a year such as 2026, not %q", args[0])
			}
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				y, isSet, err := (&calendar.Service{DB: e.db}).Year(ctx, e.op, year)
				if err != nil {
					return err
				}
				if !isSet {
					fmt.Fprintf(e.log, "calendar %d was never set: weekends only\n", year)
				}
				return e.print(y, "DATE\tKIND\tNAME", func(w io.Writer) {
					fmt.Fprintf(w, "-\tweekend\t%s\n", strings.Join(y.Weekend, ","))
					for _, s := range y.Hours {
						fmt.Fprintf(w, "-\thours\t%s–%s\n", s.Start, s.End)
					}
					for _, d := range y.Holidays {
						fmt.Fprintf(w, "%s\tholiday\t%s\n", d.Date, orDash(d.Name))
					}
					for _, d := range y.WorkingDays {
						fmt.Fprintf(w, "%s\tworking day\t%s\n", d.Date, orDash(d.Name))
					}
				})
			})
		},
	}
	cmd.AddCommand(set, show)
	return cmd
}

// days reads DATE or DATE=name flags.
func days(flags []string) []calendar.Day {
	out := []calendar.Day{}
	for _, f := range flags {
		date, name, _ := strings.Cut(f, "=")
		out = append(out, calendar.Day{Date: strings.TrimSpace(date), Name: strings.TrimSpace(name)})
	}
	return out
}
