package web

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// directoryRoutes are the organisations, units, users, tokens, delegations
// and key bindings. Every handler goes through accounts.Service, whose
// methods authorize the caller.
func (s *Server) directoryRoutes(r chi.Router) {
	r.Post("/organizations", s.createOrganization)
	r.Get("/organizations", s.listOrganizations)
	r.Get("/organizations/{id}", s.getOrganization)
	r.Post("/organizations/{id}/units", s.createUnit)
	r.Get("/organizations/{id}/units", s.listUnits)
	r.Post("/organizations/{id}/seal-key", s.bindSealKey)
	r.Post("/users", s.createUser)
	r.Get("/users", s.listUsers)
	r.Get("/users/{id}", s.getUser)
	r.Post("/users/{id}/disable", s.setDisabled(true))
	r.Post("/users/{id}/enable", s.setDisabled(false))
	r.Put("/users/{id}/roles", s.setRoles)
	r.Post("/users/{id}/tokens", s.issueToken)
	r.Get("/users/{id}/tokens", s.listTokens)
	r.Post("/users/{id}/keys", s.bindUserKey)
	r.Get("/users/{id}/keys", s.listKeys)
	r.Delete("/keys/{id}", s.revoke(s.Accounts.RevokeKey))
	r.Delete("/tokens/{id}", s.revoke(s.Accounts.RevokeToken))
	r.Post("/delegations", s.createDelegation)
	r.Get("/delegations", s.listDelegations)
	r.Delete("/delegations/{id}", s.revoke(s.Accounts.RevokeDelegation))
}

// created answers 201 with the new resource and where it lives.
func created(w http.ResponseWriter, location string, v any) {
	w.Header().Set("Location", location)
	writeJSON(w, http.StatusCreated, v)
}

type organizationRequest struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	ParentID string `json:"parent_id"`
}

func (s *Server) createOrganization(w http.ResponseWriter, r *http.Request) {
	var req organizationRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	o, err := s.Accounts.CreateOrganization(r.Context(), principalFrom(r.Context()), storage.Organization{Code: req.Code, Name: req.Name, ParentID: req.ParentID})
	if err != nil {
		writeError(w, r, err)
		return
	}
	created(w, "/api/v1/organizations/"+o.ID, o)
}

func (s *Server) listOrganizations(w http.ResponseWriter, r *http.Request) {
	list, err := s.Accounts.Organizations(r.Context(), principalFrom(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": list})
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request) {
	o, err := s.Accounts.Organization(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

type unitRequest struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (s *Server) createUnit(w http.ResponseWriter, r *http.Request) {
	var req unitRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	u, err := s.Accounts.CreateUnit(r.Context(), principalFrom(r.Context()), storage.Unit{OrganizationID: chi.URLParam(r, "id"), Code: req.Code, Name: req.Name})
	if err != nil {
		writeError(w, r, err)
		return
	}
	created(w, "/api/v1/organizations/"+u.OrganizationID+"/units", u)
}

func (s *Server) listUnits(w http.ResponseWriter, r *http.Request) {
	list, err := s.Accounts.Units(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"units": list})
}

type userRequest struct {
	Username       string   `json:"username"`
	FullName       string   `json:"full_name"`
	Title          string   `json:"title"`
	OrganizationID string   `json:"organization_id"`
	UnitIDs        []string `json:"unit_ids"`
	Roles          []string `json:"roles"`
	Password       string   `json:"password"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	var req userRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if req.OrganizationID == "" {
		req.OrganizationID = p.OrganizationID // an administrator adding to their own organisation
	}
	u, err := s.Accounts.CreateUser(r.Context(), p, accounts.NewUser{Username: req.Username, FullName: req.FullName, Title: req.Title,
		OrganizationID: req.OrganizationID, UnitIDs: req.UnitIDs, Roles: req.Roles, Password: req.Password})
	if err != nil {
		writeError(w, r, err)
		return
	}
	created(w, "/api/v1/users/"+u.ID, u)
}

// listUsers lists an organisation's users: ?organization_id=, by default
// the caller's own (every user for the superadmin).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	list, err := s.Accounts.Users(r.Context(), principalFrom(r.Context()), r.URL.Query().Get("organization_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": list})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.Accounts.User(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

type tokenRequest struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// issuedToken is the one answer that carries a token: it is shown once.
type issuedToken struct {
	Secret string `json:"token"`
	storage.Token
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	secret, t, err := s.Accounts.IssueToken(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req.Name, req.Scopes, req.ExpiresAt)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	created(w, "/api/v1/users/"+t.UserID+"/tokens", issuedToken{Secret: secret, Token: t})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := s.Accounts.Tokens(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": list})
}

// revoke answers a DELETE that ends a token, a key binding or a delegation
// from now on; the row stays, for the audit trail.
func (s *Server) revoke(end func(context.Context, accounts.Principal, string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := end(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id")); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) setDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := s.Accounts.SetDisabled(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), disabled)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, u)
	}
}

type delegationRequest struct {
	FromUser      string    `json:"from_user"`
	ToUser        string    `json:"to_user"`
	Form          string    `json:"form"`
	DocumentTypes []string  `json:"document_types"`
	UnitIDs       []string  `json:"unit_ids"`
	ParentID      string    `json:"parent_id"`
	Basis         string    `json:"basis"`
	StartsAt      time.Time `json:"starts_at"`
	EndsAt        time.Time `json:"ends_at"`
}

func (s *Server) createDelegation(w http.ResponseWriter, r *http.Request) {
	var req delegationRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	d, err := s.Accounts.CreateDelegation(r.Context(), principalFrom(r.Context()), storage.Delegation{FromUser: req.FromUser, ToUser: req.ToUser,
		Form: req.Form, DocumentTypes: req.DocumentTypes, UnitIDs: req.UnitIDs, ParentID: req.ParentID, Basis: req.Basis,
		StartsAt: req.StartsAt, EndsAt: req.EndsAt})
	if err != nil {
		writeError(w, r, err)
		return
	}
	created(w, "/api/v1/delegations?organization_id="+d.OrganizationID, d)
}

// listDelegations lists an organisation's delegations (?organization_id=,
// by default the caller's), with ?user_id= those from or to one user.
func (s *Server) listDelegations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := s.Accounts.Delegations(r.Context(), principalFrom(r.Context()), q.Get("organization_id"), q.Get("user_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"delegations": list})
}

type rolesRequest struct {
	Roles []string `json:"roles"`
}

// setRoles replaces a user's roles ({"roles": [...]}); accounts.SetRoles
// decides who may and keeps the organisation's last administrator.
func (s *Server) setRoles(w http.ResponseWriter, r *http.Request) {
	var req rolesRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	u, err := s.Accounts.SetRoles(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req.Roles)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}
