package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
)

// webhooksSection: an organisation's webhook endpoints for its
// administrators (the system administrator picks the organisation): the
// list, adding one (its secret shown this once), removing one, and each
// endpoint's delivery log with the retries still waiting. notify.Engine
// authorizes every call and decides who may allow a private or loopback
// address (the system administrator); the form offers that choice only
// to them.
var webhooksSection = section{
	routes: func(u *UI, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(u.signedIn)
			r.Get("/admin/webhooks", u.webhooksPage)
			r.Post("/admin/webhooks", u.createWebhook)
			r.Get("/admin/webhooks/{id}", u.webhookPage)
			r.Post("/admin/webhooks/{id}/delete", u.deleteWebhook)
		})
	},
}

var _ = addMessages(map[string][2]string{
	"admin.webhooks":      {"Webhook", "Webhooks"},
	"wh.intro":            {"Hệ thống gửi sự kiện (trình, trả lại, ký, ban hành, tiếp nhận, giao việc, hoàn thành, quá hạn, thu hồi) đến các địa chỉ này, ký HMAC-SHA256 bằng khóa bí mật của từng địa chỉ.", "Events (submitted, returned, signed, issued, received, assigned, completed, overdue, recalled) are posted to these addresses, signed with HMAC-SHA256 by each endpoint's secret."},
	"wh.none":             {"Cơ quan chưa có webhook nào.", "The organisation has no webhook."},
	"wh.url":              {"Địa chỉ nhận (URL)", "Endpoint URL"},
	"wh.created.at":       {"Ngày tạo", "Created"},
	"wh.private":          {"Cho phép địa chỉ nội bộ", "Private addresses allowed"},
	"wh.private.field":    {"Cho phép địa chỉ nội bộ hoặc loopback (chỉ quản trị hệ thống)", "Allow a private or loopback address (system administrator only)"},
	"wh.private.no":       {"Địa chỉ nội bộ, loopback bị từ chối; chỉ quản trị hệ thống cho phép được.", "Private and loopback addresses are refused; only the system administrator may allow them."},
	"wh.create":           {"Thêm webhook", "Add a webhook"},
	"wh.created":          {"Đã thêm webhook %s. Khóa bí mật chỉ hiện một lần này: hãy lưu lại ngay.", "Webhook %s added. Its secret is shown this once: keep it now."},
	"wh.secret":           {"Khóa bí mật", "Secret"},
	"wh.delete":           {"Xóa", "Delete"},
	"wh.delete.label":     {"Xóa webhook %s", "Delete the webhook %s"},
	"wh.deleted":          {"Đã xóa webhook; nhật ký gửi vẫn được giữ.", "The webhook was deleted; its delivery log is kept."},
	"wh.log":              {"Nhật ký gửi", "Delivery log"},
	"wh.log.of":           {"Nhật ký gửi của %s", "Delivery log of %s"},
	"wh.log.none":         {"Chưa gửi lần nào.", "Nothing delivered yet."},
	"wh.event":            {"Sự kiện", "Event"},
	"wh.attempt":          {"Lần thử", "Attempt"},
	"wh.status":           {"Kết quả", "Status"},
	"wh.ok":               {"Thành công", "Delivered"},
	"wh.failed":           {"Thất bại", "Failed"},
	"wh.at":               {"Thời điểm", "At"},
	"wh.next":             {"Thử lại lúc", "Next retry"},
	"wh.pending":          {"Đang chờ gửi", "Waiting"},
	"wh.pending.intro":    {"Các lần gửi đang chờ (chưa gửi hoặc sẽ thử lại):", "Deliveries waiting (not yet sent, or to be retried):"},
	"wh.back":             {"Về danh sách webhook", "Back to the webhooks"},
	"wh.attempts.so.far":  {"Đã thử", "Attempts so far"},
	"wh.error.nourl":      {"Hãy nhập địa chỉ URL.", "Give the URL."},
	"wh.deleted.endpoint": {"(đã xóa)", "(deleted)"},
})

type webhooksData struct {
	adminData
	Webhooks   []notify.Webhook
	Created    *notify.CreatedWebhook
	CanPrivate bool
	// One endpoint's log.
	Webhook    *notify.Webhook
	WebhookID  string
	Deliveries []deliveryRow
	Waiting    []notify.Retry
}

