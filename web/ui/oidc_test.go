package ui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/web/ui"
)

type noSessions struct{}

func (noSessions) Secret(*http.Request) string                      { return "" }
func (noSessions) Start(http.ResponseWriter, *http.Request, string) {}
func (noSessions) End(http.ResponseWriter, *http.Request)           {}

// TestLoginOffersOIDCWhenConfigured: the login page has the identity
// provider's button exactly when the office has one.
func TestLoginOffersOIDCWhenConfigured(t *testing.T) {
	for _, oidc := range []string{"", "/api/v1/session/oidc"} {
		h := ui.New(ui.Config{Sessions: noSessions{}, OIDCLogin: oidc})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
		has := strings.Contains(rec.Body.String(), `href="/api/v1/session/oidc"`)
		if rec.Code != http.StatusOK || has != (oidc != "") {
			t.Errorf("OIDC %q: %d, button shown %v", oidc, rec.Code, has)
		}
	}
}
