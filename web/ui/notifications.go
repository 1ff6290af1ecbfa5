package ui

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
)

// notifySection: one's notifications — the bell with the unread count in
// every page's header, the list (newest first, a page at a time) with
// mark read, mark all read and the link to the document, and the
// channels reminders come through (in-app always, e-mail when chosen).
// notify.Engine authorizes every call: each person sees only their own.
var notifySection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Get("/notifications", u.notificationsPage)
			r.Post("/notifications/read", u.readAllNotifications)
			r.Post("/notifications/{id}/read", u.readNotification)
			r.Get("/notifications/preferences", u.preferencesPage)
			r.Post("/notifications/preferences", u.savePreferences)
		})
	},
}

var _ = addMessages(map[string][2]string{
	"bell.text":          {"Thông báo", "Notifications"},
	"bell.unread":        {"chưa đọc", "unread"},
	"notes.title":        {"Thông báo", "Notifications"},
	"notes.unread":       {"%d thông báo chưa đọc.", "%d unread."},
	"notes.none":         {"Chưa có thông báo nào.", "No notification yet."},
	"notes.read":         {"Đánh dấu đã đọc", "Mark read"},
	"notes.readall":      {"Đánh dấu tất cả đã đọc", "Mark all read"},
	"notes.readall.done": {"Đã đánh dấu %d thông báo là đã đọc.", "%d notifications marked read."},
	"notes.open":         {"Mở văn bản", "Open the document"},
	"notes.new":          {"Mới", "New"},
	"notes.prefs":        {"Cách nhận nhắc việc", "How reminders reach me"},
	"prefs.title":        {"Cách nhận thông báo, nhắc việc", "Notification channels"},
	"prefs.intro":        {"Thông báo và nhắc việc (trước hạn, đến hạn, quá hạn) luôn hiện trong hệ thống; bạn có thể nhận thêm qua thư điện tử.", "Notifications and reminders (before, on and after a deadline) always show here; you may also get them by e-mail."},
	"prefs.inapp":        {"Trong hệ thống (luôn bật)", "In the application (always on)"},
	"prefs.email.on":     {"Gửi qua thư điện tử", "Send by e-mail"},
	"prefs.email":        {"Địa chỉ thư điện tử", "E-mail address"},
	"prefs.save":         {"Lưu", "Save"},
	"prefs.saved":        {"Đã lưu cách nhận thông báo.", "Your channels were saved."},
})

// bell is the header's unread count: shown when the service keeps
// notifications and p is a person (not a token of no one).
func (u *UI) bell(r *http.Request, p accounts.Principal) (bool, int) {
	if u.cfg.Notify == nil || p.ID == "" {
		return false, 0
	}
	n, err := u.cfg.Notify.Unread(r.Context(), p)
	if err != nil {
		if r.Context().Err() == nil {
			slog.Warn("unread notifications", "err", err)
		}
		return false, 0
	}
	return true, n
}

type notesData struct {
	notify.Page
	Before string
	Notice string
}

func (u *UI) notificationsPage(w http.ResponseWriter, r *http.Request) {
	u.showNotifications(w, r, "")
}

func (u *UI) showNotifications(w http.ResponseWriter, r *http.Request, notice string) {
	p, _ := principal(r.Context())
	if u.cfg.Notify == nil {
		u.failErr(w, r, storage.ErrNotFound)
		return
	}
	before := r.URL.Query().Get("before")
	pg, err := u.cfg.Notify.Notifications(r.Context(), p, before, 30)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "notifications", "notes.title", &notesData{Page: pg, Before: before, Notice: notice})
}

// readNotification marks one read, then opens its document (next) or
// comes back to the list.
func (u *UI) readNotification(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 4<<10) {
		return
	}
	p, _ := principal(r.Context())
	if u.cfg.Notify == nil {
		u.failErr(w, r, storage.ErrNotFound)
		return
	}
	if err := u.cfg.Notify.MarkRead(r.Context(), p, chi.URLParam(r, "id")); err != nil {
		u.failErr(w, r, err)
		return
	}
	next := localPath(r.PostForm.Get("next"))
	if next == "/" {
		next = "/notifications"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *UI) readAllNotifications(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	if u.cfg.Notify == nil {
		u.failErr(w, r, storage.ErrNotFound)
		return
	}
	n, err := u.cfg.Notify.MarkAllRead(r.Context(), p)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	r.URL.RawQuery = "" // the list from the newest; the bell counts after the marking
	u.showNotifications(w, r, u.tr(r, "notes.readall.done", n))
}

type prefsData struct {
	notify.Preferences
	Notice string
}

func (u *UI) preferencesPage(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	if u.cfg.Notify == nil {
		u.failErr(w, r, storage.ErrNotFound)
		return
	}
	pr, err := u.cfg.Notify.GetPreferences(r.Context(), p)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "preferences", "prefs.title", &prefsData{Preferences: pr})
}

func (u *UI) savePreferences(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 4<<10) {
		return
	}
	p, _ := principal(r.Context())
	if u.cfg.Notify == nil {
		u.failErr(w, r, storage.ErrNotFound)
		return
	}
	want := notify.Preferences{Email: strings.TrimSpace(r.PostForm.Get("email")), EmailOn: r.PostForm.Get("email_on") != ""}
	pr, err := u.cfg.Notify.SetPreferences(r.Context(), p, want)
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			u.renderErr(w, r, status, "preferences", "prefs.title", msg, &prefsData{Preferences: want})
		}, http.StatusNotFound)
		return
	}
	u.render(w, r, http.StatusOK, "preferences", "prefs.title", &prefsData{Preferences: pr, Notice: u.tr(r, "prefs.saved")})
}
