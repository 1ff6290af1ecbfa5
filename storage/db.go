package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/vanthu/vanthu/storage/migrations"
)

// DB is the service's connection pool.
type DB struct{ Pool *pgxpool.Pool }

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, url string) (*DB, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// Close releases the pool.
func (db *DB) Close() { db.Pool.Close() }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// Migrate applies every embedded migration not applied yet.
func Migrate(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sqlDB := stdlib.OpenDB(*cfg)
	defer sqlDB.Close()
	if err := migrate(ctx, sqlDB); err != nil {
		return err
	}
	return migrateRiver(ctx, url)
}

func migrate(ctx context.Context, sqlDB *sql.DB) error {
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// InTx runs fn in a transaction, committing when it returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.Pool, fn)
}

// LockBlob serialises, for one blob key, committing a row that references it
// against deleting it as an orphan, so a concurrent upload of the same bytes
// never ends up pointing at a deleted object.
func LockBlob(ctx context.Context, tx pgx.Tx, key string) error {
	_, err := tx.Exec(ctx, lockBlobSQL, "blob:"+key)
	return err
}

const lockBlobSQL = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"

// BlobReferenced reports whether any row points at the blob.
func BlobReferenced(ctx context.Context, q Querier, key string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM document_versions WHERE blob_key = $1)
		OR EXISTS (SELECT 1 FROM arrivals WHERE blob_key = $1)
		OR EXISTS (SELECT 1 FROM certifications WHERE scan_blob_key = $1)
		OR EXISTS (SELECT 1 FROM certifications WHERE receipt_blob_key = $1)
		OR EXISTS (SELECT 1 FROM certified_copies WHERE blob_key = $1)
		OR EXISTS (SELECT 1 FROM staged_blobs WHERE base_key = $1)
		OR EXISTS (SELECT 1 FROM staged_blobs WHERE key = $1)`, key).Scan(&ok)
	return ok, err
}

// Querier is what pgxpool.Pool and pgx.Tx have in common.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
