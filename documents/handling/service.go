// Package handling owns what happens to a document of an organisation
// after it is registered for handling (xử lý văn bản đến): the văn thư
// presents it to a leader; the leader assigns one lead (chủ trì), any
// coordinating (phối hợp) and informed (nhận để biết) units or people, a
// direction (ý kiến chỉ đạo) and deadlines in working days; a unit head
// assigns a handler within the unit's part and deadline; handlers record
// progress and complete, the lead's completion closing the document. It
// also owns the deadlines the reminders read (Deadlines) and the on-time
// statistics (Statistics). Each step commits with its audit entry and
// publishes its event in the same transaction; the inbox items it writes
// show in the one inbox (storage/inbox.go) beside the approval chains'.
package handling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// Service runs the handling of documents.
type Service struct {
	DB     *storage.DB
	Events events.Publisher
	// Now is the clock (time.Now when nil); tests move it across deadlines.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Roles in handling.
const (
	RoleLead       = "lead"       // chủ trì
	RoleCoordinate = "coordinate" // phối hợp
	RoleInform     = "inform"     // nhận để biết
)

// Document statuses in handling.
const (
	StatusRegistered = "registered"
	StatusPresented  = "presented"
	StatusAssigned   = "assigned"
	StatusCompleted  = "completed"
)

// Tasks and labels of the inbox items handling gives.
const (
	taskAssign     = "assign"     // a leader or unit head decides who handles
	taskHandle     = "handle"     // the lead's work
	taskCoordinate = "coordinate" // a coordinating part
	taskInform     = "read"       // for information
	sourceHandling = "handling"
)

var roleLabel = map[string]string{RoleLead: "Chủ trì", RoleCoordinate: "Phối hợp", RoleInform: "Nhận để biết"}

// Limits on what a request may carry.
const (
	maxAssignments = 100
	maxDueDays     = 365
	maxNote        = 4000
	maxDirection   = 2000
)

// ErrConflict is an action the handling's state does not allow (HTTP 409):
// the document is not in handling, is closed, or the assignment moved.
var ErrConflict = errors.New("the handling's state does not allow this action")

// ErrInvalid is a request that cannot be carried out as given (HTTP 422).
var ErrInvalid = errors.New("invalid handling request")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

func conflict(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, a...))
}

func forbidden(format string, a ...any) error {
	return fmt.Errorf("%w: %s", accounts.ErrForbidden, fmt.Sprintf(format, a...))
}

// Open puts a registered document of an organisation into handling, in the
// registering transaction (reception calls it); it then waits to be
// presented or assigned. A document already in handling is
// storage.ErrConflict.
func Open(ctx context.Context, tx pgx.Tx, documentID, organizationID string, receivedAt time.Time) error {
	return storage.InsertHandling(ctx, tx, storage.Handling{DocumentID: documentID, OrganizationID: organizationID, ReceivedAt: receivedAt})
}

// Due is a deadline as a request gives it: a number of working days from
// now, or a date (YYYY-MM-DD, Vietnam) whose working day's end it means.
type Due struct {
	Days int
	Date string
}

// UnmarshalJSON reads a number of working days or a date.
func (d *Due) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		v, err := n.Int64()
		if err != nil || v < 1 || v > maxDueDays {
			return because(rDueDays, invalid("due must be a number of working days from 1 to %d, or a date YYYY-MM-DD", maxDueDays), maxDueDays)
		}
		d.Days = int(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return because(rDueFormat, invalid("due must be a number of working days or a date YYYY-MM-DD"))
	}
	if _, err := time.ParseInLocation(time.DateOnly, s, calendar.Vietnam); err != nil {
		return because(rDueFormat, invalid("due %q is not a date YYYY-MM-DD", s))
	}
	d.Date = s
	return nil
}

