package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/storage"
)

func init() {
	var cfg serviceConfig
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database schema migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, stop, err := cfg.openDatabase(cmd.Context())
			if err != nil {
				return err
			}
			defer stop()
			if err := storage.Migrate(cmd.Context(), url); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "migrations applied")
			return nil
		},
	}
	cfg.flags(cmd)
	rootCmd.AddCommand(cmd)
}
