package chain

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/storage"
)

// Inbox views.
const (
	ViewOpen    = "open"     // chờ xử lý
	ViewDueSoon = "due_soon" // sắp đến hạn: due within the next working day
	ViewOverdue = "overdue"  // quá hạn
	ViewHandled = "handled"  // đã xử lý
	// ViewForInformation lists what was sent to the caller for
	// information (nhận để biết) in handling incoming documents.
	ViewForInformation = "for_information"
)

// InboxRequest selects a page of the caller's inbox: both flows (approval
// chains and the handling of incoming documents) unless Source names one.
type InboxRequest struct {
	View         string
	Source       string // "chain", "handling" or empty for both
	Task         string
	DocumentType string
	Limit        int
	Cursor       string
}

// InboxPage is one page of an inbox with its counts.
type InboxPage struct {
	Counts     storage.InboxCounts `json:"counts"`
	Items      []InboxEntry        `json:"items"`
	NextCursor string              `json:"next_cursor"`
}

// InboxEntry is one thing waiting for (or handled by) the caller.
type InboxEntry struct {
	ID             string        `json:"id"`
	Source         string        `json:"source"`
	Document       InboxDocument `json:"document"`
	Stage          string        `json:"stage"`
	ExpectedAction string        `json:"expected_action"`
	TurnOf         string        `json:"turn_of,omitempty"`
	// OnBehalfOf is set on a turn the caller sees through a delegation
	// (thay mặt): whose turn it is, and the delegation's authority form.
	OnBehalfOf   *OnBehalfOf `json:"on_behalf_of,omitempty"`
	AssignmentID string      `json:"assignment_id,omitempty"` // handling: the assignment to act on
	State        string      `json:"state"`
	Outcome      string      `json:"outcome,omitempty"`
	Since        time.Time   `json:"since"`
	SinceDisplay string      `json:"since_display"`
	Due          *time.Time  `json:"due,omitempty"`
	DueDisplay   string      `json:"due_display,omitempty"`
	Overdue      bool        `json:"overdue"`
	DoneAt       *time.Time  `json:"done_at,omitempty"`
}

// OnBehalfOf names the delegator whose turn a delegate sees ("thay mặt
// Nguyễn Văn A", with the form the delegate would sign under).
type OnBehalfOf struct {
	UserID        string `json:"user_id"`
	Name          string `json:"name"`
	AuthorityForm string `json:"authority_form"`
}

// InboxDocument is what an inbox entry shows of its document.
type InboxDocument struct {
	ID              string  `json:"id"`
	Type            string  `json:"type"`
	Subject         string  `json:"subject"`
	Status          string  `json:"status"`
	Urgency         string  `json:"urgency"`
	Confidentiality string  `json:"confidentiality"`
	Number          *string `json:"number"`
}

// dueSoonHours is how close a deadline is to count as sắp đến hạn: one
// working day.
const dueSoonHours = 8

