package chain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/storage"
)

// Actions on a chain besides submitting and signing.
const (
	ActionApprove      = "approve"
	ActionReturn       = "return"
	ActionComment      = "comment"
	ActionForward      = "forward"
	ActionWithdraw     = "withdraw"
	ActionReject       = "reject"
	ActionAddConsultee = "add_consultee"
	ActionAddSigner    = "add_signer"
)

// Actions lists them, as the API accepts them.
var Actions = []string{ActionApprove, ActionReturn, ActionComment, ActionForward, ActionWithdraw, ActionReject, ActionAddConsultee, ActionAddSigner}

// SubmitRequest starts a chain from a template or from stages given with
// it; empty, it resubmits a returned or withdrawn document along the
// chain it had.
type SubmitRequest struct {
	TemplateID string `json:"template_id,omitempty"`
	Definition
}

// ActionRequest is one action on a chain.
type ActionRequest struct {
	Action   string    `json:"action"`
	Comment  string    `json:"comment,omitempty"`
	ToUserID string    `json:"to_user_id,omitempty"`
	ToStage  string    `json:"to_stage,omitempty"`
	Page     int       `json:"page,omitempty"`
	Rect     []float64 `json:"rect,omitempty"`
}

const maxCommentRunes = 10000

func (a *ActionRequest) normalize() error {
	a.Action = strings.TrimSpace(a.Action)
	a.Comment = strings.TrimSpace(norm.NFC.String(a.Comment))
	a.ToStage = strings.TrimSpace(norm.NFC.String(a.ToStage))
	a.ToUserID = strings.TrimSpace(a.ToUserID)
	known := false
	for _, x := range Actions {
		known = known || x == a.Action
	}
	if a.Action == "sign" {
		return invalid("signatures are made with POST /documents/{id}/sign (or sign/prepare and sign/complete)")
	}
	if !known {
		return invalid("action must be one of %s, not %q", strings.Join(Actions, ", "), a.Action)
	}
	if utf8.RuneCountInString(a.Comment) > maxCommentRunes {
		return because(rCommentLong, invalid("the comment is longer than %d characters", maxCommentRunes), maxCommentRunes)
	}
	if a.Page < 0 || (a.Page == 0 && len(a.Rect) > 0) {
		return invalid("page is a page number from 1, and a rect needs its page")
	}
	if len(a.Rect) > 0 {
		r := a.Rect
		if len(r) != 4 {
			return invalid("rect is [x1, y1, x2, y2] in PDF points")
		}
		for _, x := range r {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 || x > 14400 {
				return invalid("rect coordinates are points from 0 to 14400")
			}
		}
		if r[0] >= r[2] || r[1] >= r[3] {
			return invalid("rect is [x1, y1, x2, y2] with x1 < x2 and y1 < y2")
		}
	}
	if (a.Page > 0) && a.Action != ActionComment && a.Action != ActionReturn {
		return invalid("only a comment or a return is anchored to a page")
	}
	return nil
}

// Submit starts or restarts a document's chain (trình): by its drafter,
// from draft, returned or withdrawn.
func (s *Service) Submit(ctx context.Context, p accounts.Principal, documentID string, req SubmitRequest, idemKey string) (View, error) {
	d, err := s.Docs.Changeable(ctx, p, documentID)
	if err != nil {
		return View{}, err
	}
	if d.CreatedBy != p.ID {
		return View{}, forbidden("only the drafter submits a document")
	}
	if req.TemplateID != "" && len(req.Stages) > 0 {
		return View{}, because(rTemplateOrStages, invalid("give template_id or stages, not both"))
	}
	var def *Definition
	var tmpl *storage.ChainTemplate
	switch {
	case req.TemplateID != "":
		t, err := storage.GetChainTemplate(ctx, s.DB.Pool, req.TemplateID, 0)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && t.OrganizationID != d.OrganizationID) {
			return View{}, because(rTemplateUnknown, invalid("template %s is not a chain template of the organisation", req.TemplateID))
		}
		if err != nil {
			return View{}, err
		}
		if !applies(t, d.Type, d.UnitID) {
			return View{}, because(rTemplateNotForDocument, invalid("template %q is not for documents of type %s from this unit", t.Name, d.Type), t.Name, d.Type)
		}
		tt, err := toTemplate(t)
		if err != nil {
			return View{}, err
		}
		tmpl, def = &t, &tt.Definition
	case len(req.Stages) > 0:
		dd := req.Definition
		if err := dd.normalize(); err != nil {
			return View{}, err
		}
		if err := checkPeople(ctx, s.DB.Pool, d.OrganizationID, dd); err != nil {
			return View{}, err
		}
		def = &dd
	}
	return s.idempotent(ctx, p, documentID, "submit", req, idemKey, func(r *run) error {
		return r.submit(p, def, tmpl)
	})
}

