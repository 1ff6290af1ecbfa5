package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

func (a *admin) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "API tokens for integrations", Args: cobra.NoArgs}
	var username, name string
	var scopes []string
	var expires time.Duration
	create := &cobra.Command{
		Use:   "create --user an [--name ci] [--scope documents:read ...] [--expires 720h]",
		Short: "Issue an API token; it is printed once, alone on stdout, and only its hash is kept",
		Long: `Issue an API token for a user. The token is printed once on stdout and
nothing else is (its id and details go to stderr, or with --json everything is
one JSON object on stdout). Scopes: * (default), ` + strings.Join(accounts.AllScopes, ", ") + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if expires < 0 {
				return usage("--expires must be positive")
			}
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				u, err := e.user(ctx, username)
				if err != nil {
					return err
				}
				var exp *time.Time
				if expires > 0 {
					t := time.Now().Add(expires)
					exp = &t
				}
				secret, t, err := e.svc.IssueToken(ctx, e.op, u.ID, name, scopes, exp)
				if err != nil {
					return err
				}
				if e.json {
					return json.NewEncoder(e.out).Encode(struct {
						storage.Token
						Secret string `json:"token"`
					}{t, secret})
				}
				fmt.Fprintf(e.log, "token %s for %s, scopes %s, expires %s\n", t.ID, u.Username, strings.Join(t.Scopes, ","), whenPtr(t.ExpiresAt, "never"))
				_, err = fmt.Fprintln(e.out, secret)
				return err
			})
		},
	}
	create.Flags().StringVar(&username, "user", "", "username of the token's owner")
	create.Flags().StringVar(&name, "name", "", "what the token is for, e.g. ci")
	create.Flags().StringSliceVar(&scopes, "scope", nil, "scope (repeatable or comma-separated); default all of the user's rights")
	create.Flags().DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h; default no expiry")
	revoke := a.revokeCmd("token", func(ctx context.Context, e *adminEnv, id string) error { return e.svc.RevokeToken(ctx, e.op, id) })
	var listUser string
	list := &cobra.Command{
		Use:   "list --user an",
		Short: "List a user's tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				u, err := e.user(ctx, listUser)
				if err != nil {
					return err
				}
				tokens, err := e.svc.Tokens(ctx, e.op, u.ID)
				if err != nil {
					return err
				}
				return e.print(tokens, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tREVOKED", func(w io.Writer) {
					for _, t := range tokens {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","), when(t.CreatedAt),
							whenPtr(t.ExpiresAt, "never"), whenPtr(t.RevokedAt, "-"))
					}
				})
			})
		},
	}
	list.Flags().StringVar(&listUser, "user", "", "username")
	cmd.AddCommand(create, revoke, list)
	return cmd
}