// at is the deadline d means for a task given at now.
func (d *Due) at(cal *calendar.Calendar, now time.Time) (*time.Time, error) {
	if d == nil {
		return nil, nil
	}
	if d.Days > 0 {
		return cal.Due(now, d.Days, 0), nil
	}
	day, err := time.ParseInLocation(time.DateOnly, d.Date, calendar.Vietnam)
	if err != nil {
		return nil, because(rDueFormat, invalid("due %q is not a date YYYY-MM-DD", d.Date))
	}
	// The end of that day's working hours, or of the next working day's.
	t := cal.AddDays(day, 0).UTC()
	if !t.After(now) {
		return nil, because(rDuePast, invalid("due %s has passed", d.Date), d.Date)
	}
	if t.Sub(now) > 2*maxDueDays*24*time.Hour {
		return nil, because(rDueFar, invalid("due %s lies too far ahead", d.Date), d.Date)
	}
	return &t, nil
}

// AssignmentRequest is one receiver of an assignment.
type AssignmentRequest struct {
	UnitID string `json:"unit_id,omitempty"`
	UserID string `json:"user_id,omitempty"`
	Role   string `json:"role"`
	Due    *Due   `json:"due,omitempty"`
}

// AssignRequest is a leader's assignment, or a unit head's handler.
type AssignRequest struct {
	Assignments []AssignmentRequest `json:"assignments"`
	Direction   string              `json:"direction,omitempty"`
}

// ProgressRequest records progress on the caller's part.
type ProgressRequest struct {
	Note         string `json:"note"`
	AssignmentID string `json:"assignment_id,omitempty"` // which of the caller's parts; default: their first open one
}

// CompleteRequest completes the caller's part.
type CompleteRequest struct {
	Note            string `json:"note,omitempty"`
	ReplyDocumentID string `json:"reply_document_id,omitempty"`
	AssignmentID    string `json:"assignment_id,omitempty"`
}

// PresentRequest presents a document to a leader (user_id) or, where the
// organisation's rules allow it, sends it straight to its lead unit
// (unit_id, with an optional due).
type PresentRequest struct {
	UserID string `json:"user_id,omitempty"`
	UnitID string `json:"unit_id,omitempty"`
	Due    *Due   `json:"due,omitempty"`
}

// View is a document's handling as its participants see it.
type View struct {
	DocumentID      string                   `json:"document_id"`
	Status          string                   `json:"status"`
	ReceivedAt      time.Time                `json:"received_at"`
	Direction       string                   `json:"direction,omitempty"`
	AssignedBy      string                   `json:"assigned_by,omitempty"`
	AssignedAt      *time.Time               `json:"assigned_at,omitempty"`
	Due             *time.Time               `json:"due,omitempty"`
	CompletedAt     *time.Time               `json:"completed_at,omitempty"`
	ReplyDocumentID string                   `json:"reply_document_id,omitempty"`
	Assignments     []storage.Assignment     `json:"assignments"`
	History         []storage.HandlingAction `json:"history"`
}

// op is one action on a document's handling, under the document's lock.
type op struct {
	s    *Service
	ctx  context.Context
	tx   pgx.Tx
	p    accounts.Principal
	now  time.Time
	doc  storage.Document
	h    storage.Handling
	as   []storage.Assignment
	cal  *calendar.Calendar
	told []string // who the event tells
	// direct: the văn thư sends the document straight to its lead unit
	// (SendToUnit) rather than a leader assigning it.
	direct bool
}