// Act takes one action on a document's chain.
func (s *Service) Act(ctx context.Context, p accounts.Principal, documentID string, req ActionRequest, idemKey string) (View, error) {
	if err := req.normalize(); err != nil {
		return View{}, err
	}
	if idemKey != "" {
		// A remembered answer is given only to whoever may still act on
		// the document; without a key, the lock checks it (s.act).
		if _, err := s.Docs.Changeable(ctx, p, documentID); err != nil {
			return View{}, err
		}
	}
	return s.idempotent(ctx, p, documentID, "action", req, idemKey, func(r *run) error {
		switch req.Action {
		case ActionApprove:
			return r.approve(p, req)
		case ActionReturn:
			return r.giveBack(p, req)
		case ActionComment:
			return r.comment(p, req)
		case ActionForward:
			return r.forward(p, req)
		case ActionWithdraw:
			return r.withdraw(p, req)
		case ActionReject:
			return r.reject(p, req)
		case ActionAddConsultee:
			return r.addConsultee(p, req)
		case ActionAddSigner:
			return r.addSigner(p, req)
		}
		return invalid("unknown action %q", req.Action)
	})
}

// idempotent runs fn on the locked chain in one transaction with its
// history and audit entries, and answers with the chain after it. With a
// key, the answer is remembered: the same request again answers the same,
// a different request with the key is refused.
func (s *Service) idempotent(ctx context.Context, p accounts.Principal, documentID, kind string, req any, key string, fn func(*run) error) (View, error) {
	if len(key) > 200 {
		return View{}, invalid("Idempotency-Key is longer than 200 characters")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return View{}, err
	}
	h := sha256.Sum256([]byte(kind + "\x00" + documentID + "\x00" + string(body)))
	replay := func() (View, bool, error) {
		k, err := storage.GetChainActionKey(ctx, s.DB.Pool, p.ID, key)
		if errors.Is(err, storage.ErrNotFound) {
			return View{}, false, nil
		}
		if err != nil {
			return View{}, false, err
		}
		if k.DocumentID != documentID || !bytes.Equal(k.RequestHash, h[:]) {
			return View{}, true, fmt.Errorf("%w: this Idempotency-Key was used for another request", ErrIdempotencyKeyReused)
		}
		var v View
		return v, true, json.Unmarshal(k.Response, &v)
	}
	if key != "" {
		if v, ok, err := replay(); ok || err != nil {
			return v, err
		}
	}
	var v View
	err = s.act(ctx, p, documentID, func(r *run) error {
		if err := fn(r); err != nil {
			return err
		}
		r.chain.UpdatedAt = r.now
		r.wantHistory = true // the view's comments, read back with the writes
		if err := r.finish(); err != nil {
			return err
		}
		var err error
		if v, err = r.view(); err != nil || key == "" {
			return err
		}
		resp, err := marshalView(v)
		if err != nil {
			return err
		}
		return storage.RecordChainActionKey(ctx, r.tx, p.ID, key, storage.ChainActionKey{DocumentID: documentID, RequestHash: h[:], Response: resp})
	})
	if errors.Is(err, storage.ErrDuplicateKey) {
		// The same request, sent twice at once: the other one won.
		if v, ok, err := replay(); ok || err != nil {
			return v, err
		}
	}
	if errors.Is(err, storage.ErrNotFound) {
		return View{}, documents.ErrNotFound
	}
	return v, err
}

