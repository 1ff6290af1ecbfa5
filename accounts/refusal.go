package accounts

import "github.com/vanthu/vanthu/refusal"

// because names err's reason, with the arguments the reader's wording
// takes (in this order); see package refusal.
func because(reason refusal.Reason, err error, args ...any) error {
	return refusal.Because(reason, err, args...)
}

// invalidBecause is invalid with a reason whose wording takes the same
// arguments as format.
func invalidBecause(reason refusal.Reason, format string, a ...any) error {
	return because(reason, invalid(format, a...), a...)
}

// refuseBecause is refuse (a refused delegation) with a reason whose
// wording takes the same arguments as format.
func refuseBecause(reason refusal.Reason, format string, a ...any) error {
	return because(reason, refuse(format, a...), a...)
}

// Reason returns the name of err's reason and the arguments of its
// wording, "" when err names none.
func Reason(err error) (string, []any) {
	r, args := refusal.Of(err)
	return r.String(), args
}
