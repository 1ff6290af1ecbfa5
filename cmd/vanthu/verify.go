package main

import (
	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/internal/verifycli"
)

// Exit statuses of `vanthu verify` (see verifycli).
const (
	exitValid         = verifycli.ExitValid
	exitInvalid       = verifycli.ExitInvalid
	exitIndeterminate = verifycli.ExitIndeterminate
	exitUnsigned      = verifycli.ExitUnsigned
	exitUnreadable    = verifycli.ExitUnreadable
)

func init() {
	rootCmd.AddCommand(verifyCommand())
}

// verifyCommand is `vanthu verify`, run in this process: online unless
// --offline (this binary links chain/online), and what the small binary
// hands an online verification to.
func verifyCommand() *cobra.Command {
	v := &verifycli.Verify{}
	cmd := &cobra.Command{
		Use:   verifycli.Use,
		Short: verifycli.Short,
		Long:  verifycli.Long,
		RunE: func(cmd *cobra.Command, args []string) error {
			return v.Run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args)
		},
	}
	v.Flags(cmd.Flags())
	return cmd
}
