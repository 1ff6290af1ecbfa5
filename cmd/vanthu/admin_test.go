package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
)

// adminEnvT is a database and data directory that `vanthu admin` runs
// against in process, as an operator would against serve's.
type adminEnvT struct {
	t       *testing.T
	dbURL   string
	dataDir string
	extra   []string // flags added to every command (--trust)
}

func newAdminEnv(t *testing.T) *adminEnvT {
	t.Helper()
	t.Setenv("VANTHU_DATABASE_URL", "")
	t.Setenv("VANTHU_TRUST", "")
	return &adminEnvT{t: t, dbURL: testharness.Postgres(t), dataDir: t.TempDir()}
}

// run runs `vanthu admin ARGS` with stdin and returns stdout, stderr and the
// error main would print (on one line) before exiting non-zero.
func (a *adminEnvT) run(stdin string, args ...string) (string, string, error) {
	cmd := newAdminCmd()
	cmd.SetArgs(append(append(args, "--database-url", a.dbURL, "--data-dir", a.dataDir), a.extra...))
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// ok runs a command that must succeed and returns its stdout.
func (a *adminEnvT) ok(args ...string) string {
	a.t.Helper()
	out, errOut, err := a.run("", args...)
	if err != nil {
		a.t.Fatalf("admin %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// okJSON runs a command with --json and decodes its output into v.
func (a *adminEnvT) okJSON(v any, args ...string) {
	a.t.Helper()
	out := a.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		a.t.Fatalf("admin %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (a *adminEnvT) service() (*accounts.Service, *storage.DB) {
	a.t.Helper()
	db, err := storage.Open(context.Background(), a.dbURL)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(db.Close)
	return &accounts.Service{DB: db}, db
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var cells = regexp.MustCompile(`\s{2,}`)

// tableRow finds the row of a table whose first cell is first and returns
// its first n cells (columns are two or more spaces apart), or n empty ones.
func tableRow(table, first string, n int) []string {
	for _, line := range strings.Split(table, "\n") {
		if row := cells.Split(strings.TrimSpace(line), -1); row[0] == first && len(row) >= n {
			return row[:n]
		}
	}
	return make([]string, n)
}

const (
	anPassword   = "mật khẩu của An 2026"
	binhPassword = "mật-khẩu-Bình-từ-stdin"
)

// TestAdminDirectory builds an office through the CLI: organisations,
// units, users with passwords from a file and from stdin, a token that
// authenticates, delegations; every change in the audit log under the
// operator's name.
func TestAdminDirectory(t *testing.T) {
	a := newAdminEnv(t)
	ctx := context.Background()
	a.ok("org", "create", "--code", "UBND", "--name", "Ủy ban nhân dân xã A")
	a.ok("org", "create", "--code", "UBNDH", "--name", "Ủy ban nhân dân huyện B")
	a.ok("org", "create", "--code", "VPHDND", "--name", "Văn phòng HĐND", "--parent", "UBNDH")
	if out := a.ok("org", "list"); !slices.Equal(tableRow(out, "VPHDND", 3), []string{"VPHDND", "Văn phòng HĐND", "UBNDH"}) {
		t.Fatalf("org list table:\n%s", out)
	}
	var orgs []storage.Organization
	a.okJSON(&orgs, "org", "list")
	if len(orgs) != 3 || orgs[0].Code != "UBND" || orgs[2].ParentID != orgs[1].ID {
		t.Fatalf("org list --json: %+v", orgs)
	}
	a.ok("unit", "create", "--org", "UBND", "--code", "VP", "--name", "Văn phòng")
	a.ok("unit", "create", "--org", "UBND", "--code", "TP", "--name", "Tư pháp")
	var units []storage.Unit
	a.okJSON(&units, "unit", "list", "--org", "UBND")
	if len(units) != 2 || units[0].Code != "TP" || units[1].Name != "Văn phòng" {
		t.Fatalf("unit list: %+v", units)
	}

	pwFile := writeFile(t, "pw", anPassword+"\n")
	a.ok("user", "create", "--org", "UBND", "--username", "an", "--full-name", "Nguyễn Văn An", "--title", "Chủ tịch",
		"--unit", "VP", "--role", "signer", "--password-file", pwFile)
	if _, errOut, err := a.run(binhPassword+"\n", "user", "create", "--org", "UBND", "--username", "binh", "--full-name", "Trần Thị Bình",
		"--title", "Phó Chủ tịch", "--unit", "VP", "--unit", "TP", "--role", "signer,reviewer", "--password-stdin"); err != nil {
		t.Fatalf("user create --password-stdin: %v\n%s", err, errOut)
	}
	a.ok("user", "create", "--org", "UBND", "--username", "chi", "--full-name", "Lê Thị Chi", "--role", "signer", "--role", "clerk")
	var users []storage.User
	a.okJSON(&users, "user", "list", "--org", "UBND")
	if len(users) != 3 || users[0].Username != "an" || !slices.Equal(users[1].Roles, []string{"reviewer", "signer"}) || len(users[1].UnitIDs) != 2 {
		t.Fatalf("user list: %+v", users)
	}
	if out := a.ok("user", "list"); !strings.Contains(out, "Trần Thị Bình") || !strings.Contains(out, "TP,VP") && !strings.Contains(out, "VP,TP") {
		t.Fatalf("user list table:\n%s", out)
	}

	svc, db := a.service()
	for _, c := range []struct{ user, password string }{{"an", anPassword}, {"binh", binhPassword}} {
		if _, p, err := svc.Login(ctx, c.user, c.password, "127.0.0.1"); err != nil || p.Username != c.user {
			t.Fatalf("%s logs in with the password given to the CLI: %v", c.user, err)
		}
	}

	// The token is the only thing on stdout, and it works.
	out, errOut, err := a.run("", "token", "create", "--user", "an", "--name", "ci", "--scope", "documents:read", "--expires", "720h")
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, errOut)
	}
	if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "vt_") {
		t.Fatalf("token create stdout is not the token alone: %q", out)
	}
	p, err := svc.AuthenticateToken(ctx, strings.TrimSpace(out))
	if err != nil || p.Username != "an" || !slices.Equal(p.Scopes, []string{"documents:read"}) {
		t.Fatalf("AuthenticateToken: %+v %v", p, err)
	}
	var tokens []storage.Token
	a.okJSON(&tokens, "token", "list", "--user", "an")
	if len(tokens) != 1 || tokens[0].ID != p.TokenID || tokens[0].ExpiresAt == nil ||
		tokens[0].ExpiresAt.Sub(time.Now().Add(720*time.Hour)).Abs() > time.Minute || !strings.Contains(errOut, p.TokenID) {
		t.Fatalf("token list: %+v (stderr %q)", tokens, errOut)
	}
	var issued struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	a.okJSON(&issued, "token", "create", "--user", "binh")
	if _, err := svc.AuthenticateToken(ctx, issued.Token); err != nil {
		t.Fatalf("token create --json: %v", err)
	}
	a.ok("token", "revoke", p.TokenID)
	if _, err := svc.AuthenticateToken(ctx, strings.TrimSpace(out)); !errors.Is(err, accounts.ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}

	// Delegations, with dates as days in Vietnam time (the last included)
	// or RFC 3339.
	var kt storage.Delegation
	a.okJSON(&kt, "delegation", "create", "--from", "an", "--to", "binh", "--form", "KT.", "--type", "QĐ", "--type", "CT",
		"--unit", "VP", "--from-date", "2026-01-01", "--to-date", "2099-12-31")
	vn := time.FixedZone("", 7*3600)
	if kt.Form != "KT" || !slices.Equal(kt.DocumentTypes, []string{"QĐ", "CT"}) || len(kt.UnitIDs) != 1 ||
		!kt.StartsAt.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, vn)) || !kt.EndsAt.Equal(time.Date(2100, 1, 1, 0, 0, 0, 0, vn)) {
		t.Fatalf("delegation: %+v", kt)
	}
	a.ok("delegation", "create", "--from", "an", "--to", "chi", "--form", "TL", "--from-date", "2026-03-01T08:00:00+07:00", "--to-date", "2099-06-30T17:00:00+07:00")
	if out := a.ok("delegation", "list", "--org", "UBND"); !slices.Equal(tableRow(out, kt.ID, 8)[1:], []string{"an", "binh", "KT.", "QĐ,CT", "VP", "2026-01-01 00:00", "2100-01-01 00:00"}) ||
		!strings.Contains(out, "2026-03-01 08:00") {
		t.Fatalf("delegation list table:\n%s", out)
	}
	var ds []storage.Delegation
	a.okJSON(&ds, "delegation", "list", "--org", "UBND", "--user", "binh")
	if len(ds) != 1 || ds[0].ID != kt.ID {
		t.Fatalf("delegation list --user binh: %+v", ds)
	}
	binh, err := storage.UserByUsername(ctx, db.Pool, "binh")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := svc.Authority(ctx, accounts.SigningUse{Signer: binh.User, Form: "KT.", DocumentType: "QĐ", UnitID: kt.UnitIDs[0], At: time.Now()}); err != nil || d.ID != kt.ID {
		t.Fatalf("binh signing KT. under the delegation: %v", err)
	}
	a.ok("delegation", "revoke", kt.ID)
	if _, err := svc.Authority(ctx, accounts.SigningUse{Signer: binh.User, Form: "KT.", DocumentType: "QĐ", UnitID: kt.UnitIDs[0], At: time.Now()}); !errors.Is(err, accounts.ErrDelegation) {
		t.Fatalf("binh signing KT. under the revoked delegation: %v", err)
	}
	// Disabling stops the account's tokens; enabling brings them back.
	a.ok("user", "disable", "binh")
	if _, err := svc.AuthenticateToken(ctx, issued.Token); !errors.Is(err, accounts.ErrUnauthenticated) {
		t.Fatalf("token of a disabled account: %v", err)
	}
	a.ok("user", "enable", "binh")
	if _, err := svc.AuthenticateToken(ctx, issued.Token); err != nil {
		t.Fatalf("token after enabling: %v", err)
	}

	entries, err := audit.Entries(ctx, db.Pool, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	changes := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "login.") {
			continue
		}
		changes++
		if e.ActorName != "operator:"+operatorName() {
			t.Errorf("audit %s by %q", e.Action, e.ActorName)
		}
	}
	// 3 organisations, 2 units, 3 users, 2 tokens, 1 token revocation, 2
	// delegations, 1 delegation revocation, 1 disabling, 1 enabling.
	if changes != 16 {
		t.Fatalf("%d audited changes, want 16", changes)
	}
}

