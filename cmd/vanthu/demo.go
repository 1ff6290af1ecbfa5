package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/storage"
)

// The demo office of `vanthu serve --demo`: a commune and its district with
// one user per role, a development PKI served inside the process (its root
// is the service's trust anchor and its TSA the service's), the signers' and
// the seal's keys bound, a KT. delegation, a chain template and this year's
// working calendar. It is created once, on the first start; later starts
// only serve the PKI again. Nothing of it exists without --demo.

const (
	demoPKIDir       = "demo-pki"
	demoAccountsFile = "demo-accounts"
	demoCommuneCode  = "UBNDXAB"
	// demoCommuneName is also the name the demo PKI's seal certificate
	// carries: a seal binds only to the organisation it names.
	demoCommuneName  = "Ủy ban nhân dân xã An Bình"
	demoDistrictCode = "UBNDHAB"
)

// startDemoPKI creates the demo PKI in <data-dir>/demo-pki on the first
// start, serves its TSA, OCSP and CRL responders on loopback (the port its
// certificates name, chosen on the first start), and makes its root the
// service's trust anchor and its TSA the service's unless others are
// configured. stop shuts the responders down.
func (c *serviceConfig) startDemoPKI(ctx context.Context) (stop func(), err error) {
	dir := filepath.Join(c.dataDir, demoPKIDir)
	var ln net.Listener
	if _, err := os.Stat(filepath.Join(dir, "root-ca.pem")); errors.Is(err, fs.ErrNotExist) {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("demo PKI: %w", err)
		}
		if err := devpki.Init(dir, "http://"+ln.Addr().String(), devpki.Options{Organization: demoCommuneName}); err != nil {
			ln.Close()
			return nil, fmt.Errorf("demo PKI: %w", err)
		}
		if err := writeDemoImages(dir); err != nil {
			ln.Close()
			return nil, fmt.Errorf("demo PKI: %w", err)
		}
	}
	p, err := devpki.Load(dir)
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return nil, fmt.Errorf("demo PKI: %w", err)
	}
	if ln == nil {
		u, err := url.Parse(p.URL())
		if err != nil {
			return nil, fmt.Errorf("demo PKI: base URL: %w", err)
		}
		// The certificates name this address: it must be the same one.
		if ln, err = net.Listen("tcp", u.Host); err != nil {
			return nil, fmt.Errorf("demo PKI: its certificates name %s, which is taken: %w", u.Host, err)
		}
	}
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			slog.Error("demo PKI responders stopped", "err", err)
		}
	}()
	if len(c.accounts.trust) == 0 {
		c.accounts.trust = []string{filepath.Join(dir, "root-ca.pem")}
	}
	if c.tsaURL == "" && c.signingTSAURL == "" {
		c.tsaURL = p.TSAURL()
	}
	slog.Info("demo PKI responders", "url", p.URL(), "dir", dir)
	return func() {
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutCtx)
	}, nil
}

// demoAccount is one line of <data-dir>/demo-accounts.
type demoAccount struct {
	role, username, password string
}

// seedDemo creates the demo office unless <data-dir>/demo-accounts says it
// exists, printing the accounts to out once.
func (c *serviceConfig) seedDemo(ctx context.Context, db *storage.DB, acct *accounts.Service, docs *documents.Service, out io.Writer) error {
	file := filepath.Join(c.dataDir, demoAccountsFile)
	if _, err := os.Stat(file); err == nil {
		fmt.Fprintf(out, "demo office: accounts in %s\n", file)
		return nil
	}
	op := accounts.Operator("demo")
	orgs, err := acct.Organizations(ctx, op)
	if err != nil {
		return fmt.Errorf("demo office: %w", err)
	}
	for _, o := range orgs {
		if o.Code == demoCommuneCode {
			return fmt.Errorf("demo office: organisation %s exists but %s is missing (a first start was interrupted): start on a fresh data directory", o.Code, file)
		}
	}
	p, err := devpki.Load(filepath.Join(c.dataDir, demoPKIDir))
	if err != nil {
		return fmt.Errorf("demo office: %w", err)
	}
	s := demoSeeder{ctx: ctx, acct: acct, op: op, docs: docs}
	list, err := s.seed(db, p)
	if err != nil {
		return fmt.Errorf("demo office: %w", err)
	}
	var b strings.Builder
	for _, a := range list {
		fmt.Fprintf(&b, "%s %s %s\n", a.role, a.username, a.password)
	}
	if err := writeSecretFile(file, b.String()); err != nil {
		return fmt.Errorf("demo office: %w", err)
	}
	fmt.Fprintf(out, "demo office created; its accounts (role username password), shown once and kept in %s:\n%s", file, b.String())
	return nil
}

type demoSeeder struct {
	ctx  context.Context
	acct *accounts.Service
	op   accounts.Principal
	docs *documents.Service
	list []demoAccount
}

