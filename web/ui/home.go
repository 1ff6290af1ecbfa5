package ui

import (
	"errors"
	"time"

	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/chain"
)

// homeSection: a signed-in person's GET / is their inbox — the approval
// chain's inbox (what waits for them, as GET /api/v1/inbox) with its
// counters and views (chờ xử lý, sắp đến hạn, quá hạn, đã xử lý), then the
// documents that concern them (what their roles and units let them see,
// newest first).
var homeSection = section{
	routes: func(u *UI, r chi.Router) {
		r.With(u.signedIn).Get("/", u.inbox)
	},
	nav: []navEntry{{Path: "/", Key: "nav.inbox", show: func(accounts.Principal) bool { return true }}},
}

var _ = addMessages(map[string][2]string{
	"nav.inbox":      {"Hộp công việc", "Inbox"},
	"inbox.title":    {"Hộp công việc", "Inbox"},
	"inbox.today":    {"Hôm nay là %s", "Today is %s"},
	"inbox.pending":  {"Chờ xử lý", "Waiting for you"},
	"inbox.duesoon":  {"Sắp đến hạn", "Due soon"},
	"inbox.overdue":  {"Quá hạn", "Overdue"},
	"inbox.counters": {"Việc cần làm", "Your work"},
	"inbox.nochain":  {"Số liệu có khi quy trình trình ký được bật.", "Counted once approval chains are enabled."},
	"inbox.handled":  {"Đã xử lý", "Handled"},
	"inbox.views":    {"Xem theo", "Show"},
	"inbox.work":     {"Việc đang chờ", "Waiting work"},
	"inbox.stage":    {"Bước", "Stage"},
	"inbox.action":   {"Việc cần làm", "Expected action"},
	"inbox.since":    {"Từ lúc", "Since"},
	"inbox.due":      {"Hạn", "Due"},
	"inbox.done":     {"Xử lý lúc", "Handled at"},
	"inbox.none":     {"Không có việc nào ở đây.", "Nothing here."},
	"inbox.more":     {"Trang sau", "Next page"},
	"inbox.recent":   {"Văn bản liên quan đến bạn", "Documents that concern you"},
	"inbox.all":      {"Xem tất cả văn bản", "See all documents"},
	"inbox.empty":    {"Chưa có văn bản nào.", "No documents yet."},
	"inbox.upload":   {"Tải lên dự thảo", "Upload a draft"},
})

type inboxData struct {
	Now       time.Time
	Documents []documents.Document
	CanUpload bool
	// Chain is false when the pages run without the chain service.
	Chain bool
	View  string
	Views []inboxView
	Work  chain.InboxPage
}

// inboxView is one of the inbox's views with its counter.
type inboxView struct {
	View, Key string
	Count     int
	Current   bool
}

func (u *UI) inbox(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	docs, _, err := u.cfg.Docs.List(r.Context(), p, documents.Filter{Limit: 10})
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d := inboxData{Now: nowFunc(), Documents: docs, CanUpload: u.cfg.Docs.CanCreate(p) == nil}
	if u.cfg.Chain != nil {
		q := r.URL.Query()
		d.Chain, d.View = true, q.Get("view")
		if d.View == "" {
			d.View = chain.ViewOpen
		}
		d.Work, err = u.cfg.Chain.Inbox(r.Context(), p, chain.InboxRequest{View: d.View, Cursor: q.Get("cursor"), Limit: 25})
		if errors.Is(err, chain.ErrInvalid) {
			u.fail(w, r, http.StatusBadRequest, u.tr(r, "error.chain.invalid"))
			return
		}
		if err != nil {
			u.failErr(w, r, err)
			return
		}
		c := d.Work.Counts
		for _, v := range []inboxView{{chain.ViewOpen, "inbox.pending", c.Open, false}, {chain.ViewDueSoon, "inbox.duesoon", c.DueSoon, false},
			{chain.ViewOverdue, "inbox.overdue", c.Overdue, false}, {chain.ViewHandled, "inbox.handled", c.Handled, false}} {
			v.Current = v.View == d.View
			d.Views = append(d.Views, v)
		}
	}
	u.render(w, r, http.StatusOK, "home", "inbox.title", d)
}
