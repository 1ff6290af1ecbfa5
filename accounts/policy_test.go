package accounts

import (
	"errors"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage"
)

func TestAuthorize(t *testing.T) {
	const orgA, orgB = "org-a", "org-b"
	user := func(id, org string, roles ...string) Principal {
		return Principal{User: storage.User{ID: id, OrganizationID: org, Roles: roles}}
	}
	super := Principal{User: storage.User{ID: "root", IsSuperadmin: true}}
	admin := user("admin-a", orgA, storage.RoleAdmin)
	drafter := user("drafter-a", orgA, storage.RoleDrafter)
	signer := user("signer-a", orgA, storage.RoleSigner)
	auditor := user("auditor-a", orgA, storage.RoleAuditor)
	desk := user("desk-a", orgA, storage.RoleDesk)
	certifier := user("certifier-a", orgA, storage.RoleCertifier)
	readOnly := drafter
	readOnly.Scopes = []string{ScopeDocumentsRead}
	disabled := drafter
	disabled.DisabledAt = &time.Time{}

	const ok, forbidden, hidden = "ok", "403", "404"
	for _, tc := range []struct {
		who  string
		p    Principal
		a    Action
		t    Target
		want string
	}{
		{"superadmin", super, OrganizationCreate, Target{}, ok},
		{"desk receives", desk, CertificationReceive, Target{OrgID: orgA}, ok},
		{"certifier receives", certifier, CertificationReceive, Target{OrgID: orgA}, forbidden},
		{"desk certifies", desk, CertificationCertify, Target{OrgID: orgA}, forbidden},
		{"certifier certifies", certifier, CertificationCertify, Target{OrgID: orgA}, ok},
		{"certifier of another org certifies", certifier, CertificationCertify, Target{OrgID: orgB}, hidden},
		{"desk refuses", desk, CertificationRefuse, Target{OrgID: orgA}, ok},
		{"certifier refuses", certifier, CertificationRefuse, Target{OrgID: orgA}, ok},
		{"signer refuses", signer, CertificationRefuse, Target{OrgID: orgA}, forbidden},
		{"auditor reads requests", auditor, CertificationRead, Target{OrgID: orgA}, ok},
		{"drafter reads requests", drafter, CertificationRead, Target{OrgID: orgA}, forbidden},
		{"superadmin reads requests", super, CertificationRead, Target{OrgID: orgA}, hidden},
		{"admin", admin, OrganizationCreate, Target{}, forbidden},
		{"superadmin", super, UserCreate, Target{OrgID: orgB}, ok},
		{"admin", admin, UserCreate, Target{OrgID: orgA}, ok},
		{"admin", admin, UserCreate, Target{OrgID: orgB}, hidden},
		{"drafter", drafter, UserCreate, Target{OrgID: orgA}, forbidden},
		{"drafter", drafter, UserRead, Target{OrgID: orgA}, ok},
		{"drafter", drafter, UnitRead, Target{OrgID: orgB}, hidden},
		{"drafter own token", drafter, TokenManage, Target{OrgID: orgA, UserID: drafter.ID}, ok},
		{"drafter another's token", drafter, TokenManage, Target{OrgID: orgA, UserID: signer.ID}, forbidden},
		{"admin another's token", admin, TokenManage, Target{OrgID: orgA, UserID: signer.ID}, ok},
		{"admin other org's token", admin, TokenManage, Target{OrgID: orgB, UserID: "x"}, hidden},
		{"signer delegates", signer, DelegationCreate, Target{OrgID: orgA, UserID: signer.ID}, ok},
		{"signer delegates for another", signer, DelegationCreate, Target{OrgID: orgA, UserID: "other"}, forbidden},
		{"superadmin delegations", super, DelegationRead, Target{OrgID: orgA}, hidden},
		{"admin binds seal", admin, KeyBind, Target{OrgID: orgA}, ok},
		{"signer binds seal", signer, KeyBind, Target{OrgID: orgA}, forbidden},
		{"signer binds own key", signer, KeyBind, Target{OrgID: orgA, UserID: signer.ID}, ok},
		{"auditor reads keys", auditor, KeyRead, Target{OrgID: orgA, UserID: signer.ID}, ok},
		{"drafter reads another's keys", drafter, KeyRead, Target{OrgID: orgA, UserID: signer.ID}, forbidden},
		{"drafter creates document", drafter, DocumentCreate, Target{OrgID: orgA}, ok},
		{"signer creates document", signer, DocumentCreate, Target{OrgID: orgA}, forbidden},
		{"superadmin creates document", super, DocumentCreate, Target{}, forbidden},
		{"auditor changes document", auditor, DocumentChange, Target{OrgID: orgA}, forbidden},
		{"read-only token reads", readOnly, DocumentRead, Target{OrgID: orgA}, ok},
		{"read-only token writes", readOnly, DocumentCreate, Target{OrgID: orgA}, forbidden},
		// A narrow token learns nothing more than its user would: what lies
		// outside the organisation is hidden before scopes are looked at.
		{"read-only token, other org's token", readOnly, TokenManage, Target{OrgID: orgB, UserID: "x"}, hidden},
		{"read-only token, other org's units", readOnly, UnitCreate, Target{OrgID: orgB}, hidden},
		{"read-only token, own org's units", readOnly, UnitCreate, Target{OrgID: orgA}, forbidden},
		{"superadmin without scope", func() Principal { p := super; p.Scopes = []string{ScopeDocumentsRead}; return p }(), UserCreate, Target{OrgID: orgB}, forbidden},
		{"disabled", disabled, DocumentRead, Target{OrgID: orgA}, forbidden},
		{"auditor audit", auditor, AuditRead, Target{OrgID: orgA}, ok},
		{"drafter audit", drafter, AuditRead, Target{OrgID: orgA}, forbidden},
		{"anyone verifies", drafter, Verify, Target{}, ok},
		{"unknown action", super, Action("x"), Target{}, forbidden},
	} {
		err := Authorize(tc.p, tc.a, tc.t)
		got := ok
		switch {
		case errors.Is(err, ErrForbidden):
			got = forbidden
		case errors.Is(err, storage.ErrNotFound):
			got = hidden
		case err != nil:
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s %s %+v: %s (%v), want %s", tc.who, tc.a, tc.t, got, err, tc.want)
		}
	}
}

func TestViewer(t *testing.T) {
	for _, tc := range []struct {
		roles                   []string
		whole, unit, confidence bool
	}{
		{[]string{storage.RoleDrafter}, false, true, false},
		{[]string{storage.RoleReviewer}, false, true, true},
		{[]string{storage.RoleClerk}, true, false, false},
		{[]string{storage.RoleAuditor}, true, false, false},
		{[]string{storage.RoleAdmin}, false, false, false},
	} {
		v := Principal{User: storage.User{ID: "u", OrganizationID: "o", Roles: tc.roles}}.Viewer()
		if v.WholeOrganization != tc.whole || v.UnitDocuments != tc.unit || v.UnitConfidential != tc.confidence {
			t.Errorf("%v: %+v", tc.roles, v)
		}
	}
}
