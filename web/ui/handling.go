package ui

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/storage"
)

// handlingSection: the handling of a registered incoming document on its
// page (the handling panel): the văn thư presents it to a leader; the
// leader assigns the lead (chủ trì), coordinating (phối hợp) and informed
// (nhận để biết) units or people with a direction (ý kiến chỉ đạo) and a
// deadline in working days per receiver; a unit head gives the unit's part
// to a handler within the unit's deadline; handlers record progress and
// complete, optionally linking the reply. The panel shows the assignment
// tree, deadlines, states and the history. The handling service
// authorizes every call; the panel only chooses which forms to show.
var handlingSection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Post("/documents/{id}/handling/present", u.presentForm)
			r.Post("/documents/{id}/handling/assign", u.assignForm)
			r.Post("/documents/{id}/handling/progress", u.progressForm)
			r.Post("/documents/{id}/handling/complete", u.completeForm)
		})
	},
}

var _ = addMessages(map[string][2]string{
	"handling.title":             {"Xử lý văn bản đến", "Handling"},
	"handling.status":            {"Tình trạng xử lý", "Handling status"},
	"handling.status.registered": {"Đã vào sổ, chờ trình", "Registered, to be presented"},
	"handling.status.presented":  {"Đã trình lãnh đạo, chờ giao", "Presented, to be assigned"},
	"handling.status.assigned":   {"Đang xử lý", "Being handled"},
	"handling.status.completed":  {"Đã giải quyết xong", "Completed"},
	"handling.received":          {"Ngày đến", "Arrived"},
	"handling.due":               {"Hạn giải quyết", "Deadline"},
	"handling.direction":         {"Ý kiến chỉ đạo", "Direction"},
	"handling.reply":             {"Văn bản trả lời", "Reply"},
	"handling.tree":              {"Phân công xử lý", "Assignments"},
	"handling.none":              {"Chưa giao xử lý.", "Not assigned yet."},
	"handling.history":           {"Quá trình xử lý", "History"},
	"handling.by":                {"giao bởi %s", "assigned by %s"},
	"handling.completedby":       {"hoàn thành bởi %s lúc %s", "completed by %s at %s"},
	"hrole.lead":                 {"Chủ trì", "Lead"},
	"hrole.coordinate":           {"Phối hợp", "Coordinating"},
	"hrole.inform":               {"Nhận để biết", "For information"},
	"hrole.none":                 {"Không giao", "Not assigned"},
	"astate.open":                {"Đang xử lý", "Open"},
	"astate.done":                {"Đã hoàn thành", "Done"},
	"astate.closed":              {"Đã đóng", "Closed"},
	"haction.present":            {"Trình lãnh đạo", "Presented"},
	"haction.assign":             {"Giao xử lý", "Assigned"},
	"haction.progress":           {"Cập nhật tiến độ", "Progress"},
	"haction.complete":           {"Hoàn thành", "Completed"},
	"handling.overdue":           {"quá hạn", "overdue"},
	"handling.present":           {"Trình lãnh đạo", "Present to a leader"},
	"handling.present.to":        {"Lãnh đạo", "Leader"},
	"handling.present.submit":    {"Trình", "Present"},
	"handling.present.none":      {"Cơ quan chưa có lãnh đạo (người ký) nào.", "The organisation has no leader (signer)."},
	"handling.assign":            {"Giao xử lý", "Assign"},
	"handling.assign.more":       {"Giao thêm đơn vị, người phối hợp hoặc nhận để biết", "Add coordinating or informed receivers"},
	"handling.assign.units":      {"Đơn vị", "Units"},
	"handling.assign.people":     {"Cá nhân", "People"},
	"handling.assign.receiver":   {"Nơi nhận", "Receiver"},
	"handling.assign.role":       {"Vai trò", "Role"},
	"handling.assign.days":       {"Hạn (số ngày làm việc)", "Deadline (working days)"},
	"handling.assign.person":     {"Người thứ %d", "Person %d"},
	"handling.assign.pick":       {"— chọn người —", "— choose —"},
	"handling.assign.hint":       {"Chọn đúng một nơi chủ trì. Hạn tính theo ngày làm việc của lịch cơ quan; nhận để biết không có hạn.", "Choose exactly one lead. Deadlines count the organisation's working days; for information has none."},
	"handling.assign.submit":     {"Giao xử lý", "Assign"},
	"handling.unit":              {"Giao người xử lý phần của %s", "Give %s's part to a handler"},
	"handling.unit.handler":      {"Người xử lý", "Handler"},
	"handling.unit.days":         {"Hạn (số ngày làm việc, không quá hạn của đơn vị)", "Deadline (working days, within the unit's)"},
	"handling.unit.submit":       {"Giao", "Assign"},
	"handling.mine":              {"Phần việc của bạn: %s", "Your part: %s"},
	"handling.progress":          {"Cập nhật tiến độ", "Record progress"},
	"handling.progress.note":     {"Tiến độ, kết quả đến nay", "Progress so far"},
	"handling.progress.submit":   {"Ghi tiến độ", "Record"},
	"handling.complete":          {"Hoàn thành", "Complete"},
	"handling.complete.note":     {"Kết quả xử lý", "Outcome"},
	"handling.complete.reply":    {"Văn bản trả lời (nếu có)", "Reply document (if any)"},
	"handling.complete.noreply":  {"— không có —", "— none —"},
	"handling.complete.submit":   {"Hoàn thành", "Complete"},
	"handling.complete.lead":     {"Hoàn thành phần chủ trì là giải quyết xong văn bản.", "Completing the lead's part completes the document."},
	"handled.present":            {"Đã trình lãnh đạo.", "Presented to the leader."},
	"handled.assign":             {"Đã giao xử lý.", "Assigned."},
	"handled.progress":           {"Đã ghi tiến độ.", "Progress recorded."},
	"handled.complete":           {"Đã hoàn thành phần xử lý.", "Your part is completed."},
	"handled.registered":         {"Đã vào sổ văn bản đến, số đến %s. Trình lãnh đạo để giao xử lý.", "Registered in the incoming register as arrival number %s. Present it to a leader to assign it."},
	"error.handling.conflict":    {"Tình trạng xử lý không cho phép việc này", "The handling's state does not allow this"},
	"error.handling.invalid":     {"Thông tin chưa đúng", "Check the form"},
	"error.handling.days":        {"Hạn là số ngày làm việc từ 1 đến 365.", "A deadline is a number of working days from 1 to 365."},
	"task.assign":                {"Giao xử lý", "Assign"},
	"task.handle":                {"Xử lý (chủ trì)", "Handle (lead)"},
	"task.coordinate":            {"Phối hợp xử lý", "Coordinate"},
	"task.read":                  {"Nhận để biết", "Read"},
})

