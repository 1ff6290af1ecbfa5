package web_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/accounts/oidc"
	"github.com/vanthu/vanthu/accounts/oidc/oidctest"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// Callers of the matrix besides the roles of storage.AllRoles.
const (
	superadmin = "superadmin"
	readOnly   = "read-only token" // a drafter's token limited to documents:read and directory:read
	anonymous  = "anonymous"
)

// Relations of a request's target to the caller.
const (
	own   = "own organisation"
	other = "other organisation"
	self  = "self"
	none  = "-" // the route has no target
)

// caller is who sends a request: every caller but the superadmin belongs
// to organisation A, unit VP.
type caller struct {
	role  string
	token string
	user  storage.User
}

// side is one organisation's fixtures: a signer to act on (subject), a
// second signer (delegate), and a document of unit VP drafted by neither.
type side struct {
	office   *office
	subject  storage.User
	delegate storage.User
	doc      storage.Document
}

// matrix is the world every request of the matrix runs in.
type matrix struct {
	e       *env
	a, b    *side
	pemOf   map[string]string              // PEM chains of dev PKI certificates by name
	chainOf map[string][]*x509.Certificate // the same, parsed
	serial  int
}

// personOf is the certificate the matrix binds to people of a side: one
// per organisation, since a certificate is bound in one organisation only.
func (m *matrix) personOf(t *side) string {
	if t == m.b {
		return devpki.Deputy
	}
	return devpki.Official
}

// webhook adds an endpoint to a side's organisation, for a request to act on.
func (m *matrix) webhook(t *side) string {
	var id string
	if err := m.e.db.Pool.QueryRow(context.Background(), `INSERT INTO webhook_endpoints (organization_id, url, secret)
		VALUES ($1, 'https://203.0.113.10/hook', 'whsec_matrix') RETURNING id`, t.office.org.ID).Scan(&id); err != nil {
		m.e.t.Fatal(err)
	}
	return id
}

func (m *matrix) unique(prefix string) string {
	m.serial++
	return fmt.Sprintf("%s%d", prefix, m.serial)
}

// request is what one matrix entry sends.
type request struct {
	path        string
	body        io.Reader
	contentType string
}

func jsonBody(path string, v any) request {
	b, _ := json.Marshal(v)
	return request{path: path, body: bytes.NewReader(b), contentType: "application/json"}
}

// route is one entry of the matrix: how to call it about a target, and
// which status each caller gets.
type route struct {
	method, pattern string
	rels            []string
	req             func(m *matrix, c caller, rel string, t *side) request
	want            func(role, rel string) int
}

// authed keeps the anonymous caller's answer in one place: 401 on every
// route but the public ones.
func authed(f func(role, rel string) int) func(role, rel string) int {
	return func(role, rel string) int {
		if role == anonymous {
			return http.StatusUnauthorized
		}
		return f(role, rel)
	}
}

func in(role string, roles ...string) bool { return slices.Contains(roles, role) }

// directoryRead: the superadmin sees every organisation's directory, a
// member their own.
func directoryRead(role, rel string) int {
	if role == superadmin || rel == own || rel == self {
		return http.StatusOK
	}
	return http.StatusNotFound
}

// adminWrite: the superadmin or the organisation's administrator; an
// outsider does not even learn the target exists.
func adminWrite(status int, superToo bool) func(role, rel string) int {
	return func(role, rel string) int {
		switch {
		case role == superadmin && superToo:
			return status
		case role == superadmin || rel == other:
			return http.StatusNotFound
		case role == storage.RoleAdmin:
			return status
		}
		return http.StatusForbidden
	}
}

// ownTokens: one's own tokens, else as write; managing tokens, even
// listing them, needs the directory:write scope.
func ownTokens(status int) func(role, rel string) int {
	write := adminWrite(status, true)
	return func(role, rel string) int {
		switch {
		case role == readOnly && rel != other:
			return http.StatusForbidden
		case rel == self:
			return status
		}
		return write(role, rel)
	}
}

// documentRead: a document of unit VP is visible to its organisation's
// drafters and reviewers of VP and to its whole-organisation roles, not to
// administrators, the superadmin or anyone outside.
func documentRead(role, rel string) int {
	if rel == other || in(role, superadmin, storage.RoleAdmin, storage.RoleDesk) {
		return http.StatusNotFound
	}
	return http.StatusOK
}

// documentSign: signing needs the document visible, the right to change
// it and the signer role; the matrix's service has no approval chain, so a
// signer who passes all that hears 409.
func documentSign(role, rel string) int {
	switch {
	case documentRead(role, rel) == http.StatusNotFound:
		return http.StatusNotFound
	case role == storage.RoleSigner:
		return http.StatusConflict
	}
	return http.StatusForbidden
}

// handlingAction: acting on a document's handling needs it visible, then
// one of the roles; the matrix's draft is not in handling (409).
func handlingAction(roles ...string) func(role, rel string) int {
	return func(role, rel string) int {
		switch {
		case documentRead(role, rel) == http.StatusNotFound:
			return http.StatusNotFound
		case role != readOnly && in(role, roles...):
			return http.StatusConflict
		}
		return http.StatusForbidden
	}
}

