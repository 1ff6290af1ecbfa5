package chain

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/storage"
)

// View is a document's chain as the API shows it.
type View struct {
	DocumentID           string      `json:"document_id"`
	Status               string      `json:"status"`
	TemplateID           string      `json:"template_id,omitempty"`
	TemplateVersion      int         `json:"template_version,omitempty"`
	DrafterID            string      `json:"drafter_id"`
	Round                int         `json:"round"`
	Version              int         `json:"version"`
	VersionSHA256        string      `json:"version_sha256"`
	Signatures           int         `json:"signatures"`
	CurrentStage         string      `json:"current_stage,omitempty"`
	AllowAddedConsultees bool        `json:"allow_added_consultees"`
	AllowAddedSigners    bool        `json:"allow_added_signers"`
	SigningBy            string      `json:"signing_by,omitempty"`
	SigningUntil         *time.Time  `json:"signing_until,omitempty"`
	SubmittedAt          *time.Time  `json:"submitted_at,omitempty"`
	UpdatedAt            *time.Time  `json:"updated_at,omitempty"`
	Stages               []StageView `json:"stages"`
	// Comments are every comment of every round, oldest first, each on the
	// version it was given on: a resubmission shows the earlier ones.
	Comments []Entry `json:"comments"`
}

// StageView is one stage with its turns.
type StageView struct {
	ID          string     `json:"id"`
	Position    int        `json:"position"`
	Name        string     `json:"name"`
	Kind        string     `json:"kind"`
	Rule        Rule       `json:"rule"`
	Blocking    bool       `json:"blocking"`
	Due         *Due       `json:"due,omitempty"`
	AddedBy     string     `json:"added_by,omitempty"`
	State       string     `json:"state"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	Turns       []TurnView `json:"turns"`
}

// TurnView is one participant's turn in the current round.
type TurnView struct {
	ID      string     `json:"id"`
	UserID  string     `json:"user_id"`
	TurnOf  string     `json:"turn_of,omitempty"`
	Task    string     `json:"task"`
	State   string     `json:"state"`
	Outcome string     `json:"outcome,omitempty"`
	Since   time.Time  `json:"since"`
	DueAt   *time.Time `json:"due_at,omitempty"`
	DoneAt  *time.Time `json:"done_at,omitempty"`
	Overdue bool       `json:"overdue"`
}

// Entry is one action of a document's history, with its times in UTC and,
// for display, in Vietnam time (+07:00).
type Entry struct {
	ID            int64     `json:"id"`
	Action        string    `json:"action"`
	Round         int       `json:"round"`
	ActorID       string    `json:"actor_id"`
	Actor         string    `json:"actor"`
	OnBehalfOfID  string    `json:"on_behalf_of_id,omitempty"`
	OnBehalfOf    string    `json:"on_behalf_of,omitempty"`
	AuthorityForm string    `json:"authority_form,omitempty"`
	Stage         string    `json:"stage,omitempty"`
	Version       int       `json:"version,omitempty"`
	VersionSHA256 string    `json:"version_sha256,omitempty"`
	Comment       string    `json:"comment,omitempty"`
	Page          int       `json:"page,omitempty"`
	Rect          []float64 `json:"rect,omitempty"`
	ToUserID      string    `json:"to_user_id,omitempty"`
	ToUser        string    `json:"to_user,omitempty"`
	ToStage       string    `json:"to_stage,omitempty"`
	At            time.Time `json:"at"`
	AtDisplay     string    `json:"at_display"`
}

// display writes t as Vietnam shows it: 2026-03-12T09:41:05+07:00.
func display(t time.Time) string { return t.In(calendar.Vietnam).Format(time.RFC3339) }

func toEntry(a storage.ChainAction) Entry {
	form := a.AuthorityForm
	if form != "" {
		form += "."
	}
	return Entry{ID: a.ID, Action: a.Action, Round: a.Round, ActorID: a.Actor, Actor: a.ActorName, OnBehalfOfID: a.OnBehalfOf,
		OnBehalfOf: a.OnBehalfOfName, AuthorityForm: form, Stage: a.StageName, Version: a.Version, VersionSHA256: a.VersionSHA256,
		Comment: a.Comment, Page: a.Page, Rect: a.Rect, ToUserID: a.ToUser, ToUser: a.ToUserName, ToStage: a.ToStage,
		At: a.At.UTC(), AtDisplay: display(a.At)}
}

// view builds the chain's view from what the run holds.
func (r *run) view() (View, error) {
	v := View{DocumentID: r.doc.ID, Status: r.doc.Status, DrafterID: r.doc.CreatedBy, Stages: []StageView{}, Comments: []Entry{}}
	if !r.exists {
		v.Status = documents.StatusDraft
		return v, nil
	}
	c := r.chain
	v.Status, v.TemplateID, v.TemplateVersion, v.DrafterID, v.Round = c.Status, c.TemplateID, c.TemplateVersion, c.DrafterID, c.Round
	v.Version, v.VersionSHA256, v.Signatures = c.Version, c.VersionSHA256, c.Signatures
	v.AllowAddedConsultees, v.AllowAddedSigners = c.AllowAddedConsultees, c.AllowAddedSigners
	submitted, updated := c.SubmittedAt, c.UpdatedAt
	v.SubmittedAt = &submitted
	if !updated.IsZero() {
		v.UpdatedAt = &updated
	}
	if c.SigningUntil != nil && r.now.Before(*c.SigningUntil) {
		v.SigningBy, v.SigningUntil = c.SigningBy, c.SigningUntil
	}
	for _, st := range r.stages {
		sv := StageView{ID: st.ID, Position: st.Position, Name: st.Name, Kind: st.Kind, Rule: Rule{Kind: st.Rule, K: st.K}, Blocking: st.Blocking,
			AddedBy: st.AddedBy, State: st.State, ActivatedAt: st.ActivatedAt, DueAt: st.DueAt, CompletedAt: st.CompletedAt, Turns: []TurnView{}}
		if st.DueDays > 0 || st.DueHours > 0 {
			sv.Due = &Due{Days: st.DueDays, Hours: st.DueHours}
		}
		for _, it := range r.items {
			if it.StageID == st.ID {
				sv.Turns = append(sv.Turns, TurnView{ID: it.ID, UserID: it.UserID, TurnOf: it.TurnOf, Task: it.Task, State: it.State,
					Outcome: it.Outcome, Since: it.Since, DueAt: it.DueAt, DoneAt: it.DoneAt,
					Overdue: it.State == itemOpen && it.DueAt != nil && it.DueAt.Before(r.now)})
			}
		}
		if st.Blocking && st.State == "active" && v.CurrentStage == "" {
			v.CurrentStage = st.Name
		}
		v.Stages = append(v.Stages, sv)
	}
	actions := r.history
	if !r.historyRead {
		var err error
		if actions, err = storage.ChainActions(r.ctx, r.q(), r.doc.ID); err != nil {
			return v, err
		}
	}
	for _, a := range actions {
		if a.Comment != "" {
			v.Comments = append(v.Comments, toEntry(a))
		}
	}
	return v, nil
}

// Chain returns the chain of a document p may see (a draft never submitted
// shows as status draft with no stages).
func (s *Service) Chain(ctx context.Context, p accounts.Principal, documentID string) (View, error) {
	if _, err := s.Docs.Get(ctx, p, documentID); err != nil {
		return View{}, err
	}
	var v View
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		r, err := s.read(ctx, tx, documentID)
		if err != nil {
			return err
		}
		v, err = r.view()
		return err
	})
	return v, err
}

// read is lock without the locks, for reading.
func (s *Service) read(ctx context.Context, tx pgx.Tx, documentID string) (*run, error) {
	r := &run{s: s, ctx: ctx, tx: tx, now: s.now()}
	var err error
	if r.doc, err = storage.GetDocument(ctx, tx, documentID); err != nil {
		return nil, err
	}
	r.chain, err = storage.GetChain(ctx, tx, documentID)
	if errors.Is(err, storage.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	r.exists = true
	return r, r.reload()
}

// History lists every action on a document's chain, oldest first.
func (s *Service) History(ctx context.Context, p accounts.Principal, documentID string) ([]Entry, error) {
	if _, err := s.Docs.Get(ctx, p, documentID); err != nil {
		return nil, err
	}
	actions, err := storage.ChainActions(ctx, s.DB.Pool, documentID)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(actions))
	for _, a := range actions {
		out = append(out, toEntry(a))
	}
	return out, nil
}

// marshalView is the stored answer of an idempotent request.
func marshalView(v View) (json.RawMessage, error) { return json.Marshal(v) }
