// Package notify owns what the workflow's events turn into once their
// transaction commits: in-app notifications with an unread count, e-mail
// through the configured SMTP server, signed webhooks per organisation,
// e-mail delivery of issued documents, and reminders of deadlines. It is
// the events.Publisher of the service.
//
// The work outside the database runs as River jobs on the same
// PostgreSQL: Publish and EnqueueDeliveryEmail insert them in the
// caller's transaction (so a job exists exactly when its cause
// committed), each job is unique by its arguments (so nothing is queued
// twice), they are retried with backoff and survive restarts.
//
// A busy workflow (the approval chain) queues its events into its own
// batch instead (Queue): its transaction records only the event, with the
// people it tells pending, and the engine's fan-out (FanOut) tells them
// after the commit, many events per transaction, exactly once (the event
// is marked told in the transaction that makes its notifications and
// jobs; a fan-out cut short leaves it pending for the next).
package notify