// submit starts a new generation of stages from def, or, with def nil on a
// returned document, restarts the chain it has where its template says.
func (r *run) submit(p accounts.Principal, def *Definition, tmpl *storage.ChainTemplate) error {
	status := documents.StatusDraft
	if r.exists {
		status = r.chain.Status
	}
	switch status {
	case documents.StatusDraft, documents.StatusWithdrawn, documents.StatusReturned:
	default:
		return because(rNotSubmittable, conflict("the document is %s: only a draft, a returned or a withdrawn document is submitted", status))
	}
	if def == nil && status == documents.StatusWithdrawn && r.chain.TemplateID != "" {
		t, err := storage.GetChainTemplate(r.ctx, r.q(), r.chain.TemplateID, r.chain.TemplateVersion)
		if err != nil {
			return err
		}
		tt, err := toTemplate(t)
		if err != nil {
			return err
		}
		tmpl, def = &t, &tt.Definition
	}
	if def == nil && status != documents.StatusReturned {
		return because(rRouteRequired, invalid("give template_id or stages to submit this document"))
	}
	v, err := r.latestVersion()
	if err != nil {
		return err
	}
	// The drafter's turn to revise ends with this submission; nothing else is open.
	for _, it := range r.openItems() {
		state, outcome := itemClosed, ""
		if it.Task == taskRevise {
			state, outcome = itemDone, "submit"
		}
		if err := r.endItem(it, state, outcome); err != nil {
			return err
		}
	}
	action := "submit"
	if def == nil {
		action = "resubmit"
		// Restart where the template says, but never past a stage not yet passed.
		from := r.chain.RestartFrom
		for _, st := range r.stages {
			if st.State != "done" && st.Position < from {
				from = st.Position
			}
		}
		r.chain.Round++
		for i := range r.stages {
			if st := &r.stages[i]; st.Position >= from {
				st.State, st.ActivatedAt, st.DueAt, st.CompletedAt = "pending", nil, nil, nil
				storage.QueueUpdateStage(&r.writes, *st)
			}
		}
	} else {
		if err := r.newGeneration(p, *def, tmpl); err != nil {
			return err
		}
	}
	r.chain.Version, r.chain.VersionSHA256, r.chain.Signatures = v.Number, v.SHA256, 0
	r.chain.SubmittedAt = r.now
	r.items = nil // a new round: the earlier round's turns are history
	if err := r.record(p, storage.ChainAction{Action: action}); err != nil {
		return err
	}
	return r.advance()
}

// newGeneration replaces the chain's stages with def's, resolving their
// participants for this document.
func (r *run) newGeneration(p accounts.Principal, def Definition, tmpl *storage.ChainTemplate) error {
	unit := r.doc.UnitID
	c := &r.chain
	c.Generation++
	c.Round++
	c.DrafterID = r.doc.CreatedBy
	c.TemplateID, c.TemplateVersion = "", 0
	if tmpl != nil {
		c.TemplateID, c.TemplateVersion = tmpl.ID, tmpl.Version
	}
	c.AllowAddedConsultees, c.AllowAddedSigners, c.RestartFrom = def.AllowAddedConsultees, def.AllowAddedSigners, 1
	c.SigningBy, c.SigningUntil = "", nil
	r.stages = nil
	for i, spec := range def.Stages {
		members, err := resolve(r.ctx, r.q(), r.doc.OrganizationID, unit, r.doc.CreatedBy, spec)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(members)
		if err != nil {
			return err
		}
		st := storage.ChainStage{DocumentID: r.doc.ID, Generation: c.Generation, Position: i + 1, Name: spec.Name, Kind: spec.Kind,
			Rule: spec.Rule.Kind, K: spec.Rule.K, Blocking: spec.blocking(), Participants: raw}
		if spec.Due != nil {
			st.DueDays, st.DueHours = spec.Due.Days, spec.Due.Hours
		}
		if !r.exists && i == 0 {
			// The stages reference the chain row: it must exist first.
			c.Status, c.Version, c.VersionSHA256, c.SubmittedAt = documents.StatusInReview, 0, "", r.now
			if err := r.save(); err != nil {
				return err
			}
		}
		got, err := storage.InsertStage(r.ctx, r.q(), st)
		if err != nil {
			return err
		}
		r.stages = append(r.stages, got)
		if strings.EqualFold(spec.Name, def.RestartFrom) {
			c.RestartFrom = i + 1
		}
	}
	return nil
}

