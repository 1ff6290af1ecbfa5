package main

import (
	"bytes"
	"fmt"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage"
)

// incoming gives the commune's văn bản đến pages something to show: one
// document received on paper waiting in the reception queue, one
// registered and presented to the deputy chairman, and one the chairman gave the
// office (VP) to lead, whose head gave it to the drafter to handle.
func (s *demoSeeder) incoming(db *storage.DB, orgID string) error {
	by, vp, err := s.office(db, orgID)
	if err != nil {
		return err
	}
	clerk, leader, deputy, head, drafter := by["vanthu"], by["an"], by["binh"], by["chanhvp"], by["chuyenvien"]
	if clerk.ID == "" || leader.ID == "" || deputy.ID == "" || head.ID == "" || drafter.ID == "" {
		return fmt.Errorf("the demo's clerk, chairman, deputy, office head or drafter is missing")
	}
	// The demo's PDFs carry no signature: verified offline, they say
	// UNSIGNED, as a scan of a paper document does.
	rec := &reception.Service{DB: db, Docs: s.docs, Verify: verify.Options{Offline: true}}
	hs := &handling.Service{DB: db}
	for i, d := range []struct {
		from, number, symbol, date, typ, subject, signer string
		stage                                            int // 0: in the queue, 1: presented, 2: assigned to a handler
	}{
		{"Ủy ban nhân dân huyện An Bình", "215", "UBND-VP", "", "CV", "Về việc triển khai kế hoạch chuyển đổi số năm tới", "Lê Văn Huyện", 0},
		{"Sở Nội vụ tỉnh", "48", "SNV-CCVC", "", "CV", "Về việc báo cáo công tác văn thư, lưu trữ", "Trần Thị Nội", 1},
		{"Ủy ban nhân dân huyện An Bình", "102", "QĐ-UBND", "", "QĐ", "Quyết định giao chỉ tiêu thu ngân sách xã", "Lê Văn Huyện", 2},
	} {
		pdf := testpdf.Bytes(testpdf.Options{Pages: 1, Text: fmt.Sprintf("Van ban den %d - %s/%s", i+1, d.number, "demo")})
		f, err := s.docs.StoreFile(s.ctx, bytes.NewReader(pdf), fmt.Sprintf("van-ban-den-%d.pdf", i+1))
		if err != nil {
			return err
		}
		it, err := rec.Receive(s.ctx, clerk, reception.Upload{From: d.from, Number: d.number, Symbol: d.symbol, Type: d.typ,
			Subject: d.subject, Signer: d.signer, Medium: "paper"}, f)
		if err != nil {
			return fmt.Errorf("receive %s: %w", d.subject, err)
		}
		if d.stage == 0 {
			continue
		}
		reg, err := rec.Register(s.ctx, clerk, it.ID, reception.RegisterRequest{Receiver: "Chủ tịch UBND xã"})
		if err != nil {
			return fmt.Errorf("register %s: %w", d.subject, err)
		}
		// The deputy has one to assign; the chairman's inbox keeps only
		// the drafts he signs.
		to := deputy
		if d.stage == 2 {
			to = leader
		}
		if _, err := hs.Present(s.ctx, clerk, reg.DocumentID, handling.PresentRequest{UserID: to.ID}); err != nil {
			return fmt.Errorf("present %s: %w", d.subject, err)
		}
		if d.stage == 1 {
			continue
		}
		if _, err := hs.Assign(s.ctx, leader, reg.DocumentID, handling.AssignRequest{Direction: "Văn phòng chủ trì tham mưu, báo cáo kết quả trước hạn.",
			Assignments: []handling.AssignmentRequest{{UnitID: vp.ID, Role: handling.RoleLead, Due: &handling.Due{Days: 7}}}}); err != nil {
			return fmt.Errorf("assign %s: %w", d.subject, err)
		}
		if _, err := hs.Assign(s.ctx, head, reg.DocumentID, handling.AssignRequest{
			Assignments: []handling.AssignmentRequest{{UserID: drafter.ID, Due: &handling.Due{Days: 5}}}}); err != nil {
			return fmt.Errorf("give %s to its handler: %w", d.subject, err)
		}
	}
	return nil
}

// office reads the commune's people by username and its office (VP), the
// unit its incoming documents go to.
func (s *demoSeeder) office(db *storage.DB, orgID string) (map[string]accounts.Principal, storage.Unit, error) {
	users, err := storage.ListUsers(s.ctx, db.Pool, orgID)
	if err != nil {
		return nil, storage.Unit{}, err
	}
	by := map[string]accounts.Principal{}
	for _, u := range users {
		by[u.Username] = accounts.Principal{User: u}
	}
	units, err := storage.ListUnits(s.ctx, db.Pool, orgID)
	if err != nil {
		return nil, storage.Unit{}, err
	}
	for _, u := range units {
		if u.Code == "VP" {
			return by, u, nil
		}
	}
	return nil, storage.Unit{}, fmt.Errorf("the commune has no office (VP)")
}
