package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// Service runs approval chains. It implements documents.SigningTurns.
type Service struct {
	DB   *storage.DB
	Docs *documents.Service
	// Now is the clock (time.Now when nil); tests move it across deadlines.
	Now func() time.Time
	// Events hears what the chain does (nil: nobody).
	Events events.Publisher

	// durable is the flush the actions' commits share (act).
	durable storage.SharedFlush
}

var _ documents.SigningTurns = (*Service)(nil)

// SignReservation is how long a begun signature holds the document: no
// version may be added and no one else may begin signing meanwhile. It
// matches the life of a prepared desk-token signing session.
const SignReservation = 10 * time.Minute

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Item states and the drafter's own task.
const (
	itemOpen      = "open"
	itemDone      = "done"
	itemForwarded = "forwarded"
	itemClosed    = "closed"
	taskRevise    = "revise"
)

// run is one document's chain read under its locks, for one action.
type run struct {
	s      *Service
	ctx    context.Context
	tx     pgx.Tx
	now    time.Time
	doc    storage.Document
	chain  storage.Chain
	exists bool // the document has a chain (else it is a draft never submitted)
	stages []storage.ChainStage
	items  []storage.InboxItem // the items of the current round, every state
	cal    *calendar.Calendar
	events []audit.Event
	// writes are the run's changes not yet sent: they reach the database
	// in one batch, before the run's next read (q) and at its end (finish),
	// in the order they were made.
	writes pgx.Batch
	// history is the document's history read back at the end of the run
	// (wantHistory), for its view.
	wantHistory bool
	history     []storage.ChainAction
	historyRead bool
	// newTurns are the people given a turn by this action, told of it when
	// the action commits; announced lists the actions that are announced.
	newTurns  []string
	announced []announcement
	// queueOnly: the run's writes go into its caller's batch
	// (QueueFinishSign), so it may not read (errNeedsRead).
	queueOnly bool
}

// errNeedsRead is a queueOnly run's answer to a read.
var errNeedsRead = fmt.Errorf("%w: the chain needs a read", documents.ErrFinishNotQueued)

// announcement is one action of a run as an event: what happened and who
// besides the new turn holders hears of it.
type announcement struct {
	kind  events.Kind
	actor string
	tell  []string
}

// chainEvents are the actions announced outside the chain's history.
var chainEvents = map[string]events.Kind{
	"submit": events.DocumentSubmitted, "resubmit": events.DocumentSubmitted,
	ActionReturn: events.DocumentReturned, ActionApprove: events.DocumentApproved, "sign": events.DocumentSigned,
}

// lock locks the document's row, then its chain's, and reads them: every
// change to a chain, and every version added (documents.AddVersion),
// takes the document's lock first, so they are serialised.
func (s *Service) lock(ctx context.Context, tx pgx.Tx, documentID string) (*run, error) {
	st, err := storage.LockChainState(ctx, tx, documentID)
	if err != nil {
		return nil, err
	}
	return s.locked(ctx, tx, st), nil
}

// locked is the run of an action on the chain state read under its locks.
func (s *Service) locked(ctx context.Context, tx pgx.Tx, st storage.LockedChainState) *run {
	r := &run{s: s, ctx: ctx, tx: tx, now: s.now(), doc: st.Document}
	if !st.ChainExists {
		r.chain = storage.Chain{DocumentID: r.doc.ID, OrganizationID: r.doc.OrganizationID, DrafterID: r.doc.CreatedBy}
		return r
	}
	r.chain, r.stages, r.items, r.exists = st.Chain, st.Stages, st.Items, true
	return r
}