// begin finds the document as p may see it, checks p may take action a on
// it, and locks it with its handling: every action on one document is
// serialised, so of two racing actions on one assignment the second sees
// the first's result.
func (s *Service) begin(ctx context.Context, tx pgx.Tx, p accounts.Principal, documentID string, a accounts.Action) (*op, error) {
	if err := accounts.Authorize(p, accounts.DocumentRead, accounts.Target{}); err != nil {
		return nil, err
	}
	doc, err := storage.VisibleDocument(ctx, tx, documentID, p.Viewer())
	if err != nil {
		return nil, err
	}
	// Handling belongs to the organisation that received the document;
	// a sender seeing its own document finds no handling to act on.
	if doc.OrganizationID != p.OrganizationID {
		return nil, storage.ErrNotFound
	}
	if err := accounts.Authorize(p, a, accounts.Target{OrgID: doc.OrganizationID}); err != nil {
		return nil, err
	}
	if err := storage.LockDocument(ctx, tx, doc.ID); err != nil {
		return nil, err
	}
	o := &op{s: s, ctx: ctx, tx: tx, p: p, now: s.now(), doc: doc}
	o.h, err = storage.LockHandling(ctx, tx, doc.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, because(rNotRegistered, conflict("the document is not registered for handling"))
	}
	if err != nil {
		return nil, err
	}
	if o.as, err = storage.DocumentAssignments(ctx, tx, doc.ID); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *op) calendar() (*calendar.Calendar, error) {
	if o.cal == nil {
		c, err := calendar.Load(o.ctx, o.tx)
		if err != nil {
			return nil, err
		}
		o.cal = c
	}
	return o.cal, nil
}

// finish records the step in the history and the audit log and publishes
// its event, in the step's transaction.
func (o *op) finish(action, assignmentID, note string, details map[string]any, kind events.Kind, summary string) error {
	if err := storage.InsertHandlingAction(o.ctx, o.tx, o.doc.OrganizationID, o.doc.ID,
		storage.HandlingAction{AssignmentID: assignmentID, Action: action, Actor: o.p.ID, Note: note, At: o.now}); err != nil {
		return err
	}
	if kind != "" {
		ev := events.Event{Kind: kind, OrganizationID: o.doc.OrganizationID, DocumentID: o.doc.ID, ActorID: o.p.ID,
			UserIDs: dedupe(o.told), Summary: summary, Data: details}
		if err := events.Publish(o.ctx, o.s.Events, o.tx, ev); err != nil {
			return fmt.Errorf("publish %s: %w", kind, err)
		}
	}
	return audit.Append(o.ctx, o.tx, o.p.Event("document."+action, "document:"+o.doc.ID, details))
}

func dedupe(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// item gives someone an inbox item for an assignment (or, with a nil
// assignment, a document presented to them).
func (o *op) item(userID string, a *storage.Assignment, task, label string) error {
	it := storage.InboxItem{OrganizationID: o.doc.OrganizationID, UserID: userID, DocumentID: o.doc.ID, Source: sourceHandling,
		Round: 1, Label: label, Task: task, Counts: true, Since: o.now}
	if a != nil {
		it.AssignmentID, it.DueAt = a.ID, a.DueAt
		if a.Role == RoleInform {
			it.State = "info"
		}
	}
	if _, err := storage.InsertInboxItem(o.ctx, o.tx, it); err != nil {
		return err
	}
	o.told = append(o.told, userID)
	return nil
}

// endItems ends the open items of assignments: the caller's as state with
// outcome, everyone else's as closed.
func (o *op) endItems(ids []string, state, outcome string) error {
	items, err := storage.AssignmentInboxItems(o.ctx, o.tx, ids)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.State != "open" {
			continue
		}
		st, out := "closed", ""
		if it.UserID == o.p.ID {
			st, out = state, outcome
		}
		if err := storage.EndInboxItem(o.ctx, o.tx, it.ID, st, out, o.now); err != nil {
			return err
		}
	}
	return nil
}