// counting is a turn that counts toward its stage's rule.
func counting(kinds ...string) func(*storage.InboxItem, *storage.ChainStage) bool {
	return func(it *storage.InboxItem, st *storage.ChainStage) bool {
		if st == nil || !it.Counts {
			return false
		}
		for _, k := range kinds {
			if st.Kind == k {
				return true
			}
		}
		return false
	}
}

func (r *run) inFlight(action string) error {
	if !r.exists {
		return because(rDraft, conflict("the document is a draft: submit it first"))
	}
	switch r.chain.Status {
	case documents.StatusInReview, documents.StatusApproved:
		return nil
	}
	return because(rNothingWaiting, conflict("the document is %s: nothing is waiting to %s", r.chain.Status, action))
}

// approve passes the participant's turn; a comment given with it is kept
// with the approval, like a return's.
func (r *run) approve(p accounts.Principal, req ActionRequest) error {
	if err := r.inFlight(ActionApprove); err != nil {
		return err
	}
	t, err := r.turnFor(p, counting(KindReview, KindFormatCheck))
	if err != nil || t == nil {
		if err == nil {
			if t2, _ := r.turnFor(p, func(*storage.InboxItem, *storage.ChainStage) bool { return true }); t2 != nil && t2.stage != nil {
				return because(rTurnOtherTask, invalid("your turn at stage %q is to %s, not approve", t2.stage.Name, taskOf(t2.stage.Kind)), t2.stage.Name)
			}
			err = r.noTurn(p, ActionApprove)
		}
		return err
	}
	if err := r.endItem(t.item, itemDone, ActionApprove); err != nil {
		return err
	}
	if err := r.record(p, storage.ChainAction{Action: ActionApprove, OnBehalfOf: t.onBehalfOf, AuthorityForm: t.form,
		StageID: t.stage.ID, StageName: t.stage.Name, Comment: req.Comment}); err != nil {
		return err
	}
	return r.advance()
}

// giveBack is return (trả lại): to the drafter, or back to an earlier stage.
func (r *run) giveBack(p accounts.Principal, req ActionRequest) error {
	if err := r.inFlight(ActionReturn); err != nil {
		return err
	}
	if req.Comment == "" {
		return because(rReturnComment, invalid("a return needs a comment saying what to change"))
	}
	t, err := r.turnFor(p, counting(KindReview, KindFormatCheck, KindSign))
	if err != nil {
		return err
	}
	if t == nil {
		return r.noTurn(p, ActionReturn)
	}
	if r.chain.Signatures > 0 {
		return because(rSignedNoReturn, conflict("the document already carries a signature and cannot change: refuse to sign (reject) instead"))
	}
	var target *storage.ChainStage
	if req.ToStage != "" && !strings.EqualFold(req.ToStage, "drafter") {
		for i := range r.stages {
			st := &r.stages[i]
			if strings.EqualFold(st.Name, req.ToStage) || strconv.Itoa(st.Position) == req.ToStage {
				target = st
			}
		}
		if target == nil || target.Position >= t.stage.Position {
			return because(rReturnStage, invalid("to_stage must name a stage before %q (or \"drafter\")", t.stage.Name), t.stage.Name)
		}
	}
	if err := r.endItem(t.item, itemDone, ActionReturn); err != nil {
		return err
	}
	a := storage.ChainAction{Action: ActionReturn, OnBehalfOf: t.onBehalfOf, AuthorityForm: t.form, StageID: t.stage.ID, StageName: t.stage.Name,
		Comment: req.Comment, Page: req.Page, Rect: req.Rect, ToStage: "drafter"}
	if target != nil {
		a.ToStage = target.Name
	}
	if err := r.record(p, a); err != nil {
		return err
	}
	if err := r.closeOpen(nil); err != nil {
		return err
	}
	if target == nil {
		r.chain.Status = documents.StatusReturned
		_, err := r.addItem(storage.InboxItem{UserID: r.chain.DrafterID, Label: "Trả lại: " + t.stage.Name, Task: taskRevise})
		return err
	}
	// Back to an earlier stage: it and everything after it are taken again, in a new round.
	r.chain.Round++
	r.items = nil
	for i := range r.stages {
		if st := &r.stages[i]; st.Position >= target.Position {
			st.State, st.ActivatedAt, st.DueAt, st.CompletedAt = "pending", nil, nil, nil
			storage.QueueUpdateStage(&r.writes, *st)
		}
	}
	return r.advance()
}