// handlingRoles are the roles a leader gives, as the form offers them.
var handlingRoles = []string{handling.RoleLead, handling.RoleCoordinate, handling.RoleInform}

// assignmentNode is a part of the handling with the handler its unit gave
// it to.
type assignmentNode struct {
	storage.Assignment
	Children []storage.Assignment
}

// unitPart is a unit's part its head may give to a handler.
type unitPart struct {
	Part    storage.Assignment
	Members []storage.User
}

// handlingPanel is the handling on the document page, and its forms.
type handlingPanel struct {
	View  handling.View
	Names map[string]string
	Tree  []assignmentNode
	Flash string
	// CanPresent: a clerk presents the registered document to a leader.
	CanPresent bool
	Leaders    []storage.User
	// CanAssign: a leader assigns (the lead first, then more receivers).
	CanAssign bool
	HasLead   bool
	Units     []storage.Unit
	People    []storage.User
	Roles     []string
	Persons   []int
	// Parts are the unit parts the caller heads and may give to a handler.
	Parts []unitPart
	// Mine are the caller's open parts: progress and completion.
	Mine    []storage.Assignment
	Replies []documents.Document
	// typed is the refused handling form as it was posted, typedForm its
	// id on the page (refusedHandlingForm): the page shows it again in
	// that form, nothing lost.
	typed     url.Values
	typedForm string
}

// Typed is what field name of the form whose id is form held when that
// form was refused; "" for the other forms.
func (h *handlingPanel) Typed(form, name string) string {
	if h.typedForm != form {
		return ""
	}
	return h.typed.Get(name)
}

// Chosen: the refused form whose id is form had value chosen in field
// name.
func (h *handlingPanel) Chosen(form, name, value string) bool {
	return value != "" && h.Typed(form, name) == value
}

// refusedHandlingForm is the id of the handling form r posted (their ids
// in _handling.html): the caller's progress or completion of one of Mine,
// the unit head's form of the part whose members hold the handler
// chosen, else the leader's assignment or the presentation.
func (h *handlingPanel) refusedHandlingForm(r *http.Request) string {
	f := r.PostForm
	switch path.Base(r.URL.Path) {
	case "progress", "complete":
		for i, a := range h.Mine {
			// Without an assignment the service takes the caller's
			// part: the first form.
			if a.ID == f.Get("assignment_id") || f.Get("assignment_id") == "" && i == 0 {
				return path.Base(r.URL.Path) + "-form-" + strconv.Itoa(i)
			}
		}
	case "assign":
		if f.Get("handler") == "" {
			return "assign-form"
		}
		for i, part := range h.Parts {
			if slices.ContainsFunc(part.Members, func(us storage.User) bool { return us.ID == f.Get("handler") }) {
				return "unit-assign-" + strconv.Itoa(i)
			}
		}
	case "present":
		return "present-form"
	}
	return ""
}