// Present puts a registered document before a leader of the organisation:
// it waits in their inbox until someone assigns it.
func (s *Service) Present(ctx context.Context, p accounts.Principal, documentID string, req PresentRequest) (View, error) {
	if req.UnitID != "" {
		if req.UserID != "" {
			return View{}, because(rPresentOne, invalid("name a leader (user_id) to present to, or a unit (unit_id) to send to, not both"))
		}
		return s.SendToUnit(ctx, p, documentID, SendRequest{UnitID: req.UnitID, Due: req.Due})
	}
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		o, err := s.begin(ctx, tx, p, documentID, accounts.HandlingPresent)
		if err != nil {
			return err
		}
		if o.h.Status != StatusRegistered && o.h.Status != StatusPresented {
			return because(rNotPresented, conflict("the document is %s; it is presented before it is assigned", o.h.Status))
		}
		leader, err := storage.GetUser(ctx, tx, req.UserID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err != nil || leader.OrganizationID != o.doc.OrganizationID || leader.DisabledAt != nil || !slices.Contains(leader.Roles, storage.RoleSigner) {
			return because(rLeaderUnknown, invalid("user_id must name an active leader (signer) of the organisation"))
		}
		if err := o.item(leader.ID, nil, taskAssign, "Trình lãnh đạo"); err != nil {
			return err
		}
		o.h.Status = StatusPresented
		if err := storage.UpdateHandling(ctx, tx, o.h); err != nil {
			return err
		}
		return o.finish("present", "", "", map[string]any{"to": leader.ID}, "", "")
	})
	if err != nil {
		return View{}, err
	}
	return s.View(ctx, p, documentID)
}

// Assign records a leader's assignment (one lead the first time; more
// coordinating or informed receivers later) or, from a unit head who is
// not a leader, the handler of their unit's part.
func (s *Service) Assign(ctx context.Context, p accounts.Principal, documentID string, req AssignRequest) (View, error) {
	if len(req.Assignments) == 0 || len(req.Assignments) > maxAssignments {
		return View{}, because(rAssignmentsCount, invalid("assignments must list 1 to %d receivers", maxAssignments), maxAssignments)
	}
	req.Direction = strings.TrimSpace(req.Direction)
	if utf8.RuneCountInString(req.Direction) > maxDirection || !utf8.ValidString(req.Direction) {
		return View{}, because(rDirectionLong, invalid("direction must be valid text of at most %d characters", maxDirection), maxDirection)
	}
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		o, err := s.begin(ctx, tx, p, documentID, accounts.HandlingAssign)
		if err != nil {
			return err
		}
		if o.h.Status == StatusCompleted {
			return because(rCompleted, conflict("the document's handling is completed"))
		}
		if p.Has(storage.RoleSigner) {
			return o.leaderAssign(req)
		}
		return o.unitAssign(req)
	})
	if err != nil {
		return View{}, err
	}
	return s.View(ctx, p, documentID)
}