// TestAdminRefusals: what the directory refuses exits non-zero with one
// clear line that never holds a password.
func TestAdminRefusals(t *testing.T) {
	a := newAdminEnv(t)
	a.ok("org", "create", "--code", "UBND", "--name", "Ủy ban nhân dân xã A")
	a.ok("unit", "create", "--org", "UBND", "--code", "VP", "--name", "Văn phòng")
	for _, u := range []string{"an", "binh", "chi"} {
		a.ok("user", "create", "--org", "UBND", "--username", u, "--full-name", "Người "+u, "--role", "signer")
	}
	a.ok("user", "create", "--org", "UBND", "--username", "dung", "--full-name", "Người dung", "--role", "drafter")
	var tuq storage.Delegation
	a.okJSON(&tuq, "delegation", "create", "--from", "an", "--to", "binh", "--form", "TUQ.", "--basis", "Giấy ủy quyền số 01/GUQ-UBND", "--to-date", "2099-12-31")
	var tl storage.Delegation
	a.okJSON(&tl, "delegation", "create", "--from", "an", "--to", "binh", "--form", "TL.", "--to-date", "2099-12-31")
	a.ok("delegation", "create", "--from", "binh", "--to", "chi", "--form", "TL.", "--parent", tl.ID, "--to-date", "2099-12-30")
	shortPw := writeFile(t, "short", "ngắn quá\n")

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
		code  int
	}{
		{"code with a space", "", []string{"org", "create", "--code", "UB ND", "--name", "x"}, "code must be", 1},
		{"code with a hyphen", "", []string{"unit", "create", "--org", "UBND", "--code", "V-P", "--name", "x"}, "without spaces, slashes or hyphens", 1},
		{"duplicate code", "", []string{"org", "create", "--code", "UBND", "--name", "x"}, "code UBND is taken", 1},
		{"unknown parent", "", []string{"org", "create", "--code", "X", "--name", "x", "--parent", "KHONG"}, `no organisation has the code "KHONG"`, 1},
		{"unknown organisation", "", []string{"unit", "list", "--org", "KHONG"}, `no organisation has the code "KHONG"`, 1},
		{"unknown role", "", []string{"user", "create", "--org", "UBND", "--username", "em", "--full-name", "E", "--role", "boss"}, `unknown role "boss"`, 1},
		{"unknown unit", "", []string{"user", "create", "--org", "UBND", "--username", "em", "--full-name", "E", "--unit", "KT"}, `no unit with the code "KT"`, 1},
		{"short password", "", []string{"user", "create", "--org", "UBND", "--username", "em", "--full-name", "E", "--password-file", shortPw}, "at least 10 characters", 1},
		{"password on the command line", "", []string{"user", "create", "--org", "UBND", "--username", "em", "--full-name", "E", "--password=hunter2-hunter2"}, "unknown flag: --password", 2},
		{"empty stdin", "", []string{"user", "create", "--org", "UBND", "--username", "em", "--full-name", "E", "--password-stdin"}, "stdin held no password", 1},
		{"unknown scope", "", []string{"token", "create", "--user", "an", "--scope", "everything"}, `unknown scope "everything"`, 1},
		{"unknown user", "", []string{"token", "create", "--user", "khong"}, `no user is named "khong"`, 1},
		{"unknown token", "", []string{"token", "revoke", "0b9a3c2e-0000-4000-8000-000000000000"}, "no token has the id", 1},
		{"TUQ. passed on", "", []string{"delegation", "create", "--from", "binh", "--to", "chi", "--form", "TUQ.", "--basis", "x", "--parent", tuq.ID, "--to-date", "2099-01-01"}, "TUQ. delegation may not be passed on", 1},
		{"TL. passed on twice", "", []string{"delegation", "create", "--from", "binh", "--to", "an", "--form", "TL.", "--parent", tl.ID, "--to-date", "2099-01-01"}, "already been passed on", 1},
		{"TUQ. without basis", "", []string{"delegation", "create", "--from", "an", "--to", "chi", "--form", "TUQ.", "--to-date", "2099-01-01"}, "written authorisation", 1},
		{"unknown form", "", []string{"delegation", "create", "--from", "an", "--to", "chi", "--form", "PCT.", "--to-date", "2099-01-01"}, "unknown authority form", 1},
		{"delegate not a signer", "", []string{"delegation", "create", "--from", "an", "--to", "dung", "--form", "KT.", "--to-date", "2099-01-01"}, "does not hold the signer role", 1},
		{"period over", "", []string{"delegation", "create", "--from", "an", "--to", "chi", "--form", "KT.", "--from-date", "2020-01-01", "--to-date", "2020-12-31"}, "already ended", 1},
		{"unknown document type", "", []string{"delegation", "create", "--from", "an", "--to", "chi", "--form", "KT.", "--type", "XYZ", "--to-date", "2099-01-01"}, `unknown document type "XYZ"`, 1},
		{"bad date", "", []string{"delegation", "create", "--from", "an", "--to", "chi", "--form", "KT.", "--to-date", "31/12/2099"}, "neither 2006-01-02 nor RFC 3339", 2},
		{"no end date", "", []string{"delegation", "create", "--from", "an", "--to", "chi", "--form", "KT."}, "--to-date is required", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := a.run(tc.stdin, tc.args...)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := oneLine(err)
			t.Logf("exit %d: %s", exitCode(err), msg)
			if !strings.Contains(msg, tc.want) || exitCode(err) != tc.code || strings.Contains(msg, "hunter2") || strings.Contains(msg, "ngắn quá") {
				t.Fatalf("exit %d %q, want exit %d and %q", exitCode(err), msg, tc.code, tc.want)
			}
		})
	}
}