func (s *demoSeeder) user(role, username, fullName, title, orgID string, unitIDs ...string) (storage.User, error) {
	pw, err := demoPassword()
	if err != nil {
		return storage.User{}, err
	}
	u, err := s.acct.CreateUser(s.ctx, s.op, accounts.NewUser{Username: username, FullName: fullName, Title: title,
		OrganizationID: orgID, UnitIDs: unitIDs, Roles: []string{role}, Password: pw})
	if err != nil {
		return u, fmt.Errorf("user %s: %w", username, err)
	}
	s.list = append(s.list, demoAccount{role, username, pw})
	return u, nil
}

func (s *demoSeeder) seed(db *storage.DB, p *devpki.PKI) ([]demoAccount, error) {
	ctx, op := s.ctx, s.op
	district, err := s.acct.CreateOrganization(ctx, op, storage.Organization{Code: demoDistrictCode, Name: "Ủy ban nhân dân huyện An Bình"})
	if err != nil {
		return nil, err
	}
	commune, err := s.acct.CreateOrganization(ctx, op, storage.Organization{Code: demoCommuneCode, Name: demoCommuneName, ParentID: district.ID})
	if err != nil {
		return nil, err
	}
	vp, err := s.acct.CreateUnit(ctx, op, storage.Unit{OrganizationID: commune.ID, Code: "VP", Name: "Văn phòng HĐND và UBND"})
	if err != nil {
		return nil, err
	}
	tp, err := s.acct.CreateUnit(ctx, op, storage.Unit{OrganizationID: commune.ID, Code: "TP", Name: "Tư pháp – Hộ tịch"})
	if err != nil {
		return nil, err
	}
	dvp, err := s.acct.CreateUnit(ctx, op, storage.Unit{OrganizationID: district.ID, Code: "VP", Name: "Văn phòng HĐND và UBND huyện"})
	if err != nil {
		return nil, err
	}
	drafter, err := s.user(storage.RoleDrafter, "chuyenvien", "Lê Thị Chuyên", "Công chức Văn phòng – Thống kê", commune.ID, vp.ID)
	if err != nil {
		return nil, err
	}
	reviewer, err := s.user(storage.RoleReviewer, "chanhvp", "Phạm Văn Duyệt", "Chánh Văn phòng", commune.ID, vp.ID)
	if err != nil {
		return nil, err
	}
	an, err := s.user(storage.RoleSigner, "an", "Nguyễn Văn An", "Chủ tịch", commune.ID, vp.ID)
	if err != nil {
		return nil, err
	}
	binh, err := s.user(storage.RoleSigner, "binh", "Trần Thị Bình", "Phó Chủ tịch", commune.ID, vp.ID)
	if err != nil {
		return nil, err
	}
	if _, err := s.user(storage.RoleClerk, "vanthu", "Hoàng Thị Thư", "Văn thư", commune.ID, vp.ID); err != nil {
		return nil, err
	}
	certifier, err := s.user(storage.RoleCertifier, "chungthuc", "Đỗ Văn Thực", "Công chức Tư pháp – Hộ tịch", commune.ID, tp.ID)
	if err != nil {
		return nil, err
	}
	if _, err := s.user(storage.RoleAuditor, "kiemtra", "Vũ Thị Kiểm", "Thanh tra", commune.ID, vp.ID); err != nil {
		return nil, err
	}
	admin, err := s.user(storage.RoleAdmin, "quantri", "Bùi Văn Trị", "Quản trị hệ thống", commune.ID, vp.ID)
	if err != nil {
		return nil, err
	}
	if _, err := s.user(storage.RoleClerk, "vanthu.huyen", "Ngô Thị Huyền", "Văn thư huyện", district.ID, dvp.ID); err != nil {
		return nil, err
	}

	// Keys: the signers' and the commune's seal, sealed PKCS#12 files.
	for _, k := range []struct{ name, userID, orgID string }{
		{devpki.Official, an.ID, ""}, {devpki.Deputy, binh.ID, ""}, {devpki.Seal, "", commune.ID},
	} {
		data, err := os.ReadFile(p.P12Path(k.name))
		if err != nil {
			return nil, err
		}
		if _, err := s.acct.BindKey(ctx, op, k.userID, k.orgID, accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: data, Password: p.Password()}); err != nil {
			return nil, fmt.Errorf("bind the %s key: %w", k.name, err)
		}
	}
	// Handwritten signatures: the chairman's is on file; the vice-chairman
	// has none yet, so his account page (/account) shows the upload he
	// needs before signing in the service.
	var sig bytes.Buffer
	if err := png.Encode(&sig, appearance.DemoSignature(an.FullName)); err != nil {
		return nil, err
	}
	if _, err := (&docsign.Service{DB: db, Accounts: s.acct}).PutSignatureImage(ctx, op, an.ID, &sig); err != nil {
		return nil, fmt.Errorf("the chairman's signature image: %w", err)
	}
	now := time.Now()
	if _, err := s.acct.CreateDelegation(ctx, op, storage.Delegation{FromUser: an.ID, ToUser: binh.ID, Form: "KT.",
		Basis: "Quy chế làm việc của UBND xã (demo)", StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(1, 0, 0)}); err != nil {
		return nil, fmt.Errorf("delegation: %w", err)
	}
	chains := &chain.Service{DB: db, Docs: s.docs}
	tmpl, err := chains.CreateTemplate(ctx, accounts.Principal{User: admin}, chain.TemplateRequest{Name: "Trình ký văn bản", Definition: chain.Definition{Stages: []chain.StageSpec{
		{Name: "Duyệt", Kind: chain.KindReview, Participants: []chain.Participant{{Role: storage.RoleReviewer, UnitID: chain.DrafterUnit}}, Rule: chain.Rule{Kind: "any"}},
		{Name: "Kiểm tra thể thức", Kind: chain.KindFormatCheck, Participants: []chain.Participant{{Role: storage.RoleClerk}}, Rule: chain.Rule{Kind: "any"}},
		{Name: "Ký", Kind: chain.KindSign, Participants: []chain.Participant{{UserID: an.ID}}},
	}}})
	if err != nil {
		return nil, fmt.Errorf("chain template: %w", err)
	}
	year := now.Year()
	y := calendar.DefaultYear()
	for _, h := range []calendar.Day{{Date: "01-01", Name: "Tết Dương lịch"}, {Date: "04-30", Name: "Ngày Giải phóng miền Nam"},
		{Date: "05-01", Name: "Quốc tế Lao động"}, {Date: "09-02", Name: "Quốc khánh"}} {
		h.Date = fmt.Sprintf("%d-%s", year, h.Date)
		y.Holidays = append(y.Holidays, h)
	}
	if _, err := (&calendar.Service{DB: db}).SetYear(ctx, op, year, y); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	if err := s.documents(chains, tmpl.ID, accounts.Principal{User: drafter}, accounts.Principal{User: reviewer}); err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	if err := s.history(db, commune.ID); err != nil { // demo_statistics.go
		return nil, fmt.Errorf("handled incoming documents: %w", err)
	}
	if err := s.incoming(db, commune.ID); err != nil { // demo_incoming.go
		return nil, fmt.Errorf("incoming documents: %w", err)
	}
	if err := s.certifiedCopyDesk(db, p, certifier, commune.ID, tp.ID); err != nil {
		return nil, fmt.Errorf("certified-copy desk: %w", err)
	}
	if err := s.delivery(db, p, chains, tmpl.ID, commune.ID, district.ID); err != nil { // demo_delivery.go
		return nil, fmt.Errorf("a delivery to the district: %w", err)
	}
	return s.list, nil
}

