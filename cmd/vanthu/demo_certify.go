package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/scancheck/scantest"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/storage"
)

// certifiedCopyDesk gives the demo commune's one-stop desk its people and
// work: a desk officer (motcua), the certifier's key bound, and two
// citizens' requests — one scanned and waiting for the certifier, one
// waiting for its scan. The demo PKI has no identity of the certifier's
// own, so the chairman's certificate serves (a certificate serves one
// organisation, which this is).
func (s *demoSeeder) certifiedCopyDesk(db *storage.DB, p *devpki.PKI, certifier storage.User, orgID, unitID string) error {
	desk, err := s.user(storage.RoleDesk, "motcua", "Trần Văn Cửa", "Công chức Bộ phận một cửa", orgID, unitID)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(p.P12Path(devpki.Official))
	if err != nil {
		return err
	}
	if _, err := s.acct.BindKey(s.ctx, s.op, certifier.ID, "", accounts.KeyMaterial{Kind: storage.KeyPKCS12, PKCS12: data, Password: p.Password()}); err != nil {
		return fmt.Errorf("bind the certifier's key: %w", err)
	}
	svc := &certify.Service{DB: db, Docs: s.docs, Accounts: s.acct}
	officer := accounts.Principal{User: desk}
	received := time.Now().Add(-20 * time.Minute)
	c, err := svc.Open(s.ctx, officer, certify.NewRequest{RequesterName: "Nguyễn Thị Hồng", RequesterIDNumber: "001190012345",
		OriginalName: "Bằng tốt nghiệp trung học phổ thông", PageCount: 2, Copies: 2, ReceivedAt: &received})
	if err != nil {
		return err
	}
	scan := scantest.PDF(scantest.Options{Pages: scantest.Pages(2, 200, scantest.RGB)})
	if _, err := svc.Scan(s.ctx, officer, c.ID, bytes.NewReader(scan), "bang-tot-nghiep.pdf"); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	_, err = svc.Open(s.ctx, officer, certify.NewRequest{RequesterName: "Lê Văn Tâm", RequesterIDNumber: "001090054321",
		OriginalName: "Giấy khai sinh", PageCount: 1, Copies: 3})
	return err
}
