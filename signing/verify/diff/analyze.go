package diff

import (
	"errors"

	"github.com/vanthu/vanthu/signing/pdf"
)

// Analyze lists every change made after revision signedRev and clears each
// one by a named rule at level, honouring the field locks.
func Analyze(f *pdf.File, signedRev int, level Level, locks []Lock) (Result, error) {
	return Result{}, errors.New("diff: not implemented yet")
}
