package documents

import (
	"errors"
	"fmt"
)

// Kinds of rejected input; the web layer maps them to HTTP statuses and
// problem types.
var (
	ErrEmptyFile       = errors.New("empty file")
	ErrNotPDF          = errors.New("not a PDF")
	ErrEncryptedPDF    = errors.New("encrypted PDF")
	ErrTruncatedPDF    = errors.New("truncated PDF")
	ErrUnparsablePDF   = errors.New("unparsable PDF")
	ErrTooLarge        = errors.New("file too large")
	ErrMissingFile     = errors.New("missing file")
	ErrMalformedBody   = errors.New("malformed request body")
	ErrInvalidField    = errors.New("invalid field")
	ErrNotFound        = errors.New("not found")
	ErrInvalidCursor   = errors.New("invalid cursor")
	ErrIdempotencyUsed = errors.New("idempotency key used for a different request")
	ErrUnknownUnit     = errors.New("unknown unit")
	ErrVersionRefused  = errors.New("no version may be added now")
)

// InputError is a rejected request: Kind says what class of problem, Detail
// says exactly what is wrong in words a clerk can act on.
type InputError struct {
	Kind   error
	Detail string
}

func (e *InputError) Error() string { return fmt.Sprintf("%v: %s", e.Kind, e.Detail) }
func (e *InputError) Unwrap() error { return e.Kind }

func inputError(kind error, detail string) error { return &InputError{Kind: kind, Detail: detail} }
