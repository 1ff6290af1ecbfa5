package register

import (
	"context"
	"fmt"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/storage"
)

// Delivery is one recipient of an issued document and where its delivery
// stands: sent at issuing, then what the receiver does with it.
type Delivery struct {
	Recipient      string    `json:"recipient"`
	OrganizationID string    `json:"organization_id,omitempty"`
	Email          string    `json:"email,omitempty"`
	Channel        string    `json:"channel"`
	Status         string    `json:"status"`
	At             time.Time `json:"at"`
	Reason         string    `json:"reason,omitempty"`
}

// Deliveries lists a document's deliveries to whoever may see the document
// (the lookup of documents.Service.Get). The issuing organisation sees every
// delivery; a receiving organisation sees only what was delivered to it,
// not the other recipients.
func (s *Service) Deliveries(ctx context.Context, p accounts.Principal, documentID string) ([]Delivery, error) {
	d, err := s.Docs.Get(ctx, p, documentID)
	if err != nil {
		return nil, err
	}
	if !p.Member(d.OrganizationID) && p.OrganizationID == "" {
		return []Delivery{}, nil // no organisation: nothing was delivered to it
	}
	only := ""
	if !p.Member(d.OrganizationID) {
		only = p.OrganizationID
	}
	rows, err := storage.ListDeliveries(ctx, s.DB.Pool, d.ID, only)
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", d.ID, err)
	}
	out := make([]Delivery, 0, len(rows))
	for _, r := range rows {
		out = append(out, Delivery{Recipient: r.Recipient, OrganizationID: r.OrganizationID, Email: r.Email,
			Channel: r.Channel, Status: r.Status, At: r.At.In(Vietnam), Reason: r.Reason})
	}
	return out, nil
}
