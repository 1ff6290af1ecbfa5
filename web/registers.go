package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// registers is the service of registers, numbering and issuing.
func (s *Server) registers() *register.Service {
	return &register.Service{DB: s.DB, Docs: s.Docs, Accounts: s.Accounts,
		TSAURL: s.Signing.TSAURL, HTTPClient: s.Signing.HTTPClient, Extender: s.Signing.Extender, TempDir: s.Signing.TempDir,
		Now: s.Issuing.Now, SealImage: s.Issuing.SealImage,
		Events: s.Issuing.Events, Mailer: s.Issuing.Mailer, Recaller: s.Issuing.Recaller,
		PublicURL: s.publicURL()}
}

// IssueConfig configures issuing: the clock numbering years follow (nil:
// time.Now; tests set it across 31 December) and the organisations' seal
// images (nil: a text-only organisation signature).
type IssueConfig struct {
	Now       func() time.Time
	SealImage register.SealImageFunc
	// Events hears document.issued and document.recalled (nil: nobody);
	// Mailer queues the e-mail deliveries (notify.EnqueueDeliveryEmail
	// through register.DeliveryMailerFunc; nil: none); Recaller marks the
	// receivers' copies of a recalled document (documents/reception; nil:
	// only the deliveries are marked).
	Events   events.Publisher
	Mailer   register.DeliveryMailer
	Recaller register.Recaller
}

func (s *Server) registerRoutes(r chi.Router) {
	r.Get("/organizations/{id}/registers", s.listRegisters)
	r.Post("/organizations/{id}/registers", s.createRegister)
	r.Get("/registers/{id}/entries", s.registerEntries)
	r.Post("/documents/{id}/issue", s.issueDocument)
	r.Get("/documents/{id}/deliveries", s.documentDeliveries)
	r.Post("/documents/{id}/recall", s.recallDocument)
	r.Get("/issuing/queue", s.issuingQueue)
	s.issuingSettingsRoutes(r)
}

func (s *Server) recallDocument(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeRegisterError(w, r, err)
		return
	}
	out, err := s.registers().Recall(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req.Reason)
	if err != nil {
		writeRegisterError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) documentDeliveries(w http.ResponseWriter, r *http.Request) {
	ds, err := s.registers().Deliveries(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeRegisterError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}

var registerProblems = []struct {
	kind   error
	status int
	slug   string
	title  string
}{
	{register.ErrNotSigned, http.StatusConflict, "not-signed", "The document is not awaiting issue"},
	{register.ErrNotIssued, http.StatusConflict, "not-issued", "The document is not issued"},
	{register.ErrNoSealKey, http.StatusConflict, "no-seal-key", "No seal key"},
	{register.ErrSeal, http.StatusUnprocessableEntity, "seal-refused", "The organisation's signature cannot be applied"},
	{register.ErrUnavailable, http.StatusServiceUnavailable, "signing-unavailable", "Signing unavailable"},
	{storage.ErrDuplicateNumber, http.StatusConflict, "duplicate-number", "Number and symbol already used this year"},
}

func writeRegisterError(w http.ResponseWriter, r *http.Request, err error) {
	r = withReason(r, err)
	for _, k := range registerProblems {
		if errors.Is(err, k.kind) {
			if k.status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "30")
			}
			writeProblem(w, r, k.status, k.slug, k.title, err.Error())
			return
		}
	}
	writeError(w, r, err)
}

func (s *Server) listRegisters(w http.ResponseWriter, r *http.Request) {
	rs, err := s.registers().List(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeRegisterError(w, r, err)
		return
	}
	if rs == nil {
		rs = []storage.Register{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"registers": rs})
}

