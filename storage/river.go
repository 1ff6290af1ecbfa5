package storage

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// riverMigrationLock is the advisory lock that serialises two processes
// bringing River's tables up to date on the same database at once.
const riverMigrationLock = 0x76616e74687500 // "vanthu\0"

// migrateRiver brings the job queue's tables (River's, in the same schema
// as ours) up to date after our own migrations, so that one `vanthu
// migrate` or start of `vanthu serve` prepares everything. River versions
// its schema itself; its migrations are applied through its own migrator
// rather than copied into ours, so a River upgrade brings its schema
// changes with it. Each of its versions commits on its own (some add enum
// values, which PostgreSQL will not use in the transaction that added
// them), under a session lock held on a connection of its own.
func migrateRiver(ctx context.Context, url string) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	defer pool.Close()
	lock, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	defer lock.Release()
	if _, err := lock.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(riverMigrationLock)); err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	defer lock.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(riverMigrationLock)) //nolint:errcheck // the session ends anyway
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.Default()})
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	return nil
}
