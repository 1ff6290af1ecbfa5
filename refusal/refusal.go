// Package refusal owns the names of the refusals a person can cause and
// correct (a return without a comment, a number already taken, a signer
// without a key): a service wraps such a refusal with its Reason and the
// arguments of its wording, and the pages word it in the reader's
// language while the API keeps the refusal's own English detail and adds
// the reason's name for clients that localise.
//
// Every Reason is declared once with Name, at package initialisation, so
// All lists every reason a binary can produce and a test checks that each
// has its wordings; a reason cannot be made up at a call site.
package refusal

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Reason is a stable name of a refusal, such as "chain.return-comment".
// Its zero value names nothing.
type Reason struct{ name string }

// String is the reason's name ("" for the zero Reason).
func (r Reason) String() string { return r.name }

var (
	mu       sync.Mutex
	declared = map[string]bool{}
	// nameFormat keeps names usable as message keys and JSON values:
	// lower-case words joined by hyphens, dotted by package.
	nameFormat = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)*$`)
)

// Name declares a reason. It is called from package-level variables; a
// name declared twice or malformed is a programming error and panics at
// start-up, never at a request.
func Name(name string) Reason {
	if !nameFormat.MatchString(name) {
		panic(fmt.Sprintf("refusal: malformed reason name %q", name))
	}
	mu.Lock()
	defer mu.Unlock()
	if declared[name] {
		panic(fmt.Sprintf("refusal: reason %q declared twice", name))
	}
	declared[name] = true
	return Reason{name: name}
}

// All returns every reason declared in this binary, sorted by name.
func All() []Reason {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Reason, 0, len(declared))
	for n := range declared {
		out = append(out, Reason{name: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// reasoned is a refusal with its reason; its text stays the refusal's
// own, and errors.Is and errors.As see the refusal through it.
type reasoned struct {
	err    error
	reason Reason
	args   []any
}

func (r *reasoned) Error() string { return r.err.Error() }
func (r *reasoned) Unwrap() error { return r.err }

// Because names err's reason, with the arguments the reader's wording
// takes (in this order). A nil err stays nil.
func Because(reason Reason, err error, args ...any) error {
	if err == nil {
		return nil
	}
	return &reasoned{err: err, reason: reason, args: args}
}

// Of returns the reason of err's refusal (the outermost one named) and
// the arguments of its wording; the zero Reason when err names none.
func Of(err error) (Reason, []any) {
	var r *reasoned
	if errors.As(err, &r) {
		return r.reason, r.args
	}
	return Reason{}, nil
}

// Carry gives to the reason of from, if from names one: for a service
// that words another's refusal into its own kind with %v (which drops
// the wrapped error, and with it the reason).
func Carry(from, to error) error {
	if reason, args := Of(from); reason != (Reason{}) {
		return Because(reason, to, args...)
	}
	return to
}

// Term is an argument from a closed vocabulary (a stage kind, a rule, a
// role, a status): the pages show it in the reader's language, by its set
// and value (the message "term.<set>.<value>"), never as the service's
// English identifier. Its String is the identifier, for the service's own
// English detail.
type Term struct{ Set, Value string }

// T is the term value of set.
func T(set, value string) Term { return Term{Set: set, Value: value} }

func (t Term) String() string { return t.Value }

// Terms is a list of terms of one set, shown joined in the reader's
// language.
type Terms []Term

// List is the terms values of set.
func List(set string, values ...string) Terms {
	out := make(Terms, len(values))
	for i, v := range values {
		out[i] = T(set, v)
	}
	return out
}

func (ts Terms) String() string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.Value
	}
	return strings.Join(s, ", ")
}