// Name is a person's or unit's name, the ID if unknown.
func (h *handlingPanel) Name(id string) string {
	if n := h.Names[id]; n != "" {
		return n
	}
	return id
}

// loadHandling builds the handling panel of a document p may see; nil
// when the document is not in handling (or the pages run without it).
func (u *UI) loadHandling(r *http.Request, p accounts.Principal, doc documents.Document) (*handlingPanel, error) {
	if u.cfg.Handling == nil {
		return nil, nil
	}
	ctx := r.Context()
	v, err := u.cfg.Handling.View(ctx, p, doc.ID)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, accounts.ErrForbidden) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	h := &handlingPanel{View: v, Names: map[string]string{}, Roles: handlingRoles, Persons: []int{1, 2}}
	// Names for display only: the handling service has authorized reading
	// the document in this organisation.
	users, err := storage.ListUsers(ctx, u.cfg.DB.Pool, doc.OrganizationID)
	if err != nil {
		return nil, err
	}
	units, err := storage.ListUnits(ctx, u.cfg.DB.Pool, doc.OrganizationID)
	if err != nil {
		return nil, err
	}
	for _, us := range users {
		h.Names[us.ID] = us.FullName
	}
	for _, un := range units {
		h.Names[un.ID] = un.Name
	}
	for _, a := range v.Assignments {
		if a.ParentID == "" {
			h.Tree = append(h.Tree, assignmentNode{Assignment: a})
			h.HasLead = h.HasLead || a.Role == handling.RoleLead
		}
	}
	for _, a := range v.Assignments {
		for i := range h.Tree {
			if a.ParentID == h.Tree[i].ID {
				h.Tree[i].Children = append(h.Tree[i].Children, a)
			}
		}
	}
	active := func(us storage.User) bool { return us.DisabledAt == nil }
	open := v.Status != handling.StatusCompleted
	if open && (v.Status == handling.StatusRegistered || v.Status == handling.StatusPresented) && isClerk(p) {
		h.CanPresent = true
		for _, us := range users {
			if active(us) && slices.Contains(us.Roles, storage.RoleSigner) {
				h.Leaders = append(h.Leaders, us)
			}
		}
	}
	if open && p.Has(storage.RoleSigner) {
		h.CanAssign = true
		h.Units = units
		for _, us := range users {
			if active(us) {
				h.People = append(h.People, us)
			}
		}
	}
	if open && !p.Has(storage.RoleSigner) && p.Has(storage.RoleReviewer) {
		for _, node := range h.Tree {
			if node.UnitID == "" || node.Role == handling.RoleInform || node.State != "open" || len(node.Children) > 0 || !p.InUnit(node.UnitID) {
				continue
			}
			part := unitPart{Part: node.Assignment}
			for _, us := range users {
				if active(us) && slices.Contains(us.UnitIDs, node.UnitID) {
					part.Members = append(part.Members, us)
				}
			}
			h.Parts = append(h.Parts, part)
		}
	}
	if open {
		for _, a := range v.Assignments {
			if a.State != "open" || a.Role == handling.RoleInform {
				continue
			}
			if a.UserID == p.ID || (a.UnitID != "" && p.InUnit(a.UnitID) && p.Has(storage.RoleReviewer)) {
				h.Mine = append(h.Mine, a)
			}
		}
		if len(h.Mine) > 0 {
			// The organisation's outgoing documents the caller may see,
			// newest first, as replies to choose from.
			docs, _, err := u.cfg.Docs.List(ctx, p, documents.Filter{Limit: 50})
			if err != nil {
				return nil, err
			}
			for _, d := range docs {
				if d.ID != doc.ID && d.OrganizationID == doc.OrganizationID && d.Status != documents.StatusReceived {
					h.Replies = append(h.Replies, d)
				}
			}
		}
	}
	if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/handling/") {
		h.typed, h.typedForm = r.PostForm, h.refusedHandlingForm(r)
		refuseInForm(r, h.typedForm)
	}
	q := r.URL.Query()
	if n := q.Get("registered"); n != "" && r.Method == http.MethodGet {
		if _, err := strconv.Atoi(n); err == nil {
			h.Flash = u.tr(r, "handled.registered", n)
		}
	}
	if k := q.Get("handled"); k != "" && r.Method == http.MethodGet {
		// Only the steps' own flashes: handled.registered takes its
		// number from ?registered= and shows "%s" without it.
		if text, ok := messages["vi"]["handled."+k]; ok && !strings.Contains(text, "%") {
			h.Flash = u.tr(r, "handled."+k)
		}
	}
	return h, nil
}

