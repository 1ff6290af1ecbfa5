package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// admin holds what every `vanthu admin` subcommand shares: where the
// database is, the directory's configuration, and how to print.
type admin struct {
	cfg      serviceConfig
	json     bool
	operator string // the operating-system account, for the audit log
}

// adminEnv is one subcommand's open connection to the directory.
type adminEnv struct {
	svc      *accounts.Service
	db       *storage.DB
	op       accounts.Principal
	out, log io.Writer
	in       io.Reader
	json     bool
}

func newAdminCmd() *cobra.Command {
	a := &admin{operator: operatorName()}
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage organisations, units, users, tokens, delegations, keys and the working calendar",
		Long: `Manage the directory against the same data directory or database as serve.

With --data-dir and no database URL, a running serve's database is used
(through <data-dir>/database-url); otherwise the embedded PostgreSQL is
started for the command and stopped after it. Every change is made as
operator:<your system account> and recorded in the audit log.

Output is a table; --json prints JSON for scripts. Errors are one line on
stderr with a non-zero exit status. Secrets (passwords, PINs) are read from
files or stdin, never from flags.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRun: func(*cobra.Command, []string) {
			// The embedded database's start-up notes are noise around a
			// table; VANTHU_LOG_LEVEL=info brings them back.
			if os.Getenv("VANTHU_LOG_LEVEL") == "" {
				slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
			}
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&a.cfg.dataDir, "data-dir", envOr("VANTHU_DATA_DIR", "./var"), "serve's data directory: the embedded database, database-url and keystore-key (VANTHU_DATA_DIR)")
	f.StringVar(&a.cfg.databaseURL, "database-url", "", "PostgreSQL URL; empty uses the data directory's database (VANTHU_DATABASE_URL)")
	// The URL may hold a password: from the environment, it never shows in
	// a process list or in --help.
	a.cfg.databaseURL = os.Getenv("VANTHU_DATABASE_URL")
	f.BoolVar(&a.json, "json", false, "print JSON instead of a table")
	a.cfg.accounts.flags(f)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{2, err} })
	cmd.AddCommand(a.orgCmd(), a.unitCmd(), a.userCmd(), a.tokenCmd(), a.delegationCmd(), a.keyCmd(), a.calendarCmd())
	return cmd
}

func init() { rootCmd.AddCommand(newAdminCmd()) }

// operatorName names the person at the terminal for the audit log.
func operatorName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return n
	}
	return "unknown"
}

// usage is an error in how a command was called (exit status 2).
func usage(format string, a ...any) error {
	return &exitError{2, fmt.Errorf(format, a...)}
}

// run opens the database (migrated by openDatabase), builds the directory service and runs
// fn as the operator. Errors are prefixed with the command's path.
func (a *admin) run(cmd *cobra.Command, fn func(ctx context.Context, e *adminEnv) error) error {
	name := strings.TrimPrefix(cmd.CommandPath(), "vanthu ")
	if err := a.runErr(cmd, fn); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return &exitError{ee.code, fmt.Errorf("%s: %w", name, ee.err)}
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (a *admin) runErr(cmd *cobra.Command, fn func(ctx context.Context, e *adminEnv) error) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	url, stop, err := a.openDatabase(ctx)
	if err != nil {
		return err
	}
	defer stop()
	db, err := storage.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	created := !a.cfg.keystoreExists()
	svc, err := a.cfg.accountsService(db)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(cmd.ErrOrStderr(), "created the keystore key %s; serve must use the same one (same --data-dir, or --keystore-key)\n", a.cfg.keystorePath())
	}
	return fn(ctx, &adminEnv{svc: svc, db: db, op: accounts.Operator(a.operator),
		out: cmd.OutOrStdout(), log: cmd.ErrOrStderr(), in: cmd.InOrStdin(), json: a.json})
}

// openDatabase is serve's openDatabase (which migrates, and runs the
// embedded database as the service's role), except that with a data
// directory whose embedded database a running serve already holds, it
// connects to that one as serve does (through the database-url file serve
// wrote) instead of waiting for it.
func (a *admin) openDatabase(ctx context.Context) (string, func(), error) {
	if a.cfg.databaseURL == "" {
		if b, err := os.ReadFile(filepath.Join(a.cfg.dataDir, "database-url")); err == nil {
			url := strings.TrimSpace(string(b))
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			conn, err := pgx.Connect(cctx, url)
			cancel()
			if err == nil {
				conn.Close(ctx)
				slog.Debug("admin: using the running service's database")
				return url, func() {}, nil
			}
		}
	}
	return a.cfg.openDatabase(ctx)
}

// print writes v as JSON with --json, else the table rows gives.
func (e *adminEnv) print(v any, header string, rows func(w io.Writer)) error {
	if e.json {
		enc := json.NewEncoder(e.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	w := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	rows(w)
	return w.Flush()
}

// clean is how the directory normalises what people type (NFC, trimmed).
func clean(s string) string { return strings.TrimSpace(norm.NFC.String(s)) }

func (e *adminEnv) org(ctx context.Context, code string) (storage.Organization, error) {
	o, err := storage.OrganizationByCode(ctx, e.db.Pool, clean(code))
	if errors.Is(err, storage.ErrNotFound) {
		return o, fmt.Errorf("no organisation has the code %q", code)
	}
	return o, err
}

func (e *adminEnv) unit(ctx context.Context, orgID, code string) (storage.Unit, error) {
	u, err := storage.UnitByCode(ctx, e.db.Pool, orgID, clean(code))
	if errors.Is(err, storage.ErrNotFound) {
		return u, fmt.Errorf("the organisation has no unit with the code %q", code)
	}
	return u, err
}

func (e *adminEnv) user(ctx context.Context, username string) (storage.User, error) {
	c, err := storage.UserByUsername(ctx, e.db.Pool, strings.ToLower(clean(username)))
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, fmt.Errorf("no user is named %q", username)
	}
	return c.User, err
}

// revokeCmd is `revoke ID` for a token, a key binding or a delegation: it
// ends now, and its row stays for the record.
func (a *admin) revokeCmd(what string, end func(ctx context.Context, e *adminEnv, id string) error) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a " + what + " now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				if err := end(ctx, e, args[0]); err != nil {
					if errors.Is(err, storage.ErrNotFound) {
						return fmt.Errorf("no %s has the id %q", what, args[0])
					}
					return err
				}
				fmt.Fprintf(e.log, "%s %s revoked\n", what, args[0])
				return nil
			})
		},
	}
}

// names maps ids to what people recognise (codes, usernames) for tables.
type names map[string]string

func (n names) of(ids []string) string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if s, ok := n[id]; ok {
			out = append(out, s)
		} else {
			out = append(out, id)
		}
	}
	return strings.Join(out, ",")
}

func (e *adminEnv) orgCodes(ctx context.Context) (names, error) {
	orgs, err := e.svc.Organizations(ctx, e.op)
	n := names{}
	for _, o := range orgs {
		n[o.ID] = o.Code
	}
	return n, err
}

func (e *adminEnv) unitCodes(ctx context.Context, orgIDs ...string) (names, error) {
	n := names{}
	for _, id := range orgIDs {
		units, err := e.svc.Units(ctx, e.op, id)
		if err != nil {
			return nil, err
		}
		for _, u := range units {
			n[u.ID] = u.Code
		}
	}
	return n, nil
}

var vietnam = time.FixedZone("ICT", 7*3600)

func when(t time.Time) string { return t.In(vietnam).Format("2006-01-02 15:04") }

func whenPtr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return when(*t)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
