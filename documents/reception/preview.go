package reception

import (
	"context"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// NumberPreview is the số đến registering an arrival now would give: read,
// never reserved (another registration first takes it, and this one then
// gets the next).
type NumberPreview struct {
	Register storage.Register `json:"register"`
	Year     int              `json:"year"`
	Number   int              `json:"number"`
}

// PreviewNumber shows p's organisation's clerk the số đến the next
// registration takes in the default incoming register.
func (s *Service) PreviewNumber(ctx context.Context, p accounts.Principal) (NumberPreview, error) {
	if err := clerkOf(p, p.OrganizationID, false); err != nil {
		return NumberPreview{}, err
	}
	reg, err := defaultIncoming(ctx, s.DB.Pool, p.OrganizationID)
	if err != nil {
		return NumberPreview{}, err
	}
	year := s.now().In(Vietnam).Year()
	last, err := storage.LastRegisterNumber(ctx, s.DB.Pool, reg.ID, year)
	if err != nil {
		return NumberPreview{}, err
	}
	return NumberPreview{Register: reg, Year: year, Number: last + 1}, nil
}