// Inbox returns one page of what waits for p (or what p handled), newest
// first, with the counts of every view.
func (s *Service) Inbox(ctx context.Context, p accounts.Principal, req InboxRequest) (InboxPage, error) {
	page := InboxPage{Items: []InboxEntry{}}
	// Someone of no organisation may look, and finds nothing.
	if err := accounts.Authorize(p, accounts.DocumentRead, accounts.Target{}); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return page, nil
		}
		return page, err
	}
	switch req.View {
	case "":
		req.View = ViewOpen
	case ViewOpen, ViewDueSoon, ViewOverdue, ViewHandled, ViewForInformation:
	default:
		return page, invalid("view must be %s, %s, %s, %s or %s", ViewOpen, ViewDueSoon, ViewOverdue, ViewHandled, ViewForInformation)
	}
	switch req.Source {
	case "", "chain", "handling":
	default:
		return page, invalid("source must be chain or handling")
	}
	if req.Limit <= 0 || req.Limit > 200 {
		req.Limit = 50
	}
	now := s.now()
	// Two round trips whatever the inbox holds: the calendar and the
	// caller's delegations, then the page and its counts.
	first := &pgx.Batch{}
	years := map[int]json.RawMessage{}
	storage.QueueCalendarYears(first, years)
	var held []storage.Delegation
	storage.QueueDelegationsTo(first, p.ID, &held)
	if err := s.DB.Pool.SendBatch(ctx, first).Close(); err != nil {
		return page, err
	}
	cal, err := calendar.FromStored(years)
	if err != nil {
		return page, err
	}
	soon := cal.AddHours(now, dueSoonHours)
	f := storage.InboxFilter{UserID: p.ID, View: req.View, Now: now, SoonLimit: soon, Task: strings.TrimSpace(req.Task),
		DocumentType: norm.NFC.String(strings.TrimSpace(req.DocumentType)), Source: req.Source, Limit: req.Limit + 1}
	acting, err := s.actingFor(ctx, p, held, now)
	if err != nil {
		return page, err
	}
	for _, d := range acting {
		f.Delegated = append(f.Delegated, storage.InboxDelegation{FromUser: d.FromUser, DocumentTypes: d.DocumentTypes, UnitIDs: d.UnitIDs})
	}
	if req.Cursor != "" {
		c, err := decodeInboxCursor(req.Cursor)
		if err != nil {
			return page, err
		}
		f.After = &c
	}
	second := &pgx.Batch{}
	var entries []storage.InboxEntry
	storage.QueueInbox(second, f, &entries)
	storage.QueueInboxCounts(second, p.ID, now, soon, f.Delegated, &page.Counts)
	if err := s.DB.Pool.SendBatch(ctx, second).Close(); err != nil {
		return page, err
	}
	if len(entries) > req.Limit {
		entries = entries[:req.Limit]
		last := entries[len(entries)-1]
		at := last.Since
		if req.View == ViewHandled && last.DoneAt != nil {
			at = *last.DoneAt
		}
		page.NextCursor = encodeInboxCursor(storage.InboxCursor{At: at, ID: last.ID})
	}
	names, err := delegatorNames(ctx, s.DB.Pool, p.ID, entries)
	if err != nil {
		return page, err
	}
	for _, e := range entries {
		ie := InboxEntry{ID: e.ID, Source: e.Source, Stage: e.Label, ExpectedAction: e.Task, TurnOf: e.TurnOf, AssignmentID: e.AssignmentID, State: e.State, Outcome: e.Outcome,
			Since: e.Since.UTC(), SinceDisplay: display(e.Since), DoneAt: e.DoneAt,
			Document: InboxDocument{ID: e.DocumentID, Type: e.DocumentType, Subject: e.Subject, Status: e.DocumentStatus, Urgency: e.Urgency,
				Confidentiality: e.Confidentiality, Number: e.Number}}
		if e.DueAt != nil {
			due := e.DueAt.UTC()
			ie.Due, ie.DueDisplay = &due, display(due)
			ie.Overdue = e.State == itemOpen && due.Before(now)
		}
		if e.UserID != p.ID {
			ie.OnBehalfOf = &OnBehalfOf{UserID: e.UserID, Name: names[e.UserID]}
			for _, d := range acting {
				if d.FromUser == e.UserID && accounts.Covers(d, e.DocumentType, e.DocumentUnitID) {
					ie.OnBehalfOf.AuthorityForm = d.Form
					break
				}
			}
		}
		page.Items = append(page.Items, ie)
	}
	return page, nil
}

// actingFor lists the delegations among held (those to p) that p may use
// now: the inbox shows the turns of those who delegated to p, within each
// one's scope.
func (s *Service) actingFor(ctx context.Context, p accounts.Principal, held []storage.Delegation, now time.Time) ([]storage.Delegation, error) {
	if len(held) == 0 {
		return nil, nil
	}
	return accounts.ActingFor(p.User, held, now, func(id string) (storage.Delegation, error) { return storage.GetDelegation(ctx, s.DB.Pool, id) })
}

// delegatorNames names the people whose turns a page shows p on their
// behalf.
func delegatorNames(ctx context.Context, q storage.Querier, self string, entries []storage.InboxEntry) (map[string]string, error) {
	var ids []string
	for _, e := range entries {
		if e.UserID != self && !slices.Contains(ids, e.UserID) {
			ids = append(ids, e.UserID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return storage.UserNames(ctx, q, ids)
}

func encodeInboxCursor(c storage.InboxCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.At.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

func decodeInboxCursor(s string) (storage.InboxCursor, error) {
	bad := fmt.Errorf("%w: cursor is not one this service returned", ErrInvalid)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return storage.InboxCursor{}, bad
	}
	ts, id, ok := strings.Cut(string(b), "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || !isUUID(id) {
		return storage.InboxCursor{}, bad
	}
	return storage.InboxCursor{At: t, ID: id}, nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return true
}
