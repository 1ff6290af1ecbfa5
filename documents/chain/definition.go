package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/storage"
)

// Stage kinds.
const (
	KindReview      = "review"       // approve or return
	KindConsult     = "consult"      // comments only (xin ý kiến); blocking or not
	KindFormatCheck = "format-check" // the văn thư's thể thức check
	KindSign        = "sign"
)

// DrafterUnit, as a participant's unit_id, is the unit of the document
// being submitted ("the reviewer of the drafter's unit").
const DrafterUnit = "drafter"

// Definition is a chain as a template or a submission gives it.
type Definition struct {
	Stages []StageSpec `json:"stages"`
	// RestartFrom names the stage a resubmission after a return restarts
	// at; the first stage when empty.
	RestartFrom string `json:"restart_from,omitempty"`
	// Whether a handler may add, outside the template, a consultee to
	// their stage or a signer after the last sign stage.
	AllowAddedConsultees bool `json:"allow_added_consultees,omitempty"`
	AllowAddedSigners    bool `json:"allow_added_signers,omitempty"`
}

// StageSpec is one stage of a definition.
type StageSpec struct {
	Name         string        `json:"name"`
	Kind         string        `json:"kind"`
	Participants []Participant `json:"participants"`
	Rule         Rule          `json:"rule"`
	Due          *Due          `json:"due,omitempty"`
	// Blocking applies to consult stages: whether the chain waits for the
	// comments (default: it does not).
	Blocking *bool `json:"blocking,omitempty"`
}

// Participant is a named user, or everyone holding a role (within a unit,
// or the drafter's unit with unit_id "drafter", or the whole organisation).
type Participant struct {
	UserID string `json:"user_id,omitempty"`
	Role   string `json:"role,omitempty"`
	UnitID string `json:"unit_id,omitempty"`
}

// Rule says how many of a stage's participants must act: all, any (one),
// or k.
type Rule struct {
	Kind string // all, any, k
	K    int
}

// MarshalJSON writes "all", "any" or {"k": n}.
func (r Rule) MarshalJSON() ([]byte, error) {
	if r.Kind == "k" {
		return json.Marshal(map[string]int{"k": r.K})
	}
	if r.Kind == "" {
		return json.Marshal("all")
	}
	return json.Marshal(r.Kind)
}