// handlingDone goes back to the document page's handling panel with a
// flash message.
func handlingDone(w http.ResponseWriter, r *http.Request, id, key string) {
	http.Redirect(w, r, "/documents/"+url.PathEscape(id)+"?handled="+url.QueryEscape(key)+"#handling", http.StatusSeeOther)
}

// handlingRefused shows the document page with the reason a handling form
// was refused, or the error page for what the caller may not do or see:
// as the chain's forms (refused).
func (u *UI) handlingRefused(w http.ResponseWriter, r *http.Request, id string, err error) {
	u.refused(w, r, id, err, chain.ActionRequest{})
}

// handlingForm parses a handling form; false when it answered already.
func (u *UI) handlingForm(w http.ResponseWriter, r *http.Request) bool {
	if u.cfg.Handling == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return false
	}
	return u.parseForm(w, r)
}

func (u *UI) presentForm(w http.ResponseWriter, r *http.Request) {
	if !u.handlingForm(w, r) {
		return
	}
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if _, err := u.cfg.Handling.Present(r.Context(), p, id, handling.PresentRequest{UserID: r.PostForm.Get("user_id")}); err != nil {
		u.handlingRefused(w, r, id, err)
		return
	}
	handlingDone(w, r, id, "present")
}

// dueDays reads a deadline field: empty is none; else 1 to 365 working
// days.
func dueDays(s string) (*handling.Due, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 365 {
		return nil, false
	}
	return &handling.Due{Days: n}, true
}

// assignForm is the leader's assignment (a role and a deadline per unit,
// and per chosen person) or a unit head's handler.
func (u *UI) assignForm(w http.ResponseWriter, r *http.Request) {
	if !u.handlingForm(w, r) {
		return
	}
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	f := r.PostForm
	req := handling.AssignRequest{Direction: f.Get("direction")}
	badDays := "" // the first deadline field that is no number of days
	refuse := func(field string, ok bool) {
		if !ok && badDays == "" {
			badDays = field
		}
	}
	add := func(unitID, userID, role, daysField string) {
		if role == "" {
			return
		}
		due, ok := dueDays(f.Get(daysField))
		refuse(daysField, ok)
		if role == handling.RoleInform {
			due = nil
		}
		req.Assignments = append(req.Assignments, handling.AssignmentRequest{UnitID: unitID, UserID: userID, Role: role, Due: due})
	}
	if handler := f.Get("handler"); handler != "" {
		// A unit head's form: one handler of the unit's part.
		due, ok := dueDays(f.Get("handler_days"))
		refuse("handler_days", ok)
		req.Assignments = []handling.AssignmentRequest{{UserID: handler, Due: due}}
	} else {
		for _, key := range sortedKeys(f) {
			if unitID, ok := strings.CutPrefix(key, "role_unit_"); ok {
				add(unitID, "", f.Get(key), "days_unit_"+unitID)
			}
		}
		for _, n := range []string{"1", "2"} {
			if userID := f.Get("person_" + n); userID != "" {
				add("", userID, f.Get("role_person_"+n), "days_person_"+n)
			}
		}
	}
	if badDays != "" {
		refuseField(r, badDays)
		u.showDocument(w, r, id, http.StatusUnprocessableEntity, u.tr(r, "error.handling.days"), chain.ActionRequest{})
		return
	}
	if _, err := u.cfg.Handling.Assign(r.Context(), p, id, req); err != nil {
		u.handlingRefused(w, r, id, err)
		return
	}
	handlingDone(w, r, id, "assign")
}

func sortedKeys(v url.Values) []string {
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (u *UI) progressForm(w http.ResponseWriter, r *http.Request) {
	if !u.handlingForm(w, r) {
		return
	}
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	req := handling.ProgressRequest{Note: r.PostForm.Get("note"), AssignmentID: r.PostForm.Get("assignment_id")}
	if _, err := u.cfg.Handling.Progress(r.Context(), p, id, req); err != nil {
		u.handlingRefused(w, r, id, err)
		return
	}
	handlingDone(w, r, id, "progress")
}

func (u *UI) completeForm(w http.ResponseWriter, r *http.Request) {
	if !u.handlingForm(w, r) {
		return
	}
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	f := r.PostForm
	req := handling.CompleteRequest{Note: f.Get("note"), ReplyDocumentID: f.Get("reply_document_id"), AssignmentID: f.Get("assignment_id")}
	if _, err := u.cfg.Handling.Complete(r.Context(), p, id, req); err != nil {
		u.handlingRefused(w, r, id, err)
		return
	}
	handlingDone(w, r, id, "complete")
}