func (o *op) leaderAssign(req AssignRequest) error {
	cal, err := o.calendar()
	if err != nil {
		return err
	}
	leads := 0
	seen := map[string]bool{}
	type target struct {
		a     storage.Assignment
		heads []string
		label string
	}
	var targets []target
	for i, r := range req.Assignments {
		if (r.UnitID == "") == (r.UserID == "") {
			return because(rAssignmentReceiver, invalid("assignment %d must name exactly one of unit_id and user_id", i+1), i+1)
		}
		if _, ok := roleLabel[r.Role]; !ok {
			return because(rAssignmentRole, invalid("assignment %d: role must be lead, coordinate or inform", i+1), i+1)
		}
		key := "unit:" + r.UnitID + "user:" + r.UserID
		if seen[key] {
			return because(rAssignmentTwice, invalid("assignment %d names a receiver twice", i+1), i+1)
		}
		seen[key] = true
		if r.Role == RoleLead {
			leads++
		}
		t := target{a: storage.Assignment{OrganizationID: o.doc.OrganizationID, DocumentID: o.doc.ID, Role: r.Role,
			AssignedBy: o.p.ID, AssignedAt: o.now}, label: roleLabel[r.Role]}
		if r.UnitID != "" {
			u, err := storage.GetUnit(o.ctx, o.tx, o.doc.OrganizationID, r.UnitID)
			if errors.Is(err, storage.ErrNotFound) {
				return because(rAssignmentUnit, invalid("assignment %d: unit_id is not a unit of the organisation", i+1), i+1)
			} else if err != nil {
				return err
			}
			if t.heads, err = storage.UnitHeads(o.ctx, o.tx, o.doc.OrganizationID, u.ID); err != nil {
				return err
			}
			if len(t.heads) == 0 {
				return because(rUnitNoHead, invalid("assignment %d: unit %s has no head (a reviewer) to receive it", i+1, u.Code), u.Code)
			}
			t.a.UnitID, t.label = u.ID, t.label+" — "+u.Name
		} else {
			u, err := storage.GetUser(o.ctx, o.tx, r.UserID)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if err != nil || u.OrganizationID != o.doc.OrganizationID || u.DisabledAt != nil {
				return because(rAssignmentUser, invalid("assignment %d: user_id is not an active member of the organisation", i+1), i+1)
			}
			t.a.UserID, t.heads = u.ID, []string{u.ID}
		}
		for _, a := range o.as {
			if a.ParentID == "" && a.State == "open" && a.UnitID == t.a.UnitID && a.UserID == t.a.UserID {
				return because(rReceiverBusy, conflict("assignment %d: the receiver already holds an open part of this document", i+1), i+1)
			}
		}
		if r.Role != RoleInform {
			if t.a.DueAt, err = r.Due.at(cal, o.now); err != nil {
				return err
			}
		}
		targets = append(targets, t)
	}
	hasLead := slices.ContainsFunc(o.as, func(a storage.Assignment) bool { return a.ParentID == "" && a.Role == RoleLead })
	switch {
	case hasLead && leads > 0:
		return because(rLeadTaken, conflict("the document already has its lead"))
	case !hasLead && leads != 1:
		return because(rOneLead, invalid("the first assignment names exactly one lead (chủ trì); it names %d", leads), leads)
	}
	var given []map[string]any
	for _, t := range targets {
		a, err := storage.InsertAssignment(o.ctx, o.tx, t.a)
		if errors.Is(err, storage.ErrConflict) {
			return because(rLeadTaken, conflict("the document already has its lead"))
		} else if err != nil {
			return err
		}
		task := taskAssign
		if a.UserID != "" {
			task = map[string]string{RoleLead: taskHandle, RoleCoordinate: taskCoordinate, RoleInform: taskInform}[a.Role]
		} else if a.Role == RoleInform {
			task = taskInform
		}
		for _, h := range t.heads {
			if err := o.item(h, &a, task, t.label); err != nil {
				return err
			}
		}
		if a.Role == RoleLead {
			o.h.DueAt = a.DueAt
		}
		g := map[string]any{"assignment_id": a.ID, "role": a.Role, "unit_id": a.UnitID, "user_id": a.UserID}
		if a.DueAt != nil {
			g["due"] = a.DueAt.Format(time.RFC3339)
		}
		given = append(given, g)
	}
	// The presenting items are answered.
	presented, err := storage.PresentedItems(o.ctx, o.tx, o.doc.ID)
	if err != nil {
		return err
	}
	for _, it := range presented {
		st, out := "closed", ""
		if it.UserID == o.p.ID {
			st, out = "done", "assigned"
		}
		if err := storage.EndInboxItem(o.ctx, o.tx, it.ID, st, out, o.now); err != nil {
			return err
		}
	}
	now := o.now
	o.h.Status, o.h.AssignedBy, o.h.AssignedAt = StatusAssigned, o.p.ID, &now
	if req.Direction != "" {
		o.h.Direction = req.Direction
	}
	if err := storage.UpdateHandling(o.ctx, o.tx, o.h); err != nil {
		return err
	}
	details := map[string]any{"assignments": given, "direction": req.Direction}
	if o.direct {
		details["sent_by_clerk"] = true
	}
	return o.finish("assign", "", req.Direction, details, events.DocumentAssigned, "Văn bản được giao xử lý: "+o.doc.Subject)
}

