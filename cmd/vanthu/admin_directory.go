package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
)

func (a *admin) orgCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "Organisations (cơ quan)", Args: cobra.NoArgs}
	var code, name, parent string
	create := &cobra.Command{
		Use:   "create --code UBND --name NAME [--parent CODE]",
		Short: "Create an organisation; its code goes into document symbols such as 05/QĐ-UBND",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				o := storage.Organization{Code: code, Name: name}
				if parent != "" {
					p, err := e.org(ctx, parent)
					if err != nil {
						return fmt.Errorf("--parent: %w", err)
					}
					o.ParentID = p.ID
				}
				o, err := e.svc.CreateOrganization(ctx, e.op, o)
				if err != nil {
					return err
				}
				return e.printOrgs(ctx, []storage.Organization{o}, o)
			})
		},
	}
	create.Flags().StringVar(&code, "code", "", "code, e.g. UBND")
	create.Flags().StringVar(&name, "name", "", "full name, e.g. \"Ủy ban nhân dân xã A\"")
	create.Flags().StringVar(&parent, "parent", "", "code of the parent organisation")
	list := &cobra.Command{
		Use:   "list",
		Short: "List organisations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				orgs, err := e.svc.Organizations(ctx, e.op)
				if err != nil {
					return err
				}
				return e.printOrgs(ctx, orgs, orgs)
			})
		},
	}
	cmd.AddCommand(create, list, a.orgSigningLevelCmd())
	return cmd
}

func (e *adminEnv) printOrgs(ctx context.Context, orgs []storage.Organization, v any) error {
	codes, err := e.orgCodes(ctx)
	if err != nil {
		return err
	}
	return e.print(v, "CODE\tNAME\tPARENT\tID", func(w io.Writer) {
		for _, o := range orgs {
			parent := ""
			if o.ParentID != "" {
				parent = codes[o.ParentID]
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", o.Code, o.Name, orDash(parent), o.ID)
		}
	})
}

func (a *admin) unitCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "unit", Short: "Units (phòng ban) of an organisation", Args: cobra.NoArgs}
	var org, code, name string
	create := &cobra.Command{
		Use:   "create --org UBND --code VP --name NAME",
		Short: "Create a unit; its code goes into công văn symbols such as 123/UBND-VP",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				o, err := e.org(ctx, org)
				if err != nil {
					return err
				}
				u, err := e.svc.CreateUnit(ctx, e.op, storage.Unit{OrganizationID: o.ID, Code: code, Name: name})
				if err != nil {
					return err
				}
				return e.printUnits([]storage.Unit{u}, u)
			})
		},
	}
	create.Flags().StringVar(&org, "org", "", "organisation code")
	create.Flags().StringVar(&code, "code", "", "unit code, e.g. VP")
	create.Flags().StringVar(&name, "name", "", "unit name, e.g. \"Văn phòng\"")
	var listOrg string
	list := &cobra.Command{
		Use:   "list --org UBND",
		Short: "List an organisation's units",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				o, err := e.org(ctx, listOrg)
				if err != nil {
					return err
				}
				units, err := e.svc.Units(ctx, e.op, o.ID)
				if err != nil {
					return err
				}
				return e.printUnits(units, units)
			})
		},
	}
	list.Flags().StringVar(&listOrg, "org", "", "organisation code")
	cmd.AddCommand(create, list)
	return cmd
}

func (e *adminEnv) printUnits(units []storage.Unit, v any) error {
	return e.print(v, "CODE\tNAME\tID", func(w io.Writer) {
		for _, u := range units {
			fmt.Fprintf(w, "%s\t%s\t%s\n", u.Code, u.Name, u.ID)
		}
	})
}

type userFlags struct {
	org, username, fullName, title string
	units, roles                   []string
	passwordFile                   string
	passwordStdin                  bool
}

