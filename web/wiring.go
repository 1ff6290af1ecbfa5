package web

import (
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/documents/scancheck"
	"github.com/vanthu/vanthu/events"
)

// wire joins the workflows where one's step is another's cause: a recall
// reaches the receivers' copies, and, with the notifications engine, every
// workflow's events are heard and e-mail deliveries are sent. What a test
// or a caller set already is kept.
func (s *Server) wire() {
	s.wireEvents()
	if s.Issuing.Recaller == nil {
		s.Issuing.Recaller = s.reception() // after wireEvents: it tells the receivers
	}
	if s.CheckScan == nil {
		s.CheckScan = func(pdf []byte) error { _, err := scancheck.Check(pdf); return err }
	}
}

func (s *Server) wireEvents() {
	if s.Notify == nil {
		return
	}
	var pub events.Publisher = s.Notify
	if s.Issuing.Events == nil {
		s.Issuing.Events = pub
	}
	if s.Issuing.Mailer == nil {
		s.Issuing.Mailer = register.DeliveryMailerFunc(s.Notify.EnqueueDeliveryEmail)
	}
	if s.Reception.Events == nil {
		s.Reception.Events = pub
	}
	if s.Certifying.Events == nil {
		s.Certifying.Events = pub
	}
	if s.Handling == nil {
		s.Handling = &handling.Service{DB: s.DB, Events: pub}
	}
	if s.Chain == nil {
		s.Chain = &chain.Service{DB: s.DB, Docs: s.Docs, Events: pub}
	}
}
