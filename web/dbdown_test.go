package web_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// TestDatabaseUnreachableIs503: with its database out of reach (an external
// one down), the API answers 503 problem+json with Retry-After, /healthz
// still says the process lives, and service resumes once the database is
// back, without a restart.
func TestDatabaseUnreachableIs503(t *testing.T) {
	e := newEnv(t, 1<<20)
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	pool, err := pgxpool.New(context.Background(), "postgres://vanthu@"+addr+"/vanthu?connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	down, up := &storage.DB{Pool: pool}, e.db
	setDB := func(db *storage.DB) {
		e.configure(func(s *web.Server) { s.DB, s.Docs.DB, s.Accounts.DB = db, db, db })
	}
	setDB(down)
	pdf := testpdf.Bytes(testpdf.Options{Text: "outage"})
	for _, req := range []struct{ method, path string }{
		{"GET", "/api/v1/documents"},
		{"GET", "/api/v1/documents/00000000-0000-0000-0000-000000000000"},
		{"POST", "/api/v1/documents"},
	} {
		var resp *http.Response
		var b []byte
		if req.method == "POST" {
			resp, b = e.upload([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Mất cơ sở dữ liệu"}, {name: "file", fileName: "a.pdf", value: string(pdf)}}, nil)
		} else {
			resp, b = e.do(req.method, req.path, nil, "", nil)
		}
		p := decode[problem](t, b)
		if resp.StatusCode != http.StatusServiceUnavailable || p.Type != "/problems/database-unavailable" || resp.Header.Get("Retry-After") == "" ||
			resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s %s with the database down: %d %v %s", req.method, req.path, resp.StatusCode, resp.Header, b)
		}
	}
	if resp, b := e.do("GET", "/healthz", nil, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz with the database down: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.do("GET", "/readyz", nil, "", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the database down: %d", resp.StatusCode)
	}
	setDB(up)
	if resp, b := e.do("GET", "/api/v1/documents", nil, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the database returned: %d %s", resp.StatusCode, b)
	}
}
