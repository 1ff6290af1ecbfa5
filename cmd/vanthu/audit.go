package main

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/storage"
)

// auditFlags say which database holds the audit log.
type auditFlags struct {
	dataDir, databaseURL string
}

func (f *auditFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", envOr("VANTHU_DATA_DIR", "./var"), "data directory of the embedded database (VANTHU_DATA_DIR)")
	fl.StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL instead of the data directory; prefer VANTHU_DATABASE_URL, which no process list shows")
}

// open connects to the audit log's database: the URL given, else the
// embedded database of the data directory, through the URL a running serve
// wrote there, or by starting it.
func (f *auditFlags) open(ctx context.Context) (*storage.DB, func(), error) {
	url := f.databaseURL
	if url == "" {
		url = os.Getenv("VANTHU_DATABASE_URL")
	}
	stop := func() {}
	if url == "" {
		if _, err := os.Stat(filepath.Join(f.dataDir, "pg")); err != nil {
			return nil, nil, fmt.Errorf("no embedded database in %s (give --data-dir or --database-url)", f.dataDir)
		}
		url = runningDatabase(ctx, f.dataDir)
		if url == "" {
			cfg := serviceConfig{dataDir: f.dataDir}
			var err error
			if url, stop, err = cfg.openDatabase(ctx); err != nil {
				return nil, nil, err
			}
		}
	}
	db, err := storage.Open(ctx, url)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return db, func() { db.Close(); stop() }, nil
}

// runningDatabase returns the URL in <dataDir>/database-url when a running
// serve's embedded database answers on it, else "".
func runningDatabase(ctx context.Context, dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, "database-url"))
	if err != nil {
		return ""
	}
	url := strings.TrimSpace(string(b))
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, url)
	if err != nil {
		return ""
	}
	conn.Close(ctx)
	return url
}

func init() { rootCmd.AddCommand(newAuditCmd()) }

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check and export the tamper-evident audit log",
	}
	cmd.AddCommand(newAuditVerifyCmd(), newAuditExportCmd())
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	var f auditFlags
	var roots string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain and its TSA anchors",
		Long: `Walks the audit log's hash chain from its first entry and checks every RFC 3161
timestamp (anchor) of its head. Exits 0 when the log is intact, 1 naming the
first entry that was edited, deleted or reordered (or whose anchor does not
hold), 2 when the check could not be made.

Without --tsa-roots an anchor is checked against the TSA certificate it
carries; name the TSA's root to also require that it is the expected TSA.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts audit.VerifyOptions
			if roots != "" {
				pool, err := loadCertPool(roots)
				if err != nil {
					return &exitError{2, fmt.Errorf("audit verify: --tsa-roots: %w", err)}
				}
				opts.TSARoots = pool
			}
			db, closeDB, err := f.open(cmd.Context())
			if err != nil {
				return &exitError{2, fmt.Errorf("audit verify: %w", err)}
			}
			defer closeDB()
			r, err := audit.VerifyWith(cmd.Context(), db.Pool, opts)
			if err != nil {
				return &exitError{2, fmt.Errorf("audit verify: %w", err)}
			}
			out := cmd.OutOrStdout()
			if r.Break != nil {
				fmt.Fprintf(out, "audit log BROKEN: %v\n", r.Break)
				fmt.Fprintf(out, "%d entries before it are intact\n", r.Entries)
				return &exitError{1, fmt.Errorf("audit verify: %w", r.Break)}
			}
			fmt.Fprintf(out, "audit log intact: %d entries checked", r.Entries)
			if len(r.Head) > 0 {
				fmt.Fprintf(out, ", head %s", hex.EncodeToString(r.Head))
			}
			fmt.Fprintf(out, "\n%d anchors checked", r.Anchors)
			if r.Anchors > 0 {
				fmt.Fprintf(out, ", the latest timestamps entry %d at %s", r.Anchored, r.AnchoredAt.Format(time.RFC3339))
				if n := r.Entries - r.Anchored; n > 0 {
					fmt.Fprintf(out, " (%d entries since are not anchored yet)", n)
				}
			}
			fmt.Fprintln(out)
			for _, t := range r.TSAs {
				fmt.Fprintf(out, "anchors signed by %s\n", t)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&roots, "tsa-roots", envOr("VANTHU_AUDIT_TSA_ROOTS", ""), "PEM file of the TSA's trusted root certificates (VANTHU_AUDIT_TSA_ROOTS)")
	return cmd
}

func newAuditExportCmd() *cobra.Command {
	var f auditFlags
	var since, outPath string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the audit log as JSON lines",
		Long: `Writes audit entries as JSON lines, one entry each, in chain order, with their
hashes, so the export can be checked on its own. --since SEQ exports the
entries after entry SEQ (continue from the last one exported); --since TIME
(RFC 3339, or a date YYYY-MM-DD) the entries from TIME on.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, err := parseSince(since)
			if err != nil {
				return &exitError{2, fmt.Errorf("audit export: %w", err)}
			}
			db, closeDB, err := f.open(cmd.Context())
			if err != nil {
				return fmt.Errorf("audit export: %w", err)
			}
			defer closeDB()
			var w io.Writer = cmd.OutOrStdout()
			var file *os.File
			if outPath != "" && outPath != "-" {
				if file, err = os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
					return fmt.Errorf("audit export: %w", err)
				}
				w = file
			}
			n, err := audit.Export(cmd.Context(), db.Pool, w, filter)
			if file != nil {
				if cerr := file.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(outPath)
				}
			}
			if err != nil {
				return fmt.Errorf("audit export: %w", err)
			}
			if file != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "exported %d audit entries to %s\n", n, outPath)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&since, "since", "", "export after entry SEQ, or from TIME (RFC 3339 or YYYY-MM-DD)")
	cmd.Flags().StringVarP(&outPath, "out", "o", "", "write to FILE instead of standard output")
	return cmd
}

// parseSince reads --since: a sequence number or a time.
func parseSince(s string) (audit.ExportFilter, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return audit.ExportFilter{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return audit.ExportFilter{AfterSeq: n}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return audit.ExportFilter{Since: t}, nil
		}
	}
	return audit.ExportFilter{}, fmt.Errorf("--since %q is neither an entry number nor a time (RFC 3339 or YYYY-MM-DD)", s)
}

// loadCertPool reads the PEM certificates of path.
func loadCertPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New(path + ": no PEM certificates")
	}
	return pool, nil
}
