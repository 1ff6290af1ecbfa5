package main

import (
	"bytes"
	"fmt"
	"time"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage"
)

// demoHistoryDocuments is how many incoming documents the demo office
// handled in the weeks before its first start.
const demoHistoryDocuments = 15

// history gives the statistics page months to draw: incoming documents
// received over the last weeks of this year, each registered, given by the
// chairman to the office (VP) and by its head to the drafter, who completed
// most on time, some late; the rest still sit with the office's head, some
// past their deadline. Every step runs through the services with their
// clock set back to when it happened, so the register, the handling rows
// and the monthly tallies agree as if the office had worked those days.
// It runs before incoming, so the older documents hold the lower số đến.
func (s *demoSeeder) history(db *storage.DB, orgID string) error {
	by, vp, err := s.office(db, orgID)
	if err != nil {
		return err
	}
	clerk, leader, head, drafter := by["vanthu"], by["an"], by["chanhvp"], by["chuyenvien"]
	if clerk.ID == "" || leader.ID == "" || head.ID == "" || drafter.ID == "" {
		return fmt.Errorf("the demo's clerk, chairman, office head or drafter is missing")
	}
	now := time.Now().In(calendar.Vietnam)
	newYear := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, calendar.Vietnam)
	first := now.AddDate(0, 0, -100)
	if first.Before(newYear) {
		first = newYear
	}
	span := now.Sub(first)
	if span < 14*24*time.Hour {
		return nil // too early in the year for a history worth drawing
	}
	var at time.Time
	clock := func() time.Time { return at }
	rec := &reception.Service{DB: db, Docs: s.docs, Verify: verify.Options{Offline: true}, Now: clock}
	hs := &handling.Service{DB: db, Now: clock}
	// Working hours of a weekday; the deadlines themselves follow the
	// working calendar the demo set.
	workday := func(t time.Time) time.Time {
		for t.Weekday() == time.Saturday || t.Weekday() == time.Sunday {
			t = t.AddDate(0, 0, 1)
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 9, 0, 0, 0, calendar.Vietnam)
	}
	for i := range demoHistoryDocuments {
		received := workday(first.Add(span * time.Duration(i) / demoHistoryDocuments))
		// Three of five done in two days, one in twelve (late), one left
		// with the office.
		var done time.Time
		switch i % 5 {
		case 0, 1, 2:
			done = workday(received.AddDate(0, 0, 2)).Add(6 * time.Hour)
		case 3:
			done = workday(received.AddDate(0, 0, 12)).Add(6 * time.Hour)
		}
		if !done.Before(now) {
			done = time.Time{}
		}
		subject := fmt.Sprintf("Về việc báo cáo tình hình thực hiện nhiệm vụ tháng %d (lần %d)", received.Month(), i+1)
		at = received
		pdf := testpdf.Bytes(testpdf.Options{Pages: 1, Text: fmt.Sprintf("Van ban den da xu ly %d", i+1)})
		f, err := s.docs.StoreFile(s.ctx, bytes.NewReader(pdf), fmt.Sprintf("van-ban-den-cu-%d.pdf", i+1))
		if err != nil {
			return err
		}
		it, err := rec.Receive(s.ctx, clerk, reception.Upload{From: "Ủy ban nhân dân huyện An Bình", Number: fmt.Sprint(300 + i),
			Symbol: "UBND-VP", Date: received.AddDate(0, 0, -1).Format(time.DateOnly), Type: "CV", Subject: subject,
			Signer: "Lê Văn Huyện", Medium: "paper"}, f)
		if err != nil {
			return fmt.Errorf("receive %s: %w", subject, err)
		}
		at = received.Add(15 * time.Minute)
		reg, err := rec.Register(s.ctx, clerk, it.ID, reception.RegisterRequest{Receiver: "Chủ tịch UBND xã"})
		if err != nil {
			return fmt.Errorf("register %s: %w", subject, err)
		}
		at = received.Add(30 * time.Minute)
		if _, err := hs.Present(s.ctx, clerk, reg.DocumentID, handling.PresentRequest{UserID: leader.ID}); err != nil {
			return fmt.Errorf("present %s: %w", subject, err)
		}
		at = received.Add(90 * time.Minute)
		if _, err := hs.Assign(s.ctx, leader, reg.DocumentID, handling.AssignRequest{
			Assignments: []handling.AssignmentRequest{{UnitID: vp.ID, Role: handling.RoleLead, Due: &handling.Due{Days: 5}}}}); err != nil {
			return fmt.Errorf("assign %s: %w", subject, err)
		}
		if done.IsZero() {
			continue
		}
		at = received.Add(3 * time.Hour)
		if _, err := hs.Assign(s.ctx, head, reg.DocumentID, handling.AssignRequest{
			Assignments: []handling.AssignmentRequest{{UserID: drafter.ID, Due: &handling.Due{Days: 4}}}}); err != nil {
			return fmt.Errorf("give %s to its handler: %w", subject, err)
		}
		at = done
		if _, err := hs.Complete(s.ctx, drafter, reg.DocumentID, handling.CompleteRequest{Note: "Đã báo cáo."}); err != nil {
			return fmt.Errorf("complete %s: %w", subject, err)
		}
	}
	return nil
}
