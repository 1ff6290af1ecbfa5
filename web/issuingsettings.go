package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents/register"
)

// issuingSettingsRoutes are an organisation's rules for issuing: whether
// its signature on issued documents carries the QR code of their public
// verification. The register service authorizes every call.
func (s *Server) issuingSettingsRoutes(r chi.Router) {
	r.Get("/organizations/{id}/issuing-settings", s.issuingSettings)
	r.Put("/organizations/{id}/issuing-settings", s.setIssuingSettings)
}

func (s *Server) issuingSettings(w http.ResponseWriter, r *http.Request) {
	out, err := s.registers().IssuingSettings(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// setIssuingSettings changes them: {"verify_qr": true|false}.
func (s *Server) setIssuingSettings(w http.ResponseWriter, r *http.Request) {
	var req register.IssuingSettingsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.registers().SetIssuingSettings(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
