package ui

import (
	"time"

	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
)

// homeSection: a signed-in person's GET / is their inbox. Until approval
// chains land, it holds the documents that concern them (what their roles
// and units let them see, newest first) and the counters' places.
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
	"inbox.recent":   {"Văn bản liên quan đến bạn", "Documents that concern you"},
	"inbox.all":      {"Xem tất cả văn bản", "See all documents"},
	"inbox.empty":    {"Chưa có văn bản nào.", "No documents yet."},
	"inbox.upload":   {"Tải lên dự thảo", "Upload a draft"},
})

type inboxData struct {
	Now       time.Time
	Documents []documents.Document
	CanUpload bool
}

func (u *UI) inbox(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	docs, _, err := u.cfg.Docs.List(r.Context(), p, documents.Filter{Limit: 10})
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "home", "inbox.title", inboxData{Now: nowFunc(), Documents: docs, CanUpload: u.cfg.Docs.CanCreate(p) == nil})
}
