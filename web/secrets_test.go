package web_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
)

// lockedBuffer collects log output written from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func secret(name string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return name + "-" + hex.EncodeToString(b)
}

// TestSecretsNeverLeak drives logins (failed, locked out, successful),
// token issue and use, PKCS#12 binding with its password, PKCS#11 binding
// with the service's PIN and URIs that try to carry one, then looks for
// every password, token, PIN and key in the logs at debug level, in every
// problem answered, in every other answer but the one that hands a token
// out, and in every row of every table.
func TestSecretsNeverLeak(t *testing.T) {
	var logs lockedBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	e := newEnv(t, 1<<20)
	ctx := context.Background()
	pki := testharness.DevPKI(t)
	e.accounts.Anchors = []*x509.Certificate{pki.Root()}
	vp := e.office.units["VP"].ID
	admin := e.member(e.office.org.ID, "quantri", []string{storage.RoleAdmin}, vp)
	signer := e.member(e.office.org.ID, "nguoiky", []string{storage.RoleSigner}, vp)

	secrets := map[string]string{
		"admin token":         admin.token,
		"signer token":        signer.token,
		"user password":       secret("MatKhau"),
		"wrong password":      secret("SaiMatKhau"),
		"password as name":    strings.ToLower(secret("matkhaugonhamvaoten")),
		"lockout password":    secret("KhoaTaiKhoan"),
		"wrong PKCS12 pass":   secret("SaiMatKhauP12"),
		"PKCS12 password":     string(pki.Password()),
		"PIN in URI":          secret("1234"),
		"session cookie":      "", // filled in below
		"issued token":        "",
		"PKCS#11 service PIN": "",
	}
	var problems, answers []string
	call := func(token, method, path string, body any, keepAnswer bool) (*http.Response, []byte) {
		t.Helper()
		var r *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		} else {
			r = bytes.NewReader(nil)
		}
		resp, out := send(t, e.url, token, method, path, r, "application/json")
		if resp.Header.Get("Content-Type") == "application/problem+json" {
			problems = append(problems, string(out))
		} else if keepAnswer {
			answers = append(answers, string(out))
		}
		for _, c := range resp.Cookies() {
			answers = append(answers, c.String())
		}
		return resp, out
	}
	expect := func(what string, resp *http.Response, out []byte, want int) {
		t.Helper()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d %s, want %d", what, resp.StatusCode, out, want)
		}
	}

	// An account made with a password, and logins.
	resp, out := call(admin.token, "POST", "/api/v1/users", map[string]any{"username": "nhanvien", "full_name": "Nhân viên",
		"roles": []string{storage.RoleDrafter}, "unit_ids": []string{vp}, "password": secrets["user password"]}, true)
	expect("create user", resp, out, http.StatusCreated)
	user := decode[storage.User](t, out)
	for _, try := range []struct{ user, password string }{
		{"nhanvien", secrets["wrong password"]},
		{secrets["password as name"], secrets["user password"]},
	} {
		resp, out = call("", "POST", "/api/v1/session", map[string]string{"username": try.user, "password": try.password}, true)
		expect("failed login", resp, out, http.StatusUnauthorized)
	}
	for i := 0; i < accounts.MaxLoginFailures; i++ {
		call("", "POST", "/api/v1/session", map[string]string{"username": "nguoiky", "password": secrets["lockout password"]}, true)
	}
	resp, out = call("", "POST", "/api/v1/session", map[string]string{"username": "nguoiky", "password": secrets["lockout password"]}, true)
	expect("locked out", resp, out, http.StatusTooManyRequests)
	resp, out = call("", "POST", "/api/v1/session", map[string]string{"username": "NhanVien", "password": secrets["user password"]}, true)
	expect("login", resp, out, http.StatusOK)
	for _, c := range resp.Cookies() {
		secrets["session cookie"] = c.Value
	}
	answers = answers[:len(answers)-1] // the Set-Cookie that carries the session is meant to

	// A token issued, used, revoked, and refused.
	resp, out = call(admin.token, "POST", "/api/v1/users/"+user.ID+"/tokens", map[string]any{"name": "máy quét"}, false)
	expect("issue token", resp, out, http.StatusCreated)
	issued := decode[struct {
		Token string
		ID    string
	}](t, out)
	secrets["issued token"] = issued.Token
	resp, out = call(issued.Token, "GET", "/api/v1/documents", nil, true)
	expect("use token", resp, out, http.StatusOK)
	resp, out = call(admin.token, "DELETE", "/api/v1/tokens/"+issued.ID, nil, true)
	expect("revoke token", resp, out, http.StatusNoContent)
	resp, out = call(issued.Token, "GET", "/api/v1/documents", nil, true)
	expect("revoked token", resp, out, http.StatusUnauthorized)

	// PKCS#12: refused with the wrong password, kept sealed with the right one.
	p12, err := os.ReadFile(pki.P12Path(devpki.Official))
	if err != nil {
		t.Fatal(err)
	}
	resp, out = call(signer.token, "POST", "/api/v1/users/"+signer.user.ID+"/keys", map[string]any{"kind": "pkcs12", "pkcs12": p12, "password": secrets["wrong PKCS12 pass"]}, true)
	expect("PKCS#12 with the wrong password", resp, out, http.StatusUnprocessableEntity)
	resp, out = call(signer.token, "POST", "/api/v1/users/"+signer.user.ID+"/keys", map[string]any{"kind": "pkcs12", "pkcs12": p12, "password": secrets["PKCS12 password"]}, true)
	expect("PKCS#12", resp, out, http.StatusCreated)
	official, err := pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	privateDER, err := x509.MarshalPKCS8PrivateKey(official.(interface{ PrivateKey() crypto.PrivateKey }).PrivateKey())
	if err != nil {
		t.Fatal(err)
	}

	// PKCS#11: the seal on SoftHSM2 with the PIN from the service's
	// configuration; URIs that carry a PIN are refused without repeating it.
	tok := testharness.SoftHSM(t)
	secrets["PKCS#11 service PIN"] = tok.PIN
	e.accounts.PIN = keys.PasswordFromFile(tok.PINFile)
	e.accounts.PKCS11Modules = []string{tok.ModulePath}
	seal, err := pki.Key(devpki.Seal)
	if err != nil {
		t.Fatal(err)
	}
	uri, _, _ := strings.Cut(testharness.ImportKey(t, tok, seal, seal.Chain()[:1], "seal", []byte{7}), "&pin-source=")
	var ca strings.Builder
	for _, c := range seal.Chain()[1:] {
		pem.Encode(&ca, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	for _, u := range []string{uri + "&pin-value=" + secrets["PIN in URI"], uri + "&pin-value=" + tok.PIN,
		"pkcs11:token=x;object=y;pin-value=" + secrets["PIN in URI"]} {
		resp, out = call(admin.token, "POST", "/api/v1/organizations/"+e.office.org.ID+"/seal-key", map[string]string{"kind": "pkcs11", "uri": u, "certificates": ca.String()}, true)
		expect("URI with a PIN", resp, out, http.StatusUnprocessableEntity)
	}
	resp, out = call(admin.token, "POST", "/api/v1/organizations/"+e.office.org.ID+"/seal-key", map[string]string{"kind": "pkcs11", "uri": uri, "certificates": ca.String()}, true)
	expect("PKCS#11 seal", resp, out, http.StatusCreated)

	// Everything the service wrote down.
	var dump strings.Builder
	rows, err := e.db.Pool.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		rows, err := e.db.Pool.Query(ctx, "SELECT t::text FROM "+table+" t")
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		for rows.Next() {
			var row string
			rows.Scan(&row)
			fmt.Fprintf(&dump, "%s %s\n", table, row)
		}
		rows.Close()
	}

	// The search is only as good as what it searched.
	for what, s := range map[string]string{"logs": logs.String(), "table dump": dump.String()} {
		if !strings.Contains(s, "nhanvien") && !strings.Contains(s, "/api/v1/session") {
			t.Fatalf("the %s hold nothing of the requests above:\n%s", what, s)
		}
	}
	if len(problems) < 10 || !strings.Contains(dump.String(), "audit_log") || !strings.Contains(dump.String(), "key_bindings") {
		t.Fatalf("%d problems; tables %v", len(problems), tables)
	}
	places := map[string]string{
		"logs":            logs.String(),
		"problem answers": strings.Join(problems, "\n"),
		"other answers":   strings.Join(answers, "\n"),
		"tables":          dump.String(),
	}
	secrets["PKCS#8 private key"] = string(privateDER)
	for name, s := range secrets {
		if s == "" {
			t.Fatalf("secret %q was never set", name)
		}
		forms := []string{s, hex.EncodeToString([]byte(s))}
		for place, text := range places {
			for _, f := range forms {
				if strings.Contains(strings.ToLower(text), strings.ToLower(f)) {
					t.Errorf("the %s appear in the %s", name, place)
				}
			}
		}
	}
	t.Logf("searched %d KB of logs, %d problems, %d other answers and %d KB of %d tables for %d secrets",
		len(places["logs"])>>10, len(problems), len(answers), dump.Len()>>10, len(tables), len(secrets))
}
