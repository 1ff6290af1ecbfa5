package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/documents/register/book"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// ReceptionConfig configures the reception queues: the clock số đến years
// follow (nil: time.Now) and who hears of arrivals and registrations (nil:
// nobody).
type ReceptionConfig struct {
	Now    func() time.Time
	Events events.Publisher
}

// reception is the service of the reception queues (văn bản đến).
func (s *Server) reception() *reception.Service {
	return &reception.Service{DB: s.DB, Docs: s.Docs, Verify: s.Verify, TempDir: s.TempDir, Events: s.Reception.Events, Now: s.Reception.Now}
}

// RunArrivals processes the deliveries from other organisations every
// interval until ctx ends (they arrive, verified, in the receiver's queue
// even while nobody lists it), with the same reception service as the
// routes: its verification budget and its events. Call it after Handler,
// which wires them.
func (s *Server) RunArrivals(ctx context.Context, interval time.Duration) {
	s.reception().Run(ctx, interval)
}

func (s *Server) receptionRoutes(r chi.Router) {
	r.Get("/reception", s.listReception)
	r.Post("/reception", s.receiveUpload)
	r.Get("/reception/{id}", s.getArrival)
	r.Get("/reception/{id}/file", s.arrivalFile)
	r.Post("/reception/{id}/register", s.registerArrival)
	r.Post("/reception/{id}/return", s.returnArrival)
	r.Post("/reception/{id}/confirm-recall", s.confirmRecall)
	r.Get("/registers/{id}/follow-up", s.followUpRegister)
}

func writeReceptionError(w http.ResponseWriter, r *http.Request, err error) {
	r = withReason(r, err)
	var dup *reception.DuplicateError
	switch {
	case errors.As(err, &dup):
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusConflict)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "/problems/duplicate-arrival", "title": "Already registered", "status": http.StatusConflict,
			"detail": dup.Error(), "instance": r.URL.Path, "earlier": dup.Earlier})
	case errors.Is(err, reception.ErrState):
		writeProblem(w, r, http.StatusConflict, "arrival-state", "The arrival does not allow this now", err.Error())
	default:
		// Sending straight to a unit at registration answers as handling does.
		handlingError(w, r, err)
	}
}

