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
package notify
