package register

import (
	"context"
	"fmt"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// maxQueue bounds the issuing queue one request lists.
const maxQueue = 500

// Queue is the văn thư's queue of documents awaiting issue (signed, not yet
// numbered) in the clerk's organisation: Hỏa tốc, Thượng khẩn and Khẩn
// first, as Decree 30 asks urgent documents to be issued at once, then the
// others; within an urgency, the earliest signed first (issued the same
// day, at the latest the next working day).
func (s *Service) Queue(ctx context.Context, p accounts.Principal) ([]storage.AwaitingIssue, error) {
	if p.OrganizationID == "" || !p.Has(storage.RoleClerk) {
		return nil, fmt.Errorf("%w: the issuing queue is the organisation's clerks' (văn thư)", accounts.ErrForbidden)
	}
	q, err := storage.ListAwaitingIssue(ctx, s.DB.Pool, p.OrganizationID, maxQueue)
	if err != nil {
		return nil, err
	}
	if q == nil {
		q = []storage.AwaitingIssue{}
	}
	return q, nil
}
