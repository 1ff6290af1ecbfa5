package main

import (
	"bytes"
	"fmt"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	verifychain "github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/storage"
)

// delivery gives the demo a document that travelled between its two
// organisations as the services move it, nothing written around them: a
// commune draft reviewed, format-checked, signed by the chairman with his
// server-held key and issued by the commune's clerk to the district, whose
// clerk finds it in the reception queue and registers it (số đến 1 of the
// district). The district's pages then show a real delivery, and the
// commune's its outgoing register and deliveries.
func (s *demoSeeder) delivery(db *storage.DB, p *devpki.PKI, chains *chain.Service, templateID, communeID, districtID string) error {
	by, _, err := s.office(db, communeID)
	if err != nil {
		return err
	}
	drafter, reviewer, clerk, chairman := by["chuyenvien"], by["chanhvp"], by["vanthu"], by["an"]
	district, err := storage.ListUsers(s.ctx, db.Pool, districtID)
	if err != nil {
		return err
	}
	var districtClerk accounts.Principal
	for _, u := range district {
		if u.Username == "vanthu.huyen" {
			districtClerk = accounts.Principal{User: u}
		}
	}
	if drafter.ID == "" || reviewer.ID == "" || clerk.ID == "" || chairman.ID == "" || districtClerk.ID == "" {
		return fmt.Errorf("the demo's drafter, reviewer, clerks or chairman is missing")
	}
	m, err := s.docs.CheckMeta(s.ctx, drafter, documents.Meta{Type: "CV", Subject: "Về việc báo cáo kết quả rà soát hộ nghèo gửi Ủy ban nhân dân huyện", Unit: "VP"})
	if err != nil {
		return err
	}
	pdf := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "UBND XA AN BINH - Bao cao ra soat ho ngheo - Decree 30 draft"})
	f, err := s.docs.StoreFile(s.ctx, bytes.NewReader(pdf), "bao-cao-ra-soat.pdf")
	if err != nil {
		return err
	}
	doc, _, err := s.docs.Create(s.ctx, drafter, m, f, "")
	if err != nil {
		return err
	}
	if _, err := chains.Submit(s.ctx, drafter, doc.ID, chain.SubmitRequest{TemplateID: templateID}, ""); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	for _, who := range []accounts.Principal{reviewer, clerk} {
		if _, err := chains.Act(s.ctx, who, doc.ID, chain.ActionRequest{Action: chain.ActionApprove}, ""); err != nil {
			return fmt.Errorf("approve as %s: %w", who.Username, err)
		}
	}
	// The generated draft prints no name: the signature goes at the foot
	// of the page, where the chairman would pick it.
	signer := &docsign.Service{DB: db, Docs: s.docs, Accounts: s.acct, Turns: chains, TSAURL: p.TSAURL()}
	if _, err := signer.Sign(s.ctx, chairman, doc.ID, docsign.Request{Page: 1, Rect: &appearance.Rect{X1: 380, Y1: 80, X2: 540, Y2: 140}}); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	issuing := &register.Service{DB: db, Docs: s.docs, Accounts: s.acct, TSAURL: p.TSAURL()}
	if _, err := issuing.Issue(s.ctx, clerk, doc.ID, register.IssueRequest{Recipients: []register.Recipient{{OrganizationID: districtID}},
		CopiesKept: "Lưu: VT, VP."}); err != nil {
		return fmt.Errorf("issue: %w", err)
	}
	rec := &reception.Service{DB: db, Docs: s.docs, Verify: verify.Options{Trust: verifychain.NewStore(p.Root())}}
	if _, err := rec.ProcessArrivals(s.ctx, districtID, 10); err != nil {
		return fmt.Errorf("arrive at the district: %w", err)
	}
	queue, err := rec.List(s.ctx, districtClerk, "")
	if err != nil {
		return err
	}
	for _, it := range queue {
		if it.Subject == m.Subject {
			if _, err := rec.Register(s.ctx, districtClerk, it.ID, reception.RegisterRequest{Receiver: "Chủ tịch UBND huyện"}); err != nil {
				return fmt.Errorf("register at the district: %w", err)
			}
			return nil
		}
	}
	return fmt.Errorf("the delivery did not arrive at the district")
}
