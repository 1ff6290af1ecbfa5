// Package migrations embeds the SQL schema migrations, applied in order by goose.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
