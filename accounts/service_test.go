package accounts_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
)

func TestMain(m *testing.M) { testharness.Main(m) }

const password = "mật-khẩu-thử-nghiệm-1"

// office is an organisation with one user per role, through the service.
type office struct {
	svc   *accounts.Service
	db    *storage.DB
	pki   *devpki.PKI
	org   storage.Organization
	unit  storage.Unit
	users map[string]accounts.Principal // by role
}

func newOffice(t *testing.T) *office {
	t.Helper()
	ctx := context.Background()
	url := testharness.Postgres(t)
	if err := storage.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	pki := testharness.DevPKI(t)
	ks, err := accounts.OpenKeystore(filepath.Join(t.TempDir(), "keystore-key"))
	if err != nil {
		t.Fatal(err)
	}
	o := &office{db: db, pki: pki, users: map[string]accounts.Principal{},
		svc: &accounts.Service{DB: db, Anchors: []*x509.Certificate{pki.Root()}, Keystore: ks}}
	op := accounts.Operator("test")
	// Named as the dev PKI's seal certificate names its organisation, since
	// a seal certificate must name the organisation it is bound to.
	if o.org, err = o.svc.CreateOrganization(ctx, op, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân tỉnh Mẫu"}); err != nil {
		t.Fatal(err)
	}
	if o.unit, err = o.svc.CreateUnit(ctx, op, storage.Unit{OrganizationID: o.org.ID, Code: "VP", Name: "Văn phòng"}); err != nil {
		t.Fatal(err)
	}
	for _, role := range storage.AllRoles {
		u, err := o.svc.CreateUser(ctx, op, accounts.NewUser{Username: role + "1", FullName: "Người " + role, OrganizationID: o.org.ID,
			UnitIDs: []string{o.unit.ID}, Roles: []string{role}, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		o.users[role] = accounts.Principal{User: u}
	}
	return o
}

func auditActions(t *testing.T, db *storage.DB) []string {
	t.Helper()
	entries, err := audit.Entries(context.Background(), db.Pool, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

func count(list []string, s string) (n int) {
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func TestLoginThrottlingAndSessions(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	var locked *accounts.LockedError
	for i := 1; i <= accounts.MaxLoginFailures; i++ {
		_, _, err := o.svc.Login(ctx, "drafter1", "sai mật khẩu rồi", "10.0.0.1")
		switch {
		case i < accounts.MaxLoginFailures && !errors.Is(err, accounts.ErrBadCredentials):
			t.Fatalf("failure %d: %v", i, err)
		case i == accounts.MaxLoginFailures && !errors.As(err, &locked):
			t.Fatalf("failure %d did not lock: %v", i, err)
		}
	}
	// Locked: even the right password is refused until the lockout ends.
	if _, _, err := o.svc.Login(ctx, "drafter1", password, "10.0.0.2"); !errors.As(err, &locked) || locked.Until.Before(time.Now().Add(accounts.LoginLockout-time.Minute)) {
		t.Fatalf("right password while locked: %v", err)
	}
	// An unknown user gets the same answer as a wrong password.
	if _, _, err := o.svc.Login(ctx, "khong-co", password, "10.0.0.3"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	secret, p, err := o.svc.Login(ctx, "signer1", password, "10.0.0.3")
	if err != nil || p.Username != "signer1" {
		t.Fatalf("login: %v", err)
	}
	if got, err := o.svc.AuthenticateSession(ctx, secret); err != nil || got.ID != p.ID {
		t.Fatalf("session: %+v %v", got, err)
	}
	if err := o.svc.Logout(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := o.svc.AuthenticateSession(ctx, secret); !errors.Is(err, accounts.ErrUnauthenticated) {
		t.Fatalf("session after logout: %v", err)
	}
	acts := auditActions(t, o.db)
	if count(acts, "login.failure") != accounts.MaxLoginFailures+1 || count(acts, "login.success") != 1 || count(acts, "logout") != 1 {
		t.Fatalf("audit: %v", acts)
	}
}

func TestTokens(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	drafter, signer, admin := o.users[storage.RoleDrafter], o.users[storage.RoleSigner], o.users[storage.RoleAdmin]
	secret, rec, err := o.svc.IssueToken(ctx, drafter, drafter.ID, "máy quét", []string{accounts.ScopeDocumentsRead}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.svc.AuthenticateToken(ctx, secret)
	if err != nil || p.ID != drafter.ID || len(p.Scopes) != 1 || p.Scopes[0] != accounts.ScopeDocumentsRead {
		t.Fatalf("token principal %+v %v", p, err)
	}
	// A read-only token cannot mint a broader one.
	if _, _, err := o.svc.IssueToken(ctx, p, drafter.ID, "x", []string{"*"}, nil); !errors.Is(err, accounts.ErrForbidden) && err == nil {
		t.Fatalf("broader token from a read-only one: %v", err)
	}
	if _, _, err := o.svc.IssueToken(ctx, drafter, signer.ID, "x", nil, nil); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("drafter issuing for the signer: %v", err)
	}
	if _, _, err := o.svc.IssueToken(ctx, admin, signer.ID, "x", []string{"everything"}, nil); err == nil {
		t.Fatal("unknown scope accepted")
	}
	past := time.Now().Add(-time.Hour)
	if _, _, err := o.svc.IssueToken(ctx, admin, signer.ID, "x", nil, &past); err == nil {
		t.Fatal("token expiring in the past accepted")
	}
	if err := o.svc.RevokeToken(ctx, admin, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := o.svc.AuthenticateToken(ctx, secret); !errors.Is(err, accounts.ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}
	// Another organisation's administrator does not even see the user.
	other, err := o.svc.CreateOrganization(ctx, accounts.Operator("test"), storage.Organization{Code: "SYT", Name: "Sở Y tế"})
	if err != nil {
		t.Fatal(err)
	}
	otherAdmin, err := o.svc.CreateUser(ctx, accounts.Operator("test"), accounts.NewUser{Username: "admin-syt", FullName: "Quản trị Sở", OrganizationID: other.ID, Roles: []string{storage.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.svc.IssueToken(ctx, accounts.Principal{User: otherAdmin}, signer.ID, "x", nil, nil); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("other organisation's admin: %v", err)
	}
}

func TestDelegationsThroughTheService(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	op := accounts.Operator("test")
	head := o.users[storage.RoleSigner]
	deputy, err := o.svc.CreateUser(ctx, op, accounts.NewUser{Username: "phochutich", FullName: "Trần Phó Chủ Tịch", OrganizationID: o.org.ID, Roles: []string{storage.RoleSigner}})
	if err != nil {
		t.Fatal(err)
	}
	chief, err := o.svc.CreateUser(ctx, op, accounts.NewUser{Username: "chanhvp", FullName: "Lê Chánh Văn Phòng", OrganizationID: o.org.ID, Roles: []string{storage.RoleSigner}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	kt, err := o.svc.CreateDelegation(ctx, head, storage.Delegation{FromUser: head.ID, ToUser: deputy.ID, Form: "KT.", StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := o.svc.Authority(ctx, accounts.SigningUse{Signer: deputy, Form: "KT.", DocumentType: "QĐ", At: now}); err != nil || d.ID != kt.ID {
		t.Fatalf("KT. authority: %v %v", d, err)
	}
	tuq, err := o.svc.CreateDelegation(ctx, op, storage.Delegation{FromUser: head.ID, ToUser: chief.ID, Form: "TUQ", Basis: "Giấy ủy quyền số 01/GUQ-UBND",
		DocumentTypes: []string{"CV"}, StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(0, 0, 7)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		p    accounts.Principal
		d    storage.Delegation
		want error
	}{
		{"TUQ. passed on", op, storage.Delegation{FromUser: chief.ID, ToUser: deputy.ID, Form: "TUQ", Basis: "x", ParentID: tuq.ID, StartsAt: now, EndsAt: now.AddDate(0, 0, 1)}, accounts.ErrDelegation},
		{"already expired", op, storage.Delegation{FromUser: head.ID, ToUser: chief.ID, Form: "Q", StartsAt: now.AddDate(0, -1, 0), EndsAt: now.AddDate(0, 0, -1)}, accounts.ErrDelegation},
		{"drafter delegating for the head", o.users[storage.RoleDrafter], storage.Delegation{FromUser: head.ID, ToUser: chief.ID, Form: "KT", StartsAt: now, EndsAt: now.AddDate(0, 0, 1)}, accounts.ErrForbidden},
	} {
		if _, err := o.svc.CreateDelegation(ctx, tc.p, tc.d); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := o.svc.Authority(ctx, accounts.SigningUse{Signer: chief, Form: "TUQ.", DocumentType: "QĐ", At: now}); !errors.Is(err, accounts.ErrDelegation) || !strings.Contains(err.Error(), "outside its scope") {
		t.Fatalf("TUQ. out of scope: %v", err)
	}
	if n := count(auditActions(t, o.db), "delegation.create"); n != 2 {
		t.Fatalf("%d delegation.create entries", n)
	}
}

func TestKeyBindings(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	admin, signer, clerk, drafter := o.users[storage.RoleAdmin], o.users[storage.RoleSigner], o.users[storage.RoleClerk], o.users[storage.RoleDrafter]
	p12 := func(name string) []byte {
		b, err := os.ReadFile(o.pki.P12Path(name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b, err := o.svc.BindKey(ctx, admin, signer.ID, "", accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: p12(devpki.Official), Password: o.pki.Password()})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.SealedKey) == 0 || b.Subject == "" {
		t.Fatalf("binding %+v", b)
	}
	k, err := accounts.SigningKey(ctx, signer, b, nil, o.svc.Keystore, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("văn bản"))
	if _, err := k.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
		t.Fatalf("sign with the kept key: %v", err)
	}
	if _, err := accounts.SigningKey(ctx, drafter, b, nil, o.svc.Keystore, time.Now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("someone else's key: %v", err)
	}

	for _, tc := range []struct {
		name string
		m    accounts.KeyMaterial
		want string
	}{
		{"wrong password", accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: p12(devpki.Official), Password: []byte("nhầm mật khẩu")}, "wrong password"},
		{"expired certificate", accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: p12(devpki.Expired), Password: o.pki.Password()}, "expired"},
		{"external without certificate", accounts.KeyMaterial{Kind: storage.KeyExternal}, "none was given"},
		{"pin in the URI", accounts.KeyMaterial{Kind: storage.KeyPKCS11, URI: "pkcs11:token=t;object=k?pin-value=1234"}, "carries a PIN"},
		{"unknown kind", accounts.KeyMaterial{Kind: "usb"}, "unknown key kind"},
	} {
		_, err := o.svc.BindKey(ctx, signer, signer.ID, "", tc.m)
		if !errors.Is(err, accounts.ErrKeyRefused) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "nhầm") || strings.Contains(err.Error(), "1234") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	// A certificate from outside the trusted hierarchy is refused, and an
	// external key is bound by its certificate alone.
	chain, _ := o.pki.Chain(devpki.Official)
	stranger := *o.svc
	stranger.Anchors = []*x509.Certificate{selfSigned(t)}
	if _, err := stranger.BindKey(ctx, signer, signer.ID, "", accounts.KeyMaterial{Kind: storage.KeyExternal, Certificates: chain}); !errors.Is(err, accounts.ErrKeyRefused) || !strings.Contains(err.Error(), "trusted anchor") {
		t.Errorf("certificate from another hierarchy: %v", err)
	}
	if _, err := o.svc.BindKey(ctx, signer, signer.ID, "", accounts.KeyMaterial{Kind: storage.KeyExternal, Certificates: chain}); err != nil {
		t.Errorf("external key: %v", err)
	}

	// The seal key on SoftHSM2: bound by the administrator, used by clerks only.
	tok := testharness.SoftHSM(t)
	sealKey, _ := o.pki.Key(devpki.Seal)
	withPINFile := testharness.ImportKey(t, tok, sealKey, sealKey.Chain(), "seal", []byte{1})
	// The service holds the PIN and names the modules it loads; the URI
	// it is handed says neither.
	o.svc.PIN = keys.PasswordFromFile(tok.PINFile)
	o.svc.PKCS11Modules = []string{tok.ModulePath}
	uri, _, _ := strings.Cut(withPINFile, "&pin-source=")
	for _, tc := range []struct{ name, uri, want string }{
		{"pin-source", withPINFile, "carries a PIN"},
		{"unconfigured module", strings.Replace(uri, tok.ModulePath, "/tmp/evil.so", 1), "not a PKCS#11 module the service is configured with"},
		{"chain file", uri + "&x-chain-file=/etc/passwd", "x-chain-file"},
	} {
		if _, err := o.svc.BindKey(ctx, admin, "", o.org.ID, accounts.KeyMaterial{Kind: storage.KeyPKCS11, URI: tc.uri}); !errors.Is(err, accounts.ErrKeyRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := o.svc.BindKey(ctx, signer, "", o.org.ID, accounts.KeyMaterial{Kind: storage.KeyPKCS11, URI: uri}); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("signer binding the seal: %v", err)
	}
	seal, err := o.svc.BindKey(ctx, admin, "", o.org.ID, accounts.KeyMaterial{Kind: storage.KeyPKCS11, URI: uri, Certificates: sealKey.Chain()[1:]})
	if err != nil {
		t.Fatal(err)
	}
	if k, err := accounts.SigningKey(ctx, clerk, seal, o.svc.PIN, nil, time.Now()); err != nil {
		t.Fatalf("clerk applying the seal: %v", err)
	} else {
		keys.Close(k)
	}
	if _, err := accounts.SigningKey(ctx, signer, seal, o.svc.PIN, nil, time.Now()); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("signer applying the seal: %v", err)
	}
	if n := count(auditActions(t, o.db), "key.bind"); n != 3 {
		t.Fatalf("%d key.bind entries", n)
	}
}

func selfSigned(t *testing.T) *x509.Certificate {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Another Root CA"}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestServiceDefaultsAndInputChecks(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	signer, admin := o.users[storage.RoleSigner], o.users[storage.RoleAdmin]
	deputy, err := o.svc.CreateUser(ctx, admin, accounts.NewUser{Username: "PhoChuTich", FullName: "Phó Chủ tịch", OrganizationID: o.org.ID,
		Roles: []string{storage.RoleSigner}, Password: password})
	if err != nil || deputy.Username != "phochutich" {
		t.Fatalf("create user: %+v %v", deputy, err)
	}
	// Usernames are matched without regard to case.
	if _, p, err := o.svc.Login(ctx, "PHOCHUTICH", password, "10.0.0.9"); err != nil || p.ID != deputy.ID {
		t.Fatalf("login in capitals: %v", err)
	}
	// A signer delegating their own authority need not name themselves,
	// and the period starts now unless said otherwise.
	d, err := o.svc.CreateDelegation(ctx, signer, storage.Delegation{ToUser: deputy.ID, Form: "KT", EndsAt: time.Now().AddDate(0, 1, 0)})
	if err != nil || d.FromUser != signer.ID || time.Since(d.StartsAt) > time.Minute {
		t.Fatalf("delegation with defaults: %+v %v", d, err)
	}
	var in *accounts.InputError
	for _, tc := range []struct {
		name string
		d    storage.Delegation
	}{
		{"no end", storage.Delegation{ToUser: deputy.ID, Form: "KT"}},
		{"unknown document type", storage.Delegation{ToUser: deputy.ID, Form: "KT", DocumentTypes: []string{"XYZ"}, EndsAt: time.Now().AddDate(0, 0, 1)}},
		{"malformed unit", storage.Delegation{ToUser: deputy.ID, Form: "KT", UnitIDs: []string{"not-a-unit"}, EndsAt: time.Now().AddDate(0, 0, 1)}},
	} {
		if _, err := o.svc.CreateDelegation(ctx, signer, tc.d); !errors.As(err, &in) {
			t.Errorf("%s: %v, want an input error", tc.name, err)
		}
	}
	// The seal key of an organisation that does not exist is not found,
	// whoever asks.
	if _, err := o.svc.BindKey(ctx, accounts.Operator("test"), "", "00000000-0000-0000-0000-000000000000", accounts.KeyMaterial{Kind: storage.KeyExternal}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("seal of no organisation: %v", err)
	}
	// A failed login as an unknown user keeps nothing of what was typed.
	const typed = "mat-khau-go-nham-o-ten"
	if _, _, err := o.svc.Login(ctx, typed, "x", "10.0.0.9"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatal(err)
	}
	var found bool
	for _, table := range []string{"audit_log", "login_throttle"} {
		if err := o.db.Pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+table+" t WHERE t::text LIKE '%' || $1 || '%')", typed).Scan(&found); err != nil || found {
			t.Errorf("%s keeps the typed username (%v)", table, err)
		}
	}
}

func TestTakenCodesAreInputErrors(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	op := accounts.Operator("test")
	var in *accounts.InputError
	if _, err := o.svc.CreateOrganization(ctx, op, storage.Organization{Code: "UBND", Name: "Trùng mã"}); !errors.As(err, &in) || !strings.Contains(in.Msg, "UBND") {
		t.Errorf("organisation code taken: %v", err)
	}
	if _, err := o.svc.CreateUnit(ctx, op, storage.Unit{OrganizationID: o.org.ID, Code: "VP", Name: "Trùng mã"}); !errors.As(err, &in) || !strings.Contains(in.Msg, "VP") {
		t.Errorf("unit code taken: %v", err)
	}
	if _, err := o.svc.CreateUser(ctx, op, accounts.NewUser{Username: "drafter1", FullName: "Trùng tên", OrganizationID: o.org.ID}); !errors.As(err, &in) {
		t.Errorf("username taken: %v", err)
	}
}

// TestRevokingAndDisabling: a delegation, a key and an account each end
// when revoked or disabled, by whom the rules allow and nobody else, with
// an audit entry each.
func TestRevokingAndDisabling(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	op := accounts.Operator("test")
	admin, head, drafter := o.users[storage.RoleAdmin], o.users[storage.RoleSigner], o.users[storage.RoleDrafter]
	deputy, err := o.svc.CreateUser(ctx, op, accounts.NewUser{Username: "phochutich", FullName: "Trần Phó Chủ Tịch", OrganizationID: o.org.ID,
		Roles: []string{storage.RoleSigner}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	t.Run("delegation, with the one passed on from it", func(t *testing.T) {
		tl, err := o.svc.CreateDelegation(ctx, head, storage.Delegation{FromUser: head.ID, ToUser: deputy.ID, Form: "TL.", StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(0, 1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		passed, err := o.svc.CreateDelegation(ctx, op, storage.Delegation{FromUser: deputy.ID, ToUser: head.ID, Form: "TL.", ParentID: tl.ID, StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(0, 0, 7)})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.svc.RevokeDelegation(ctx, drafter, tl.ID); !errors.Is(err, accounts.ErrForbidden) {
			t.Fatalf("a drafter revoking the head's delegation: %v", err)
		}
		if err := o.svc.RevokeDelegation(ctx, head, tl.ID); err != nil {
			t.Fatalf("the delegating signer revoking: %v", err)
		}
		for _, id := range []string{tl.ID, passed.ID} {
			if d, err := storage.GetDelegation(ctx, o.db.Pool, id); err != nil || d.RevokedAt == nil {
				t.Fatalf("delegation %s after revoking: %+v %v", id, d, err)
			}
		}
		if _, err := o.svc.Authority(ctx, accounts.SigningUse{Signer: deputy, Form: "TL.", DocumentType: "QĐ", At: time.Now()}); !errors.Is(err, accounts.ErrDelegation) {
			t.Fatalf("signing under a revoked delegation: %v", err)
		}
		if err := o.svc.RevokeDelegation(ctx, admin, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("unknown delegation: %v", err)
		}
	})

	t.Run("key", func(t *testing.T) {
		chain, err := o.pki.Chain(devpki.Official)
		if err != nil {
			t.Fatal(err)
		}
		b, err := o.svc.BindKey(ctx, admin, head.ID, "", accounts.KeyMaterial{Kind: storage.KeyExternal, Certificates: chain})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.svc.RevokeKey(ctx, drafter, b.ID); !errors.Is(err, accounts.ErrForbidden) {
			t.Fatalf("a drafter revoking the head's key: %v", err)
		}
		if err := o.svc.RevokeKey(ctx, head, b.ID); err != nil {
			t.Fatalf("the holder revoking: %v", err)
		}
		b, err = storage.GetKeyBinding(ctx, o.db.Pool, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := accounts.SigningKey(ctx, head, b, nil, o.svc.Keystore, time.Now()); !errors.Is(err, accounts.ErrForbidden) || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("signing with a revoked key: %v", err)
		}
	})

	t.Run("account", func(t *testing.T) {
		secret, _, err := o.svc.IssueToken(ctx, op, deputy.ID, "máy trạm", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		session, _, err := o.svc.Login(ctx, "phochutich", password, "10.0.0.9")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.svc.SetDisabled(ctx, drafter, deputy.ID, true); !errors.Is(err, accounts.ErrForbidden) {
			t.Fatalf("a drafter disabling: %v", err)
		}
		if _, err := o.svc.SetDisabled(ctx, admin, admin.ID, true); !errors.Is(err, accounts.ErrForbidden) {
			t.Fatalf("an administrator disabling themselves: %v", err)
		}
		u, err := o.svc.SetDisabled(ctx, admin, deputy.ID, true)
		if err != nil || u.DisabledAt == nil {
			t.Fatalf("disable: %+v %v", u, err)
		}
		if _, err := o.svc.AuthenticateToken(ctx, secret); !errors.Is(err, accounts.ErrUnauthenticated) {
			t.Fatalf("token of a disabled account: %v", err)
		}
		if _, err := o.svc.AuthenticateSession(ctx, session); !errors.Is(err, accounts.ErrUnauthenticated) {
			t.Fatalf("session of a disabled account: %v", err)
		}
		if _, _, err := o.svc.Login(ctx, "phochutich", password, "10.0.0.9"); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("login to a disabled account: %v", err)
		}
		if u, err := o.svc.SetDisabled(ctx, admin, deputy.ID, false); err != nil || u.DisabledAt != nil {
			t.Fatalf("enable: %+v %v", u, err)
		}
		if _, err := o.svc.AuthenticateToken(ctx, secret); err != nil {
			t.Fatalf("token after enabling: %v", err)
		}
		if _, err := o.svc.AuthenticateSession(ctx, session); !errors.Is(err, accounts.ErrUnauthenticated) {
			t.Fatalf("a session ended by disabling came back: %v", err)
		}
	})

	actions := auditActions(t, o.db)
	for _, a := range []string{"delegation.revoke", "key.revoke", "user.disable", "user.enable"} {
		if count(actions, a) != 1 {
			t.Errorf("%d %s entries, want 1", count(actions, a), a)
		}
	}
}

// TestKeyBindingsStayInTheirOrganisation: a seal certificate must name its
// organisation, and a certificate serves one organisation at a time.
func TestKeyBindingsStayInTheirOrganisation(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	op := accounts.Operator("test")
	admin, signer, clerk := o.users[storage.RoleAdmin], o.users[storage.RoleSigner], o.users[storage.RoleClerk]
	other, err := o.svc.CreateOrganization(ctx, op, storage.Organization{Code: "SYT", Name: "Sở Y tế"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(username, role string) accounts.Principal {
		u, err := o.svc.CreateUser(ctx, op, accounts.NewUser{Username: username, FullName: "Người " + username, OrganizationID: other.ID, Roles: []string{role}})
		if err != nil {
			t.Fatal(err)
		}
		return accounts.Principal{User: u}
	}
	otherAdmin, otherSigner := mk("admin-syt", storage.RoleAdmin), mk("ky-syt", storage.RoleSigner)
	chain := func(name string) []*x509.Certificate {
		c, err := o.pki.Chain(name)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	external := func(name string) accounts.KeyMaterial {
		return accounts.KeyMaterial{Kind: storage.KeyExternal, Certificates: chain(name)}
	}

	// The dev seal certificate names "Ủy ban nhân dân tỉnh Mẫu": refused
	// as the seal of Sở Y tế (its administrator binding it, or the operator).
	for _, tc := range []struct {
		name string
		p    accounts.Principal
		org  string
		m    accounts.KeyMaterial
	}{
		{"another organisation's seal", otherAdmin, other.ID, external(devpki.Seal)},
		{"another organisation's seal, by the operator", op, other.ID, external(devpki.Seal)},
	} {
		if _, err := o.svc.BindKey(ctx, tc.p, "", tc.org, tc.m); !errors.Is(err, accounts.ErrKeyRefused) || !strings.Contains(err.Error(), "does not name the organisation") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	seal, err := o.svc.BindKey(ctx, admin, "", o.org.ID, external(devpki.Seal))
	if err != nil {
		t.Fatalf("own seal: %v", err)
	}

	// One person's certificate: bound to a user here, refused for a user of
	// Sở Y tế; a second binding in the same organisation is allowed.
	mine, err := o.svc.BindKey(ctx, admin, signer.ID, "", external(devpki.Official))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.svc.BindKey(ctx, admin, clerk.ID, "", external(devpki.Official)); err != nil {
		t.Fatalf("same organisation: %v", err)
	}
	if _, err := o.svc.BindKey(ctx, otherAdmin, otherSigner.ID, "", external(devpki.Official)); !errors.Is(err, accounts.ErrKeyRefused) || !strings.Contains(err.Error(), "another organisation") {
		t.Fatalf("same certificate in another organisation: %v", err)
	}
	// The seal certificate cannot become a person's key elsewhere either.
	if _, err := o.svc.BindKey(ctx, otherAdmin, otherSigner.ID, "", external(devpki.Seal)); !errors.Is(err, accounts.ErrKeyRefused) || !strings.Contains(err.Error(), "another organisation") {
		t.Fatalf("seal certificate as a person's key elsewhere: %v", err)
	}
	// Once every binding here is revoked, the certificate may move.
	bound, err := o.svc.Keys(ctx, admin, clerk.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{mine.ID, bound[0].ID, seal.ID} {
		if err := o.svc.RevokeKey(ctx, admin, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.svc.BindKey(ctx, otherAdmin, otherSigner.ID, "", external(devpki.Official)); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	// Refusals write nothing: 3 bindings here, 1 there.
	if n := count(auditActions(t, o.db), "key.bind"); n != 4 {
		t.Fatalf("%d key.bind entries", n)
	}
}