func (s *Server) listReception(w http.ResponseWriter, r *http.Request) {
	items, err := s.reception().List(r.Context(), principalFrom(r.Context()), r.URL.Query().Get("status"))
	if err != nil {
		writeReceptionError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) getArrival(w http.ResponseWriter, r *http.Request) {
	it, err := s.reception().Get(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeReceptionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (s *Server) arrivalFile(w http.ResponseWriter, r *http.Request) {
	it, rc, err := s.reception().OpenFile(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeReceptionError(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.FormatInt(it.Size, 10))
	w.Header().Set("Content-Disposition", contentDisposition(it.FileName))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("ETag", `"`+it.SHA256+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
}

func (s *Server) registerArrival(w http.ResponseWriter, r *http.Request) {
	var req reception.RegisterRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			writeReceptionError(w, r, err)
			return
		}
	}
	out, err := s.reception().Register(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req)
	if err != nil {
		writeReceptionError(w, r, err)
		return
	}
	created(w, "/api/v1/documents/"+out.DocumentID, out)
}

func (s *Server) returnArrival(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeReceptionError(w, r, err)
		return
	}
	it, err := s.reception().Return(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"), req.Reason)
	if err != nil {
		writeReceptionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (s *Server) confirmRecall(w http.ResponseWriter, r *http.Request) {
	it, err := s.reception().ConfirmRecall(r.Context(), principalFrom(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		writeReceptionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

// receptionFields are the text parts of an upload to the queue and where
// they go.
func receptionFields(u *reception.Upload) map[string]*string {
	return map[string]*string{"from": &u.From, "number": &u.Number, "symbol": &u.Symbol, "date": &u.Date, "type": &u.Type,
		"subject": &u.Subject, "signer": &u.Signer, "signer_position": &u.SignerPosition, "urgency": &u.Urgency,
		"confidentiality": &u.Confidentiality, "medium": &u.Medium}
}

// receiveUpload puts a file the clerk received another way (or scanned)
// in the organisation's queue: multipart with the Appendix VI fields and
// one part named file. The fields sent ahead of the file are checked
// before it is read; the file passes the upload checks before it is kept.
func (s *Server) receiveUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := principalFrom(ctx)
	svc := s.reception()
	// Refused before a byte of the file is read.
	if err := svc.CanReceive(p); err != nil {
		writeReceptionError(w, r, err)
		return
	}
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		writeError(w, r, &documents.InputError{Kind: documents.ErrMissingFile, Detail: "send the file as multipart/form-data with a part named file and the fields from, number, symbol, date, type, subject, signer, urgency"})
		return
	}
	body := bufio.NewReaderSize(http.MaxBytesReader(w, r.Body, s.Docs.MaxUpload+multipartOverhead), 1<<20)
	mr := multipart.NewReader(body, params["boundary"])
	var u reception.Upload
	fields := receptionFields(&u)
	seen := map[string]bool{}
	var stored documents.StoredFile
	seenFile := false
	fail := func(err error) {
		s.Docs.Discard(ctx, stored)
		writeReceptionError(w, r, err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if err = bodyError(err, s.Docs.MaxUpload); !errors.Is(err, documents.ErrTooLarge) && !errors.Is(err, documents.ErrMalformedBody) && !errors.Is(err, errBodyTooSlow) {
				err = &documents.InputError{Kind: documents.ErrMalformedBody, Detail: "the multipart body is malformed: " + err.Error()}
			}
			fail(err)
			return
		}
		name := part.FormName()
		if name == "file" {
			if seenFile {
				fail(&documents.InputError{Kind: documents.ErrInvalidField, Detail: "more than one file part; send one file per request"})
				return
			}
			seenFile = true
			if seen["from"] && seen["type"] && seen["subject"] {
				// The fields sent ahead of the file are checked first: a
				// wrong one refuses the upload before the file is read.
				if _, _, err := svc.CheckUpload(ctx, p, u); err != nil {
					fail(err)
					return
				}
			}
			if stored, err = s.Docs.StoreFile(ctx, part, part.FileName()); err != nil {
				fail(bodyError(err, s.Docs.MaxUpload))
				return
			}
			continue
		}
		dst, ok := fields[name]
		limit := int64(fieldLimit)
		if !ok {
			dst = new(string)
		}
		b, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			fail(bodyError(err, s.Docs.MaxUpload))
			return
		}
		if int64(len(b)) > limit {
			fail(&documents.InputError{Kind: documents.ErrInvalidField, Detail: name + " is too long"})
			return
		}
		*dst = string(b)
		seen[name] = true
	}
	if !seenFile {
		fail(&documents.InputError{Kind: documents.ErrMissingFile, Detail: "the upload has no part named file"})
		return
	}
	it, err := svc.Receive(ctx, p, u, stored)
	if err != nil {
		writeReceptionError(w, r, err) // Receive discarded the file
		return
	}
	created(w, "/api/v1/reception/"+it.ID, it)
}

// incomingEntries answers an incoming register's entries (GET
// /registers/{id}/entries for a register of kind incoming): JSON, or the
// printable book with the incoming columns.
func (s *Server) incomingEntries(w http.ResponseWriter, r *http.Request, reg storage.Register, year int, format string) {
	es, err := s.reception().Entries(r.Context(), principalFrom(r.Context()), reg, year)
	if err != nil {
		writeRegisterError(w, r, err)
		return
	}
	if format == "xlsx" || format == "pdf" {
		org, err := storage.GetOrganization(r.Context(), s.DB.Pool, reg.OrganizationID)
		if err != nil {
			writeRegisterError(w, r, fmt.Errorf("register book: %w", err))
			return
		}
		b := book.Book{Organization: org.Name, Register: reg.Name, Code: reg.Code, Year: year, Columns: book.IncomingColumns,
			Widths: book.IncomingWidths, Rows: make([][]string, 0, len(es))}
		for i, e := range es {
			if i == 0 {
				b.FromNumber = e.ArrivalNumber
			}
			b.ToNumber = e.ArrivalNumber
			b.Rows = append(b.Rows, e.Cells())
		}
		s.writeBook(w, r, reg, year, b, format)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"register": reg, "year": year, "columns": reception.Columns, "entries": es})
}