// comment gives an opinion (ý kiến) on the version under review: the drafter
// or anyone holding a turn; it is the whole turn of a consultee.
func (r *run) comment(p accounts.Principal, req ActionRequest) error {
	if !r.exists {
		return because(rDraft, conflict("the document is a draft: submit it first"))
	}
	switch r.chain.Status {
	case documents.StatusInReview, documents.StatusApproved, documents.StatusReturned:
	default:
		return because(rCommentsClosed, conflict("the document is %s: its chain takes no more comments", r.chain.Status), refusal.T("status", r.chain.Status))
	}
	if req.Comment == "" {
		return because(rCommentEmpty, invalid("a comment needs its text"))
	}
	a := storage.ChainAction{Action: ActionComment, Comment: req.Comment, Page: req.Page, Rect: req.Rect}
	t, err := r.turnFor(p, func(it *storage.InboxItem, st *storage.ChainStage) bool { return it.Task == "comment" })
	if err != nil {
		return err
	}
	if t == nil {
		t, err = r.turnFor(p, func(it *storage.InboxItem, st *storage.ChainStage) bool { return st != nil })
		if err != nil {
			return err
		}
	}
	switch {
	case t != nil:
		a.OnBehalfOf, a.AuthorityForm, a.StageID, a.StageName = t.onBehalfOf, t.form, t.stage.ID, t.stage.Name
		if t.item.Task == "comment" {
			if err := r.endItem(t.item, itemDone, ActionComment); err != nil {
				return err
			}
		}
	case p.ID == r.chain.DrafterID:
	default:
		return r.noTurn(p, ActionComment)
	}
	if err := r.record(p, a); err != nil {
		return err
	}
	if r.chain.Status == documents.StatusReturned {
		return nil // the chain waits for the drafter
	}
	return r.advance() // a consultee's comment may complete a stage
}

// target reads the user an action names in to_user_id.
func (r *run) target(req ActionRequest) (storage.User, error) {
	if req.ToUserID == "" {
		return storage.User{}, because(rToUserRequired, invalid("%s needs to_user_id", req.Action))
	}
	u, err := storage.GetUser(r.ctx, r.q(), req.ToUserID)
	if err != nil {
		return storage.User{}, because(rToUserUnknown, invalid("to_user_id is not a member of the organisation"))
	}
	return u, r.mayTakeTurn(u)
}

// mayTakeTurn refuses u as the receiver of a turn on the document: someone
// of another organisation, a disabled account, the drafter.
func (r *run) mayTakeTurn(u storage.User) error {
	if u.OrganizationID != r.doc.OrganizationID {
		return because(rToUserUnknown, invalid("to_user_id is not a member of the organisation"))
	}
	if u.DisabledAt != nil {
		return because(rToUserDisabled, invalid("%s's account is disabled", u.Username), u.Username)
	}
	if u.ID == r.chain.DrafterID {
		return because(rToDrafter, invalid("the drafter does not take a turn on their own document"))
	}
	return nil
}

// forward hands one's turn to someone else with the role it needs
// (chuyển xử lý); a signing turn goes only to a deputy holding a valid
// delegation from the one whose turn it is, who then signs for them.
func (r *run) forward(p accounts.Principal, req ActionRequest) error {
	if err := r.inFlight(ActionForward); err != nil {
		return err
	}
	to, err := r.target(req)
	if err != nil {
		return err
	}
	t, err := r.turnFor(p, func(it *storage.InboxItem, st *storage.ChainStage) bool { return st != nil })
	if err != nil {
		return err
	}
	if t == nil {
		return r.noTurn(p, ActionForward)
	}
	if err := r.mayForward(p, t, to); err != nil {
		return err
	}
	turnOf := t.item.TurnOf
	if turnOf == "" {
		turnOf = t.item.UserID
	}
	if err := r.endItem(t.item, itemForwarded, ActionForward); err != nil {
		return err
	}
	if _, err := r.addItem(storage.InboxItem{UserID: to.ID, StageID: t.stage.ID, Label: t.stage.Name, Task: t.item.Task, Role: t.item.Role,
		TurnOf: turnOf, Counts: t.item.Counts, DueAt: t.item.DueAt}); err != nil {
		return err
	}
	err = r.record(p, storage.ChainAction{Action: ActionForward, OnBehalfOf: t.onBehalfOf, AuthorityForm: t.form, StageID: t.stage.ID,
		StageName: t.stage.Name, Comment: req.Comment, ToUser: to.ID})
	return err
}

