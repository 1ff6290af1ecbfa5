package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/vanthu/vanthu/storage"
)

type ctxKey int

const userKey ctxKey = 0

// authenticate admits requests that carry a valid API token.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vanthu"`)
			writeProblem(w, r, http.StatusUnauthorized, "unauthenticated", "Authentication required", "send an API token as Authorization: Bearer <token>")
			return
		}
		owner, err := storage.UserByToken(r.Context(), s.DB.Pool, strings.TrimSpace(token))
		if errors.Is(err, storage.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vanthu", error="invalid_token"`)
			writeProblem(w, r, http.StatusUnauthorized, "invalid-token", "Invalid token", "the API token is unknown, expired or revoked")
			return
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey, owner.User)))
	})
}

func userFrom(ctx context.Context) storage.User {
	u, _ := ctx.Value(userKey).(storage.User)
	return u
}