// act runs fn on the document's chain, locked and read with the
// transaction's begin in one round trip, and commits when fn returns nil.
// The document is read only if p may see it (documents.ErrNotFound
// otherwise, as documents.Service.Changeable) and acted on only if p may
// change it. fn sends its writes (run.finish); the commit follows.
//
// The commit releases the document's and the audit log's locks without
// waiting for its WAL flush (storage.QueueEarlyRelease, sent with the
// writes), then the connection goes back to the pool, and act returns
// once the commit is durable (storage.SharedFlush, one flush for every
// action committed meanwhile): on a durable cluster the actions of the
// office are flushed together instead of one at a time behind the audit
// log's append lock, and no pooled connection waits for a disk sync. fn's
// error and the commit's are returned as before; an error of the wait is
// returned too, although the action committed: as for any commit whose
// answer was lost, the caller does not know whether it is durable (a
// retry finds the turn taken, or replays its key).
func (s *Service) act(ctx context.Context, p accounts.Principal, documentID string, fn func(*run) error) error {
	committed, err := s.commitEarly(ctx, p, documentID, fn)
	if err != nil || !committed {
		return err
	}
	if err := s.durable.Wait(ctx, s.DB.Pool); err != nil {
		return fmt.Errorf("chain of %s: %w", documentID, err)
	}
	return nil
}

// DurableFlushes is how many WAL flushes the actions have waited for so
// far: fewer than the actions when they shared them.
func (s *Service) DurableFlushes() int64 { return s.durable.Flushes() }

// commitEarly runs fn in the document's locked transaction and commits it
// without waiting for its flush; the connection is released on return.
func (s *Service) commitEarly(ctx context.Context, p accounts.Principal, documentID string, fn func(*run) error) (bool, error) {
	if err := documents.MayRead(p); err != nil {
		return false, err
	}
	conn, err := s.DB.Pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("chain of %s: %w", documentID, err)
	}
	defer conn.Release() // after the transaction's end (deferred below)
	tx, st, err := storage.BeginChainState(ctx, conn, documentID, p.Viewer())
	if errors.Is(err, storage.ErrNotFound) {
		return false, documents.ErrNotFound
	}
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx) // after the commit, nothing to do
	if err := documents.MayChange(p, st.Document); err != nil {
		return false, err
	}
	r := s.locked(ctx, tx, st)
	// Sent with the run's first writes or read; a run that sends nothing
	// commits as any transaction does.
	storage.QueueEarlyRelease(&r.writes)
	if err := fn(r); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// flush sends the writes queued so far.
func (r *run) flush() error {
	if r.queueOnly {
		return errNeedsRead
	}
	if r.writes.Len() == 0 {
		return nil
	}
	b := r.writes
	r.writes = pgx.Batch{}
	if err := r.tx.SendBatch(r.ctx, &b).Close(); err != nil {
		return fmt.Errorf("chain of %s: %w", r.doc.ID, err)
	}
	return nil
}

// q is the run's transaction for reads: each read first sends the writes
// queued before it, so it sees them.
func (r *run) q() storage.Querier { return flushing{r} }

type flushing struct{ r *run }

func (f flushing) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := f.r.flush(); err != nil {
		return pgconn.CommandTag{}, err
	}
	return f.r.tx.Exec(ctx, sql, args...)
}

func (f flushing) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := f.r.flush(); err != nil {
		return nil, err
	}
	return f.r.tx.Query(ctx, sql, args...)
}

func (f flushing) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := f.r.flush(); err != nil {
		return failedRow{err}
	}
	return f.r.tx.QueryRow(ctx, sql, args...)
}

type failedRow struct{ err error }

func (f failedRow) Scan(...any) error { return f.err }

// reload reads the stages of the chain's generation and the items of its round.
func (r *run) reload() error {
	var err error
	if r.stages, err = storage.Stages(r.ctx, r.q(), r.doc.ID, r.chain.Generation); err != nil {
		return err
	}
	r.items, err = storage.DocumentInboxItems(r.ctx, r.q(), r.doc.ID, r.chain.Round)
	return err
}

func (r *run) calendar() (*calendar.Calendar, error) {
	if r.cal == nil {
		c, err := calendar.Load(r.ctx, r.q())
		if err != nil {
			return nil, err
		}
		r.cal = c
	}
	return r.cal, nil
}

func (r *run) stage(id string) *storage.ChainStage {
	for i := range r.stages {
		if r.stages[i].ID == id {
			return &r.stages[i]
		}
	}
	return nil
}

func (r *run) openItems() []*storage.InboxItem {
	var out []*storage.InboxItem
	for i := range r.items {
		if r.items[i].State == itemOpen {
			out = append(out, &r.items[i])
		}
	}
	return out
}