// mayForward refuses to as the receiver of p's turn t: it is already
// theirs, they lack the role the turn needs, they hold a turn at the same
// stage, or (a signing turn) they are not a deputy of the one whose
// signature it is, by a delegation valid now.
func (r *run) mayForward(p accounts.Principal, t *turn, to storage.User) error {
	if to.ID == t.item.UserID || to.ID == p.ID {
		return because(rTurnTheirs, invalid("the turn is already theirs"))
	}
	if err := fitFor(to, t.stage.Kind, t.item.Role); err != nil {
		return refusal.Carry(err, invalid("%v", err))
	}
	for _, it := range r.openItems() {
		if it.StageID == t.stage.ID && it.UserID == to.ID {
			return because(rHoldsTurn, invalid("%s already holds a turn at stage %q", to.Username, t.stage.Name), to.Username, t.stage.Name)
		}
	}
	if t.stage.Kind == KindSign {
		turnOf := t.item.TurnOf
		if turnOf == "" {
			turnOf = t.item.UserID
		}
		held, err := storage.DelegationsTo(r.ctx, r.q(), to.ID)
		if err != nil {
			return err
		}
		if r.delegated(accounts.Principal{User: to}, turnOf, held) == "" {
			return because(rForwardNoDelegation, invalid("%s holds no delegation valid now for this document from the one whose signature it is: a signing turn goes only to their deputy", to.Username), to.Username)
		}
	}
	return nil
}

// ForwardCandidates are the people p may forward their open turn on the
// document to, by the rules forward applies (a page offers only them);
// none when p holds no turn.
func (s *Service) ForwardCandidates(ctx context.Context, p accounts.Principal, documentID string) ([]storage.User, error) {
	if _, err := s.Docs.Get(ctx, p, documentID); err != nil {
		return nil, err
	}
	var out []storage.User
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		r, err := s.read(ctx, tx, documentID)
		if err != nil || !r.exists || r.inFlight(ActionForward) != nil {
			return err
		}
		t, err := r.turnFor(p, func(it *storage.InboxItem, st *storage.ChainStage) bool { return st != nil })
		if err != nil || t == nil {
			return err
		}
		users, err := storage.ListUsers(ctx, tx, r.doc.OrganizationID)
		if err != nil {
			return err
		}
		for _, u := range users {
			if r.mayTakeTurn(u) != nil {
				continue
			}
			err := r.mayForward(p, t, u)
			if err == nil {
				out = append(out, u)
			} else if reason, _ := refusal.Of(err); reason == (refusal.Reason{}) {
				return err // not a refusal: the database failed
			}
		}
		return nil
	})
	return out, err
}

// withdraw is the drafter taking the submission back, before any signature.
func (r *run) withdraw(p accounts.Principal, req ActionRequest) error {
	if !r.exists {
		return because(rWithdrawDraft, conflict("the document is a draft: there is no submission to withdraw"))
	}
	if p.ID != r.chain.DrafterID {
		return forbidden("only the drafter withdraws a submission")
	}
	switch r.chain.Status {
	case documents.StatusInReview, documents.StatusApproved, documents.StatusReturned:
	default:
		return because(rWithdrawNone, conflict("the document is %s: there is no submission to withdraw", r.chain.Status), refusal.T("status", r.chain.Status))
	}
	if r.chain.Signatures > 0 {
		return because(rWithdrawSigned, conflict("the document already carries a signature: a submission is withdrawn only before the first one"))
	}
	if r.chain.SigningUntil != nil && r.now.Before(*r.chain.SigningUntil) {
		return because(rSigningNow, conflict("a signature is being made on the document"))
	}
	if err := r.closeOpen(nil); err != nil {
		return err
	}
	r.chain.Status = documents.StatusWithdrawn
	err := r.record(p, storage.ChainAction{Action: ActionWithdraw, Comment: req.Comment})
	return err
}