// unitAssign gives the handler of the caller's unit's part.
func (o *op) unitAssign(req AssignRequest) error {
	if len(req.Assignments) != 1 || req.Assignments[0].UserID == "" || req.Assignments[0].UnitID != "" {
		return because(rHandlerRequired, invalid("a unit head assigns one handler by user_id"))
	}
	r := req.Assignments[0]
	handler, err := storage.GetUser(o.ctx, o.tx, r.UserID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if err != nil || handler.OrganizationID != o.doc.OrganizationID || handler.DisabledAt != nil {
		return because(rHandlerUnknown, invalid("user_id is not an active member of the organisation"))
	}
	var parent *storage.Assignment
	headOf := false
	for i := range o.as {
		a := &o.as[i]
		if a.ParentID != "" || a.UnitID == "" || a.Role == RoleInform || !o.p.InUnit(a.UnitID) || !o.p.Has(storage.RoleReviewer) {
			continue
		}
		headOf = true
		if slices.Contains(handler.UnitIDs, a.UnitID) && (parent == nil || parent.State != "open") {
			parent = a
		}
	}
	switch {
	case !headOf:
		return forbidden("only the organisation's leaders assign this document; a unit head assigns within a part given to their unit")
	case parent == nil:
		return because(rHandlerNotInUnit, invalid("the handler must be a member of the unit whose part you assign"))
	case parent.State != "open":
		return because(rPartClosed, conflict("the unit's part is already %s", parent.State))
	}
	if r.Role != "" && r.Role != parent.Role {
		return because(rHandlerRole, invalid("a handler takes the unit's role (%s)", parent.Role))
	}
	for _, a := range o.as {
		if a.ParentID == parent.ID {
			return because(rHandlerTaken, conflict("the unit's part already has a handler"))
		}
	}
	child := storage.Assignment{OrganizationID: o.doc.OrganizationID, DocumentID: o.doc.ID, ParentID: parent.ID, UserID: handler.ID,
		Role: parent.Role, AssignedBy: o.p.ID, AssignedAt: o.now, DueAt: parent.DueAt}
	if r.Due != nil {
		cal, err := o.calendar()
		if err != nil {
			return err
		}
		if child.DueAt, err = r.Due.at(cal, o.now); err != nil {
			return err
		}
		if parent.DueAt != nil && child.DueAt.After(*parent.DueAt) {
			mine, unit := child.DueAt.In(calendar.Vietnam).Format(time.DateTime), parent.DueAt.In(calendar.Vietnam).Format(time.DateTime)
			return because(rHandlerDueLate, invalid("the handler's deadline %s is after the unit's %s", mine, unit), mine, unit)
		}
	}
	child, err = storage.InsertAssignment(o.ctx, o.tx, child)
	if errors.Is(err, storage.ErrConflict) {
		return because(rHandlerTaken, conflict("the unit's part already has a handler"))
	} else if err != nil {
		return err
	}
	if err := o.endItems([]string{parent.ID}, "forwarded", "assigned"); err != nil {
		return err
	}
	task := taskHandle
	if child.Role == RoleCoordinate {
		task = taskCoordinate
	}
	if err := o.item(handler.ID, &child, task, roleLabel[child.Role]); err != nil {
		return err
	}
	details := map[string]any{"assignments": []map[string]any{{"assignment_id": child.ID, "parent_id": parent.ID, "role": child.Role, "user_id": handler.ID}}}
	if child.DueAt != nil {
		details["due"] = child.DueAt.Format(time.RFC3339)
	}
	return o.finish("assign", child.ID, "", details, events.DocumentAssigned, "Văn bản được giao xử lý: "+o.doc.Subject)
}

// mine is the caller's part to act on: the one named, else their first
// open one (their own before their unit's, the lead before the rest). A
// caller with no part is refused; one whose parts are all ended is told it
// moved (409), which is what the loser of a race sees.
func (o *op) mine(id string) (*storage.Assignment, error) {
	var cands []*storage.Assignment
	for i := range o.as {
		a := &o.as[i]
		if a.Role == RoleInform {
			continue
		}
		if a.UserID == o.p.ID || (a.UnitID != "" && o.p.InUnit(a.UnitID) && o.p.Has(storage.RoleReviewer)) {
			if id == "" || a.ID == id {
				cands = append(cands, a)
			}
		}
	}
	if len(cands) == 0 {
		if id != "" {
			return nil, because(rPartUnknown, invalid("assignment_id is not a part of this document you hold"))
		}
		return nil, forbidden("you hold no part in handling this document")
	}
	rank := func(a *storage.Assignment) int {
		r := 0
		if a.UserID == "" {
			r += 2
		}
		if a.Role != RoleLead {
			r++
		}
		return r
	}
	slices.SortStableFunc(cands, func(a, b *storage.Assignment) int { return rank(a) - rank(b) })
	for _, a := range cands {
		if a.State == "open" {
			return a, nil
		}
	}
	return nil, because(rPartDone, conflict("your part is already %s", cands[0].State))
}

// Progress records how the caller's part goes.
func (s *Service) Progress(ctx context.Context, p accounts.Principal, documentID string, req ProgressRequest) (View, error) {
	req.Note = strings.TrimSpace(req.Note)
	if req.Note == "" || utf8.RuneCountInString(req.Note) > maxNote || !utf8.ValidString(req.Note) {
		return View{}, because(rNoteRequired, invalid("note must be text of 1 to %d characters", maxNote), maxNote)
	}
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		o, err := s.begin(ctx, tx, p, documentID, accounts.DocumentChange)
		if err != nil {
			return err
		}
		if o.h.Status == StatusCompleted {
			return because(rCompleted, conflict("the document's handling is completed"))
		}
		a, err := o.mine(req.AssignmentID)
		if err != nil {
			return err
		}
		return o.finish("progress", a.ID, req.Note, map[string]any{"assignment_id": a.ID}, "", "")
	})
	if err != nil {
		return View{}, err
	}
	return s.View(ctx, p, documentID)
}

