package reception_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/documents/register/book"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
)

// defaultIncoming is the receiver's default incoming register.
func (w *world) defaultIncoming() storage.Register {
	w.t.Helper()
	regs, err := storage.ListRegisters(context.Background(), w.db.Pool, w.receiver.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	i := slices.IndexFunc(regs, func(r storage.Register) bool { return r.Kind == storage.RegisterIncoming && r.Default })
	if i < 0 {
		w.t.Fatal("no default incoming register")
	}
	return regs[i]
}

// The follow-up register has the Appendix IV columns with the decree's
// headings, one line per registered incoming document built from the
// register and the handling (lead and coordinating receivers, deadline,
// progress, completion with its reply), narrows to a period of arrival,
// prints to XLSX and to a PDF whose Vietnamese reads back, and is read
// by the organisation's members only.
func TestFollowUpRegister(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	leader := w.user("lanhdao-stc", "Đỗ Lãnh Đạo", w.receiver.ID, storage.RoleSigner)
	coordinator := w.user("phoihop-stc", "Vũ Phối Hợp", w.receiver.ID, storage.RoleDrafter)
	handle := &handling.Service{DB: w.db}

	// Three arrivals registered, on three days of January.
	var docs []string
	for i, u := range []reception.Upload{
		{From: "Bộ Tài chính", Symbol: "12/TT-BTC", Date: "05/01/2026", Type: "CV", Subject: "Hướng dẫn quyết toán năm 2025"},
		{From: "Ủy ban nhân dân tỉnh", Symbol: "07/UBND-KT", Date: "12/01/2026", Type: "CV", Subject: "Đề nghị báo cáo tình hình giải ngân"},
		{From: "Kho bạc Nhà nước", Symbol: "03/KBNN-KT", Type: "CV", Subject: "Thông báo lịch đối chiếu số dư"},
	} {
		it := w.upload(u, "scan "+u.Symbol)
		reg, err := w.svc.Register(ctx, w.clerk, it.ID, reception.RegisterRequest{Receiver: "Phòng Ngân sách", Note: []string{"", "khẩn", ""}[i]})
		if err != nil || reg.ArrivalNumber != i+1 {
			t.Fatalf("register %d: %+v %v", i, reg, err)
		}
		day := time.Date(time.Now().In(reception.Vietnam).Year(), 1, 6+8*i, 9, 0, 0, 0, reception.Vietnam)
		if _, err := w.db.Pool.Exec(ctx, "UPDATE incoming_entries SET arrived_at = $2 WHERE document_id = $1", reg.DocumentID, day); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, reg.DocumentID)
	}
	// The first: a lead and a coordinator, progress, completed with a reply.
	if _, err := handle.Assign(ctx, leader, docs[0], handling.AssignRequest{Direction: "Phòng Ngân sách chủ trì", Assignments: []handling.AssignmentRequest{
		{UserID: w.drafter.ID, Role: handling.RoleLead, Due: &handling.Due{Days: 5}},
		{UserID: coordinator.ID, Role: handling.RoleCoordinate, Due: &handling.Due{Days: 5}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := handle.Progress(ctx, w.drafter, docs[0], handling.ProgressRequest{Note: "Đã dự thảo công văn trả lời"}); err != nil {
		t.Fatal(err)
	}
	number := "15/STC-NS"
	reply, err := storage.InsertDocument(ctx, w.db.Pool, storage.Document{Type: "CV", Subject: "Trả lời về quyết toán", Urgency: "thuong",
		Confidentiality: "thuong", OrganizationID: w.receiver.ID, CreatedBy: w.drafter.ID, SearchText: "x", Number: &number})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Pool.Exec(ctx, "UPDATE documents SET number = $2 WHERE id = $1", reply.ID, number); err != nil {
		t.Fatal(err)
	}
	if _, err := handle.Complete(ctx, w.drafter, docs[0], handling.CompleteRequest{ReplyDocumentID: reply.ID}); err != nil {
		t.Fatal(err)
	}
	// The second: assigned, its deadline passed, still open.
	if _, err := handle.Assign(ctx, leader, docs[1], handling.AssignRequest{Assignments: []handling.AssignmentRequest{
		{UserID: coordinator.ID, Role: handling.RoleLead, Due: &handling.Due{Days: 2}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Pool.Exec(ctx, "UPDATE document_handling SET due_at = $2 WHERE document_id = $1", docs[1],
		time.Date(2026, 1, 16, 17, 0, 0, 0, reception.Vietnam)); err != nil {
		t.Fatal(err)
	}
	// The third waits to be assigned.

	reg := w.defaultIncoming()
	year := time.Now().In(reception.Vietnam).Year()
	all, err := w.svc.FollowUp(ctx, w.drafter, reg, year, reception.Period{})
	if err != nil || len(all) != 3 {
		t.Fatalf("follow-up %+v %v", all, err)
	}
	if !slices.Equal(reception.FollowUpColumns, []string{"Số đến", "Tên loại, số, ký hiệu, ngày tháng, cơ quan ban hành", "Đơn vị hoặc người nhận",
		"Thời hạn giải quyết", "Tiến độ giải quyết", "Số, ký hiệu văn bản trả lời", "Ghi chú"}) {
		t.Fatalf("columns %q", reception.FollowUpColumns)
	}
	first := all[0].Cells()
	if first[0] != "01" || first[1] != "Công văn số 12/TT-BTC ngày 05/01/2026 của Bộ Tài chính: Hướng dẫn quyết toán năm 2025" ||
		first[2] != "Chủ trì: Trần Chuyên Viên; phối hợp: Vũ Phối Hợp" || first[3] == "" ||
		!strings.HasPrefix(first[4], "Đã giải quyết ngày ") || !strings.Contains(first[4], "(đúng hạn)") ||
		first[5] != number || all[0].Status != handling.StatusCompleted || all[0].ReplyDocumentID != reply.ID {
		t.Fatalf("completed line %q %+v", first, all[0])
	}
	second := all[1].Cells()
	if second[0] != "02" || second[2] != "Chủ trì: Vũ Phối Hợp" || second[3] != "16/01/2026" || second[4] != "Quá hạn, đang giải quyết" ||
		!all[1].Overdue || second[5] != "" || second[6] != "khẩn" {
		t.Fatalf("overdue line %q %+v", second, all[1])
	}
	third := all[2].Cells()
	if third[0] != "03" || third[2] != "Phòng Ngân sách" || third[3] != "" || third[4] != "Chờ trình, giao xử lý" ||
		!strings.HasPrefix(third[1], "Công văn số 03/KBNN-KT của Kho bạc Nhà nước") {
		t.Fatalf("waiting line %q", third)
	}

	// A period: the arrivals of 10 to 20 January, the second only; one
	// ending on the first's day includes it.
	for _, c := range []struct {
		from, to string
		want     []int
	}{
		{"-01-10", "-01-20", []int{2}},
		{"", "-01-06", []int{1}},
		{"-01-13", "", []int{2, 3}},
		{"-02-01", "-02-28", nil},
	} {
		at := func(s string) string {
			if s == "" {
				return ""
			}
			return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006") + s
		}
		period, err := reception.ParsePeriod(at(c.from), at(c.to))
		if err != nil {
			t.Fatal(err)
		}
		es, err := w.svc.FollowUp(ctx, w.clerk, reg, year, period)
		var got []int
		for _, e := range es {
			got = append(got, e.ArrivalNumber)
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Fatalf("period %s..%s: %v %v, want %v", c.from, c.to, got, err, c.want)
		}
	}
	var in *accounts.InputError
	for _, c := range [][2]string{{"2026-13-01", ""}, {"", "yesterday"}, {"2026-02-01", "2026-01-01"}} {
		if _, err := reception.ParsePeriod(c[0], c[1]); !errors.As(err, &in) {
			t.Fatalf("period %q: %v", c, err)
		}
	}
	// Members only; an outgoing register has no follow-up.
	if _, err := w.svc.FollowUp(ctx, w.otherClrk, reg, year, reception.Period{}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("another organisation reads the follow-up register: %v", err)
	}
	regs, _ := storage.ListRegisters(ctx, w.db.Pool, w.receiver.ID)
	for _, r := range regs {
		if r.Kind == storage.RegisterOutgoing {
			if _, err := w.svc.FollowUp(ctx, w.clerk, r, year, reception.Period{}); !errors.As(err, &in) {
				t.Fatalf("follow-up of an outgoing register: %v", err)
			}
		}
	}

	// Printed: the workbook's header is the columns, a row per document;
	// the PDF's text reads back in Vietnamese.
	b := reception.FollowUpBook(w.receiver.Name, reg, year, reception.Period{}, all)
	var x bytes.Buffer
	if err := book.WriteXLSX(&x, b); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&x)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	f.Close()
	if err != nil || len(rows) != 5 || !slices.Equal(rows[1], reception.FollowUpColumns) || rows[2][0] != "01" || rows[2][5] != number ||
		rows[3][4] != "Quá hạn, đang giải quyết" || rows[4][2] != "Phòng Ngân sách" {
		t.Fatalf("xlsx rows %q %v", rows, err)
	}
	var p bytes.Buffer
	if err := book.WritePDF(&p, b); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "follow-up.pdf")
	if err := os.WriteFile(file, p.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command(testharness.Tool(t, "pdftotext", "poppler-utils"), "-raw", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, text)
	}
	for _, s := range []string{"SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN", "Từ số 01 đến số 03", "Số đến", "Thời hạn giải quyết", "Tiến độ giải quyết",
		"Số, ký hiệu văn bản trả lời", "Ghi chú", "Chủ trì: Trần Chuyên Viên", "12/TT-BTC", "Kho bạc Nhà nước", number, "Quá hạn, đang giải quyết"} {
		// A long cell wraps inside its column.
		if !strings.Contains(strings.ReplaceAll(string(text), "\n", " "), s) {
			t.Fatalf("follow-up pdf lacks %q:\n%s", s, text)
		}
	}
}

// Registration sends the document straight to its lead unit when the
// clerk asks and the organisation's rules allow it; while they do not, the
// registration is refused whole (403), taking no số đến.
func TestRegisterSendsToUnit(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	unit, err := storage.CreateUnit(ctx, w.db.Pool, storage.Unit{OrganizationID: w.receiver.ID, Code: "NS", Name: "Phòng Ngân sách"})
	if err != nil {
		t.Fatal(err)
	}
	head, err := storage.CreateUser(ctx, w.db.Pool, storage.User{Username: "truongphong-ns", FullName: "Ngô Trưởng Phòng", OrganizationID: w.receiver.ID,
		Roles: []string{storage.RoleReviewer}, UnitIDs: []string{unit.ID}}, "")
	if err != nil {
		t.Fatal(err)
	}
	admin := w.user("quantri-stc", "Quản Trị", w.receiver.ID, storage.RoleAdmin)
	it := w.upload(reception.Upload{From: "Bộ Tài chính", Symbol: "12/TT-BTC", Date: "05/01/2026", Type: "CV", Subject: "Hướng dẫn quyết toán"}, "scan")
	req := reception.RegisterRequest{LeadUnitID: unit.ID, Due: &handling.Due{Days: 5}}
	if _, err := w.svc.Register(ctx, w.clerk, it.ID, req); !errors.Is(err, accounts.ErrForbidden) || !errors.Is(err, handling.ErrDirectSendingOff) {
		t.Fatalf("sent straight to a unit while the rules forbid it: %v", err)
	}
	if q := w.queue(w.clerk, ""); len(q) != 1 || q[0].Status != "arrived" {
		t.Fatalf("queue after the refusal %+v", q)
	}
	on := true
	if _, err := (&handling.Service{DB: w.db}).SetSettings(ctx, admin, w.receiver.ID, handling.SettingsRequest{ClerkSendsToUnit: &on}); err != nil {
		t.Fatal(err)
	}
	got, err := w.svc.Register(ctx, w.clerk, it.ID, req)
	if err != nil || got.ArrivalNumber != 1 || !got.SentToUnit {
		t.Fatalf("registered %+v %v", got, err)
	}
	h, err := storage.GetHandling(ctx, w.db.Pool, got.DocumentID)
	if err != nil || h.Status != handling.StatusAssigned || h.DueAt == nil || h.AssignedBy != w.clerk.ID {
		t.Fatalf("handling %+v %v", h, err)
	}
	if n := w.count("SELECT count(*) FROM inbox_items WHERE user_id = $1 AND document_id = $2 AND state = 'open'", head.ID, got.DocumentID); n != 1 {
		t.Fatalf("the unit head has %d items", n)
	}
	if w.events.count(events.DocumentAssigned, w.receiver.ID) != 1 || w.events.count(events.DocumentRegistered, w.receiver.ID) != 1 {
		t.Fatalf("events %+v", w.events.evs)
	}
	es, err := w.svc.FollowUp(ctx, w.clerk, w.defaultIncoming(), time.Now().In(reception.Vietnam).Year(), reception.Period{})
	if err != nil || len(es) != 1 || es[0].Receiver != "Chủ trì: Phòng Ngân sách" || es[0].Deadline == "" {
		t.Fatalf("follow-up %+v %v", es, err)
	}
}
