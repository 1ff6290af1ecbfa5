package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/documents/docsign"
)

// orgSigningLevelCmd is `vanthu admin org signing-level`: the PAdES level
// of the signatures made in the service for an organisation.
func (a *admin) orgSigningLevelCmd() *cobra.Command {
	var org, level string
	cmd := &cobra.Command{
		Use:   "signing-level --org UBND --level B-LT",
		Short: "Set the PAdES level of the organisation's signatures made in the service (B-T, B-LT or B-LTA)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				o, err := e.org(ctx, org)
				if err != nil {
					return fmt.Errorf("--org: %w", err)
				}
				if err := docsign.SetOrganizationLevel(ctx, e.db, e.op, o.ID, level); err != nil {
					return err
				}
				fmt.Fprintf(e.out, "%s signs at %s\n", o.Code, level)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "organisation code")
	cmd.Flags().StringVar(&level, "level", "B-T", "B-T, B-LT or B-LTA")
	return cmd
}
