// Package storage owns PostgreSQL: the connection pool, the embedded schema
// migrations and the queries, one file per entity. Blob stores live in
// storage/blob.
package storage
