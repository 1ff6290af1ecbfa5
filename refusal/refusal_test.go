package refusal

import (
	"errors"
	"fmt"
	"testing"
)

var testReason = Name("refusal.test-reason")

func TestBecauseKeepsTheRefusal(t *testing.T) {
	kind := errors.New("kind")
	err := fmt.Errorf("context: %w", Because(testReason, fmt.Errorf("%w: detail", kind), "a", 2))
	if !errors.Is(err, kind) {
		t.Fatal("errors.Is does not see the refusal through its reason")
	}
	if err.Error() != "context: kind: detail" {
		t.Fatalf("text %q changed", err.Error())
	}
	reason, args := Of(err)
	if reason != testReason || len(args) != 2 || args[0] != "a" || args[1] != 2 {
		t.Fatalf("Of = %v %v", reason, args)
	}
	if reason, _ := Of(kind); reason != (Reason{}) {
		t.Fatalf("an error without a reason names %v", reason)
	}
	if Because(testReason, nil) != nil {
		t.Fatal("a nil error gained a reason")
	}
}

func TestNameRefusesMalformedAndTwice(t *testing.T) {
	for _, name := range []string{"", "Upper", "a b", "a..b", "a.", "-a", "refusal.test-reason"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Name(%q) did not panic", name)
				}
			}()
			Name(name)
		}()
	}
	found := false
	for _, r := range All() {
		found = found || r == testReason
	}
	if !found {
		t.Fatal("All does not list a declared reason")
	}
}

func TestCarryKeepsTheReasonAcrossAFlattenedError(t *testing.T) {
	kind := errors.New("not your turn")
	inner := Because(testReason, errors.New("the chain moved"), "x")
	err := Carry(inner, fmt.Errorf("%w: %v", kind, inner))
	if reason, args := Of(err); reason != testReason || len(args) != 1 || !errors.Is(err, kind) {
		t.Fatalf("Carry lost the reason or the kind: %v %v", reason, args)
	}
	plain := errors.New("plain")
	if Carry(plain, kind) != kind {
		t.Fatal("Carry changed an error without a reason")
	}
}
