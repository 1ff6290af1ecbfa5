package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/storage"
)

// chainSection: Trình ký on the pages — the forms of the document page
// that submit a draft along a chain template, act on the chain (approve,
// return, comment, the văn thư's format check, withdraw) and sign with the
// signer's server-held key. The document page shows the chain panel and
// the history (chainPanel); the inbox at / is the chain's inbox (home.go).
// The chain service and the signing service authorize every call, as for
// the API.
var chainSection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Post("/documents/{id}/submit", u.submitForm)
			r.Post("/documents/{id}/actions", u.actionForm)
			r.Post("/documents/{id}/sign", u.signForm)
		})
	},
}

var _ = addMessages(map[string][2]string{
	"status.in_review":      {"Đang trình", "In review"},
	"status.returned":       {"Bị trả lại", "Returned"},
	"status.approved":       {"Đã duyệt, chờ ký", "Approved, awaiting signature"},
	"status.signed":         {"Đã ký, chờ ban hành", "Signed, awaiting issuing"},
	"status.withdrawn":      {"Đã rút lại", "Withdrawn"},
	"status.rejected":       {"Bị từ chối ký", "Rejected"},
	"status.received":       {"Văn bản đến đã vào sổ", "Received and registered"},
	"status.recalled":       {"Đã thu hồi", "Recalled"},
	"chain.title":           {"Luồng trình ký", "Approval chain"},
	"chain.none":            {"Văn bản chưa được trình.", "The document has not been submitted."},
	"chain.current":         {"Bước hiện tại: %s", "Current stage: %s"},
	"chain.stage":           {"Bước", "Stage"},
	"chain.participants":    {"Người tham gia", "Participants"},
	"chain.rule.all":        {"tất cả", "all"},
	"chain.rule.any":        {"một người", "any one"},
	"chain.rule.k":          {"%d người", "%d of them"},
	"chain.due":             {"hạn %s", "due %s"},
	"chain.overdue":         {"quá hạn", "overdue"},
	"chain.turn.you":        {"lượt của bạn", "your turn"},
	"kind.review":           {"Thẩm định", "Review"},
	"kind.consult":          {"Xin ý kiến", "Consultation"},
	"kind.format-check":     {"Kiểm tra thể thức", "Format check"},
	"kind.sign":             {"Ký", "Signing"},
	"stage.pending":         {"chưa đến", "pending"},
	"stage.active":          {"đang xử lý", "in progress"},
	"stage.done":            {"đã xong", "done"},
	"stage.skipped":         {"bỏ qua", "skipped"},
	"stage.closed":          {"đã đóng", "closed"},
	"turn.open":             {"đang chờ", "waiting"},
	"turn.done":             {"đã xử lý", "done"},
	"turn.forwarded":        {"đã chuyển", "forwarded"},
	"turn.closed":           {"đã đóng", "closed"},
	"task.approve":          {"Duyệt", "Approve"},
	"task.comment":          {"Cho ý kiến", "Comment"},
	"task.check":            {"Kiểm tra thể thức", "Check the format"},
	"task.sign":             {"Ký số", "Sign"},
	"task.revise":           {"Sửa và trình lại", "Revise and resubmit"},
	"history.title":         {"Lịch sử xử lý", "History"},
	"history.none":          {"Chưa có thao tác nào.", "No action yet."},
	"history.version":       {"phiên bản %d", "version %d"},
	"history.behalf":        {"thay %s", "for %s"},
	"history.to":            {"chuyển cho %s", "to %s"},
	"action.submit":         {"Trình", "Submitted"},
	"action.approve":        {"Duyệt", "Approved"},
	"action.return":         {"Trả lại", "Returned"},
	"action.comment":        {"Ý kiến", "Commented"},
	"action.forward":        {"Chuyển xử lý", "Forwarded"},
	"action.withdraw":       {"Rút lại", "Withdrawn"},
	"action.reject":         {"Từ chối ký", "Rejected"},
	"action.sign":           {"Ký số", "Signed"},
	"action.add_consultee":  {"Thêm người cho ý kiến", "Consultee added"},
	"action.add_signer":     {"Thêm người ký", "Signer added"},
	"act.title":             {"Việc của bạn", "Your action"},
	"act.template":          {"Luồng trình ký", "Chain template"},
	"act.notemplate":        {"Đơn vị chưa có luồng trình ký nào cho loại văn bản này.", "No chain template applies to this document."},
	"act.submit":            {"Trình ký", "Submit for approval"},
	"act.resubmit":          {"Trình lại", "Resubmit"},
	"act.withdraw":          {"Rút lại", "Withdraw"},
	"act.comment.label":     {"Ý kiến", "Comment"},
	"act.comment.required":  {"bắt buộc khi trả lại", "required to return"},
	"act.approve":           {"Duyệt", "Approve"},
	"act.check":             {"Đạt thể thức", "Format is correct"},
	"act.return":            {"Trả lại", "Return"},
	"act.comment":           {"Gửi ý kiến", "Send comment"},
	"act.sign":              {"Ký số", "Sign"},
	"act.sign.hint":         {"Ký bằng khóa của bạn do hệ thống giữ; chữ ký đặt giữa chức vụ và họ tên in sẵn.", "Signs with your key held by the service, between the printed title and name."},
	"act.reject":            {"Từ chối ký", "Refuse to sign"},
	"done.submit":           {"Đã trình văn bản.", "The document was submitted."},
	"done.approve":          {"Đã duyệt.", "Approved."},
	"done.return":           {"Đã trả lại văn bản.", "The document was returned."},
	"done.comment":          {"Đã gửi ý kiến.", "Your comment was sent."},
	"done.withdraw":         {"Đã rút lại văn bản.", "The document was withdrawn."},
	"done.reject":           {"Đã từ chối ký.", "Signing was refused."},
	"done.sign":             {"Đã ký số. Văn bản đã ký là phiên bản mới.", "Signed. The signed file is the new version."},
	"error.chain.conflict":  {"Trạng thái của luồng không cho phép thao tác này", "The chain's state does not allow this"},
	"error.chain.invalid":   {"Yêu cầu không thực hiện được", "The request cannot be carried out"},
	"error.sign.place":      {"Không tìm thấy chỗ đặt chữ ký (họ tên in sẵn của người ký)", "No place for the signature (the signer's printed name was not found)"},
	"error.sign.key":        {"Không có khóa ký dùng được", "No usable signing key"},
	"error.sign.turn":       {"Chưa đến lượt bạn ký", "It is not your turn to sign"},
	"error.sign.image":      {"Bạn chưa tải lên ảnh chữ ký", "You have not uploaded a signature image"},
	"error.sign.locked":     {"Văn bản đã bị khóa bởi chữ ký trước", "The document is locked by its signatures"},
	"error.sign.chain":      {"Văn bản chưa có luồng trình ký", "The document has no approval chain"},
	"error.sign.down":       {"Dịch vụ ký tạm thời không dùng được; hãy thử lại sau", "Signing is unavailable; try again later"},
	"error.comment.missing": {"Trả lại phải kèm ý kiến.", "A return needs a comment."},
	"error.comment.empty":   {"Ý kiến chưa có nội dung.", "The comment is empty."},
	"error.reject.reason":   {"Từ chối ký phải nêu lý do.", "A refusal to sign needs its reason."},
})