// UnmarshalJSON reads "all", "any" or {"k": n}.
func (r *Rule) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*r = Rule{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*r = Rule{Kind: s}
		return nil
	}
	var k struct {
		K *int `json:"k"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil || k.K == nil {
		return fmt.Errorf(`rule must be "all", "any" or {"k": n}`)
	}
	*r = Rule{Kind: "k", K: *k.K}
	return nil
}

// Due is a stage's deadline in working days or working hours from the
// moment the stage reaches its participants.
type Due struct {
	Days  int `json:"days,omitempty"`
	Hours int `json:"hours,omitempty"`
}

// rolesFor lists the roles that may hold a turn of a stage kind; a consult
// may go to anyone of the organisation.
func rolesFor(kind string) []string {
	switch kind {
	case KindReview:
		return []string{storage.RoleReviewer, storage.RoleSigner}
	case KindFormatCheck:
		return []string{storage.RoleClerk}
	case KindSign:
		return []string{storage.RoleSigner}
	}
	return nil
}

// taskOf is the action a stage expects of its participants, as the inbox
// shows it.
func taskOf(kind string) string {
	switch kind {
	case KindReview:
		return "approve"
	case KindConsult:
		return "comment"
	case KindFormatCheck:
		return "check"
	case KindSign:
		return "sign"
	}
	return ""
}

const (
	maxStages       = 30
	maxParticipants = 100
	maxNameRunes    = 200
)

// normalize checks a definition's shape (what needs no database) and
// fills its defaults.
func (d *Definition) normalize() error {
	if len(d.Stages) == 0 {
		return because(rDefNoStage, invalid("a chain needs at least one stage"))
	}
	if len(d.Stages) > maxStages {
		return because(rDefTooManyStages, invalid("a chain has at most %d stages", maxStages), maxStages)
	}
	names := map[string]bool{}
	firstSign := -1
	for i := range d.Stages {
		s := &d.Stages[i]
		s.Name = strings.TrimSpace(norm.NFC.String(s.Name))
		at := fmt.Sprintf("stage %d", i+1)
		if s.Name == "" {
			return because(rDefStageName, invalid("%s needs a name", at), i+1)
		}
		if utf8.RuneCountInString(s.Name) > maxNameRunes || strings.EqualFold(s.Name, "drafter") {
			return because(rDefStageNameReserved, invalid("%s: the name is too long or reserved", at), i+1, maxNameRunes)
		}
		if names[strings.ToLower(s.Name)] {
			return because(rDefStageTwice, invalid("two stages are named %q", s.Name), s.Name)
		}
		names[strings.ToLower(s.Name)] = true
		at = fmt.Sprintf("stage %q", s.Name)
		switch s.Kind {
		case KindReview, KindConsult, KindFormatCheck, KindSign:
		default:
			return because(rDefKind, invalid("%s: kind must be review, consult, format-check or sign, not %q", at, s.Kind), s.Name, refusal.T("kind", s.Kind))
		}
		if s.Blocking != nil && s.Kind != KindConsult {
			return because(rDefBlocking, invalid("%s: only a consult stage may say whether it blocks; the others always do", at), s.Name)
		}
		if s.Kind == KindSign && firstSign < 0 {
			firstSign = i
		}
		if firstSign >= 0 && s.Kind != KindSign {
			return because(rDefAfterSign, invalid("%s: nothing but signatures may follow a sign stage (the signed bytes cannot be reviewed again)", at))
		}
		if len(s.Participants) == 0 || len(s.Participants) > maxParticipants {
			return because(rDefParticipants, invalid("%s needs from 1 to %d participants", at, maxParticipants), s.Name, maxParticipants)
		}
		for j, p := range s.Participants {
			if (p.UserID == "") == (p.Role == "") {
				return because(rDefParticipantEither, invalid("%s, participant %d: give either user_id or role", at, j+1), s.Name, j+1)
			}
			if p.UserID != "" && p.UnitID != "" {
				return because(rDefParticipantUnit, invalid("%s, participant %d: unit_id goes with a role, not a named user", at, j+1), s.Name, j+1)
			}
			if p.Role != "" && !slices.Contains(storage.AllRoles, p.Role) {
				return because(rDefRoleUnknown, invalid("%s, participant %d: unknown role %q", at, j+1, p.Role), s.Name, j+1, refusal.T("role", p.Role))
			}
			if roles := rolesFor(s.Kind); p.Role != "" && roles != nil && !slices.Contains(roles, p.Role) {
				return because(rDefRoleForKind, invalid("%s: a %s stage's role must be one of %s, not %s", at, s.Kind, strings.Join(roles, ", "), p.Role),
					s.Name, refusal.T("kind", s.Kind), refusal.List("role", roles...), refusal.T("role", p.Role))
			}
		}
		switch s.Rule.Kind {
		case "":
			s.Rule.Kind = "all"
		case "all", "any":
		case "k":
			if s.Rule.K < 1 {
				return because(rDefRuleK, invalid("%s: rule k must be at least 1", at), s.Name)
			}
		default:
			return because(rDefRule, invalid(`%s: rule must be "all", "any" or {"k": n}`, at), s.Name)
		}
		if s.Due != nil {
			if s.Due.Days < 0 || s.Due.Hours < 0 || s.Due.Days > 365 || s.Due.Hours > 2000 {
				return because(rDefDue, invalid("%s: due is up to 365 working days or 2000 working hours", at), s.Name)
			}
			if s.Due.Days == 0 && s.Due.Hours == 0 {
				s.Due = nil
			}
		}
	}
	if firstSign < 0 {
		return because(rDefNoSign, invalid("a chain needs a sign stage"))
	}
	if d.RestartFrom != "" {
		d.RestartFrom = strings.TrimSpace(norm.NFC.String(d.RestartFrom))
		if !names[strings.ToLower(d.RestartFrom)] {
			return because(rDefRestart, invalid("restart_from names no stage: %q", d.RestartFrom), d.RestartFrom)
		}
	}
	return nil
}

// blocking reports whether the chain waits for a stage.
func (s StageSpec) blocking() bool {
	return s.Kind != KindConsult || (s.Blocking != nil && *s.Blocking)
}

// checkPeople checks the definition's named users and units against the
// organisation: users of it, enabled, holding a role the stage needs.
func checkPeople(ctx context.Context, q storage.Querier, orgID string, d Definition) error {
	for _, s := range d.Stages {
		for _, p := range s.Participants {
			if p.UserID != "" {
				u, err := storage.GetUser(ctx, q, p.UserID)
				if err != nil || u.OrganizationID != orgID {
					return because(rDefUserUnknown, invalid("stage %q: user %s is not a member of the organisation", s.Name, p.UserID), s.Name)
				}
				if err := fitFor(u, s.Kind, ""); err != nil {
					return refusal.Carry(err, invalid("stage %q: %v", s.Name, err))
				}
			}
			if p.UnitID != "" && p.UnitID != DrafterUnit {
				if err := unitOf(ctx, q, orgID, p.UnitID); err != nil {
					return because(rDefUnitUnknown, invalid("stage %q: %v", s.Name, err), s.Name)
				}
			}
		}
	}
	return nil
}

func unitOf(ctx context.Context, q storage.Querier, orgID, unitID string) error {
	units, err := storage.ListUnits(ctx, q, orgID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(units, func(u storage.Unit) bool { return u.ID == unitID }) {
		return fmt.Errorf("unit %s is not a unit of the organisation (or %q for the drafter's)", unitID, DrafterUnit)
	}
	return nil
}

// fitFor says why u may not hold a turn of a stage of kind (needing role
// when set), or nil.
func fitFor(u storage.User, kind, role string) error {
	if u.DisabledAt != nil {
		return because(rToUserDisabled, fmt.Errorf("%s's account is disabled", u.Username), u.Username)
	}
	roles := rolesFor(kind)
	if role != "" {
		roles = []string{role}
	}
	if roles != nil && !slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(u.Roles, r) }) {
		return because(rNotFit, fmt.Errorf("%s holds none of the roles a %s turn needs (%s)", u.Username, kind, strings.Join(roles, ", ")),
			u.Username, refusal.T("kind", kind), refusal.List("role", roles...))
	}
	return nil
}

// member is a resolved participant of a stage in flight.
type member struct {
	UserID string `json:"user_id"`
	Role   string `json:"role,omitempty"` // the role they were chosen by; kept when forwarded
}

// resolve turns a stage's participants into people for a document of unit
// docUnit drafted by drafter: named users as they are, roles expanded to
// their enabled holders (never the drafter, who does not approve their own
// draft).
func resolve(ctx context.Context, q storage.Querier, orgID, docUnit, drafter string, s StageSpec) ([]member, error) {
	var out []member
	seen := map[string]bool{}
	for _, p := range s.Participants {
		if p.UserID != "" {
			if p.UserID == drafter {
				return nil, because(rDefDrafter, invalid("stage %q names the drafter, who does not take a turn on their own document", s.Name), s.Name)
			}
			if !seen[p.UserID] {
				seen[p.UserID] = true
				out = append(out, member{UserID: p.UserID})
			}
			continue
		}
		unit := p.UnitID
		if unit == DrafterUnit {
			if docUnit == "" {
				return nil, because(rDefNoUnit, invalid("stage %q: the document has no unit, so %q names nobody", s.Name, DrafterUnit), s.Name)
			}
			unit = docUnit
		}
		users, err := storage.UsersHolding(ctx, q, orgID, p.Role, unit)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.ID != drafter && !seen[u.ID] {
				seen[u.ID] = true
				out = append(out, member{UserID: u.ID, Role: p.Role})
			}
		}
	}
	if len(out) == 0 {
		return nil, because(rDefNobody, invalid("stage %q: nobody holds the participants' roles (the drafter excepted)", s.Name), s.Name)
	}
	if s.Rule.Kind == "k" && s.Rule.K > len(out) {
		return nil, because(rDefTooFew, invalid("stage %q: rule k=%d but only %d people take part", s.Name, s.Rule.K, len(out)), s.Name, s.Rule.K, len(out))
	}
	return out, nil
}
