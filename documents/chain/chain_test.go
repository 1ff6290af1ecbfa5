package chain_test

import (
	"errors"
	"github.com/vanthu/vanthu/refusal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/storage"
)

// reach builds a document in a status, along the standard chain.
func (w *world) reach(status string) storage.Document {
	w.t.Helper()
	d := w.draft()
	if status == documents.StatusDraft {
		return d
	}
	w.submit(d.ID, w.standard())
	switch status {
	case documents.StatusReturned:
		w.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionReturn, Comment: "Sửa căn cứ ban hành"})
	case documents.StatusApproved, documents.StatusSigned, documents.StatusRejected:
		w.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
		w.must("clerk", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
		switch status {
		case documents.StatusSigned:
			if err := w.sign("signer", d.ID, ""); err != nil {
				w.t.Fatal(err)
			}
		case documents.StatusRejected:
			w.must("signer", d.ID, chain.ActionRequest{Action: chain.ActionReject, Comment: "Chưa ban hành lúc này"})
		}
	case documents.StatusWithdrawn:
		w.must("drafter", d.ID, chain.ActionRequest{Action: chain.ActionWithdraw})
	}
	if got := w.status(d.ID); got != status {
		w.t.Fatalf("reached %s, want %s", got, status)
	}
	return d
}

// holder is who holds the current turn in a status.
func holder(status string) string {
	if status == documents.StatusApproved {
		return "signer"
	}
	return "reviewer"
}