// documents uploads a few drafts at different stages: one not yet
// submitted, one waiting for the reviewer, one past review waiting for the
// clerk's format check.
func (s *demoSeeder) documents(chains *chain.Service, templateID string, drafter, reviewer accounts.Principal) error {
	for i, d := range []struct {
		typ, subject string
		stage        int // 0: draft, 1: submitted, 2: approved by the reviewer
	}{
		{"CV", "Về việc rà soát hộ nghèo, hộ cận nghèo năm " + fmt.Sprint(time.Now().Year()), 0},
		{"QĐ", "Quyết định thành lập Tổ công tác chuyển đổi số cộng đồng xã An Bình", 1},
		{"CV", "Về việc tổ chức Ngày hội Đại đoàn kết toàn dân tộc", 2},
	} {
		m, err := s.docs.CheckMeta(s.ctx, drafter, documents.Meta{Type: d.typ, Subject: d.subject, Unit: "VP"})
		if err != nil {
			return err
		}
		// The PDF's text is ASCII (the generator's font); the subject is in the metadata.
		pdf := testpdf.Bytes(testpdf.Options{Pages: 2, Text: fmt.Sprintf("UBND XA AN BINH - Du thao so %d - Decree 30 draft", i+1)})
		f, err := s.docs.StoreFile(s.ctx, bytes.NewReader(pdf), fmt.Sprintf("du-thao-%d.pdf", i+1))
		if err != nil {
			return err
		}
		doc, _, err := s.docs.Create(s.ctx, drafter, m, f, "")
		if err != nil {
			return err
		}
		if d.stage >= 1 {
			if _, err := chains.Submit(s.ctx, drafter, doc.ID, chain.SubmitRequest{TemplateID: templateID}, ""); err != nil {
				return err
			}
		}
		if d.stage >= 2 {
			if _, err := chains.Act(s.ctx, reviewer, doc.ID, chain.ActionRequest{Action: chain.ActionApprove, Comment: "Đồng ý, chuyển văn thư kiểm tra thể thức."}, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoPassword is a random password of 16 URL-safe characters.
func demoPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
