package chain

import (
	"errors"
	"fmt"

	"github.com/vanthu/vanthu/accounts"
)

// ErrConflict is an action the chain's current state does not allow (it
// moved, or never was where the action needs it): HTTP 409 with the state.
var ErrConflict = errors.New("the chain's state does not allow this action")

// ErrInvalid is a request that cannot be carried out as given (HTTP 422);
// the wrapping message says what is wrong.
var ErrInvalid = errors.New("invalid chain request")

// ErrIdempotencyKeyReused is a key sent again with a different request.
var ErrIdempotencyKeyReused = errors.New("idempotency key used for a different request")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

func conflict(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, a...))
}

// forbidden is someone who takes no part in the chain acting on it.
func forbidden(format string, a ...any) error {
	return fmt.Errorf("%w: %s", accounts.ErrForbidden, fmt.Sprintf(format, a...))
}
