package web_test

import (
	"context"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// office is an organisation of the test directory with its units by code.
type office struct {
	org   storage.Organization
	units map[string]storage.Unit
}

// member is a user of the test directory and their API token.
type member struct {
	user  storage.User
	token string
}

// operator sets up the test directory, as `vanthu admin` would.
var operator = accounts.Operator("test")

// newOffice creates an organisation and its units through the accounts
// service.
func (e *env) newOffice(code, name string, unitCodes ...string) *office {
	e.t.Helper()
	ctx := context.Background()
	org, err := e.accounts.CreateOrganization(ctx, operator, storage.Organization{Code: code, Name: name})
	if err != nil {
		e.t.Fatal(err)
	}
	o := &office{org: org, units: map[string]storage.Unit{}}
	for _, c := range unitCodes {
		u, err := e.accounts.CreateUnit(ctx, operator, storage.Unit{OrganizationID: org.ID, Code: c, Name: "Phòng " + c})
		if err != nil {
			e.t.Fatal(err)
		}
		o.units[c] = u
	}
	return o
}

// member creates a user of an organisation (orgID "" for a superadmin)
// with roles and units, and an API token with every scope.
func (e *env) member(orgID, username string, roles []string, unitIDs ...string) member {
	e.t.Helper()
	ctx := context.Background()
	var u storage.User
	var err error
	if orgID == "" {
		u, err = storage.CreateUser(ctx, e.db.Pool, storage.User{Username: username, FullName: username, IsSuperadmin: true}, "")
	} else {
		u, err = e.accounts.CreateUser(ctx, operator, accounts.NewUser{Username: username, FullName: "Người dùng " + username,
			OrganizationID: orgID, UnitIDs: unitIDs, Roles: roles})
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return member{user: u, token: e.issueToken(u.ID)}
}

// issueToken gives a user another API token, with scopes (none: every scope).
func (e *env) issueToken(userID string, scopes ...string) string {
	e.t.Helper()
	token, _, err := e.accounts.IssueToken(context.Background(), operator, userID, "test", scopes, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return token
}

// testPassword is the password of users that log in.
const testPassword = "mật-khẩu-kiểm-thử-2026"

// setPassword gives a user testPassword.
func (e *env) setPassword(userID string) {
	e.t.Helper()
	hash, err := accounts.HashPassword(testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := storage.SetPassword(context.Background(), e.db.Pool, userID, hash); err != nil {
		e.t.Fatal(err)
	}
}