// chainPanel is what the document page shows of a chain, and the forms
// of whoever may act on it now.
type chainPanel struct {
	View    chain.View
	History []chain.Entry
	Names   map[string]string
	// Templates are the chain templates the drafter may submit along;
	// nil unless CanSubmit.
	Templates           []chain.Template
	CanSubmit, Resubmit bool
	// CanAddVersion: the drafter may upload a new version (the document
	// page's form, while the document is theirs to submit).
	CanAddVersion bool
	CanWithdraw   bool
	Task          string // the open turn's task of the viewer: approve, comment, check, sign
	Stage         string // the stage of that turn
	Flash         string
	// Typed is the action form refused, as it was typed: the page shows
	// it again in the same form (actionFormID), nothing lost.
	Typed chain.ActionRequest
	// ForwardTo are whom the chain lets the viewer forward their turn to;
	// Colleagues whom they may ask for comments (CanConsult: the chain
	// allows added consultees); Place is where a signer's signature will
	// land (chain_more.go).
	ForwardTo  []storage.User
	Colleagues []storage.User
	CanConsult bool
	Place      *signPlace
}

// actionFormID is the id of the document page's form that posts action.
func actionFormID(action string) string {
	switch action {
	case chain.ActionApprove, chain.ActionReturn, chain.ActionComment:
		return "review-form"
	case chain.ActionReject:
		return "reject-form"
	case chain.ActionForward:
		return "forward-form"
	case chain.ActionAddConsultee:
		return "consultee-form"
	}
	return ""
}

