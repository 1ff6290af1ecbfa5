package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/storage"
)

type delegationFlags struct {
	from, to, form, parent, basis string
	types, units                  []string
	fromDate, toDate              string
}

func (a *admin) delegationCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "delegation", Short: "Delegations of signing authority (Decree 30 art. 13)", Args: cobra.NoArgs}
	var f delegationFlags
	create := &cobra.Command{
		Use:   "create --from an --to binh --form KT. [--type QĐ ...] [--unit VP ...] [--parent ID] [--basis TEXT] [--from-date D] --to-date D",
		Short: "Record that one signer may sign for another with an authority form",
		Long: `Record a delegation: --to may sign with --form (TM., KT., Q., TL. or TUQ.) for
--from, for the document types (--type QĐ, default all) and units (--unit VP,
default all) given, from --from-date (default now) until --to-date.

Dates are 2006-01-02 (Vietnam time; --to-date then includes that whole day)
or RFC 3339 (2026-03-31T17:00:00+07:00). A TL. delegation may be passed on
once with --parent; a TUQ. needs --basis (the written authorisation) and may
not be passed on.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start, err := parseDate(f.fromDate, false)
			if err != nil {
				return usage("--from-date: %v", err)
			}
			if f.toDate == "" {
				return usage("--to-date is required: a delegation is for a period")
			}
			end, err := parseDate(f.toDate, true)
			if err != nil {
				return usage("--to-date: %v", err)
			}
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error { return e.createDelegation(ctx, f, start, end) })
		},
	}
	fl := create.Flags()
	fl.StringVar(&f.from, "from", "", "username of the signer whose authority is delegated")
	fl.StringVar(&f.to, "to", "", "username of the signer who receives it")
	fl.StringVar(&f.form, "form", "", "authority form: TM., KT., Q., TL. or TUQ.")
	fl.StringSliceVar(&f.types, "type", nil, "document type abbreviation, e.g. QĐ (repeatable or comma-separated)")
	fl.StringArrayVar(&f.units, "unit", nil, "unit code (repeatable)")
	fl.StringVar(&f.parent, "parent", "", "id of the TL. delegation passed on")
	fl.StringVar(&f.basis, "basis", "", "the written decision or authorisation it rests on")
	fl.StringVar(&f.fromDate, "from-date", "", "start: 2006-01-02 or RFC 3339 (default now)")
	fl.StringVar(&f.toDate, "to-date", "", "end: 2006-01-02 (inclusive) or RFC 3339")
	var listOrg, listUser string
	list := &cobra.Command{
		Use:   "list --org UBND [--user an]",
		Short: "List an organisation's delegations, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				o, err := e.org(ctx, listOrg)
				if err != nil {
					return err
				}
				userID := ""
				if listUser != "" {
					u, err := e.user(ctx, listUser)
					if err != nil {
						return err
					}
					userID = u.ID
				}
				ds, err := e.svc.Delegations(ctx, e.op, o.ID, userID)
				if err != nil {
					return err
				}
				return e.printDelegations(ctx, o.ID, ds, ds)
			})
		},
	}
	list.Flags().StringVar(&listOrg, "org", "", "organisation code")
	list.Flags().StringVar(&listUser, "user", "", "only delegations from or to this username")
	revoke := a.revokeCmd("delegation", func(ctx context.Context, e *adminEnv, id string) error { return e.svc.RevokeDelegation(ctx, e.op, id) })
	revoke.Long = "Revoke a delegation now, and any TL. delegation passed on from it. Documents signed under it before stay valid."
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// parseDate reads 2006-01-02 as a day in Vietnam (its start, or with end
// set the start of the next day, so the day is included) or RFC 3339.
func parseDate(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, vietnam); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("%q is neither 2006-01-02 nor RFC 3339", s)
	}
	return t, nil
}

func (e *adminEnv) createDelegation(ctx context.Context, f delegationFlags, start, end time.Time) error {
	from, err := e.user(ctx, f.from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	to, err := e.user(ctx, f.to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	d := storage.Delegation{FromUser: from.ID, ToUser: to.ID, Form: f.form, DocumentTypes: f.types,
		ParentID: f.parent, Basis: f.basis, StartsAt: start, EndsAt: end}
	for _, code := range f.units {
		u, err := e.unit(ctx, from.OrganizationID, code)
		if err != nil {
			return err
		}
		d.UnitIDs = append(d.UnitIDs, u.ID)
	}
	d, err = e.svc.CreateDelegation(ctx, e.op, d)
	if err != nil {
		return err
	}
	return e.printDelegations(ctx, d.OrganizationID, []storage.Delegation{d}, d)
}

func (e *adminEnv) printDelegations(ctx context.Context, orgID string, ds []storage.Delegation, v any) error {
	users, err := e.svc.Users(ctx, e.op, orgID)
	if err != nil {
		return err
	}
	usernames := names{}
	for _, u := range users {
		usernames[u.ID] = u.Username
	}
	units, err := e.unitCodes(ctx, orgID)
	if err != nil {
		return err
	}
	return e.print(v, "ID\tFROM\tTO\tFORM\tTYPES\tUNITS\tSTARTS\tENDS\tPARENT\tREVOKED", func(w io.Writer) {
		for _, d := range ds {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s.\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, usernames.of([]string{d.FromUser}), usernames.of([]string{d.ToUser}),
				d.Form, orDash(strings.Join(d.DocumentTypes, ",")), orDash(units.of(d.UnitIDs)), when(d.StartsAt), when(d.EndsAt),
				orDash(d.ParentID), whenPtr(d.RevokedAt, "-"))
		}
	})
}