// TestAdminBinaryWithServe runs the real binary against a data directory:
// on its own it starts and stops the embedded database; while serve runs
// it uses serve's database, and what it creates works against serve at
// once. A refusal is one line on stderr and exit status 1.
func TestAdminBinaryWithServe(t *testing.T) {
	dataDir := t.TempDir()
	env := append(os.Environ(), "VANTHU_DATABASE_URL=", "VANTHU_TRUST=", "VANTHU_LOG_LEVEL=")
	admin := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(binary(t), append(append([]string{"admin"}, args...), "--data-dir", dataDir)...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return out.String(), errb.String(), cmd.ProcessState.ExitCode()
	}
	if out, errOut, code := admin("", "org", "create", "--code", "UBND", "--name", "Ủy ban nhân dân xã A"); code != 0 || !strings.Contains(out, "UBND") {
		t.Fatalf("org create on the embedded database: exit %d\n%s%s", code, out, errOut)
	}

	s := startService(t, dataDir, "VANTHU_DATABASE_URL=", "VANTHU_TRUST=")
	// Its debug log says which database it used: serve's, not its own
	// started once serve's let go (a step, not a time, is asserted).
	env = append(env, "VANTHU_LOG_LEVEL=debug")
	if out, errOut, code := admin(anPassword+"\n", "user", "create", "--org", "UBND", "--username", "an", "--full-name", "Nguyễn Văn An",
		"--role", "signer", "--password-stdin"); code != 0 {
		t.Fatalf("user create while serve runs: exit %d\n%s%s", code, out, errOut)
	} else if !strings.Contains(errOut, "using the running service's database") {
		t.Fatalf("user create did not use serve's database:\n%s", errOut)
	}
	env = env[:len(env)-1]
	token, errOut, code := admin("", "token", "create", "--user", "an", "--scope", "directory:read")
	if code != 0 {
		t.Fatalf("token create: exit %d\n%s", code, errOut)
	}
	var list struct{ Organizations []storage.Organization }
	apiJSON(t, "GET", s.url+"/api/v1/organizations", strings.TrimSpace(token), nil, &list, 200)
	if len(list.Organizations) != 1 || list.Organizations[0].Code != "UBND" {
		t.Fatalf("organisations seen with the token: %+v", list)
	}
	out, errOut, code := admin("", "org", "create", "--code", "U/B", "--name", "x")
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "vanthu: admin org create: code must be") {
		t.Fatalf("refusal: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	s.stop(t)
}