// keyWrite: binding or revoking a person's key is for its holder or an
// administrator of their organisation.
func keyWrite(status int) func(role, rel string) int {
	return func(role, rel string) int {
		switch {
		case role == superadmin:
			return http.StatusNotFound // signing keys belong to an organisation's people
		case role == readOnly && rel != other:
			return http.StatusForbidden
		case rel == self:
			return status
		}
		return adminWrite(status, false)(role, rel)
	}
}

// userSwitch: accounts are disabled and enabled by an administrator of
// their organisation or the superadmin, and never by themselves.
func userSwitch(role, rel string) int {
	if rel == self {
		return http.StatusForbidden
	}
	return adminWrite(http.StatusOK, true)(role, rel)
}

// throwaway is a user to disable or enable: the caller themselves, or a
// new member of the target organisation, so no fixture is disabled.
func (m *matrix) throwaway(c caller, rel string, t *side) string {
	if rel == self && c.user.ID != "" {
		return c.user.ID
	}
	if rel == self {
		return t.subject.ID
	}
	return m.e.member(t.office.org.ID, m.unique("tamkhoa"), []string{storage.RoleDrafter}, t.office.units["VP"].ID).user.ID
}

func (m *matrix) routes() []route {
	pdf := func(field ...string) request {
		var parts []part
		for i := 0; i+1 < len(field); i += 2 {
			parts = append(parts, part{name: field[i], value: field[i+1]})
		}
		parts = append(parts, part{name: "file", fileName: "m.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: m.unique("matrix ")}))})
		body, ct := multipartBody(parts)
		return request{body: body, contentType: ct}
	}
	userOf := func(c caller, rel string, t *side) storage.User {
		if rel == self && c.user.ID != "" {
			return c.user
		}
		return t.subject
	}
	docPath := func(t *side, suffix string) string { return "/api/v1/documents/" + t.doc.ID + suffix }
	return append([]route{
		{"GET", "/healthz", []string{none}, func(*matrix, caller, string, *side) request { return request{path: "/healthz"} },
			func(string, string) int { return http.StatusOK }},
		{"GET", "/readyz", []string{none}, func(*matrix, caller, string, *side) request { return request{path: "/readyz"} },
			func(string, string) int { return http.StatusOK }},
		{"POST", "/api/v1/session", []string{none}, func(m *matrix, _ caller, _ string, t *side) request {
			return jsonBody("/api/v1/session", map[string]string{"username": "dangnhap", "password": testPassword})
		}, func(string, string) int { return http.StatusOK }},
		{"DELETE", "/api/v1/session", []string{none}, func(*matrix, caller, string, *side) request { return request{path: "/api/v1/session"} },
			authed(func(string, string) int { return http.StatusNoContent })},
		// OpenID Connect login is public: the start sends anyone to the
		// provider; a callback this browser did not start is refused
		// whoever calls it (the whole flow is tested in oidc_test.go).
		{"GET", "/api/v1/session/oidc", []string{none}, func(*matrix, caller, string, *side) request { return request{path: "/api/v1/session/oidc"} },
			func(string, string) int { return http.StatusFound }},
		{"GET", "/api/v1/session/oidc/callback", []string{none}, func(*matrix, caller, string, *side) request {
			return request{path: "/api/v1/session/oidc/callback?state=x&code=y"}
		}, func(string, string) int { return http.StatusBadRequest }},

		{"POST", "/api/v1/organizations", []string{none}, func(m *matrix, _ caller, _ string, _ *side) request {
			return jsonBody("/api/v1/organizations", map[string]string{"code": m.unique("TC"), "name": "Tổ chức thử"})
		}, authed(func(role, _ string) int {
			if role == superadmin {
				return http.StatusCreated
			}
			return http.StatusForbidden
		})},
		{"GET", "/api/v1/organizations", []string{none}, func(*matrix, caller, string, *side) request { return request{path: "/api/v1/organizations"} },
			authed(func(string, string) int { return http.StatusOK })},
		{"GET", "/api/v1/organizations/{id}", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/organizations/" + t.office.org.ID}
		}, authed(directoryRead)},
		{"POST", "/api/v1/organizations/{id}/units", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return jsonBody("/api/v1/organizations/"+t.office.org.ID+"/units", map[string]string{"code": m.unique("P"), "name": "Phòng thử"})
		}, authed(adminWrite(http.StatusCreated, true))},
		{"GET", "/api/v1/organizations/{id}/units", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/organizations/" + t.office.org.ID + "/units"}
		}, authed(directoryRead)},
		{"POST", "/api/v1/organizations/{id}/seal-key", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return jsonBody("/api/v1/organizations/"+t.office.org.ID+"/seal-key", map[string]string{"kind": "external", "certificates": m.pemOf[devpki.Seal]})
		}, authed(adminWrite(http.StatusCreated, false))},

		{"POST", "/api/v1/users", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return jsonBody("/api/v1/users", map[string]any{"username": m.unique("nguoidung"), "full_name": "Người dùng mới", "title": "Chuyên viên",
				"organization_id": t.office.org.ID, "unit_ids": []string{t.office.units["VP"].ID}, "roles": []string{storage.RoleDrafter}})
		}, authed(adminWrite(http.StatusCreated, true))},
		{"GET", "/api/v1/users", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/users?organization_id=" + t.office.org.ID}
		}, authed(directoryRead)},
		{"GET", "/api/v1/users/{id}", []string{own, other, self}, func(_ *matrix, c caller, rel string, t *side) request {
			return request{path: "/api/v1/users/" + userOf(c, rel, t).ID}
		}, authed(directoryRead)},
		{"POST", "/api/v1/users/{id}/disable", []string{own, other, self}, func(m *matrix, c caller, rel string, t *side) request {
			return request{path: "/api/v1/users/" + m.throwaway(c, rel, t) + "/disable"}
		}, authed(userSwitch)},
		{"POST", "/api/v1/users/{id}/enable", []string{own, other, self}, func(m *matrix, c caller, rel string, t *side) request {
			return request{path: "/api/v1/users/" + m.throwaway(c, rel, t) + "/enable"}
		}, authed(userSwitch)},
		// Roles are set by an administrator of the user's organisation or
		// the superadmin; for oneself the roles sent are those held, so
		// the administrator keeps theirs (and the superadmin holds none).
		{"PUT", "/api/v1/users/{id}/roles", []string{own, other, self}, func(m *matrix, c caller, rel string, t *side) request {
			if rel == self {
				u := userOf(c, rel, t)
				return jsonBody("/api/v1/users/"+u.ID+"/roles", map[string]any{"roles": u.Roles})
			}
			return jsonBody("/api/v1/users/"+m.throwaway(c, rel, t)+"/roles", map[string]any{"roles": []string{storage.RoleDrafter, storage.RoleReviewer}})
		}, authed(func(role, rel string) int {
			if rel == self {
				if role == storage.RoleAdmin {
					return http.StatusOK
				}
				return http.StatusForbidden
			}
			return adminWrite(http.StatusOK, true)(role, rel)
		})},
		{"POST", "/api/v1/users/{id}/tokens", []string{own, other, self}, func(_ *matrix, c caller, rel string, t *side) request {
			return jsonBody("/api/v1/users/"+userOf(c, rel, t).ID+"/tokens", map[string]any{"name": "tích hợp", "scopes": []string{accounts.ScopeDocumentsRead}})
		}, authed(ownTokens(http.StatusCreated))},
		{"GET", "/api/v1/users/{id}/tokens", []string{own, other, self}, func(_ *matrix, c caller, rel string, t *side) request {
			return request{path: "/api/v1/users/" + userOf(c, rel, t).ID + "/tokens"}
		}, authed(ownTokens(http.StatusOK))},
		{"DELETE", "/api/v1/tokens/{id}", []string{own, other, self}, func(m *matrix, c caller, rel string, t *side) request {
			// A fresh token each time, so every caller revokes a live one.
			_, rec, err := m.e.accounts.IssueToken(context.Background(), operator, userOf(c, rel, t).ID, "revoke me", nil, nil)
			if err != nil {
				m.e.t.Fatal(err)
			}
			return request{path: "/api/v1/tokens/" + rec.ID}
		}, authed(ownTokens(http.StatusNoContent))},
		{"PUT", "/api/v1/users/{id}/signature-image", []string{own, other, self}, func(m *matrix, c caller, rel string, t *side) request {
			var b bytes.Buffer
			png.Encode(&b, appearance.DemoSignature("Nguyễn Văn An"))
			return request{path: "/api/v1/users/" + userOf(c, rel, t).ID + "/signature-image", body: &b, contentType: "image/png"}
		}, authed(keyWrite(http.StatusOK))},
		// The image is read with the right that sets it; each target has
		// one stored first, so the answer depends on the caller alone.
		{"GET", "/api/v1/users/{id}/signature-image", []string{own, other, self}, func(m *matrix, c caller, rel string, t *side) request {
			u := userOf(c, rel, t)
			var b bytes.Buffer
			png.Encode(&b, appearance.DemoSignature(u.FullName))
			if _, err := storage.PutSignatureImage(context.Background(), m.e.db.Pool, storage.SignatureImage{UserID: u.ID, PNG: b.Bytes(), SHA256: "matrix", Width: 1, Height: 1}); err != nil {
				m.e.t.Fatal(err)
			}
			return request{path: "/api/v1/users/" + u.ID + "/signature-image"}
		}, authed(keyWrite(http.StatusOK))},
		// One's own password: a new one the rules refuse is answered
		// after authorization and before any password is checked, so the
		// matrix counts no failed login.
		{"POST", "/api/v1/session/password", []string{self}, func(*matrix, caller, string, *side) request {
			return jsonBody("/api/v1/session/password", map[string]string{"current_password": "whatever-it-is", "new_password": "short"})
		}, authed(func(role, _ string) int {
			if role == readOnly {
				return http.StatusForbidden
			}
			return http.StatusUnprocessableEntity
		})},
		// Another's password is set by an administrator of their
		// organisation or the superadmin, never one's own this way.
		{"PUT", "/api/v1/users/{id}/password", []string{own, other, self}, func(m *matrix, c caller, rel string, t *side) request {
			return jsonBody("/api/v1/users/"+m.throwaway(c, rel, t)+"/password", map[string]string{"new_password": "a new password of the matrix"})
		}, authed(userSwitch)},
		// The matrix's document is a draft no chain carries: a signer who
		// may change it is told it is not their turn (and that no signing
		// session of theirs exists); everyone else is refused before.
		{"POST", "/api/v1/documents/{id}/sign", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/sign"), map[string]any{})
		}, authed(documentSign)},
		{"POST", "/api/v1/documents/{id}/sign/prepare", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/sign/prepare"), map[string]any{})
		}, authed(documentSign)},
		{"POST", "/api/v1/documents/{id}/sign/complete", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/sign/complete"), map[string]any{"session_id": "00000000-0000-0000-0000-000000000000", "signature": []byte{1}})
		}, authed(func(role, rel string) int {
			if s := documentSign(role, rel); s != http.StatusConflict {
				return s
			}
			return http.StatusNotFound
		})},
		{"POST", "/api/v1/users/{id}/keys", []string{own, other, self}, func(m *matrix, c caller, rel string, t *side) request {
			return jsonBody("/api/v1/users/"+userOf(c, rel, t).ID+"/keys", map[string]string{"kind": "external", "certificates": m.pemOf[m.personOf(t)]})
		}, authed(keyWrite(http.StatusCreated))},
		{"DELETE", "/api/v1/keys/{id}", []string{own, other, self}, func(m *matrix, c caller, rel string, t *side) request {
			// A fresh binding each time, so every caller revokes a live one.
			holder := userOf(c, rel, t)
			if holder.OrganizationID == "" {
				holder = t.subject // the superadmin holds no keys: its "own" is someone's
			}
			b, err := m.e.accounts.BindKey(context.Background(), operator, holder.ID, "",
				accounts.KeyMaterial{Kind: storage.KeyExternal, Certificates: m.chainOf[m.personOf(t)]})
			if err != nil {
				m.e.t.Fatal(err)
			}
			return request{path: "/api/v1/keys/" + b.ID}
		}, authed(keyWrite(http.StatusNoContent))},
		{"GET", "/api/v1/users/{id}/keys", []string{own, other, self}, func(_ *matrix, c caller, rel string, t *side) request {
			return request{path: "/api/v1/users/" + userOf(c, rel, t).ID + "/keys"}
		}, authed(func(role, rel string) int {
			switch {
			case role == superadmin || rel == other:
				return http.StatusNotFound
			case rel == self || in(role, storage.RoleAdmin, storage.RoleAuditor):
				return http.StatusOK
			}
			return http.StatusForbidden
		})},

		{"POST", "/api/v1/delegations", []string{own, other, self}, func(m *matrix, c caller, rel string, t *side) request {
			from, to := t.subject, t.delegate
			if rel == self {
				from, to = c.user, m.a.delegate
			}
			return jsonBody("/api/v1/delegations", map[string]any{"from_user": from.ID, "to_user": to.ID, "form": "KT.",
				"document_types": []string{"QĐ"}, "basis": "Quyết định phân công", "ends_at": time.Now().AddDate(0, 1, 0)})
		}, authed(func(role, rel string) int {
			switch {
			case role == superadmin || rel == other:
				return http.StatusNotFound
			case role == storage.RoleAdmin, rel == self && role == storage.RoleSigner:
				return http.StatusCreated
			}
			return http.StatusForbidden
		})},
		{"DELETE", "/api/v1/delegations/{id}", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			d, err := m.e.accounts.CreateDelegation(context.Background(), operator, storage.Delegation{FromUser: t.subject.ID, ToUser: t.delegate.ID,
				Form: "KT.", Basis: "Quyết định phân công", EndsAt: time.Now().AddDate(0, 1, 0)})
			if err != nil {
				m.e.t.Fatal(err)
			}
			return request{path: "/api/v1/delegations/" + d.ID}
		}, authed(func(role, rel string) int {
			// The delegating signer may end it too; the matrix's signer
			// is not the one who delegated (see accounts' tests).
			return adminWrite(http.StatusNoContent, false)(role, rel)
		})},
		{"GET", "/api/v1/delegations", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/delegations?organization_id=" + t.office.org.ID}
		}, authed(func(role, rel string) int {
			if role == superadmin || rel == other {
				return http.StatusNotFound
			}
			return http.StatusOK
		})},

		{"POST", "/api/v1/documents", []string{none}, func(*matrix, caller, string, *side) request {
			r := pdf("type", "CV", "subject", "Công văn thử quyền", "unit", "VP")
			r.path = "/api/v1/documents"
			return r
		}, authed(func(role, _ string) int {
			if in(role, storage.RoleDrafter, storage.RoleClerk) {
				return http.StatusCreated
			}
			return http.StatusForbidden
		})},
		{"GET", "/api/v1/documents", []string{none}, func(*matrix, caller, string, *side) request { return request{path: "/api/v1/documents"} },
			authed(func(string, string) int { return http.StatusOK })},
		{"GET", "/api/v1/documents/{id}", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: docPath(t, "")}
		}, authed(documentRead)},
		{"GET", "/api/v1/documents/{id}/versions", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: docPath(t, "/versions")}
		}, authed(documentRead)},
		{"GET", "/api/v1/documents/{id}/versions/{n}/file", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: docPath(t, "/versions/1/file")}
		}, authed(documentRead)},
		{"HEAD", "/api/v1/documents/{id}/versions/{n}/file", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: docPath(t, "/versions/1/file")}
		}, authed(documentRead)},
		{"POST", "/api/v1/documents/{id}/versions", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			r := pdf()
			r.path = docPath(t, "/versions")
			return r
		}, authed(func(role, rel string) int {
			switch {
			case documentRead(role, rel) == http.StatusNotFound:
				return http.StatusNotFound
			case in(role, storage.RoleDrafter, storage.RoleReviewer, storage.RoleSigner, storage.RoleClerk):
				return http.StatusCreated
			}
			return http.StatusForbidden // auditors and certifiers read, a read-only token reads
		})},

		// Registers: read by the organisation's members, added by its
		// administrators; issuing is for its clerks, and the matrix's
		// organisations have no usable seal key, so a clerk hears 409.
		{"GET", "/api/v1/organizations/{id}/registers", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/organizations/" + t.office.org.ID + "/registers"}
		}, authed(directoryRead)},
		{"POST", "/api/v1/organizations/{id}/registers", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return jsonBody("/api/v1/organizations/"+t.office.org.ID+"/registers", map[string]any{"kind": "outgoing", "name": m.unique("Sổ nghị quyết "), "document_types": []string{"NQ"}})
		}, authed(adminWrite(http.StatusCreated, true))},
		{"GET", "/api/v1/registers/{id}/entries", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			rs, err := storage.ListRegisters(context.Background(), m.e.db.Pool, t.office.org.ID)
			if err != nil || len(rs) == 0 {
				m.e.t.Fatalf("registers: %v", err)
			}
			// The outgoing register: every member reads it (the certified
			// copies' names citizens and has its own entry in the desk's tests).
			i := slices.IndexFunc(rs, func(r storage.Register) bool { return r.Kind == storage.RegisterOutgoing })
			if i < 0 {
				m.e.t.Fatal("no outgoing register")
			}
			return request{path: "/api/v1/registers/" + rs[i].ID + "/entries?year=2026"}
		}, authed(directoryRead)},
		// The follow-up register of the incoming register: read like the
		// register's entries.
		{"GET", "/api/v1/registers/{id}/follow-up", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			rs, err := storage.ListRegisters(context.Background(), m.e.db.Pool, t.office.org.ID)
			if err != nil {
				m.e.t.Fatalf("registers: %v", err)
			}
			i := slices.IndexFunc(rs, func(r storage.Register) bool { return r.Kind == storage.RegisterIncoming && r.Default })
			if i < 0 {
				m.e.t.Fatal("no incoming register")
			}
			return request{path: "/api/v1/registers/" + rs[i].ID + "/follow-up?from=2026-01-01&to=2026-12-31"}
		}, authed(directoryRead)},
		// An organisation's handling rules: read by its members, set by its
		// administrators (and the superadmin).
		{"GET", "/api/v1/organizations/{id}/handling-settings", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/organizations/" + t.office.org.ID + "/handling-settings"}
		}, authed(directoryRead)},
		{"PUT", "/api/v1/organizations/{id}/handling-settings", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody("/api/v1/organizations/"+t.office.org.ID+"/handling-settings", map[string]any{"clerk_sends_to_unit": false})
		}, authed(adminWrite(http.StatusOK, true))},
		// An organisation's issuing rules (the verification QR code in its
		// signature): read by its members, set by its administrators.
		{"GET", "/api/v1/organizations/{id}/issuing-settings", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/organizations/" + t.office.org.ID + "/issuing-settings"}
		}, authed(directoryRead)},
		{"PUT", "/api/v1/organizations/{id}/issuing-settings", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody("/api/v1/organizations/"+t.office.org.ID+"/issuing-settings", map[string]any{"verify_qr": false})
		}, authed(adminWrite(http.StatusOK, true))},
		{"POST", "/api/v1/documents/{id}/issue", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/issue"), map[string]any{"recipients": []map[string]string{{"name": "Công ty ABC", "email": "vanthu@abc.example"}}})
		}, authed(func(role, rel string) int {
			switch {
			case documentRead(role, rel) == http.StatusNotFound:
				return http.StatusNotFound
			case role == storage.RoleClerk:
				return http.StatusConflict
			}
			return http.StatusForbidden
		})},
		// Copies: the organisation's clerks, of what they may see; the
		// matrix's documents are unsigned drafts, so a clerk hears 409.
		{"POST", "/api/v1/documents/{id}/copies", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/copies"), map[string]any{"form": "SY"})
		}, authed(func(role, rel string) int {
			switch {
			case documentRead(role, rel) == http.StatusNotFound:
				return http.StatusNotFound
			case role == storage.RoleClerk:
				return http.StatusConflict
			}
			return http.StatusForbidden
		})},
		// A copy of a paper original: the organisation's clerks; the
		// matrix's file is a printed page, not a scan, so a clerk hears
		// the scan check's 422.
		{"POST", "/api/v1/copies", []string{none}, func(*matrix, caller, string, *side) request {
			r := pdf("form", "SY", "original", "Giấy chứng nhận số 12/GCN ngày 01/3/2026", "subject", "Giấy chứng nhận")
			r.path = "/api/v1/copies"
			return r
		}, authed(func(role, _ string) int {
			if role == storage.RoleClerk {
				return http.StatusUnprocessableEntity
			}
			return http.StatusForbidden
		})},
		// Public verification needs no credential: anyone learns whether a
		// file was issued here (the matrix's files were not).
		{"POST", "/api/v1/public/verify", []string{none}, func(*matrix, caller, string, *side) request {
			r := pdf()
			r.path = "/api/v1/public/verify"
			return r
		}, func(string, string) int { return http.StatusOK }},
		{"GET", "/v/{code}", []string{none}, func(*matrix, caller, string, *side) request {
			return request{path: "/v/AAAAAAAAAAAAAAAAAAAAAA"}
		}, func(string, string) int { return http.StatusOK }},
		// A document's deliveries: whoever may see the document.
		{"GET", "/api/v1/documents/{id}/deliveries", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: docPath(t, "/deliveries")}
		}, authed(documentRead)},

		// Anyone signed in may check a signature, with a token that has the
		// verify scope; a stored version only if they may see it.
		{"POST", "/api/v1/verify", []string{none}, func(*matrix, caller, string, *side) request {
			r := pdf()
			r.path = "/api/v1/verify"
			return r
		}, authed(func(role, _ string) int {
			if role == readOnly {
				return http.StatusForbidden
			}
			return http.StatusOK
		})},
		{"GET", "/api/v1/documents/{id}/versions/{n}/verification", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: docPath(t, "/versions/1/verification")}
		}, authed(func(role, rel string) int {
			if role == readOnly {
				return http.StatusForbidden // for every document alike, so nothing leaks
			}
			return documentRead(role, rel)
		})},

		// Approval chains: templates are the organisation administrator's;
		// a chain is seen by whoever sees its document and moved only by
		// its drafter and participants (the matrix's document is a draft
		// none of the callers drafted: the success paths are in
		// documents/chain's tests and chain_test.go).
		{"POST", "/api/v1/chain-templates", []string{none}, func(m *matrix, _ caller, _ string, _ *side) request {
			return jsonBody("/api/v1/chain-templates", map[string]any{"name": m.unique("Luồng "), "stages": []map[string]any{
				{"name": "Ký", "kind": "sign", "participants": []map[string]string{{"user_id": m.a.subject.ID}}, "rule": "all"}}})
		}, authed(func(role, _ string) int {
			switch role {
			case storage.RoleAdmin:
				return http.StatusCreated
			case superadmin:
				return http.StatusNotFound // it belongs to no organisation
			}
			return http.StatusForbidden
		})},
		{"GET", "/api/v1/chain-templates", []string{none}, func(*matrix, caller, string, *side) request { return request{path: "/api/v1/chain-templates"} },
			authed(func(string, string) int { return http.StatusOK })},
		{"POST", "/api/v1/documents/{id}/submit", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/submit"), map[string]any{})
		}, authed(func(role, rel string) int {
			if documentRead(role, rel) == http.StatusNotFound {
				return http.StatusNotFound
			}
			return http.StatusForbidden // only the drafter submits
		})},
		{"GET", "/api/v1/documents/{id}/chain", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: docPath(t, "/chain")}
		}, authed(documentRead)},
		{"POST", "/api/v1/documents/{id}/actions", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/actions"), map[string]any{"action": "comment", "comment": "Ý kiến"})
		}, authed(func(role, rel string) int {
			switch {
			case documentRead(role, rel) == http.StatusNotFound:
				return http.StatusNotFound
			case in(role, storage.RoleDrafter, storage.RoleReviewer, storage.RoleSigner, storage.RoleClerk):
				return http.StatusConflict // a draft takes no comments before it is submitted
			}
			return http.StatusForbidden
		})},
		{"GET", "/api/v1/documents/{id}/history", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: docPath(t, "/history")}
		}, authed(documentRead)},
		{"GET", "/api/v1/inbox", []string{none}, func(*matrix, caller, string, *side) request { return request{path: "/api/v1/inbox"} },
			authed(func(string, string) int { return http.StatusOK })},
		// Notifications are one's own (another's is not found); webhooks and
		// their log are the organisation's administrators'.
		{"GET", "/api/v1/notifications", []string{none}, func(*matrix, caller, string, *side) request { return request{path: "/api/v1/notifications"} },
			authed(func(string, string) int { return http.StatusOK })},
		{"POST", "/api/v1/notifications/{id}/read", []string{none}, func(*matrix, caller, string, *side) request {
			return request{path: "/api/v1/notifications/00000000-0000-4000-8000-000000000000/read"}
		}, authed(func(string, string) int { return http.StatusNotFound })},
		{"GET", "/api/v1/notifications/preferences", []string{none}, func(*matrix, caller, string, *side) request {
			return request{path: "/api/v1/notifications/preferences"}
		}, authed(func(string, string) int { return http.StatusOK })},
		{"PUT", "/api/v1/notifications/preferences", []string{none}, func(*matrix, caller, string, *side) request {
			return jsonBody("/api/v1/notifications/preferences", map[string]any{"email": "thu@example.gov.vn", "email_on": false})
		}, authed(func(string, string) int { return http.StatusOK })},
		{"POST", "/api/v1/organizations/{id}/webhooks", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody("/api/v1/organizations/"+t.office.org.ID+"/webhooks", map[string]any{"url": "https://203.0.113.10/hook"})
		}, authed(adminWrite(http.StatusCreated, true))},
		{"GET", "/api/v1/organizations/{id}/webhooks", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/organizations/" + t.office.org.ID + "/webhooks"}
		}, authed(adminWrite(http.StatusOK, true))},
		{"DELETE", "/api/v1/organizations/{id}/webhooks/{webhook}", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/organizations/" + t.office.org.ID + "/webhooks/" + m.webhook(t)}
		}, authed(adminWrite(http.StatusNoContent, true))},
		{"DELETE", "/api/v1/organizations/{id}/webhooks", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/organizations/" + t.office.org.ID + "/webhooks?id=" + m.webhook(t)}
		}, authed(adminWrite(http.StatusNoContent, true))},
		{"GET", "/api/v1/webhooks/{id}/deliveries", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return request{path: "/api/v1/webhooks/" + m.webhook(t) + "/deliveries"}
		}, authed(adminWrite(http.StatusOK, true))},
		// Handling: the matrix's document is a draft, never registered for
		// handling; whoever may act on it is told so (409), the rest are
		// refused first, and outsiders do not see it.
		{"POST", "/api/v1/documents/{id}/present", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/present"), map[string]any{"user_id": t.subject.ID})
		}, authed(handlingAction(storage.RoleClerk))},
		{"POST", "/api/v1/documents/{id}/assign", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/assign"), map[string]any{"assignments": []map[string]any{{"user_id": t.subject.ID, "role": "lead", "due": 3}}})
		}, authed(handlingAction(storage.RoleSigner, storage.RoleReviewer))},
		{"POST", "/api/v1/documents/{id}/progress", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/progress"), map[string]any{"note": "đang xử lý"})
		}, authed(handlingAction(storage.RoleDrafter, storage.RoleReviewer, storage.RoleSigner, storage.RoleClerk))},
		{"POST", "/api/v1/documents/{id}/complete", []string{own, other}, func(m *matrix, _ caller, _ string, t *side) request {
			return jsonBody(docPath(t, "/complete"), map[string]any{"note": "xong"})
		}, authed(handlingAction(storage.RoleDrafter, storage.RoleReviewer, storage.RoleSigner, storage.RoleClerk))},
		{"GET", "/api/v1/documents/{id}/handling", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return request{path: docPath(t, "/handling")}
		}, authed(func(string, string) int { return http.StatusNotFound })},
		{"GET", "/api/v1/statistics", []string{none}, func(*matrix, caller, string, *side) request {
			return request{path: "/api/v1/statistics?from=2026-01-01&to=2026-12-31"}
		}, authed(func(role, _ string) int {
			switch {
			case role == superadmin:
				return http.StatusNotFound
			case in(role, storage.RoleSigner, storage.RoleClerk, storage.RoleAuditor, storage.RoleAdmin):
				return http.StatusOK
			}
			return http.StatusForbidden
		})},
		{"GET", "/api/v1/calendar/{year}", []string{none}, func(*matrix, caller, string, *side) request { return request{path: "/api/v1/calendar/2026"} },
			authed(func(string, string) int { return http.StatusOK })},
		{"PUT", "/api/v1/calendar/{year}", []string{none}, func(*matrix, caller, string, *side) request {
			return jsonBody("/api/v1/calendar/2026", map[string]any{"holidays": []map[string]string{{"date": "2026-04-30", "name": "30/4"}}})
		}, authed(func(role, _ string) int {
			if role == superadmin {
				return http.StatusOK
			}
			return http.StatusForbidden
		})},
	}, slices.Concat(m.receptionRoutes(), m.officeRoutes())...)
}