// Complete ends the caller's part. A handler's completion completes their
// unit's part; the lead's closes the document and every part still open.
func (s *Service) Complete(ctx context.Context, p accounts.Principal, documentID string, req CompleteRequest) (View, error) {
	req.Note = strings.TrimSpace(req.Note)
	if utf8.RuneCountInString(req.Note) > maxNote || !utf8.ValidString(req.Note) {
		return View{}, because(rNoteLong, invalid("note must be text of at most %d characters", maxNote), maxNote)
	}
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		o, err := s.begin(ctx, tx, p, documentID, accounts.DocumentChange)
		if err != nil {
			return err
		}
		if o.h.Status == StatusCompleted {
			return because(rCompleted, conflict("the document's handling is completed"))
		}
		a, err := o.mine(req.AssignmentID)
		if err != nil {
			return err
		}
		if req.ReplyDocumentID != "" {
			if err := o.checkReply(req.ReplyDocumentID); err != nil {
				return err
			}
		}
		now := o.now
		end := func(x *storage.Assignment, state string) error {
			x.State, x.CompletedAt, x.CompletedBy = state, &now, o.p.ID
			if x.ID == a.ID {
				x.Note, x.ReplyDocumentID = req.Note, req.ReplyDocumentID
			}
			return storage.EndAssignment(o.ctx, o.tx, *x)
		}
		ended := []string{a.ID}
		if err := end(a, "done"); err != nil {
			return err
		}
		top := a
		if a.ParentID != "" {
			for i := range o.as {
				if o.as[i].ID == a.ParentID {
					top = &o.as[i]
				}
			}
			if top.State == "open" {
				if err := end(top, "done"); err != nil {
					return err
				}
				ended = append(ended, top.ID)
			}
		} else {
			// A unit's part completed by its head ends its handler's too.
			for i := range o.as {
				if c := &o.as[i]; c.ParentID == a.ID && c.State == "open" {
					if err := end(c, "done"); err != nil {
						return err
					}
					ended = append(ended, c.ID)
				}
			}
		}
		if err := o.endItems(ended, "done", "completed"); err != nil {
			return err
		}
		closed := top.Role == RoleLead
		if closed {
			var rest []string
			for i := range o.as {
				if x := &o.as[i]; x.State == "open" && x.Role != RoleInform {
					if err := end(x, "closed"); err != nil {
						return err
					}
					rest = append(rest, x.ID)
				}
			}
			if err := o.endItems(rest, "closed", ""); err != nil {
				return err
			}
			o.h.Status, o.h.CompletedAt, o.h.CompletedBy, o.h.ReplyDocumentID = StatusCompleted, &now, o.p.ID, req.ReplyDocumentID
			if err := storage.UpdateHandling(o.ctx, o.tx, o.h); err != nil {
				return err
			}
		}
		// Whoever assigned the part hears that it is done.
		o.told = append(o.told, a.AssignedBy, top.AssignedBy)
		details := map[string]any{"assignment_id": a.ID, "role": top.Role, "document_completed": closed}
		if req.ReplyDocumentID != "" {
			details["reply_document_id"] = req.ReplyDocumentID
		}
		summary := "Hoàn thành phần xử lý: " + o.doc.Subject
		if closed {
			summary = "Văn bản đã được giải quyết: " + o.doc.Subject
		}
		return o.finish("complete", a.ID, req.Note, details, events.DocumentCompleted, summary)
	})
	if err != nil {
		return View{}, err
	}
	return s.View(ctx, p, documentID)
}