// TypedIn is the comment typed in the refused form whose id is form, ""
// for the other forms.
func (c *chainPanel) TypedIn(form string) string {
	if actionFormID(c.Typed.Action) != form {
		return ""
	}
	return c.Typed.Comment
}

// Chose: the refused form whose id is form had the person userID chosen.
func (c *chainPanel) Chose(form, userID string) bool {
	return userID != "" && actionFormID(c.Typed.Action) == form && c.Typed.ToUserID == userID
}

// MoreOpen: the refused form is one of the further actions, folded away
// unless it comes back refused.
func (c *chainPanel) MoreOpen() bool {
	return c.Typed.Action == chain.ActionForward || c.Typed.Action == chain.ActionAddConsultee
}

// Name shows a user by name, their ID when the name is unknown.
func (c *chainPanel) Name(id string) string {
	if n := c.Names[id]; n != "" {
		return n
	}
	return id
}

// loadChain reads the document's chain and history for the document page
// and works out what p may do on it. A page without the chain service
// shows no panel.
func (u *UI) loadChain(ctx context.Context, p accounts.Principal, doc documents.Document) (*chainPanel, error) {
	if u.cfg.Chain == nil {
		return nil, nil
	}
	v, err := u.cfg.Chain.Chain(ctx, p, doc.ID)
	if err != nil {
		return nil, err
	}
	h, err := u.cfg.Chain.History(ctx, p, doc.ID)
	if err != nil {
		return nil, err
	}
	if len(v.Stages) == 0 && len(h) == 0 && (doc.Status == documents.StatusReceived || doc.Status == documents.StatusRecalled) {
		// An incoming document never goes through an approval chain
		// (the chain's view calls a document without one a draft): no
		// panel, and nothing to submit or replace.
		return nil, nil
	}
	c := &chainPanel{View: v, History: h, Names: map[string]string{}}
	// The participants' names, for display only: a chain has a handful,
	// looked up one by one rather than listing the whole organisation.
	for _, st := range v.Stages {
		for _, t := range st.Turns {
			for _, id := range []string{t.UserID, t.TurnOf} {
				if _, done := c.Names[id]; id == "" || done {
					continue
				}
				us, err := storage.GetUser(ctx, u.cfg.DB.Pool, id)
				if err != nil && !errors.Is(err, storage.ErrNotFound) {
					return nil, err
				}
				c.Names[id] = us.FullName // "" shows the ID
			}
		}
	}
	drafter := v.DrafterID == p.ID
	switch v.Status {
	case documents.StatusDraft, documents.StatusReturned, documents.StatusWithdrawn:
		c.CanSubmit = drafter
		c.Resubmit = v.Status != documents.StatusDraft && len(v.Stages) > 0
	case documents.StatusInReview, documents.StatusApproved:
		c.CanWithdraw = drafter && v.Signatures == 0
	}
	if c.CanSubmit && !c.Resubmit {
		if c.Templates, err = u.cfg.Chain.Templates(ctx, p, doc.Type, doc.UnitID); err != nil {
			return nil, err
		}
	}
	for _, st := range v.Stages {
		if st.State != "active" {
			continue
		}
		for _, t := range st.Turns {
			if t.UserID == p.ID && t.State == "open" && t.Task != "revise" {
				c.Task, c.Stage = t.Task, st.Name
			}
		}
	}
	if err := u.moreActions(ctx, p, doc, c); err != nil {
		return nil, err
	}
	return c, nil
}

