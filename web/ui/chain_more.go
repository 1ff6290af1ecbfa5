package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/storage"
)

// The document page's further chain actions — refusing to sign, forwarding
// one's turn, adding a consultee, a comment anchored to a spot of a page —
// and where the signer's signature will land. The chain service decides
// each action (whose turn, what the chain allows); the page only offers
// the forms.

var _ = addMessages(map[string][2]string{
	"act.forward":        {"Chuyển xử lý", "Forward"},
	"act.forward.to":     {"Chuyển lượt của bạn cho", "Forward your turn to"},
	"act.consultee":      {"Thêm người cho ý kiến", "Add a consultee"},
	"act.consultee.who":  {"Người cho ý kiến", "Consultee"},
	"act.reject.reason":  {"Lý do từ chối ký", "Why you refuse to sign"},
	"act.others":         {"Việc khác", "Other actions"},
	"act.anchor":         {"Gắn ý kiến vào một chỗ trên trang", "Anchor the comment to a spot of a page"},
	"act.anchor.page":    {"Trang (tùy chọn)", "Page (optional)"},
	"act.anchor.pick":    {"Chọn chỗ trên bản xem trước", "Pick the spot on the preview"},
	"act.anchor.hint":    {"Bấm nút rồi bấm vào chỗ cần góp ý trên bản xem trước.", "Press the button, then click the spot on the preview."},
	"act.anchor.picked":  {"Đã chọn chỗ trên trang %s.", "Spot picked on page %s."},
	"act.anchor.picking": {"Bấm vào bản xem trước để chọn chỗ.", "Click the preview to pick the spot."},
	"place.title":        {"Vị trí chữ ký", "Where the signature lands"},
	"place.found":        {"Chữ ký sẽ đặt ở trang %d, giữa chức vụ và họ tên in sẵn (khung đỏ trên bản xem trước).", "The signature lands on page %d, between the printed title and name (red frame on the preview)."},
	"place.notfound":     {"Không tìm thấy họ tên của bạn in trong văn bản; hãy chọn chỗ đặt chữ ký trên bản xem trước.", "Your printed name was not found; pick the signature's place on the preview."},
	"place.move":         {"Chọn chỗ khác trên bản xem trước", "Move it: pick another spot on the preview"},
	"place.moved":        {"Chữ ký sẽ đặt ở trang %s, chỗ bạn đã chọn.", "The signature lands on page %s, where you picked."},
	"place.page":         {"Trang đặt chữ ký", "Signature page"},
	"done.forward":       {"Đã chuyển lượt xử lý.", "Your turn was forwarded."},
	"done.add_consultee": {"Đã mời thêm người cho ý kiến.", "The consultee was added."},
	"history.page":       {"trang %d", "page %d"},
	"error.forward.who":  {"Chọn người nhận.", "Choose whom to."},
	"error.anchor":       {"Chỗ đã chọn không hợp lệ; hãy chọn lại.", "The picked spot is not valid; pick it again."},
})

// signPlace is where the signer's signature will land, as signing finds it
// (the gap between the printed title and name), for the page to show.
type signPlace struct {
	Found bool
	Page  int
	Rect  string // "x1,y1,x2,y2" in PDF points
}

// placement finds where p's signature lands on the version to sign, as
// documents/docsign does without a rectangle: a preview only, signing
// decides again under its lock.
func (u *UI) placement(ctx context.Context, p accounts.Principal, doc documents.Document) (signPlace, error) {
	v, err := u.cfg.Docs.Version(ctx, p, doc.ID, doc.Versions)
	if err != nil {
		return signPlace{}, err
	}
	rc, err := u.cfg.Docs.Open(ctx, v, 0, -1)
	if err != nil {
		return signPlace{}, fmt.Errorf("read version %d: %w", v.Number, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, v.Size+1))
	if err != nil {
		return signPlace{}, fmt.Errorf("read version %d: %w", v.Number, err)
	}
	gap, err := appearance.FindSignatureGap(bytes.NewReader(b), int64(len(b)), p.FullName, 0)
	if err != nil {
		return signPlace{}, nil // not found: the signer picks the place
	}
	r := gap.Rect
	return signPlace{Found: true, Page: gap.Page, Rect: fmt.Sprintf("%.1f,%.1f,%.1f,%.1f", r.X1, r.Y1, r.X2, r.Y2)}, nil
}

// parseRect reads "x1,y1,x2,y2"; "" is no rectangle.
func parseRect(s string) ([]float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, false
	}
	out := make([]float64, 4)
	for i, x := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		out[i] = f
	}
	return out, true
}

// anchor reads a comment's page and rectangle from the form.
func anchor(pageField, rectField string) (int, []float64, bool) {
	page := 0
	if s := strings.TrimSpace(pageField); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			return 0, nil, false
		}
		page = n
	}
	rect, ok := parseRect(rectField)
	if !ok || (rect != nil && page == 0) {
		return 0, nil, false
	}
	return page, rect, true
}

// signRequest is the signer's choice of place: nothing (signing finds the
// printed name), or the page and rectangle picked on the preview.
func signRequest(moved, pageField, rectField string) (docsign.Request, bool) {
	if moved == "" {
		return docsign.Request{}, true
	}
	page, rect, ok := anchor(pageField, rectField)
	if !ok || rect == nil {
		return docsign.Request{}, false
	}
	return docsign.Request{Page: page, Rect: &appearance.Rect{X1: rect[0], Y1: rect[1], X2: rect[2], Y2: rect[3]}}, true
}

// colleagues are the active members of the organisation one may forward
// a turn to or ask for comments, not oneself.
func (u *UI) colleagues(ctx context.Context, p accounts.Principal) ([]storage.User, error) {
	users, err := u.cfg.Accounts.Users(ctx, p, p.OrganizationID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := users[:0]
	for _, x := range users {
		if x.ID != p.ID && x.DisabledAt == nil {
			out = append(out, x)
		}
	}
	return out, nil
}

// moreActions loads what the further actions need: the colleagues for
// forwarding and consulting, and the signature's place for a signer.
func (u *UI) moreActions(ctx context.Context, p accounts.Principal, doc documents.Document, c *chainPanel) error {
	if c.Task == "" {
		return nil
	}
	var err error
	if c.Colleagues, err = u.colleagues(ctx, p); err != nil {
		return err
	}
	// Only those the forward would accept: the drafter, someone without
	// the turn's role or (a signing turn) without a delegation from the
	// signer is never offered to be refused after.
	if c.ForwardTo, err = u.cfg.Chain.ForwardCandidates(ctx, p, doc.ID); err != nil {
		return err
	}
	c.CanConsult = c.View.AllowAddedConsultees
	if c.Task == "sign" {
		pl, err := u.placement(ctx, p, doc)
		if err != nil {
			return err
		}
		c.Place = &pl
	}
	return nil
}

// actionFor is the chain request a posted action form asks for.
func actionFor(form func(string) string) (chain.ActionRequest, string) {
	req := chain.ActionRequest{Action: form("action"), Comment: form("comment"), ToUserID: strings.TrimSpace(form("to_user_id"))}
	switch req.Action {
	case chain.ActionReject:
		if r := form("reason"); strings.TrimSpace(r) != "" {
			req.Comment = r
		}
	case chain.ActionForward, chain.ActionAddConsultee:
		if req.ToUserID == "" {
			return req, "error.forward.who"
		}
	}
	if req.Action == chain.ActionComment || req.Action == chain.ActionReturn {
		page, rect, ok := anchor(form("page"), form("rect"))
		if !ok {
			return req, "error.anchor"
		}
		req.Page, req.Rect = page, rect
	}
	return req, ""
}