// reject is the signer refusing to sign (từ chối ký): the chain ends.
func (r *run) reject(p accounts.Principal, req ActionRequest) error {
	if err := r.inFlight(ActionReject); err != nil {
		return err
	}
	if req.Comment == "" {
		return because(rRejectComment, invalid("refusing to sign needs a comment giving the reason"))
	}
	t, err := r.turnFor(p, counting(KindSign))
	if err != nil {
		return err
	}
	if t == nil || t.stage.State != "active" {
		return r.noTurn(p, ActionReject)
	}
	if err := r.endItem(t.item, itemDone, ActionReject); err != nil {
		return err
	}
	if err := r.closeOpen(nil); err != nil {
		return err
	}
	r.chain.Status = documents.StatusRejected
	err = r.record(p, storage.ChainAction{Action: ActionReject, OnBehalfOf: t.onBehalfOf, AuthorityForm: t.form, StageID: t.stage.ID,
		StageName: t.stage.Name, Comment: req.Comment})
	return err
}

// addConsultee asks someone outside the template for comments at one's
// own stage, without blocking it, when the chain allows.
func (r *run) addConsultee(p accounts.Principal, req ActionRequest) error {
	if err := r.inFlight(ActionAddConsultee); err != nil {
		return err
	}
	t, err := r.turnFor(p, func(it *storage.InboxItem, st *storage.ChainStage) bool { return st != nil })
	if err != nil {
		return err
	}
	if t == nil {
		return r.noTurn(p, ActionAddConsultee)
	}
	if !r.chain.AllowAddedConsultees {
		return because(rNoAddedConsultees, invalid("this chain's template does not allow adding consultees"))
	}
	to, err := r.target(req)
	if err != nil {
		return err
	}
	for _, it := range r.openItems() {
		if it.StageID == t.stage.ID && it.UserID == to.ID {
			return because(rHoldsTurn, invalid("%s already holds a turn at stage %q", to.Username, t.stage.Name), to.Username, t.stage.Name)
		}
	}
	if _, err := r.addItem(storage.InboxItem{UserID: to.ID, StageID: t.stage.ID, Label: t.stage.Name, Task: "comment", Counts: false}); err != nil {
		return err
	}
	err = r.record(p, storage.ChainAction{Action: ActionAddConsultee, OnBehalfOf: t.onBehalfOf, StageID: t.stage.ID, StageName: t.stage.Name,
		Comment: req.Comment, ToUser: to.ID})
	return err
}

// addSigner adds a sign stage for one more signer after the last one,
// when the chain allows.
func (r *run) addSigner(p accounts.Principal, req ActionRequest) error {
	if err := r.inFlight(ActionAddSigner); err != nil {
		return err
	}
	t, err := r.turnFor(p, func(it *storage.InboxItem, st *storage.ChainStage) bool { return st != nil && it.Counts })
	if err != nil {
		return err
	}
	if t == nil {
		return r.noTurn(p, ActionAddSigner)
	}
	if !r.chain.AllowAddedSigners {
		return because(rNoAddedSigners, invalid("this chain's template does not allow adding signers"))
	}
	to, err := r.target(req)
	if err != nil {
		return err
	}
	if err := fitFor(to, KindSign, ""); err != nil {
		return refusal.Carry(err, invalid("%v", err))
	}
	last := r.stages[len(r.stages)-1]
	name := "Ký bổ sung: " + to.FullName
	for _, st := range r.stages {
		if strings.EqualFold(st.Name, name) {
			return because(rAlreadySigner, invalid("%s is already an added signer", to.Username), to.Username)
		}
	}
	raw, err := json.Marshal([]member{{UserID: to.ID}})
	if err != nil {
		return err
	}
	st, err := storage.InsertStage(r.ctx, r.q(), storage.ChainStage{DocumentID: r.doc.ID, Generation: r.chain.Generation, Position: last.Position + 1,
		Name: name, Kind: KindSign, Rule: "all", Blocking: true, Participants: raw, AddedBy: p.ID})
	if err != nil {
		return err
	}
	r.stages = append(r.stages, st)
	if err := r.record(p, storage.ChainAction{Action: ActionAddSigner, OnBehalfOf: t.onBehalfOf, StageID: t.stage.ID, StageName: t.stage.Name,
		Comment: req.Comment, ToUser: to.ID, ToStage: name}); err != nil {
		return err
	}
	return r.advance()
}