func (s *Server) createRegister(w http.ResponseWriter, r *http.Request) {
	var req register.NewRegister
	if err := decodeJSON(w, r, &req); err != nil {
		writeRegisterError(w, r, err)
		return
	}
	reg, err := s.registers().Create(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	if err != nil {
		writeRegisterError(w, r, err)
		return
	}
	created(w, "/api/v1/registers/"+reg.ID+"/entries", reg)
}

// entryRow is one line of the outgoing register, the columns of Decree 30
// Appendix IV (sổ đăng ký văn bản đi) in order.
type entryRow struct {
	NumberSymbol string    `json:"so_ky_hieu"`         // Số, ký hiệu văn bản
	Date         string    `json:"ngay_thang"`         // Ngày tháng văn bản
	TypeSubject  string    `json:"ten_loai_trich_yeu"` // Tên loại và trích yếu nội dung
	Signer       string    `json:"nguoi_ky"`           // Người ký
	Recipients   string    `json:"noi_nhan"`           // Nơi nhận văn bản
	CopiesKept   string    `json:"noi_luu"`            // Đơn vị, người nhận bản lưu
	Copies       int       `json:"so_luong_ban"`       // Số lượng bản
	SentOn       string    `json:"ngay_chuyen"`        // Ngày chuyển
	Receipt      string    `json:"ky_nhan"`            // Ký nhận
	Note         string    `json:"ghi_chu"`            // Ghi chú
	DocumentID   string    `json:"document_id"`
	Number       int       `json:"number"`
	IssuedAt     time.Time `json:"issued_at"`
}

// appendixIVColumns names the columns of entryRow, in the register's order.
var appendixIVColumns = []string{"Số, ký hiệu văn bản", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung", "Người ký",
	"Nơi nhận văn bản", "Đơn vị, người nhận bản lưu", "Số lượng bản", "Ngày chuyển", "Ký nhận", "Ghi chú"}

func (s *Server) registerEntries(w http.ResponseWriter, r *http.Request) {
	year := 0
	if y := r.URL.Query().Get("year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < 1900 || n > 9999 {
			writeProblem(w, r, http.StatusUnprocessableEntity, "invalid-input", "A field is missing or invalid", "year must be a year such as 2026")
			return
		}
		year = n
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "xlsx" && format != "pdf" {
		writeProblem(w, r, http.StatusUnprocessableEntity, "invalid-input", "A field is missing or invalid", "format must be json, xlsx or pdf")
		return
	}
	reg, year, es, err := s.registers().Entries(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), year)
	if err != nil {
		writeRegisterError(w, r, err)
		return
	}
	if reception.IsIncoming(reg) {
		s.incomingEntries(w, r, reg, year, format)
		return
	}
	if reg.Kind == storage.RegisterCertifiedCopies {
		s.certifiedRegisterEntries(w, r, year, format)
		return
	}
	rows := make([]entryRow, 0, len(es))
	for _, e := range es {
		day := e.IssuedAt.In(register.Vietnam).Format("02/01/2006")
		rows = append(rows, entryRow{NumberSymbol: e.Symbol, Date: day, TypeSubject: e.TypeName + " " + e.Subject, Signer: e.SignerName,
			Recipients: e.Recipients, CopiesKept: e.CopiesKept, Copies: e.Copies, SentOn: day, Note: e.Note,
			DocumentID: e.DocumentID, Number: e.Number, IssuedAt: e.IssuedAt})
	}
	if format == "xlsx" || format == "pdf" {
		s.writeRegisterBook(w, r, reg, year, rows, format)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"register": reg, "year": year, "columns": appendixIVColumns, "entries": rows})
}

func (s *Server) issueDocument(w http.ResponseWriter, r *http.Request) {
	var req register.IssueRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeRegisterError(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	out, err := s.registers().Issue(r.Context(), principalFrom(r.Context()), id, req)
	if err != nil {
		writeRegisterError(w, r, err)
		return
	}
	created(w, fmt.Sprintf("/api/v1/documents/%s/versions/%d/file", id, out.Version), out)
}

// issuingQueue lists the clerk's documents awaiting issue, urgent first.
func (s *Server) issuingQueue(w http.ResponseWriter, r *http.Request) {
	q, err := s.registers().Queue(r.Context(), principalFrom(r.Context()))
	if err != nil {
		writeRegisterError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": q})
}
