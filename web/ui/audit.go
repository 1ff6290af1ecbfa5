package ui

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
)

// auditSection: auditors browse their organisation's audit log (the
// superadmin every organisation's).
var auditSection = section{
	routes: func(u *UI, r chi.Router) {
		r.With(u.signedIn, u.allowedTo(accounts.AuditRead)).Get("/audit", u.auditPage)
	},
	nav: []navEntry{{Path: "/audit", Key: "nav.audit", show: may(accounts.AuditRead)}},
}

var _ = addMessages(map[string][2]string{
	"nav.audit":     {"Nhật ký", "Audit log"},
	"audit.title":   {"Nhật ký hệ thống", "Audit log"},
	"audit.seq":     {"STT", "No."},
	"audit.at":      {"Thời điểm", "Time"},
	"audit.actor":   {"Người thực hiện", "Actor"},
	"audit.action":  {"Hành động", "Action"},
	"audit.object":  {"Đối tượng", "Object"},
	"audit.details": {"Chi tiết", "Details"},
	"audit.after":   {"Từ số thứ tự", "From number"},
	"audit.go":      {"Xem", "Show"},
	"audit.intro":   {"Mỗi mục được nối chuỗi băm với mục trước; không mục nào sửa hay xóa được.", "Each entry is hash-chained to the one before; none can be changed or removed."},
})

type auditData struct {
	Entries []audit.Entry
	After   int64
	Next    int64
}

const auditPageSize = 50

func (u *UI) auditPage(w http.ResponseWriter, r *http.Request) {
	p, _ := principal(r.Context())
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			u.fail(w, r, http.StatusBadRequest, u.tr(r, "error.badform"))
			return
		}
		after = n
	}
	// The superadmin, of no organisation, reads every organisation's.
	entries, err := audit.Entries(r.Context(), u.cfg.DB.Pool, p.OrganizationID, after, auditPageSize+1)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d := auditData{Entries: entries, After: after}
	if len(entries) > auditPageSize {
		d.Entries = entries[:auditPageSize]
		d.Next = d.Entries[auditPageSize-1].Seq
	}
	u.render(w, r, http.StatusOK, "audit", "audit.title", d)
}