// newMatrix builds organisations A (the callers') and B, each with a unit
// VP, a subject, a delegate and a document, and one caller per role.
func newMatrix(t *testing.T) (*matrix, []caller) {
	e := newEnv(t, 1<<20)
	// The service as configured with every optional part, so that every
	// route it may serve is walked.
	idp := oidctest.New(t, "vanthu", "client-secret-for-tests")
	client, err := oidc.New(context.Background(), oidc.Config{Issuer: idp.URL, ClientID: "vanthu", ClientSecret: "client-secret-for-tests",
		RedirectURL: e.url + "/api/v1/session/oidc/callback"})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := notify.New(e.db, notify.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.configure(func(s *web.Server) { s.OIDC = client; s.Notify = engine })
	pki := testharness.DevPKI(t)
	e.accounts.Anchors = []*x509.Certificate{pki.Root()}
	m := &matrix{e: e, pemOf: map[string]string{}, chainOf: map[string][]*x509.Certificate{}}
	for _, name := range []string{devpki.Official, devpki.Deputy, devpki.Seal} {
		chain, err := pki.Chain(name)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, c := range chain {
			pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
		m.pemOf[name], m.chainOf[name] = b.String(), chain
	}
	newSide := func(o *office) *side {
		vp := o.units["VP"].ID
		code := strings.ToLower(o.org.Code)
		s := &side{office: o,
			subject:  e.member(o.org.ID, "subject-"+code, []string{storage.RoleSigner}, vp).user,
			delegate: e.member(o.org.ID, "delegate-"+code, []string{storage.RoleSigner}, vp).user}
		author := e.member(o.org.ID, "author-"+code, []string{storage.RoleDrafter}, vp)
		body, ct := multipartBody([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Quyết định của " + o.org.Code}, {name: "unit", value: "VP"},
			{name: "file", fileName: "qd.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: o.org.Code}))}})
		resp, b := send(t, e.url, author.token, "POST", "/api/v1/documents", body, ct)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("document of %s: %d %s", o.org.Code, resp.StatusCode, b)
		}
		s.doc = decode[storage.Document](t, b)
		return s
	}
	m.a = newSide(e.office)
	m.b = newSide(e.newOffice("SYT", "Sở Y tế", "VP"))

	vp := m.a.office.units["VP"].ID
	var callers []caller
	for _, role := range storage.AllRoles {
		mb := e.member(m.a.office.org.ID, role+"-a", []string{role}, vp)
		callers = append(callers, caller{role: role, token: mb.token, user: mb.user})
	}
	root := e.member("", "root", nil)
	callers = append(callers, caller{role: superadmin, token: root.token, user: root.user})
	drafter := callers[slices.IndexFunc(callers, func(c caller) bool { return c.role == storage.RoleDrafter })]
	callers = append(callers, caller{role: readOnly, user: drafter.user,
		token: e.issueToken(drafter.user.ID, accounts.ScopeDocumentsRead, accounts.ScopeDirectoryRead)})
	callers = append(callers, caller{role: anonymous})

	login := e.member(m.a.office.org.ID, "dangnhap", []string{storage.RoleDrafter}, vp)
	e.setPassword(login.user.ID)
	return m, callers
}

// noRedirects answers a redirect as it is, for the matrix to see.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// send makes one request with an API token ("" for none).
func send(t testing.TB, base, token, method, path string, body io.Reader, contentType string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// registered lists every route of the service as "METHOD pattern".
func registered(t *testing.T, h http.Handler) []string {
	t.Helper()
	routes, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("the handler is a %T, not a chi router to walk", h)
	}
	var out []string
	err := chi.Walk(routes, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, method+" "+strings.TrimSuffix(pattern, "/"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestAuthorizationMatrix walks every registered route × every role (and
// the superadmin, a read-only token and no credential at all) × a target
// in the caller's own organisation, another organisation and, for a
// person's things, the caller themselves.
func TestAuthorizationMatrix(t *testing.T) {
	m, callers := newMatrix(t)
	routes := m.routes()
	byKey := map[string]route{}
	for _, r := range routes {
		byKey[r.method+" "+r.pattern] = r
	}
	seen := map[string]bool{}
	for _, key := range registered(t, *m.e.handler.Load()) {
		seen[key] = true
		if _, ok := byKey[key]; !ok {
			t.Errorf("route %s has no entry in the authorization matrix: add one saying who may call it", key)
		}
	}
	for key := range byKey {
		if !seen[key] {
			t.Errorf("the matrix names %s, which the router does not have", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	cases, statuses := 0, map[int]int{}
	for _, r := range routes {
		for _, rel := range r.rels {
			for _, c := range callers {
				target := m.a
				if rel == other {
					target = m.b
				}
				req := r.req(m, c, rel, target)
				want := r.want(c.role, rel)
				resp, body := send(t, m.e.url, c.token, r.method, req.path, req.body, req.contentType)
				cases++
				statuses[resp.StatusCode]++
				if resp.StatusCode != want {
					t.Errorf("%s %s as %s, %s: %d %s, want %d", r.method, r.pattern, c.role, rel, resp.StatusCode, body, want)
					continue
				}
				if want >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s %s as %s, %s: %d answered as %q, not a problem", r.method, r.pattern, c.role, rel, want, resp.Header.Get("Content-Type"))
				}
			}
		}
	}
	t.Logf("%d routes, %d callers, %d requests; statuses %v", len(routes), len(callers), cases, statuses)
}

// TestOrganizationsDoNotSeeEachOther: whatever a user of B may do in B,
// nothing of A's documents or directory reaches them, and the other way
// round; listings are filtered, not refused.
func TestOrganizationsDoNotSeeEachOther(t *testing.T) {
	m, _ := newMatrix(t)
	for _, tc := range []struct {
		name       string
		mine, them *side
	}{{"B looks at A", m.b, m.a}, {"A looks at B", m.a, m.b}} {
		code := strings.ToLower(tc.mine.office.org.Code)
		for _, role := range []string{storage.RoleClerk, storage.RoleAuditor, storage.RoleSigner, storage.RoleAdmin} {
			tok := m.e.member(tc.mine.office.org.ID, m.unique(role+"-"+code+"-"), []string{role}, tc.mine.office.units["VP"].ID).token
			get := func(path string) (int, []byte) {
				resp, b := send(t, m.e.url, tok, "GET", path, nil, "")
				return resp.StatusCode, b
			}
			doc := "/api/v1/documents/" + tc.them.doc.ID
			for _, path := range []string{doc, doc + "/versions", doc + "/versions/1/file",
				"/api/v1/users/" + tc.them.subject.ID, "/api/v1/organizations/" + tc.them.office.org.ID} {
				if status, b := get(path); status != http.StatusNotFound {
					t.Errorf("%s as %s: GET %s: %d %s", tc.name, role, path, status, b)
				}
			}
			body, ct := multipartBody([]part{{name: "file", fileName: "v.pdf", value: string(testpdf.Bytes(testpdf.Options{Text: "intruder"}))}})
			if resp, b := send(t, m.e.url, tok, "POST", doc+"/versions", body, ct); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s as %s: new version: %d %s", tc.name, role, resp.StatusCode, b)
			}
			for _, path := range []string{"/api/v1/documents", "/api/v1/documents?q=quyet+dinh", "/api/v1/users", "/api/v1/organizations", "/api/v1/delegations"} {
				status, b := get(path)
				if status != http.StatusOK {
					t.Errorf("%s as %s: GET %s: %d %s", tc.name, role, path, status, b)
				}
				for _, id := range []string{tc.them.doc.ID, tc.them.subject.ID, tc.them.office.org.ID} {
					if bytes.Contains(b, []byte(id)) {
						t.Errorf("%s as %s: GET %s lists %s of the other organisation", tc.name, role, path, id)
					}
				}
			}
		}
	}
	// A's document still has exactly its one version.
	var n int
	if err := m.e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM document_versions WHERE document_id = $1", m.a.doc.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("A's document has %d versions (%v)", n, err)
	}
}
