package web

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/notify"
)

// notifyRoutes are one's notifications and channels, and an
// organisation's webhooks. Every handler goes through notify.Engine,
// whose methods authorize the caller; without an engine they answer 503.
func (s *Server) notifyRoutes(r chi.Router) {
	r.Get("/notifications", s.withNotify(s.listNotifications))
	r.Post("/notifications/{id}/read", s.withNotify(s.readNotification))
	r.Get("/notifications/preferences", s.withNotify(s.getNotificationPreferences))
	r.Put("/notifications/preferences", s.withNotify(s.setNotificationPreferences))
	r.Post("/organizations/{id}/webhooks", s.withNotify(s.createWebhook))
	r.Get("/organizations/{id}/webhooks", s.withNotify(s.listWebhooks))
	r.Delete("/organizations/{id}/webhooks/{webhook}", s.withNotify(s.deleteWebhook))
	r.Delete("/organizations/{id}/webhooks", s.withNotify(s.deleteWebhook)) // ?id=
	r.Get("/webhooks/{id}/deliveries", s.withNotify(s.webhookDeliveries))
}

func (s *Server) withNotify(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Notify == nil {
			writeProblem(w, r, http.StatusServiceUnavailable, "notifications-unavailable", "Notifications unavailable", "the service runs without its job queue")
			return
		}
		h(w, r)
	}
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeProblem(w, r, http.StatusUnprocessableEntity, "invalid-input", "A field is missing or invalid", "limit must be a number from 1 to 100")
			return
		}
		limit = n
	}
	page, err := s.Notify.Notifications(r.Context(), principalFrom(r.Context()), q.Get("before"), limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) readNotification(w http.ResponseWriter, r *http.Request) {
	if err := s.Notify.MarkRead(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getNotificationPreferences(w http.ResponseWriter, r *http.Request) {
	pr, err := s.Notify.GetPreferences(r.Context(), principalFrom(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pr)
}

func (s *Server) setNotificationPreferences(w http.ResponseWriter, r *http.Request) {
	var req notify.Preferences
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	pr, err := s.Notify.SetPreferences(r.Context(), principalFrom(r.Context()), req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pr)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var req notify.NewWebhook
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	wh, err := s.Notify.CreateWebhook(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store") // the secret is in the answer
	created(w, "/api/v1/webhooks/"+wh.ID+"/deliveries", wh)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	ws, err := s.Notify.Webhooks(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": ws})
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "webhook")
	if id == "" {
		id = r.URL.Query().Get("id")
	}
	if err := s.Notify.DeleteWebhook(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), id); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) {
	ds, err := s.Notify.WebhookDeliveries(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}
