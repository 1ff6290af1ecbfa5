package accounts

import "errors"

// reasoned marks a refusal a person can cause (and correct) with a stable
// reason, so that the pages word it in the reader's language; its text
// stays the refusal's own (the API's English detail), and errors.Is and
// errors.As see the refusal through it.
type reasoned struct {
	err    error
	reason string
	args   []any
}

func (r *reasoned) Error() string { return r.err.Error() }
func (r *reasoned) Unwrap() error { return r.err }

// because names err's reason, with the arguments the reader's wording
// takes (in this order).
func because(reason string, err error, args ...any) error {
	return &reasoned{err: err, reason: reason, args: args}
}

// invalidBecause is invalid with a reason whose wording takes the same
// arguments as format.
func invalidBecause(reason, format string, a ...any) error {
	return because(reason, invalid(format, a...), a...)
}

// refuseBecause is refuse (a refused delegation) with a reason whose
// wording takes the same arguments as format.
func refuseBecause(reason, format string, a ...any) error {
	return because(reason, refuse(format, a...), a...)
}

// Reason returns the reason of err's refusal and the arguments of its
// wording, "" when err names none.
func Reason(err error) (string, []any) {
	var r *reasoned
	if errors.As(err, &r) {
		return r.reason, r.args
	}
	return "", nil
}