type deliveryRow struct {
	notify.Delivery
	Next *notify.Retry
}

// webhooksShow loads the tabs, the organisation and its endpoints.
func (u *UI) webhooksShow(w http.ResponseWriter, r *http.Request, d *webhooksData) bool {
	p, _ := principal(r.Context())
	d.Tab = "webhooks"
	if u.cfg.Notify == nil {
		u.failErr(w, r, storage.ErrNotFound)
		return false
	}
	if err := u.adminOrg(r, p, &d.adminData); err != nil {
		u.failErr(w, r, err)
		return false
	}
	ws, err := u.cfg.Notify.Webhooks(r.Context(), p, d.OrgID)
	if err != nil {
		u.failErr(w, r, err)
		return false
	}
	d.Webhooks, d.CanPrivate = ws, p.IsSuperadmin
	return true
}

func (u *UI) webhooksPage(w http.ResponseWriter, r *http.Request) {
	d := &webhooksData{}
	if u.webhooksShow(w, r, d) {
		u.render(w, r, http.StatusOK, "admin_webhooks", "admin.webhooks", d)
	}
}

func (u *UI) createWebhook(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 8<<10) {
		return
	}
	p, _ := principal(r.Context())
	d := &webhooksData{}
	if !u.webhooksShow(w, r, d) {
		return
	}
	n := notify.NewWebhook{URL: strings.TrimSpace(r.PostForm.Get("url")), AllowPrivate: r.PostForm.Get("allow_private") != ""}
	d.Form = map[string]string{"url": n.URL}
	if n.URL == "" {
		u.renderErr(w, r, http.StatusUnprocessableEntity, "admin_webhooks", "admin.webhooks", u.tr(r, "wh.error.nourl"), d)
		return
	}
	created, err := u.cfg.Notify.CreateWebhook(r.Context(), p, d.OrgID, n)
	if err != nil {
		u.formRefused(w, r, err, func(status int, msg string) {
			u.renderErr(w, r, status, "admin_webhooks", "admin.webhooks", msg, d)
		}, http.StatusForbidden)
		return
	}
	d.Form, d.Created = nil, &created
	d.Webhooks = append(d.Webhooks, created.Webhook)
	d.Notice = u.tr(r, "wh.created", created.URL)
	u.render(w, r, http.StatusCreated, "admin_webhooks", "admin.webhooks", d)
}

func (u *UI) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if !u.readForm(w, r, 4<<10) {
		return
	}
	p, _ := principal(r.Context())
	d := &webhooksData{}
	if !u.webhooksShow(w, r, d) {
		return
	}
	if err := u.cfg.Notify.DeleteWebhook(r.Context(), p, d.OrgID, chi.URLParam(r, "id")); err != nil {
		u.failErr(w, r, err)
		return
	}
	if !u.webhooksShow(w, r, d) {
		return
	}
	d.Notice = u.tr(r, "wh.deleted")
	u.render(w, r, http.StatusOK, "admin_webhooks", "admin.webhooks", d)
}

// webhookPage is one endpoint's delivery log, newest first, each failed
// attempt beside the retry still waiting for its event.
func (u *UI) webhookPage(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	d := &webhooksData{WebhookID: chi.URLParam(r, "id")}
	if !u.webhooksShow(w, r, d) {
		return
	}
	ds, err := u.cfg.Notify.WebhookDeliveries(r.Context(), p, d.WebhookID)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	retries, err := u.cfg.Notify.WebhookRetries(r.Context(), p, d.WebhookID)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	for i := range d.Webhooks {
		if d.Webhooks[i].ID == d.WebhookID {
			d.Webhook = &d.Webhooks[i]
		}
	}
	shown := map[string]bool{}
	for _, x := range ds {
		row := deliveryRow{Delivery: x}
		if rt, ok := retries[x.EventID]; ok && !x.Succeeded && !shown[x.EventID] {
			row.Next = &rt
		}
		shown[x.EventID] = true
		d.Deliveries = append(d.Deliveries, row)
	}
	for id, rt := range retries {
		if !shown[id] {
			d.Waiting = append(d.Waiting, rt)
		}
	}
	slices.SortFunc(d.Waiting, func(a, b notify.Retry) int { return a.Next.Compare(b.Next) })
	u.render(w, r, http.StatusOK, "admin_webhook", "wh.log", d)
}