// addItem gives someone a turn.
func (r *run) addItem(it storage.InboxItem) (*storage.InboxItem, error) {
	it.OrganizationID, it.DocumentID, it.Round, it.Since = r.doc.OrganizationID, r.doc.ID, r.chain.Round, r.now
	got := storage.QueueInsertInboxItem(&r.writes, it)
	r.items = append(r.items, got)
	r.newTurns = append(r.newTurns, got.UserID)
	return &r.items[len(r.items)-1], nil
}

// endItem ends an open item.
func (r *run) endItem(it *storage.InboxItem, state, outcome string) error {
	if it.State != itemOpen {
		return nil
	}
	storage.QueueEndInboxItem(&r.writes, it.ID, state, outcome, r.now)
	now := r.now
	it.State, it.Outcome, it.DoneAt = state, outcome, &now
	return nil
}

// closeOpen closes every open item keep does not keep, as no longer needed.
func (r *run) closeOpen(keep func(*storage.InboxItem) bool) error {
	for _, it := range r.openItems() {
		if keep != nil && keep(it) {
			continue
		}
		if err := r.endItem(it, itemClosed, ""); err != nil {
			return err
		}
	}
	return nil
}

// activate gives a stage's members their turns, with the stage's deadline.
func (r *run) activate(st *storage.ChainStage) error {
	var members []member
	if err := json.Unmarshal(st.Participants, &members); err != nil {
		return fmt.Errorf("stage %s: participants: %w", st.Name, err)
	}
	now := r.now
	st.State, st.ActivatedAt, st.CompletedAt, st.DueAt = "active", &now, nil, nil
	if st.DueDays > 0 || st.DueHours > 0 {
		cal, err := r.calendar()
		if err != nil {
			return err
		}
		st.DueAt = cal.Due(now, st.DueDays, st.DueHours)
	}
	for _, m := range members {
		if _, err := r.addItem(storage.InboxItem{UserID: m.UserID, StageID: st.ID, Label: st.Name, Task: taskOf(st.Kind),
			Role: m.Role, Counts: st.Blocking, DueAt: st.DueAt}); err != nil {
			return err
		}
	}
	storage.QueueUpdateStage(&r.writes, *st)
	return nil
}

// tally counts a stage's counting turns in this round: acted on, and still to act.
func (r *run) tally(st *storage.ChainStage) (done, open int) {
	for _, it := range r.items {
		if it.StageID != st.ID || !it.Counts {
			continue
		}
		switch it.State {
		case itemDone:
			done++
		case itemOpen:
			open++
		}
	}
	return done, open
}

// satisfied applies a blocking stage's rule.
func (r *run) satisfied(st *storage.ChainStage) bool {
	done, open := r.tally(st)
	switch st.Rule {
	case "any":
		return done >= 1
	case "k":
		return done >= st.K
	}
	return open == 0 && done > 0
}

// consultDone reports whether every turn of a non-blocking stage was taken.
func (r *run) consultDone(st *storage.ChainStage) bool {
	for _, it := range r.items {
		if it.StageID == st.ID && it.State == itemOpen {
			return false
		}
	}
	return true
}

func (r *run) complete(st *storage.ChainStage) error {
	now := r.now
	st.State, st.CompletedAt = "done", &now
	// The others' turns of an any or k stage are no longer needed.
	if err := r.closeOpen(func(it *storage.InboxItem) bool { return it.StageID != st.ID || !it.Counts }); err != nil {
		return err
	}
	storage.QueueUpdateStage(&r.writes, *st)
	return nil
}

// advance moves the chain as far as its stages' rules allow and sets the
// status that follows: in_review while a review, consultation or format
// check is under way, approved when the current stage is a sign stage,
// signed when every stage is done.
func (r *run) advance() error {
	for {
		var cur *storage.ChainStage
		for i := range r.stages {
			st := &r.stages[i]
			if st.State == "done" {
				continue
			}
			if !st.Blocking {
				switch {
				case st.State == "pending":
					if err := r.activate(st); err != nil {
						return err
					}
				case r.consultDone(st):
					if err := r.complete(st); err != nil {
						return err
					}
				}
				continue
			}
			cur = st
			break
		}
		if cur == nil {
			// Every stage is done: the last signature was made.
			r.chain.Status = documents.StatusSigned
			return r.closeOpen(nil)
		}
		if cur.State == "pending" {
			if err := r.activate(cur); err != nil {
				return err
			}
		}
		if r.satisfied(cur) {
			if err := r.complete(cur); err != nil {
				return err
			}
			continue
		}
		if cur.Kind == KindSign {
			r.chain.Status = documents.StatusApproved
		} else {
			r.chain.Status = documents.StatusInReview
		}
		return nil
	}
}

