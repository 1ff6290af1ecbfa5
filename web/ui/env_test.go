package ui_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob/s3"
	"github.com/vanthu/vanthu/web"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	testharness.Main(m)
}

// testPassword is every test user's password.
const testPassword = "mật-khẩu-kiểm-thử-2026"

// operator sets up the directory, as `vanthu admin` would.
var operator = accounts.Operator("test")

// env is the service as `vanthu serve` runs it (pages on), on its own
// database and bucket, with one organisation (UBND: units VP, TH) and a
// drafter, an auditor and an administrator who log in with testPassword.
type env struct {
	t        testing.TB
	url      string
	db       *storage.DB
	accounts *accounts.Service
	docs     *documents.Service
	server   *web.Server
	handler  atomic.Pointer[http.Handler]
	org      storage.Organization
	units    map[string]storage.Unit
	users    map[string]storage.User // by username
	// served counts requests by "METHOD path".
	served sync.Map
}

// requests is how many requests the service answered for "METHOD path".
func (e *env) requests(key string) int64 {
	if v, ok := e.served.Load(key); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	dbURL := testharness.Postgres(t)
	if err := storage.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	cfg := testharness.MinIO(t)
	blobs, err := s3.New(ctx, s3.Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ks, err := accounts.OpenKeystore(filepath.Join(t.TempDir(), "keystore-key"))
	if err != nil {
		t.Fatal(err)
	}
	acc := &accounts.Service{DB: db, Keystore: ks}
	docs := &documents.Service{DB: db, Blobs: blobs, MaxUpload: 20 << 20, Retention: time.Hour}
	e := &env{t: t, db: db, accounts: acc, docs: docs, users: map[string]storage.User{},
		server: &web.Server{DB: db, Blobs: blobs, Docs: docs, Accounts: acc, Pages: true}}
	e.configure(func(*web.Server) {})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := e.served.LoadOrStore(r.Method+" "+r.URL.Path, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		(*e.handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL

	e.org, err = acc.CreateOrganization(ctx, operator, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã An Bình"})
	if err != nil {
		t.Fatal(err)
	}
	e.units = map[string]storage.Unit{}
	for _, c := range []string{"VP", "TH"} {
		u, err := acc.CreateUnit(ctx, operator, storage.Unit{OrganizationID: e.org.ID, Code: c, Name: "Phòng " + c})
		if err != nil {
			t.Fatal(err)
		}
		e.units[c] = u
	}
	e.user("chuyenvien", "Nguyễn Văn An", storage.RoleDrafter)
	e.user("kiemtra", "Trần Thị Bình", storage.RoleAuditor)
	e.user("quantri", "Lê Văn Cường", storage.RoleAdmin)
	return e
}

// testPasswordHash is testPassword's argon2id hash, made once: hashing is
// deliberately slow, and much slower under the race detector.
var testPasswordHash = sync.OnceValues(func() (string, error) { return accounts.HashPassword(testPassword) })

// user creates a member of the organisation, of unit VP, who logs in with
// testPassword.
func (e *env) user(username, fullName string, roles ...string) storage.User {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.accounts.CreateUser(ctx, operator, accounts.NewUser{Username: username, FullName: fullName,
		OrganizationID: e.org.ID, UnitIDs: []string{e.units["VP"].ID}, Roles: roles})
	if err != nil {
		e.t.Fatal(err)
	}
	hash, err := testPasswordHash()
	if err == nil {
		err = storage.SetPassword(ctx, e.db.Pool, u.ID, hash)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	e.users[username] = u
	return u
}

// configure changes the service's configuration and rebuilds its routes.
func (e *env) configure(change func(*web.Server)) {
	change(e.server)
	h := e.server.Handler()
	e.handler.Store(&h)
}

// client is an HTTP client with a cookie jar that does not follow
// redirects, for the tests that look at answers one by one.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login signs a client in through the login form.
func (e *env) login(c *http.Client, username string) {
	e.t.Helper()
	resp := e.post(c, "/login", "username="+username+"&password="+testPassword, nil)
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login as %s: %d", username, resp.StatusCode)
	}
}

func (e *env) post(c *http.Client, path, form string, hdr map[string]string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.url+path, strings.NewReader(form))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// fixture is a file of the shared fixtures (shared/ beside the
// repository, else /work/shared).
func fixture(t testing.TB, rel string) string {
	t.Helper()
	var candidates []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				candidates = append(candidates, filepath.Join(filepath.Dir(d), "shared", "fixtures", rel))
				break
			}
		}
	}
	candidates = append(candidates, filepath.Join("/work/shared/fixtures", rel))
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("fixture %s not found in %v", rel, candidates)
	return ""
}
