package main

import "github.com/vanthu/vanthu/internal/verifycli"

// Exit statuses of `vanthu verify` (see verifycli).
const (
	exitValid         = verifycli.ExitValid
	exitInvalid       = verifycli.ExitInvalid
	exitIndeterminate = verifycli.ExitIndeterminate
	exitUnsigned      = verifycli.ExitUnsigned
	exitUnreadable    = verifycli.ExitUnreadable
)

func init() {
	rootCmd.AddCommand(verifycli.Command())
}