func (a *admin) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "User accounts", Args: cobra.NoArgs}
	var f userFlags
	create := &cobra.Command{
		Use:   "create --org UBND --username an --full-name NAME [--title T] [--unit VP ...] --role signer [--role ...] [--password-file F | --password-stdin]",
		Short: "Create a user; without a password they log in only through OpenID Connect or use API tokens",
		Long: "Create a user. Roles: " + strings.Join(storage.AllRoles, ", ") + `.
The password is read from --password-file or from stdin (--password-stdin),
never from a flag; one trailing newline is dropped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.passwordFile != "" && f.passwordStdin {
				return usage("give --password-file or --password-stdin, not both")
			}
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error { return e.createUser(ctx, f) })
		},
	}
	fl := create.Flags()
	fl.StringVar(&f.org, "org", "", "organisation code")
	fl.StringVar(&f.username, "username", "", "login name: 3–64 lower-case letters, digits, dots, hyphens or underscores")
	fl.StringVar(&f.fullName, "full-name", "", "full name, e.g. \"Nguyễn Văn An\"")
	fl.StringVar(&f.title, "title", "", "title (chức vụ), e.g. \"Chủ tịch\"")
	fl.StringArrayVar(&f.units, "unit", nil, "unit code (repeatable)")
	fl.StringSliceVar(&f.roles, "role", nil, "role (repeatable or comma-separated): "+strings.Join(storage.AllRoles, ", "))
	fl.StringVar(&f.passwordFile, "password-file", "", "file holding the password")
	fl.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from stdin")
	var listOrg string
	list := &cobra.Command{
		Use:   "list [--org UBND]",
		Short: "List users, of one organisation or of all",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				orgID := ""
				if listOrg != "" {
					o, err := e.org(ctx, listOrg)
					if err != nil {
						return err
					}
					orgID = o.ID
				}
				users, err := e.svc.Users(ctx, e.op, orgID)
				if err != nil {
					return err
				}
				return e.printUsers(ctx, users, users)
			})
		},
	}
	list.Flags().StringVar(&listOrg, "org", "", "organisation code")
	switchCmd := func(verb string, disabled bool, short string) *cobra.Command {
		return &cobra.Command{
			Use:   verb + " USERNAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
					u, err := e.user(ctx, args[0])
					if err != nil {
						return err
					}
					if _, err := e.svc.SetDisabled(ctx, e.op, u.ID, disabled); err != nil {
						return err
					}
					fmt.Fprintf(e.log, "user %s %sd\n", u.Username, verb)
					return nil
				})
			},
		}
	}
	cmd.AddCommand(create, list,
		switchCmd("disable", true, "Disable an account now: its sessions end and its tokens and password stop working"),
		switchCmd("enable", false, "Enable a disabled account again (its unexpired tokens work again)"))
	return cmd
}

func (e *adminEnv) createUser(ctx context.Context, f userFlags) error {
	o, err := e.org(ctx, f.org)
	if err != nil {
		return err
	}
	n := accounts.NewUser{Username: f.username, FullName: f.fullName, Title: f.title, OrganizationID: o.ID, Roles: f.roles}
	for _, code := range f.units {
		u, err := e.unit(ctx, o.ID, code)
		if err != nil {
			return err
		}
		n.UnitIDs = append(n.UnitIDs, u.ID)
	}
	pw, err := e.readSecret(f.passwordFile, f.passwordStdin)
	if err != nil {
		return fmt.Errorf("password: %w", err)
	}
	n.Password = string(pw)
	clear(pw)
	u, err := e.svc.CreateUser(ctx, e.op, n)
	if err != nil {
		return err
	}
	return e.printUsers(ctx, []storage.User{u}, u)
}

// readSecret reads a password from a file or stdin (nil when neither is
// given). Its errors never contain what was read.
func (e *adminEnv) readSecret(file string, stdin bool) ([]byte, error) {
	switch {
	case file != "":
		return keys.PasswordFromFile(file)()
	case stdin:
		line, err := bufio.NewReader(e.in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			return nil, errors.New("stdin held no password")
		}
		return []byte(line), nil
	}
	return nil, nil
}

func (e *adminEnv) printUsers(ctx context.Context, users []storage.User, v any) error {
	orgs, err := e.orgCodes(ctx)
	if err != nil {
		return err
	}
	var orgIDs []string
	seen := map[string]bool{}
	for _, u := range users {
		if u.OrganizationID != "" && !seen[u.OrganizationID] {
			seen[u.OrganizationID] = true
			orgIDs = append(orgIDs, u.OrganizationID)
		}
	}
	units, err := e.unitCodes(ctx, orgIDs...)
	if err != nil {
		return err
	}
	return e.print(v, "USERNAME\tFULL NAME\tTITLE\tORG\tUNITS\tROLES\tID", func(w io.Writer) {
		for _, u := range users {
			org := orgs[u.OrganizationID]
			if u.IsSuperadmin {
				org = "(superadmin)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.FullName, orDash(u.Title), orDash(org),
				orDash(units.of(u.UnitIDs)), orDash(strings.Join(u.Roles, ",")), u.ID)
		}
	})
}
