package copies

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
)

// Info is what a document's page says about copies: what the document
// copies (when it is a copy), and the copies made of it.
type Info struct {
	// Form is the document's own form of copy ("" when it is no copy).
	Form string
	// OriginalID is the copied document ("" for a paper original, which
	// OriginalText describes); OriginalSubject and OriginalNumber name it
	// when p may see it.
	OriginalID, OriginalSubject, OriginalNumber string
	OriginalVersion                             int
	OriginalText                                string
	Pages                                       []int
	// Copies are the copies made of the document that p may see.
	Copies []Made
}

// Made is one copy made of a document.
type Made struct {
	ID, Form, Number string
}

// Of says what document id copies and which copies were made of it, for
// someone who may read it.
func (s *Service) Of(ctx context.Context, p accounts.Principal, id string) (Info, error) {
	if _, err := s.Docs.Get(ctx, p, id); err != nil {
		return Info{}, err
	}
	var in Info
	var origID *string
	var origVersion *int
	err := s.DB.Pool.QueryRow(ctx, `SELECT form, original_id::text, original_version, pages, original_text FROM document_copies WHERE document_id = $1`, id).
		Scan(&in.Form, &origID, &origVersion, &in.Pages, &in.OriginalText)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Info{}, fmt.Errorf("copy of %s: %w", id, err)
	}
	if origID != nil {
		in.OriginalID = *origID
		if origVersion != nil {
			in.OriginalVersion = *origVersion
		}
		// The original is named only to whoever may read it.
		if d, err := s.Docs.Get(ctx, p, in.OriginalID); err == nil {
			in.OriginalSubject = d.Subject
			if d.Number != nil {
				in.OriginalNumber = *d.Number
			}
		}
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT c.document_id::text, c.form FROM document_copies c JOIN documents d ON d.id = c.document_id
		WHERE c.original_id = $1 ORDER BY d.created_at`, id)
	if err != nil {
		return Info{}, fmt.Errorf("copies of %s: %w", id, err)
	}
	made, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Made, error) {
		var m Made
		return m, r.Scan(&m.ID, &m.Form)
	})
	if err != nil {
		return Info{}, fmt.Errorf("copies of %s: %w", id, err)
	}
	for _, m := range made {
		d, err := s.Docs.Get(ctx, p, m.ID)
		if err != nil {
			continue // not p's to see
		}
		if d.Number != nil {
			m.Number = *d.Number
		}
		in.Copies = append(in.Copies, m)
	}
	return in, nil
}