// save writes the chain row and the document's status.
func (r *run) save() error {
	storage.QueueSaveChain(&r.writes, r.chain)
	r.exists = true
	if r.doc.Status == r.chain.Status {
		return nil
	}
	storage.QueueSetDocumentStatus(&r.writes, r.doc.ID, r.chain.Status)
	r.doc.Status = r.chain.Status
	return nil
}

// record appends an action to the history and its audit entry.
func (r *run) record(p accounts.Principal, a storage.ChainAction) error {
	a.DocumentID, a.OrganizationID, a.Round, a.Actor = r.doc.ID, r.doc.OrganizationID, r.chain.Round, p.ID
	if a.Version == 0 {
		a.Version, a.VersionSHA256 = r.chain.Version, r.chain.VersionSHA256
	}
	storage.QueueChainAction(&r.writes, a)
	details := map[string]any{"round": a.Round, "version": a.Version, "sha256": a.VersionSHA256}
	for k, v := range map[string]string{"stage": a.StageName, "on_behalf_of": a.OnBehalfOf, "authority_form": a.AuthorityForm,
		"to_user": a.ToUser, "to_stage": a.ToStage} {
		if v != "" {
			details[k] = v
		}
	}
	e := p.Event("chain."+a.Action, "document:"+r.doc.ID, details)
	e.OrgID = r.doc.OrganizationID
	r.events = append(r.events, e)
	if kind, ok := chainEvents[a.Action]; ok {
		an := announcement{kind: kind, actor: p.ID}
		if kind != events.DocumentSubmitted && r.chain.DrafterID != p.ID {
			an.tell = []string{r.chain.DrafterID} // the drafter follows the draft
		}
		r.announced = append(r.announced, an)
	}
	return nil
}

// finish saves the chain, announces its events and appends its audit
// entries, then sends every write the run queued in one round trip: the
// events' statements go in the same batch (events.Queue). What an event
// needs of that batch's answers (the notifications engine's e-mail and
// webhook jobs, which River inserts itself) follows before the commit.
// With wantHistory the history is read back in the same round trip.
func (r *run) finish() error {
	if err := r.save(); err != nil {
		return err
	}
	sent, err := r.announce()
	if err != nil {
		return err
	}
	for _, e := range r.events {
		if err := audit.Queue(&r.writes, e); err != nil {
			return err
		}
	}
	if r.wantHistory {
		storage.QueueChainActions(&r.writes, r.doc.ID, func(a []storage.ChainAction) { r.history, r.historyRead = a, true })
	}
	if err := r.flush(); err != nil {
		return err
	}
	return published(r.ctx, r.tx, r.doc.ID, sent)
}

// published runs what is left of the announcements of the chain of
// documentID once their batch was sent in tx.
func published(ctx context.Context, tx pgx.Tx, documentID string, sent []events.Sent) error {
	for _, s := range sent {
		if err := s(ctx, tx); err != nil {
			return fmt.Errorf("chain of %s: %w", documentID, err)
		}
	}
	return nil
}

// announce queues the run's announced actions into its writes: each tells
// the people given a turn by this run (they now have work) and those it
// names. It returns what is left of them once the writes were sent.
func (r *run) announce() ([]events.Sent, error) {
	var left []events.Sent
	for _, an := range r.announced {
		users := slices.Concat(an.tell, r.newTurns)
		slices.Sort(users)
		users = slices.Compact(users)
		users = slices.DeleteFunc(users, func(u string) bool { return u == an.actor || u == "" })
		sent, err := events.Queue(r.s.Events, &r.writes, events.Event{Kind: an.kind, OrganizationID: r.doc.OrganizationID,
			DocumentID: r.doc.ID, ActorID: an.actor, UserIDs: users, Summary: summaries[an.kind] + ": " + r.doc.Subject,
			Data: map[string]any{"status": r.chain.Status, "round": r.chain.Round, "version": r.chain.Version}})
		if err != nil {
			return nil, fmt.Errorf("announce %s: %w", an.kind, err)
		}
		if sent != nil {
			left = append(left, sent)
		}
	}
	return left, nil
}