// checkReply accepts as a reply an outgoing document of the same
// organisation that the caller may see: not itself incoming.
func (o *op) checkReply(id string) error {
	bad := because(rReplyUnknown, invalid("reply_document_id must name an outgoing document of your organisation"))
	if id == o.doc.ID {
		return bad
	}
	d, err := storage.VisibleDocument(o.ctx, o.tx, id, o.p.Viewer())
	if errors.Is(err, storage.ErrNotFound) {
		return bad
	} else if err != nil {
		return err
	}
	if d.OrganizationID != o.doc.OrganizationID {
		return bad
	}
	if _, err := storage.GetHandling(o.ctx, o.tx, d.ID); err == nil {
		return bad
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}

// View returns a document's handling to whoever may see the document in
// the organisation that handles it.
func (s *Service) View(ctx context.Context, p accounts.Principal, documentID string) (View, error) {
	if err := accounts.Authorize(p, accounts.DocumentRead, accounts.Target{}); err != nil {
		return View{}, err
	}
	doc, err := storage.VisibleDocument(ctx, s.DB.Pool, documentID, p.Viewer())
	if err != nil {
		return View{}, err
	}
	if doc.OrganizationID != p.OrganizationID {
		return View{}, storage.ErrNotFound
	}
	h, err := storage.GetHandling(ctx, s.DB.Pool, doc.ID)
	if err != nil {
		return View{}, err
	}
	v := View{DocumentID: h.DocumentID, Status: h.Status, ReceivedAt: h.ReceivedAt, Direction: h.Direction, AssignedBy: h.AssignedBy,
		AssignedAt: h.AssignedAt, Due: h.DueAt, CompletedAt: h.CompletedAt, ReplyDocumentID: h.ReplyDocumentID}
	if v.Assignments, err = storage.DocumentAssignments(ctx, s.DB.Pool, doc.ID); err != nil {
		return View{}, err
	}
	if v.History, err = storage.HandlingActions(ctx, s.DB.Pool, doc.ID); err != nil {
		return View{}, err
	}
	if v.Assignments == nil {
		v.Assignments = []storage.Assignment{}
	}
	if v.History == nil {
		v.History = []storage.HandlingAction{}
	}
	return v, nil
}
