package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
)

// notifyConfig is the SMTP server and the reminders of the notifications
// engine. The SMTP password comes from the environment only.
type notifyConfig struct {
	mail          notify.MailConfig
	reminderEvery time.Duration
	escalateAfter int
}

func (c *notifyConfig) flags(f *pflag.FlagSet) {
	f.StringVar(&c.mail.Addr, "smtp-addr", envOr("VANTHU_SMTP_ADDR", ""), "SMTP server host:port for notification e-mail and e-mail delivery of issued documents; empty: e-mail waits queued (VANTHU_SMTP_ADDR)")
	f.StringVar(&c.mail.From, "smtp-from", envOr("VANTHU_SMTP_FROM", ""), "sender address of the service's e-mail (VANTHU_SMTP_FROM)")
	f.BoolVar(&c.mail.StartTLS, "smtp-starttls", envOr("VANTHU_SMTP_STARTTLS", "") == "true", "upgrade SMTP connections with STARTTLS (VANTHU_SMTP_STARTTLS)")
	f.StringVar(&c.mail.Username, "smtp-user", envOr("VANTHU_SMTP_USER", ""), "SMTP user name; its password is read from VANTHU_SMTP_PASSWORD only (VANTHU_SMTP_USER)")
	f.DurationVar(&c.reminderEvery, "reminder-interval", durationEnv("VANTHU_REMINDER_INTERVAL", 15*time.Minute), "how often deadlines are scanned for reminders; each item is reminded once per working day (VANTHU_REMINDER_INTERVAL)")
	f.IntVar(&c.escalateAfter, "reminder-escalate-after", int(int64Env("VANTHU_REMINDER_ESCALATE_AFTER", 2)), "overdue working days after which the unit head is reminded too (VANTHU_REMINDER_ESCALATE_AFTER)")
	c.mail.Password = os.Getenv("VANTHU_SMTP_PASSWORD")
}

// start builds the engine and runs its jobs; stop waits for running jobs
// (up to 20 s) and stops.
func (c *notifyConfig) start(ctx context.Context, db *storage.DB, blobs blob.Store) (*notify.Engine, func(), error) {
	if err := c.mail.Validate(); err != nil {
		return nil, nil, err
	}
	engine, err := notify.New(db, notify.Config{Mail: c.mail, Blobs: blobs, Deadlines: []notify.Deadlines{notify.ChainDeadlines{}, notify.HandlingDeadlines{}},
		ReminderEvery: c.reminderEvery, EscalateAfter: c.escalateAfter})
	if err != nil {
		return nil, nil, err
	}
	// Not the signal context: cancelling it would cancel running jobs at
	// once; stop lets them finish first.
	if err := engine.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, nil, err
	}
	slog.Info("jobs started", "smtp", c.mail.String())
	return engine, func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := engine.Stop(stopCtx); err != nil {
			slog.Warn("jobs stopped uncleanly", "err", err)
		}
	}, nil
}