// summaries are the notification's first words, in Vietnamese.
var summaries = map[events.Kind]string{
	events.DocumentSubmitted: "Văn bản trình ký chờ xử lý",
	events.DocumentReturned:  "Văn bản bị trả lại",
	events.DocumentApproved:  "Văn bản được duyệt",
	events.DocumentSigned:    "Văn bản đã được ký",
}

// turn is an open item someone may act on, and on whose behalf.
type turn struct {
	item       *storage.InboxItem
	stage      *storage.ChainStage // nil for the drafter's revise item
	onBehalfOf string
	form       string // the delegation's authority form when a delegate acts
}

// turnFor finds the first open item (in stage order) that want accepts and
// p holds, or holds through a valid delegation from its holder.
func (r *run) turnFor(p accounts.Principal, want func(*storage.InboxItem, *storage.ChainStage) bool) (*turn, error) {
	var delegations []storage.Delegation
	loaded := false
	open := r.openItems()
	slices.SortStableFunc(open, func(a, b *storage.InboxItem) int { return r.position(a) - r.position(b) })
	for _, it := range open {
		st := r.stage(it.StageID)
		if !want(it, st) {
			continue
		}
		if it.UserID == p.ID {
			return &turn{item: it, stage: st, onBehalfOf: it.TurnOf}, nil
		}
		if !loaded {
			var err error
			if delegations, err = storage.DelegationsTo(r.ctx, r.q(), p.ID); err != nil {
				return nil, err
			}
			loaded = true
		}
		if form := r.delegated(p, it.UserID, delegations); form != "" {
			return &turn{item: it, stage: st, onBehalfOf: it.UserID, form: form}, nil
		}
	}
	return nil, nil
}

func (r *run) position(it *storage.InboxItem) int {
	if st := r.stage(it.StageID); st != nil {
		return st.Position
	}
	return 0
}

// delegated returns the authority form of a delegation from holder to p
// valid now for this document, or "".
func (r *run) delegated(p accounts.Principal, holder string, held []storage.Delegation) string {
	var from []storage.Delegation
	for _, d := range held {
		if d.FromUser == holder {
			from = append(from, d)
		}
	}
	for _, d := range from {
		use := accounts.SigningUse{Signer: p.User, Form: d.Form, DocumentType: r.doc.Type, UnitID: r.doc.UnitID, At: r.now}
		got, err := accounts.CheckAuthority(use, from, func(id string) (storage.Delegation, error) { return storage.GetDelegation(r.ctx, r.q(), id) })
		if err == nil && got != nil {
			return got.Form
		}
	}
	return ""
}

// noTurn explains why p has no turn for an action: someone who took part
// in this chain meets a state that moved (409); anyone else takes no part
// in it (403).
func (r *run) noTurn(p accounts.Principal, action string) error {
	had, err := storage.HadChainItem(r.ctx, r.q(), r.doc.ID, p.ID)
	if err != nil {
		return err
	}
	if had || p.ID == r.chain.DrafterID || r.member(p.ID) {
		return because(rNoTurn, conflict("the chain is %s and holds no turn for you to %s (it may have moved on)", r.chain.Status, action))
	}
	return forbidden("you take no part in this document's chain")
}

// member reports whether a stage of the chain names the user.
func (r *run) member(userID string) bool {
	for _, st := range r.stages {
		var members []member
		if json.Unmarshal(st.Participants, &members) == nil && slices.ContainsFunc(members, func(m member) bool { return m.UserID == userID }) {
			return true
		}
	}
	return false
}

// latestVersion is the document's last version.
func (r *run) latestVersion() (storage.Version, error) {
	vs, err := storage.Versions(r.ctx, r.q(), r.doc.ID)
	if err != nil {
		return storage.Version{}, err
	}
	if len(vs) == 0 {
		return storage.Version{}, fmt.Errorf("document %s has no version", r.doc.ID)
	}
	return vs[len(vs)-1], nil
}