// back is the document page's address with a flash message key.
func back(id, done string) string {
	return "/documents/" + url.PathEscape(id) + "?done=" + url.QueryEscape(done)
}

// submitForm submits the draft along the chosen template (or resubmits
// it along its chain).
func (u *UI) submitForm(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if u.cfg.Chain == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	req := chain.SubmitRequest{TemplateID: strings.TrimSpace(r.PostFormValue("template_id"))}
	if _, err := u.cfg.Chain.Submit(r.Context(), p, id, req, ""); err != nil {
		u.refused(w, r, id, err, chain.ActionRequest{})
		return
	}
	http.Redirect(w, r, back(id, "submit"), http.StatusSeeOther)
}

// pageProblemFields is the field each of actionForm's own refusals is
// about.
var pageProblemFields = map[string]string{
	"error.comment.missing": "comment", "error.comment.empty": "comment", "error.reject.reason": "reason",
	"error.forward.who": "to_user_id", "error.anchor": "page",
}

// actionForm takes one chain action; a return needs its comment.
func (u *UI) actionForm(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if u.cfg.Chain == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	req, problem := actionFor(r.PostFormValue)
	switch req.Action {
	case chain.ActionApprove, chain.ActionReturn, chain.ActionComment, chain.ActionWithdraw, chain.ActionReject,
		chain.ActionForward, chain.ActionAddConsultee:
	default:
		u.fail(w, r, http.StatusBadRequest, u.tr(r, "error.chain.invalid"))
		return
	}
	if problem == "" && strings.TrimSpace(req.Comment) == "" {
		problem = map[string]string{chain.ActionReturn: "error.comment.missing", chain.ActionComment: "error.comment.empty",
			chain.ActionReject: "error.reject.reason"}[req.Action]
	}
	// The page has several forms posting here whose fields share names:
	// the refused field is the one in the form that was sent.
	refuseInForm(r, actionFormID(req.Action))
	if problem != "" {
		refuseField(r, pageProblemFields[problem])
		u.showDocument(w, r, id, http.StatusUnprocessableEntity, u.tr(r, problem), req)
		return
	}
	if _, err := u.cfg.Chain.Act(r.Context(), p, id, req, ""); err != nil {
		u.refused(w, r, id, err, req)
		return
	}
	http.Redirect(w, r, back(id, req.Action), http.StatusSeeOther)
}

// signForm signs with the signer's server-held key, as POST
// /api/v1/documents/{id}/sign does: the place is found by the signer's
// printed name, unless the signer moved it on the preview.
func (u *UI) signForm(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	id := chi.URLParam(r, "id")
	if u.cfg.Sign == nil {
		u.fail(w, r, http.StatusNotFound, u.tr(r, "error.notfound"))
		return
	}
	req, ok := signRequest(r.PostFormValue("moved"), r.PostFormValue("page"), r.PostFormValue("rect"))
	if !ok {
		u.showDocument(w, r, id, http.StatusUnprocessableEntity, u.tr(r, "error.anchor"), chain.ActionRequest{})
		return
	}
	if _, err := u.cfg.Sign(r.Context(), p, id, req); err != nil {
		u.refused(w, withFix(r, err), id, err, chain.ActionRequest{})
		return
	}
	http.Redirect(w, r, back(id, "sign"), http.StatusSeeOther)
}

// refused shows the document page again with the reason of a refused
// action and the action's form as typed; an internal error, a missing
// document or a forbidden one gets the error page.
func (u *UI) refused(w http.ResponseWriter, r *http.Request, id string, err error, typed chain.ActionRequest) {
	u.formRefused(w, r, err, func(status int, msg string) { u.showDocument(w, r, id, status, msg, typed) })
}

// explainChain is explain, which maps the chain's and signing's refusals
// too; the chain's forms called it before explain did.
func (u *UI) explainChain(r *http.Request, err error) (int, string) { return u.explain(r, err) }
