package web_test

import (
	"context"
	"net/http"
	"time"

	"github.com/vanthu/vanthu/storage"
)

// certification opens a request in a side's organisation, for a matrix
// entry to act on.
func (m *matrix) certification(t *side) string {
	m.e.t.Helper()
	var id string
	now := time.Now()
	err := m.e.db.Pool.QueryRow(context.Background(), `INSERT INTO certifications (organization_id, status, requester_name,
		requester_id_number, original_name, page_count, copies, fee, received_at, due_at, opened_by)
		VALUES ($1, 'received', 'Nguyễn Thị Hồng', '001190012345', 'Bằng tốt nghiệp', 1, 1, 2000, $2, $2, $3) RETURNING id`,
		t.office.org.ID, now, t.subject.ID).Scan(&id)
	if err != nil {
		m.e.t.Fatal(err)
	}
	return id
}

// officeRoutes are the entries of the issuing queue, recall and the
// one-stop desk's certified copies.
func (m *matrix) officeRoutes() []route {
	certification := func(suffix string, body any) func(*matrix, caller, string, *side) request {
		return func(m *matrix, _ caller, _ string, t *side) request {
			path := "/api/v1/certifications/" + m.certification(t) + suffix
			if body == nil {
				return request{path: path}
			}
			return jsonBody(path, body)
		}
	}
	// Another organisation's request is not found, whoever asks; in one's
	// own, the roles named may act and the rest are refused.
	desk := func(status int, roles ...string) func(role, rel string) int {
		return authed(func(role, rel string) int {
			switch {
			case rel == other || role == superadmin:
				return http.StatusNotFound
			case in(role, roles...):
				return status
			}
			return http.StatusForbidden
		})
	}
	return []route{
		{"GET", "/api/v1/issuing/queue", []string{none}, func(*matrix, caller, string, *side) request {
			return request{path: "/api/v1/issuing/queue"}
		}, authed(func(role, _ string) int {
			if role == storage.RoleClerk {
				return http.StatusOK
			}
			return http.StatusForbidden
		})},
		// Recall: the issuing organisation's clerks; the matrix's document
		// is a draft, so a clerk hears it is not issued.
		{"POST", "/api/v1/documents/{id}/recall", []string{own, other}, func(_ *matrix, _ caller, _ string, t *side) request {
			return jsonBody("/api/v1/documents/"+t.doc.ID+"/recall", map[string]any{"reason": "Sai nội dung"})
		}, authed(func(role, rel string) int {
			switch {
			case documentRead(role, rel) == http.StatusNotFound:
				return http.StatusNotFound
			case role == storage.RoleClerk:
				return http.StatusConflict
			}
			return http.StatusForbidden
		})},
		{"POST", "/api/v1/certifications", []string{none}, func(*matrix, caller, string, *side) request {
			return jsonBody("/api/v1/certifications", map[string]any{"requester_name": "Nguyễn Thị Hồng", "requester_id_number": "001190012345",
				"original_name": "Bằng tốt nghiệp", "page_count": 3, "copies": 1})
		}, authed(func(role, _ string) int {
			switch role {
			case storage.RoleDesk:
				return http.StatusCreated
			case superadmin: // of no organisation: no desk
				return http.StatusNotFound
			}
			return http.StatusForbidden
		})},
		{"GET", "/api/v1/certifications/{id}", []string{own, other}, certification("", nil),
			desk(http.StatusOK, storage.RoleDesk, storage.RoleCertifier, storage.RoleAuditor)},
		// Without a scan there is nothing to certify, and no receipt yet.
		{"GET", "/api/v1/certifications/{id}/receipt", []string{own, other}, certification("/receipt", nil),
			desk(http.StatusConflict, storage.RoleDesk, storage.RoleCertifier, storage.RoleAuditor)},
		{"POST", "/api/v1/certifications/{id}/scan", []string{own, other}, certification("/scan", nil),
			desk(http.StatusBadRequest, storage.RoleDesk)},
		{"POST", "/api/v1/certifications/{id}/refuse", []string{own, other}, certification("/refuse", map[string]any{"reasons": []string{"unreadable"}}),
			desk(http.StatusOK, storage.RoleDesk, storage.RoleCertifier)},
		{"POST", "/api/v1/certifications/{id}/certify", []string{own, other}, certification("/certify", map[string]any{}),
			desk(http.StatusConflict, storage.RoleCertifier)},
		// The citizen's download link needs no login: an unknown token is
		// not found for everyone.
		{"GET", "/c/{token}", []string{none}, func(*matrix, caller, string, *side) request {
			return request{path: "/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
		}, func(string, string) int { return http.StatusNotFound }},
		{"GET", "/c/{token}/{n}", []string{none}, func(*matrix, caller, string, *side) request {
			return request{path: "/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/2"}
		}, func(string, string) int { return http.StatusNotFound }},
	}
}
