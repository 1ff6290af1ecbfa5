package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// loginAll runs one login per attempt at once and returns their errors.
func loginAll(o *office, attempts []struct{ user, password, address string }) []error {
	errs := make([]error, len(attempts))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, a := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, errs[i] = o.svc.Login(context.Background(), a.user, a.password, a.address)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// Attempts are reserved before the slow hash, so concurrent attempts for
// one username check at most MaxLoginFailures passwords (each checked
// password is one login.failure entry), and those for one address at most
// MaxAddressFailures. Before, the lock was read before hashing and written
// after: 20 concurrent wrong passwords were all checked.
func TestConcurrentLoginsAreCountedBeforeHashing(t *testing.T) {
	o := newOffice(t)
	o.svc.Hashing = accounts.NewHashSlots(2, 1000) // nobody is turned away as busy here
	ctx := context.Background()

	var attempts []struct{ user, password, address string }
	for i := range 20 {
		attempts = append(attempts, struct{ user, password, address string }{"drafter1", "sai mật khẩu rồi", fmt.Sprintf("10.1.0.%d", i)})
	}
	for _, err := range loginAll(o, attempts) {
		var locked *accounts.LockedError
		if !errors.As(err, &locked) && !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("concurrent wrong password: %v", err)
		}
	}
	acts := auditActions(t, o.db)
	if got := count(acts, "login.failure"); got != accounts.MaxLoginFailures {
		t.Fatalf("20 concurrent wrong passwords: %d checked, want %d", got, accounts.MaxLoginFailures)
	}

	// Locked now: the right password, then more wrong ones, all refused;
	// the lock period is audited once, not once per refused attempt.
	for i := range 5 {
		pw := password
		if i > 0 {
			pw = "sai nữa"
		}
		var locked *accounts.LockedError
		if _, _, err := o.svc.Login(ctx, "drafter1", pw, "10.1.1.1"); !errors.As(err, &locked) {
			t.Fatalf("attempt %d while locked: %v", i, err)
		}
	}
	acts = auditActions(t, o.db)
	if count(acts, "login.failure") != accounts.MaxLoginFailures || count(acts, "login.refused") != 1 || count(acts, "login.success") != 0 {
		t.Fatalf("audit after refusals while locked: %v", acts)
	}

	// One address: 40 usernames at once, at most MaxAddressFailures checked.
	attempts = attempts[:0]
	for i := range 40 {
		attempts = append(attempts, struct{ user, password, address string }{fmt.Sprintf("khong-co-%d", i), "sai mật khẩu rồi", "10.2.0.1"})
	}
	before := count(acts, "login.failure")
	loginAll(o, attempts)
	acts = auditActions(t, o.db)
	if got := count(acts, "login.failure") - before; got != accounts.MaxAddressFailures {
		t.Fatalf("40 concurrent logins from one address: %d passwords checked, want %d", got, accounts.MaxAddressFailures)
	}
	// And the address stays locked for a right password too.
	var locked *accounts.LockedError
	if _, _, err := o.svc.Login(ctx, "signer1", password, "10.2.0.1"); !errors.As(err, &locked) {
		t.Fatalf("right password from a locked address: %v", err)
	}
	if _, _, err := o.svc.Login(ctx, "signer1", password, "10.2.0.2"); err != nil {
		t.Fatalf("right password from another address: %v", err)
	}
}

// A success forgets failures but never a lock: before, a right password
// deleted the username's whole throttling row, lock included, so a lock
// set by attempts made meanwhile was gone with it.
func TestSuccessKeepsTheLock(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	l := storage.LoginLimit{Subject: "ip:192.0.2.7", Max: 3, Window: accounts.LoginWindow, Lockout: accounts.LoginLockout}
	settle := func(outcome storage.LoginOutcome) {
		t.Helper()
		err := o.db.InTx(ctx, func(tx pgx.Tx) error {
			_, _, err := storage.SettleLoginAttempt(ctx, tx, l, outcome)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	reserve := func() storage.Reservation {
		t.Helper()
		var r storage.Reservation
		err := o.db.InTx(ctx, func(tx pgx.Tx) (err error) {
			r, err = storage.ReserveLoginAttempt(ctx, tx, l)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Three attempts in flight: the right one and two wrong; a fourth
	// finds every place taken.
	for range 3 {
		if r := reserve(); !r.Admitted {
			t.Fatalf("reservation refused: %+v", r)
		}
	}
	if r := reserve(); r.Admitted || r.LockedUntil == nil {
		t.Fatalf("a fourth attempt in flight was admitted: %+v", r)
	}
	settle(storage.LoginFailed)
	settle(storage.LoginSucceeded) // forgets the one failure
	if r := reserve(); !r.Admitted {
		t.Fatalf("after a success: %+v", r)
	}
	// The two in flight fail, a third failure locks. A success settling
	// after it (an attempt reserved before the window started again) keeps
	// the lock.
	settle(storage.LoginFailed)
	settle(storage.LoginFailed)
	if r := reserve(); !r.Admitted {
		t.Fatalf("reservation refused: %+v", r)
	}
	settle(storage.LoginFailed)
	if r := reserve(); r.Admitted || !r.FirstRefusal {
		t.Fatalf("three failures did not lock: %+v", r)
	}
	settle(storage.LoginSucceeded)
	if r := reserve(); r.Admitted || r.LockedUntil == nil || r.FirstRefusal {
		t.Fatalf("a success lifted the lock: %+v", r)
	}
}

// Password hashes run in a few slots with a short queue; whoever finds
// both full is told at once (ErrBusy) instead of waiting behind them.
func TestHashSlotsBoundWork(t *testing.T) {
	h := accounts.NewHashSlots(2, 3)
	gate := make(chan struct{})
	var entered, done sync.WaitGroup
	var mu sync.Mutex
	busy := 0
	for range 30 {
		entered.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			leave, err := h.Enter()
			entered.Done()
			if err != nil {
				if !errors.Is(err, accounts.ErrBusy) {
					t.Error(err)
				}
				mu.Lock()
				busy++
				mu.Unlock()
				return
			}
			defer leave()
			if err := h.Run(context.Background(), func() { <-gate }); err != nil {
				t.Error(err)
			}
		}()
	}
	entered.Wait()
	close(gate)
	done.Wait()
	st := h.Stats()
	if busy != 25 || st.MaxRunning != 2 || st.MaxAdmitted != 5 || st.Running != 0 || st.Admitted != 0 {
		t.Fatalf("busy %d, stats %+v; want 25 busy, at most 2 running and 5 admitted, none left", busy, st)
	}
	// A waiting caller whose context ends leaves the queue.
	release := make(chan struct{})
	go h.Run(context.Background(), func() { <-release })
	go h.Run(context.Background(), func() { <-release })
	for h.Stats().Running < 2 {
		// both slots taken by the holders above
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Run(ctx, func() { t.Error("ran without a slot") }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	close(release)
}