// TestStateMachine tries every action in every status, each by the person
// who would take it, and checks it is allowed (and where it leads) or
// refused with its reason.
func TestStateMachine(t *testing.T) {
	w := newWorld(t)
	const ok, conflict = "ok", "conflict"
	statuses := []string{documents.StatusDraft, documents.StatusInReview, documents.StatusReturned, documents.StatusApproved,
		documents.StatusSigned, documents.StatusWithdrawn, documents.StatusRejected}
	type outcome struct{ want, then string } // then: the status after an allowed action ("" = unchanged)
	cases := []struct {
		action string
		do     func(status string, d storage.Document) error
		want   map[string]outcome
	}{
		{"submit", func(_ string, d storage.Document) error {
			_, err := w.svc.Submit(w.ctx, w.p("drafter"), d.ID, chain.SubmitRequest{Definition: w.standard()}, "")
			return err
		}, map[string]outcome{
			documents.StatusDraft: {ok, documents.StatusInReview}, documents.StatusReturned: {ok, documents.StatusInReview},
			documents.StatusWithdrawn: {ok, documents.StatusInReview}}},
		{"approve", func(_ string, d storage.Document) error {
			_, err := w.act("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
			return err
		}, map[string]outcome{documents.StatusInReview: {ok, documents.StatusInReview}}},
		{"return", func(s string, d storage.Document) error {
			_, err := w.act(holder(s), d.ID, chain.ActionRequest{Action: chain.ActionReturn, Comment: "Sửa lại"})
			return err
		}, map[string]outcome{documents.StatusInReview: {ok, documents.StatusReturned}, documents.StatusApproved: {ok, documents.StatusReturned}}},
		{"comment", func(_ string, d storage.Document) error {
			_, err := w.act("drafter", d.ID, chain.ActionRequest{Action: chain.ActionComment, Comment: "Xin giải trình thêm", Page: 1, Rect: []float64{10, 10, 200, 40}})
			return err
		}, map[string]outcome{documents.StatusInReview: {ok, ""}, documents.StatusReturned: {ok, ""}, documents.StatusApproved: {ok, ""}}},
		{"forward", func(s string, d storage.Document) error {
			to := "outsider"
			if s == documents.StatusApproved {
				to = "deputy"
			}
			_, err := w.act(holder(s), d.ID, chain.ActionRequest{Action: chain.ActionForward, ToUserID: w.id(to)})
			return err
		}, map[string]outcome{documents.StatusInReview: {ok, ""}, documents.StatusApproved: {ok, ""}}},
		{"withdraw", func(_ string, d storage.Document) error {
			_, err := w.act("drafter", d.ID, chain.ActionRequest{Action: chain.ActionWithdraw})
			return err
		}, map[string]outcome{documents.StatusInReview: {ok, documents.StatusWithdrawn}, documents.StatusReturned: {ok, documents.StatusWithdrawn},
			documents.StatusApproved: {ok, documents.StatusWithdrawn}}},
		{"reject", func(_ string, d storage.Document) error {
			_, err := w.act("signer", d.ID, chain.ActionRequest{Action: chain.ActionReject, Comment: "Không ký"})
			return err
		}, map[string]outcome{documents.StatusApproved: {ok, documents.StatusRejected}}},
		{"add_consultee", func(s string, d storage.Document) error {
			_, err := w.act(holder(s), d.ID, chain.ActionRequest{Action: chain.ActionAddConsultee, ToUserID: w.id("outsider")})
			return err
		}, map[string]outcome{documents.StatusInReview: {ok, ""}, documents.StatusApproved: {ok, ""}}},
		{"add_signer", func(s string, d storage.Document) error {
			_, err := w.act(holder(s), d.ID, chain.ActionRequest{Action: chain.ActionAddSigner, ToUserID: w.id("signer2")})
			return err
		}, map[string]outcome{documents.StatusInReview: {ok, ""}, documents.StatusApproved: {ok, ""}}},
		{"sign", func(_ string, d storage.Document) error {
			return w.sign("signer", d.ID, "")
		}, map[string]outcome{documents.StatusApproved: {ok, documents.StatusSigned}}},
	}
	for _, c := range cases {
		for _, status := range statuses {
			t.Run(c.action+"/"+status, func(t *testing.T) {
				d := w.reach(status)
				want, allowed := c.want[status]
				err := c.do(status, d)
				if !allowed {
					if !isConflict(err) {
						t.Fatalf("%s in %s: %v, want a conflict with the state", c.action, status, err)
					}
					if !strings.Contains(err.Error(), "draft") && !strings.Contains(err.Error(), status) && !strings.Contains(err.Error(), "turn") {
						t.Errorf("the refusal does not say why: %v", err)
					}
					if got := w.status(d.ID); got != status {
						t.Errorf("a refused %s moved the document to %s", c.action, got)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s in %s: %v", c.action, status, err)
				}
				then := want.then
				if then == "" {
					then = status
				}
				if got := w.status(d.ID); got != then {
					t.Errorf("%s in %s led to %s, want %s", c.action, status, got, then)
				}
			})
		}
	}
}

// Who may act: only the chain's participants (or their delegates), the
// drafter for what is theirs.
func TestWhoMayAct(t *testing.T) {
	w := newWorld(t)
	d := w.reach(documents.StatusInReview)
	for _, tc := range []struct {
		who  string
		req  chain.ActionRequest
		want func(error) bool
	}{
		{"outsider", chain.ActionRequest{Action: chain.ActionApprove}, func(err error) bool { return errors.Is(err, documents.ErrNotFound) }}, // cannot see it
		{"signer2", chain.ActionRequest{Action: chain.ActionApprove}, isForbidden},
		{"signer2", chain.ActionRequest{Action: chain.ActionComment, Comment: "góp ý"}, isForbidden},
		{"reviewer", chain.ActionRequest{Action: chain.ActionWithdraw}, isForbidden},
		{"reviewer", chain.ActionRequest{Action: chain.ActionReturn}, isInvalid}, // without a comment
		{"reviewer", chain.ActionRequest{Action: chain.ActionReturn, Comment: "x", ToStage: "Ký"}, isInvalid},
		{"reviewer", chain.ActionRequest{Action: chain.ActionForward, ToUserID: w.id("clerk")}, isInvalid},   // not a reviewer
		{"reviewer", chain.ActionRequest{Action: chain.ActionForward, ToUserID: w.id("drafter")}, isInvalid}, // the drafter
		{"reviewer", chain.ActionRequest{Action: "sign"}, isInvalid},
		{"reviewer", chain.ActionRequest{Action: "duyet"}, isInvalid},
		{"reviewer", chain.ActionRequest{Action: chain.ActionComment, Comment: "x", Rect: []float64{1, 2, 3, 4}}, isInvalid}, // rect without page
	} {
		if _, err := w.act(tc.who, d.ID, tc.req); !tc.want(err) {
			t.Errorf("%s %s: %v", tc.who, tc.req.Action, err)
		}
	}
	if _, err := w.svc.Submit(w.ctx, w.p("reviewer"), w.draft().ID, chain.SubmitRequest{Definition: w.standard()}, ""); !isForbidden(err) {
		t.Errorf("someone else submits the drafter's document: %v", err)
	}
	w.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
	// The consultee of another unit sees the document through their turn,
	// given when the chain reached the consultation.
	if _, err := w.act("consultee", d.ID, chain.ActionRequest{Action: chain.ActionApprove}); !isInvalid(err) {
		t.Errorf("a consultee approves: %v", err)
	}
	if _, err := w.docs.Get(w.ctx, w.p("consultee"), d.ID); err != nil {
		t.Errorf("the consultee cannot read the document: %v", err)
	}
	w.must("consultee", d.ID, chain.ActionRequest{Action: chain.ActionComment, Comment: "Đồng ý về nội dung"})
	if _, err := w.act("consultee", d.ID, chain.ActionRequest{Action: chain.ActionComment, Comment: "lần nữa"}); !isConflict(err) {
		t.Errorf("a consultee comments twice on one turn: %v", err)
	}
	if status := w.status(d.ID); status != documents.StatusInReview {
		t.Fatalf("status %s", status)
	}
}

// A return to the drafter, a new version, and a resubmission restart the
// chain where the template says, with the earlier comments still shown;
// approvals name the bytes they were given.
func TestReturnNewVersionResubmit(t *testing.T) {
	w := newWorld(t)
	def := w.standard()
	def.RestartFrom = "Thể thức"
	d := w.draft()
	w.submit(d.ID, def)
	// No version while in review.
	if _, err := w.newVersion(d.ID); !errors.Is(err, documents.ErrVersionRefused) {
		t.Fatalf("a version added during review: %v", err)
	}
	w.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
	w.must("clerk", d.ID, chain.ActionRequest{Action: chain.ActionReturn, Comment: "Sai thể thức: thiếu nơi nhận", Page: 1, Rect: []float64{50, 50, 300, 90}})
	if s := w.status(d.ID); s != documents.StatusReturned {
		t.Fatalf("status %s", s)
	}
	inbox, err := w.svc.Inbox(w.ctx, w.p("drafter"), chain.InboxRequest{})
	if err != nil || len(inbox.Items) != 1 || inbox.Items[0].ExpectedAction != "revise" {
		t.Fatalf("the drafter's inbox after a return: %+v %v", inbox, err)
	}
	v2, err := w.newVersion(d.ID)
	if err != nil {
		t.Fatal(err)
	}
	view, err := w.svc.Submit(w.ctx, w.p("drafter"), d.ID, chain.SubmitRequest{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if view.CurrentStage != "Thể thức" || view.Version != 2 || view.VersionSHA256 != v2.SHA256 || view.Round != 2 {
		t.Fatalf("resubmitted at %q, version %d, round %d", view.CurrentStage, view.Version, view.Round)
	}
	if len(view.Comments) != 1 || view.Comments[0].Version != 1 || view.Comments[0].Page != 1 || len(view.Comments[0].Rect) != 4 {
		t.Fatalf("earlier comments: %+v", view.Comments)
	}
	w.must("clerk", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
	hist, err := w.svc.History(w.ctx, w.p("drafter"), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range hist {
		got = append(got, e.Action+"@"+strconv.Itoa(e.Version))
		if !strings.HasSuffix(e.AtDisplay, "+07:00") || e.At.Location() != time.UTC {
			t.Errorf("times %v / %s", e.At, e.AtDisplay)
		}
	}
	want := "submit@1 approve@1 return@1 resubmit@2 approve@2"
	if strings.Join(got, " ") != want {
		t.Fatalf("history %s, want %s", strings.Join(got, " "), want)
	}
	if hist[4].VersionSHA256 != v2.SHA256 {
		t.Fatalf("the approval names %s, not the bytes of version 2", hist[4].VersionSHA256)
	}
}

// A return to a named earlier stage takes it (and what follows) again.
func TestReturnToEarlierStage(t *testing.T) {
	w := newWorld(t)
	d := w.reach(documents.StatusApproved)
	v := w.must("signer", d.ID, chain.ActionRequest{Action: chain.ActionReturn, Comment: "Kiểm tra lại số liệu", ToStage: "Kiểm tra"})
	if v.Status != documents.StatusInReview || v.CurrentStage != "Kiểm tra" {
		t.Fatalf("after a return to Kiểm tra: %s at %q", v.Status, v.CurrentStage)
	}
	w.must("reviewer2", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
	v = w.must("clerk", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
	if v.Status != documents.StatusApproved {
		t.Fatalf("status %s", v.Status)
	}
}

// Rules: all, any and k of n.
func TestRules(t *testing.T) {
	w := newWorld(t)
	w.person("reviewer3", w.vp, storage.RoleReviewer)
	for _, tc := range []struct {
		rule     chain.Rule
		approves int // approvals before the stage passes
	}{{chain.Rule{Kind: "all"}, 3}, {chain.Rule{Kind: "any"}, 1}, {chain.Rule{Kind: "k", K: 2}, 2}} {
		def := chain.Definition{Stages: []chain.StageSpec{
			{Name: "Duyệt", Kind: chain.KindReview, Participants: []chain.Participant{{Role: storage.RoleReviewer, UnitID: w.vp.ID}}, Rule: tc.rule},
			{Name: "Ký", Kind: chain.KindSign, Participants: []chain.Participant{{UserID: w.id("signer")}}},
		}}
		d := w.draft()
		w.submit(d.ID, def)
		for i, who := range []string{"reviewer", "reviewer2", "reviewer3"}[:tc.approves] {
			if s := w.status(d.ID); s != documents.StatusInReview {
				t.Fatalf("rule %v: %s after %d approvals", tc.rule, s, i)
			}
			w.must(who, d.ID, chain.ActionRequest{Action: chain.ActionApprove})
		}
		if s := w.status(d.ID); s != documents.StatusApproved {
			t.Fatalf("rule %v: %s after %d approvals", tc.rule, s, tc.approves)
		}
	}
	d := w.draft()
	_, err := w.svc.Submit(w.ctx, w.p("drafter"), d.ID, chain.SubmitRequest{Definition: chain.Definition{Stages: []chain.StageSpec{
		{Name: "Duyệt", Kind: chain.KindReview, Participants: []chain.Participant{{Role: storage.RoleReviewer, UnitID: chain.DrafterUnit}}, Rule: chain.Rule{Kind: "k", K: 5}},
		{Name: "Ký", Kind: chain.KindSign, Participants: []chain.Participant{{UserID: w.id("signer")}}}}}}, "")
	if !isInvalid(err) || !strings.Contains(err.Error(), "k=5") {
		t.Fatalf("k beyond the participants: %v", err)
	}
}

// Two approvers of an any stage at once: exactly one approval counts, the
// other meets the moved state.
func TestConcurrentApprovers(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 5; i++ {
		d := w.reach(documents.StatusInReview)
		errs := race(func() error {
			_, err := w.act("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
			return err
		}, func() error {
			_, err := w.act("reviewer2", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
			return err
		})
		wins, conflicts := count(errs)
		if wins != 1 || conflicts != 1 {
			t.Fatalf("round %d: %d wins, %d conflicts: %v", i, wins, conflicts, errs)
		}
		hist, _ := w.svc.History(w.ctx, w.p("drafter"), d.ID)
		if n := countAction(hist, "approve"); n != 1 {
			t.Fatalf("%d approvals recorded", n)
		}
	}
}

// Approve against withdraw: one wins, and the other is refused.
func TestApproveAgainstWithdraw(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 5; i++ {
		d := w.draft()
		def := w.standard()
		def.Stages[0].Rule = chain.Rule{Kind: "all"}
		w.submit(d.ID, def)
		w.must("reviewer2", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
		errs := race(func() error {
			_, err := w.act("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
			return err
		}, func() error {
			_, err := w.act("drafter", d.ID, chain.ActionRequest{Action: chain.ActionWithdraw})
			return err
		})
		wins, conflicts := count(errs)
		// Approving first leaves withdraw possible (no signature yet): both may win in that order.
		if errs[1] != nil && wins != 1 {
			t.Fatalf("round %d: %v", i, errs)
		}
		if errs[1] == nil && errs[0] != nil && !isConflict(errs[0]) {
			t.Fatalf("round %d: the approval lost with %v", i, errs[0])
		}
		_ = conflicts
		if s := w.status(d.ID); s != documents.StatusWithdrawn && errs[1] == nil {
			t.Fatalf("withdraw won but the status is %s", s)
		}
	}
	// Against the last signature's turn, withdraw after a signature is refused.
	w2 := w
	d := w2.draft()
	def := w2.standard()
	def.Stages = append(def.Stages, chain.StageSpec{Name: "Ký 2", Kind: chain.KindSign, Participants: []chain.Participant{{UserID: w.id("signer2")}}})
	w2.submit(d.ID, def)
	w2.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
	w2.must("clerk", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
	if err := w2.sign("signer", d.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.act("drafter", d.ID, chain.ActionRequest{Action: chain.ActionWithdraw}); !isConflict(err) {
		t.Fatalf("withdrawn after the first signature: %v", err)
	}
	if _, err := w2.act("signer2", d.ID, chain.ActionRequest{Action: chain.ActionReturn, Comment: "x"}); !isConflict(err) {
		t.Fatalf("returned after the first signature: %v", err)
	}
}

func race(fns ...func() error) []error {
	errs := make([]error, len(fns))
	var start, done sync.WaitGroup
	start.Add(1)
	for i, fn := range fns {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn()
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func count(errs []error) (wins, conflicts int) {
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case isConflict(err):
			conflicts++
		}
	}
	return
}

func countAction(hist []chain.Entry, action string) int {
	n := 0
	for _, e := range hist {
		if e.Action == action {
			n++
		}
	}
	return n
}

// An Idempotency-Key makes a repeated action answer as the first did and
// act once, even when the two requests arrive together.
func TestIdempotency(t *testing.T) {
	w := newWorld(t)
	d := w.reach(documents.StatusInReview)
	req := chain.ActionRequest{Action: chain.ActionComment, Comment: "Ý kiến một lần"}
	errs := race(func() error {
		_, err := w.svc.Act(w.ctx, w.p("reviewer"), d.ID, req, "key-1")
		return err
	}, func() error {
		_, err := w.svc.Act(w.ctx, w.p("reviewer"), d.ID, req, "key-1")
		return err
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("%v", errs)
	}
	first, err := w.svc.Act(w.ctx, w.p("reviewer"), d.ID, req, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	hist, _ := w.svc.History(w.ctx, w.p("drafter"), d.ID)
	if n := countAction(hist, "comment"); n != 1 || len(first.Comments) != 1 {
		t.Fatalf("%d comments recorded, view shows %d", n, len(first.Comments))
	}
	// An approval repeated after the chain moved answers the first answer.
	a1, err := w.svc.Act(w.ctx, w.p("reviewer"), d.ID, chain.ActionRequest{Action: chain.ActionApprove}, "key-2")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := w.svc.Act(w.ctx, w.p("reviewer"), d.ID, chain.ActionRequest{Action: chain.ActionApprove}, "key-2")
	if err != nil || a2.CurrentStage != a1.CurrentStage || a2.Round != a1.Round {
		t.Fatalf("replay %+v %v", a2, err)
	}
	if _, err := w.svc.Act(w.ctx, w.p("reviewer"), d.ID, chain.ActionRequest{Action: chain.ActionComment, Comment: "khác"}, "key-2"); !errors.Is(err, chain.ErrIdempotencyKeyReused) {
		t.Fatalf("a key reused for another request: %v", err)
	}
}

// The signing turns: who may begin, what a begun signature holds back,
// and where the last signature leads.
func TestSigningTurns(t *testing.T) {
	w := newWorld(t)
	w.clock = time.Now().UTC() // the reservation is checked against the real clock by documents
	d := w.reach(documents.StatusApproved)
	for _, who := range []string{"reviewer", "clerk"} {
		if err := w.sign(who, d.ID, ""); err == nil {
			t.Fatalf("%s signed", who)
		}
	}
	if err := w.sign("signer2", d.ID, ""); !isForbidden(err) {
		t.Fatalf("someone outside the chain signed: %v", err)
	}
	// Begin (as a desk-token prepare does) and leave it open.
	tx, err := w.db.Pool.Begin(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	turn, err := w.svc.BeginSign(w.ctx, tx, w.p("signer"), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(w.ctx); err != nil {
		t.Fatal(err)
	}
	if turn.Version != 1 || turn.TurnOf != w.id("signer") || len(turn.VersionSHA256) != 64 {
		t.Fatalf("turn %+v", turn)
	}
	if _, err := w.newVersion(d.ID); !errors.Is(err, documents.ErrVersionRefused) || !strings.Contains(err.Error(), "being made") {
		t.Fatalf("a version added while signing: %v", err)
	}
	if err := w.sign("deputy", d.ID, "KT."); !isConflict(err) {
		t.Fatalf("a second signature begun meanwhile: %v", err)
	}
	if _, err := w.act("drafter", d.ID, chain.ActionRequest{Action: chain.ActionWithdraw}); !isConflict(err) {
		t.Fatalf("withdrawn while signing: %v", err)
	}
	// The signer begins again (a retry after a crash) and finishes.
	if err := w.sign("signer", d.ID, ""); err != nil {
		t.Fatal(err)
	}
	if s := w.status(d.ID); s != documents.StatusSigned {
		t.Fatalf("status %s after the last signature", s)
	}
	if _, err := w.newVersion(d.ID); !errors.Is(err, documents.ErrVersionRefused) || !strings.Contains(err.Error(), "signed") {
		t.Fatalf("an unsigned version over a signed one: %v", err)
	}
	hist, _ := w.svc.History(w.ctx, w.p("drafter"), d.ID)
	last := hist[len(hist)-1]
	if last.Action != "sign" || last.Version != 2 || last.ActorID != w.id("signer") {
		t.Fatalf("last entry %+v", last)
	}
	// Signed twice (a second click, a page left open): refused as done,
	// not as "wait for the stages before signing".
	err = w.sign("signer", d.ID, "")
	if r, _ := refusal.Of(err); !isConflict(err) || r.String() != "chain.sign-done" {
		t.Fatalf("signed twice: %v (reason %v)", err, r)
	}
	inbox, _ := w.svc.Inbox(w.ctx, w.p("signer"), chain.InboxRequest{View: chain.ViewHandled})
	if inbox.Counts.Open != 0 || inbox.Counts.Handled != 1 || len(inbox.Items) != 1 || inbox.Items[0].Outcome != "sign" {
		t.Fatalf("the signer's inbox %+v", inbox)
	}
}

// A signing turn handed to a deputy is signed KT. on the head's behalf; a
// valid delegate may also sign without the hand-over.
func TestDeputySigns(t *testing.T) {
	w := newWorld(t)
	d := w.reach(documents.StatusApproved)
	w.must("signer", d.ID, chain.ActionRequest{Action: chain.ActionForward, ToUserID: w.id("deputy"), Comment: "Đi công tác"})
	if _, err := w.act("signer", d.ID, chain.ActionRequest{Action: chain.ActionReject, Comment: "x"}); !isConflict(err) {
		t.Fatalf("the head acted on a turn handed over: %v", err)
	}
	if err := w.sign("deputy", d.ID, "KT."); err != nil {
		t.Fatal(err)
	}
	hist, _ := w.svc.History(w.ctx, w.p("drafter"), d.ID)
	last := hist[len(hist)-1]
	if last.AuthorityForm != "KT." || last.OnBehalfOfID != w.id("signer") || last.ActorID != w.id("deputy") {
		t.Fatalf("the deputy's signature: %+v", last)
	}
	fwd := hist[len(hist)-2]
	if fwd.Action != "forward" || fwd.ToUserID != w.id("deputy") {
		t.Fatalf("the hand-over: %+v", fwd)
	}

	d2 := w.reach(documents.StatusApproved)
	if err := w.db.InTx(w.ctx, func(tx pgxTx) error {
		turn, err := w.svc.BeginSign(w.ctx, tx, w.p("deputy"), d2.ID)
		if err == nil && turn.TurnOf != w.id("signer") {
			t.Errorf("the delegate's turn is of %s", turn.TurnOf)
		}
		return err
	}); err != nil {
		t.Fatalf("a valid delegate begins the head's signature: %v", err)
	}
	// A signing turn is handed only to a deputy.
	if _, err := w.act("signer", d2.ID, chain.ActionRequest{Action: chain.ActionForward, ToUserID: w.id("signer2")}); !isInvalid(err) {
		t.Fatalf("a signing turn handed to someone without a delegation: %v", err)
	}
}

// Added signers sign after the template's; added consultees do not block.
func TestAddedSignerAndConsultee(t *testing.T) {
	w := newWorld(t)
	d := w.reach(documents.StatusInReview)
	w.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionAddConsultee, ToUserID: w.id("outsider")})
	w.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionAddSigner, ToUserID: w.id("signer2")})
	w.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
	w.must("clerk", d.ID, chain.ActionRequest{Action: chain.ActionApprove})
	if err := w.sign("signer", d.ID, ""); err != nil {
		t.Fatal(err)
	}
	if s := w.status(d.ID); s != documents.StatusApproved {
		t.Fatalf("status %s with the added signer still to sign", s)
	}
	if err := w.sign("signer2", d.ID, ""); err != nil {
		t.Fatal(err)
	}
	if s := w.status(d.ID); s != documents.StatusSigned {
		t.Fatalf("status %s", s)
	}
	// A template that does not allow it refuses.
	def := w.standard()
	def.AllowAddedSigners, def.AllowAddedConsultees = false, false
	d2 := w.draft()
	w.submit(d2.ID, def)
	for _, a := range []string{chain.ActionAddSigner, chain.ActionAddConsultee} {
		if _, err := w.act("reviewer", d2.ID, chain.ActionRequest{Action: a, ToUserID: w.id("signer2")}); !isInvalid(err) {
			t.Fatalf("%s not allowed: %v", a, err)
		}
	}
}

// Templates are versioned: a chain in flight keeps its version.
func TestTemplateVersions(t *testing.T) {
	w := newWorld(t)
	v1 := w.template("Quyết định", w.standard())
	d1 := w.draft()
	if _, err := w.svc.Submit(w.ctx, w.p("drafter"), d1.ID, chain.SubmitRequest{TemplateID: v1.ID}, ""); err != nil {
		t.Fatal(err)
	}
	short := chain.Definition{Stages: []chain.StageSpec{{Name: "Ký", Kind: chain.KindSign, Participants: []chain.Participant{{UserID: w.id("signer")}}}}}
	v2 := w.template("Quyết định", short)
	if v2.ID != v1.ID || v2.Version != 2 {
		t.Fatalf("second version: %s v%d", v2.ID, v2.Version)
	}
	d2 := w.draft()
	view2, err := w.svc.Submit(w.ctx, w.p("drafter"), d2.ID, chain.SubmitRequest{TemplateID: v1.ID}, "")
	if err != nil || view2.TemplateVersion != 2 || len(view2.Stages) != 1 || view2.Status != documents.StatusApproved {
		t.Fatalf("submitted with v2: %+v %v", view2, err)
	}
	view1, err := w.svc.Chain(w.ctx, w.p("drafter"), d1.ID)
	if err != nil || view1.TemplateVersion != 1 || len(view1.Stages) != 4 {
		t.Fatalf("the chain in flight: v%d with %d stages %v", view1.TemplateVersion, len(view1.Stages), err)
	}
	list, err := w.svc.Templates(w.ctx, w.p("drafter"), "QĐ", "")
	if err != nil || len(list) != 1 || list[0].Version != 2 {
		t.Fatalf("templates %+v %v", list, err)
	}
	// Bad templates are refused with the reason.
	for name, def := range map[string]chain.Definition{
		"no sign stage":       {Stages: []chain.StageSpec{{Name: "A", Kind: chain.KindReview, Participants: []chain.Participant{{UserID: w.id("reviewer")}}}}},
		"review after a sign": {Stages: []chain.StageSpec{short.Stages[0], {Name: "B", Kind: chain.KindReview, Participants: []chain.Participant{{UserID: w.id("reviewer")}}}}},
		"wrong role for sign": {Stages: []chain.StageSpec{{Name: "Ký", Kind: chain.KindSign, Participants: []chain.Participant{{UserID: w.id("clerk")}}}}},
		"unknown kind":        {Stages: []chain.StageSpec{{Name: "Ký", Kind: "duyet", Participants: []chain.Participant{{UserID: w.id("signer")}}}}},
		"blocking on review":  {Stages: []chain.StageSpec{{Name: "A", Kind: chain.KindReview, Blocking: yes(), Participants: []chain.Participant{{UserID: w.id("reviewer")}}}, short.Stages[0]}},
	} {
		if _, err := w.svc.CreateTemplate(w.ctx, w.p("admin"), chain.TemplateRequest{Name: name, Definition: def}); !isInvalid(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := w.svc.CreateTemplate(w.ctx, w.p("drafter"), chain.TemplateRequest{Name: "x", Definition: short}); !isForbidden(err) {
		t.Errorf("a drafter made a template: %v", err)
	}
}

// Deadlines count working time in the calendar; the inbox counts what is
// waiting, due soon, overdue and handled, and pages by keyset.
func TestInboxAndDeadlines(t *testing.T) {
	w := newWorld(t)
	cal := &calendar.Service{DB: w.db}
	root, err := storage.CreateUser(w.ctx, w.db.Pool, storage.User{Username: "root", FullName: "Quản trị", IsSuperadmin: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	// Wednesday 5 March 2025 is made a holiday: a 2-day deadline from
	// Tuesday 16:00 lands on Friday's close.
	if _, err := cal.SetYear(w.ctx, principal(root), 2025, calendar.Year{Holidays: []calendar.Day{{Date: "2025-03-05", Name: "thử"}}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, w.reach(documents.StatusInReview).ID)
		w.advance(time.Minute)
	}
	page, err := w.svc.Inbox(w.ctx, w.p("reviewer"), chain.InboxRequest{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	wantDue := time.Date(2025, 3, 7, 17, 0, 0, 0, calendar.Vietnam)
	if len(page.Items) != 2 || page.Items[0].Due == nil || !page.Items[0].Due.Equal(wantDue) || page.Items[0].DueDisplay != "2025-03-07T17:00:00+07:00" {
		t.Fatalf("first page %+v", page.Items)
	}
	if page.Counts.Open != 5 || page.Counts.Overdue != 0 || page.Counts.DueSoon != 0 {
		t.Fatalf("counts %+v", page.Counts)
	}
	seen := map[string]bool{}
	for {
		for _, it := range page.Items {
			if seen[it.Document.ID] {
				t.Fatalf("document %s twice", it.Document.ID)
			}
			seen[it.Document.ID] = true
			if it.Stage != "Kiểm tra" || it.ExpectedAction != "approve" {
				t.Fatalf("entry %+v", it)
			}
		}
		if page.NextCursor == "" {
			break
		}
		if page, err = w.svc.Inbox(w.ctx, w.p("reviewer"), chain.InboxRequest{Limit: 2, Cursor: page.NextCursor}); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 5 {
		t.Fatalf("pages held %d documents", len(seen))
	}
	if ids[4] != firstDoc(t, w, "reviewer") {
		t.Fatalf("the newest is not first")
	}
	w.must("reviewer", ids[0], chain.ActionRequest{Action: chain.ActionApprove})
	w.advance(3 * 24 * time.Hour) // Friday 16:00: due within the working day
	page, _ = w.svc.Inbox(w.ctx, w.p("reviewer"), chain.InboxRequest{View: chain.ViewDueSoon})
	if page.Counts.Open != 4 || page.Counts.DueSoon != 4 || page.Counts.Handled != 1 || len(page.Items) != 4 {
		t.Fatalf("due soon: %+v", page.Counts)
	}
	w.advance(24 * time.Hour)
	page, _ = w.svc.Inbox(w.ctx, w.p("reviewer"), chain.InboxRequest{View: chain.ViewOverdue})
	if page.Counts.Overdue != 4 || len(page.Items) != 4 || !page.Items[0].Overdue {
		t.Fatalf("overdue: %+v", page)
	}
	page, _ = w.svc.Inbox(w.ctx, w.p("reviewer2"), chain.InboxRequest{})
	if page.Counts.Open != 4 {
		t.Fatalf("the other reviewer of the any stage: %+v", page.Counts)
	}
	if _, err := w.svc.Inbox(w.ctx, w.p("reviewer"), chain.InboxRequest{View: "all"}); !isInvalid(err) {
		t.Fatalf("an unknown view: %v", err)
	}
	if _, err := w.svc.Inbox(w.ctx, w.p("reviewer"), chain.InboxRequest{Cursor: "bm9uc2Vuc2V8eA"}); !isInvalid(err) {
		t.Fatalf("a forged cursor: %v", err)
	}
	// The status filter: known statuses list, unknown ones are refused.
	docs, _, err := w.docs.List(w.ctx, w.p("drafter"), documents.Filter{Status: documents.StatusInReview})
	if err != nil || len(docs) != 5 {
		t.Fatalf("in review: %d %v", len(docs), err)
	}
	if _, _, err := w.docs.List(w.ctx, w.p("drafter"), documents.Filter{Status: "dang_xu_ly"}); !errors.Is(err, documents.ErrInvalidField) {
		t.Fatalf("an unknown status: %v", err)
	}
}

func firstDoc(t *testing.T, w *world, who string) string {
	page, err := w.svc.Inbox(w.ctx, w.p(who), chain.InboxRequest{Limit: 1})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("%+v %v", page, err)
	}
	return page.Items[0].Document.ID
}

// A signature begun and abandoned (a crash, a desk-token session never
// completed) holds the turn only for the reservation: after it, the
// holder's delegate may begin, and the document takes the signature.
func TestAbandonedSignatureLapses(t *testing.T) {
	w := newWorld(t)
	d := w.reach(documents.StatusApproved)
	tx, err := w.db.Pool.Begin(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.BeginSign(w.ctx, tx, w.p("signer"), d.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(w.ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.sign("deputy", d.ID, "KT."); !isConflict(err) {
		t.Fatalf("begun while reserved: %v", err)
	}
	w.advance(chain.SignReservation + time.Second)
	if err := w.sign("deputy", d.ID, "KT."); err != nil {
		t.Fatalf("after the reservation lapsed: %v", err)
	}
	if s := w.status(d.ID); s != documents.StatusSigned {
		t.Fatalf("status %s", s)
	}
	// A chain naming the drafter as a participant is refused.
	def := w.standard()
	def.Stages[0].Participants = []chain.Participant{{UserID: w.id("drafter")}}
	if _, err := w.svc.Submit(w.ctx, w.p("drafter"), w.draft().ID, chain.SubmitRequest{Definition: def}, ""); !isInvalid(err) {
		t.Fatalf("the drafter reviews their own draft: %v", err)
	}
}

// TestDelegatesSeeDelegatedTurns: a delegate's inbox (and its counts)
// holds the turns of those who delegated to them while the delegation is
// valid and within its document types and units, each marked as on the
// delegator's behalf with the form they would sign under; the turn leaves
// it once taken.
func TestDelegatesSeeDelegatedTurns(t *testing.T) {
	w := newWorld(t)
	d := w.reach(documents.StatusApproved) // the signer's turn to sign
	inbox := func(who, view string) chain.InboxPage {
		t.Helper()
		page, err := w.svc.Inbox(w.ctx, w.p(who), chain.InboxRequest{View: view})
		if err != nil {
			t.Fatal(err)
		}
		return page
	}
	// The deputy holds a KT. delegation from the signer for every type and unit.
	page := inbox("deputy", chain.ViewOpen)
	if len(page.Items) != 1 || page.Items[0].Document.ID != d.ID || page.Counts.Open != 1 {
		t.Fatalf("deputy's inbox %+v counts %+v", page.Items, page.Counts)
	}
	if b := page.Items[0].OnBehalfOf; b == nil || b.UserID != w.id("signer") || b.Name != w.p("signer").FullName || b.AuthorityForm != accounts.FormDeputy {
		t.Fatalf("on behalf of %+v", page.Items[0].OnBehalfOf)
	}
	if own := inbox("signer", chain.ViewOpen); len(own.Items) != 1 || own.Items[0].OnBehalfOf != nil || own.Counts.Open != 1 {
		t.Fatalf("signer's own inbox %+v", own.Items)
	}
	// Only what waits: the signer's handled turns stay theirs.
	if h := inbox("deputy", chain.ViewHandled); len(h.Items) != 0 || h.Counts.Handled != 0 {
		t.Fatalf("deputy's handled view %+v counts %+v", h.Items, h.Counts)
	}

	// signer2's turns reach deputy2 only through a delegation that is
	// valid now and takes in the document (QĐ of VP).
	w.person("deputy2", w.vp, storage.RoleSigner)
	w.person("reader", w.vp, storage.RoleReviewer) // not a signer: never acts for one
	d2 := w.draft()
	w.submit(d2.ID, chain.Definition{Stages: []chain.StageSpec{
		{Name: "Ký", Kind: chain.KindSign, Participants: []chain.Participant{{UserID: w.id("signer2")}}}}})
	now := w.now()
	revoked := now.Add(-time.Hour)
	for _, c := range []struct {
		name string
		to   string
		dl   storage.Delegation
		sees bool
	}{
		{"another document type", "deputy2", storage.Delegation{Form: accounts.FormDeputy, DocumentTypes: []string{"CV"}}, false},
		{"another unit", "deputy2", storage.Delegation{Form: accounts.FormDeputy, UnitIDs: []string{w.tp.ID}}, false},
		{"not yet valid", "deputy2", storage.Delegation{Form: accounts.FormDeputy, StartsAt: now.Add(24 * time.Hour)}, false},
		{"expired", "deputy2", storage.Delegation{Form: accounts.FormDeputy, StartsAt: now.Add(-48 * time.Hour), EndsAt: now.Add(-24 * time.Hour)}, false},
		{"revoked", "deputy2", storage.Delegation{Form: accounts.FormDeputy, RevokedAt: &revoked}, false},
		{"to someone who is not a signer", "reader", storage.Delegation{Form: accounts.FormDeputy}, false},
		{"in scope", "deputy2", storage.Delegation{Form: accounts.FormByOrder, DocumentTypes: []string{"QĐ"}, UnitIDs: []string{w.vp.ID}}, true},
	} {
		dl := c.dl
		dl.OrganizationID, dl.FromUser, dl.ToUser = w.org.ID, w.id("signer2"), w.id(c.to)
		if dl.StartsAt.IsZero() {
			dl.StartsAt = now.Add(-time.Hour)
		}
		if dl.EndsAt.IsZero() {
			dl.EndsAt = now.AddDate(0, 1, 0)
		}
		made, err := storage.CreateDelegation(w.ctx, w.db.Pool, dl)
		if err != nil {
			t.Fatal(err)
		}
		if dl.RevokedAt != nil {
			if _, err := w.db.Pool.Exec(w.ctx, "UPDATE delegations SET revoked_at = $2 WHERE id = $1", made.ID, revoked); err != nil {
				t.Fatal(err)
			}
		}
		page := inbox(c.to, chain.ViewOpen)
		seen := slices.ContainsFunc(page.Items, func(e chain.InboxEntry) bool { return e.Document.ID == d2.ID })
		if seen != c.sees || (page.Counts.Open == 1) != c.sees {
			t.Errorf("%s: seen %v, counts %+v", c.name, seen, page.Counts)
		}
		if seen && page.Items[0].OnBehalfOf.AuthorityForm != accounts.FormByOrder {
			t.Errorf("%s: %+v", c.name, page.Items[0].OnBehalfOf)
		}
	}

	// The deputy signs KT. for the signer: the turn leaves both inboxes.
	if err := w.sign("deputy", d.ID, "KT."); err != nil {
		t.Fatal(err)
	}
	if page := inbox("deputy", chain.ViewOpen); len(page.Items) != 0 || page.Counts.Open != 0 {
		t.Fatalf("after signing, deputy's inbox %+v counts %+v", page.Items, page.Counts)
	}
	if page := inbox("signer", chain.ViewOpen); len(page.Items) != 0 {
		t.Fatalf("after signing, signer's inbox %+v", page.Items)
	}
}

// The people a page offers to forward a turn to are exactly those the
// forward accepts: a review turn to another reviewer of the organisation
// (never the drafter, a clerk or someone holding a turn at the stage), a
// signing turn only to the signer's deputy; nobody without a turn.
func TestForwardCandidates(t *testing.T) {
	w := newWorld(t)
	names := func(who, docID string) []string {
		t.Helper()
		us, err := w.svc.ForwardCandidates(w.ctx, w.p(who), docID)
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		var out []string
		for _, u := range us {
			out = append(out, u.Username)
		}
		slices.Sort(out)
		return out
	}
	d := w.reach(documents.StatusInReview)
	// reviewer2 holds a turn at the same stage already.
	if got := names("reviewer", d.ID); !slices.Equal(got, []string{"outsider"}) {
		t.Errorf("a review turn is offered to %v", got)
	}
	if got := names("drafter", d.ID); got != nil {
		t.Errorf("the drafter, who holds no turn, is offered %v", got)
	}
	w.must("reviewer", d.ID, chain.ActionRequest{Action: chain.ActionForward, ToUserID: w.id("outsider")})
	a := w.reach(documents.StatusApproved)
	if got := names("signer", a.ID); !slices.Equal(got, []string{"deputy"}) {
		t.Errorf("a signing turn is offered to %v", got)
	}
	w.must("signer", a.ID, chain.ActionRequest{Action: chain.ActionForward, ToUserID: w.id("deputy")})
}
