package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/metrics"
	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/cache"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
	"github.com/vanthu/vanthu/storage/blob/s3"
	"github.com/vanthu/vanthu/storage/blob/staged"
	"github.com/vanthu/vanthu/storage/pgembed"
	"github.com/vanthu/vanthu/web"
)

// serviceConfig is where the service keeps its data and what it connects to.
type serviceConfig struct {
	dataDir       string
	databaseURL   string
	migrateURL    string // the schema owner, for migrations; empty: databaseURL
	publicURL     string // the address QR codes carry
	s3            s3.Config
	retention     time.Duration
	maxUpload     int64
	blobCacheMB   int64 // in-memory cache of blobs read and written, in MiB; 0: none
	sweepInterval time.Duration
	sweepGrace    time.Duration
	tsaURL        string        // RFC 3161 TSA that anchors the audit log; empty: none
	signingTSAURL string        // RFC 3161 TSA of the service's B-T signatures; empty: tsaURL
	anchorEvery   time.Duration // how often the audit log's head is timestamped
	verifyOffline bool          // verification uses only revocation data embedded in the files
	verifyBudget  int64         // decoded stream data one verification may hold
	verifyShared  int64         // decoded stream data all verifications together may hold
	proxies       []string      // reverse proxies whose X-Forwarded-For is believed
	metricsAddr   string        // where /metrics is served; empty: nowhere
	accounts      accountsConfig
	oidc          oidcConfig
	notify        notifyConfig
	demo          bool // create and run the demo office (demo.go)
}

func (c *serviceConfig) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.dataDir, "data-dir", envOr("VANTHU_DATA_DIR", "./var"), "directory for the embedded database, local blobs, database-url and admin-token (VANTHU_DATA_DIR)")
	f.StringVar(&c.databaseURL, "database-url", "", "PostgreSQL URL; empty runs a private PostgreSQL in the data directory (VANTHU_DATABASE_URL)")
	f.StringVar(&c.s3.Endpoint, "s3-endpoint", envOr("VANTHU_S3_ENDPOINT", ""), "MinIO/S3 endpoint host:port; empty keeps blobs on local disk (VANTHU_S3_ENDPOINT)")
	f.StringVar(&c.s3.Bucket, "s3-bucket", envOr("VANTHU_S3_BUCKET", "vanthu"), "bucket, created with object lock when missing (VANTHU_S3_BUCKET)")
	f.BoolVar(&c.s3.UseSSL, "s3-tls", envOr("VANTHU_S3_TLS", "") == "true", "connect to the object store over TLS (VANTHU_S3_TLS)")
	f.StringVar(&c.s3.RetentionMode, "retention-mode", envOr("VANTHU_RETENTION_MODE", "GOVERNANCE"), "object-lock mode for signed versions: GOVERNANCE or COMPLIANCE (VANTHU_RETENTION_MODE)")
	f.DurationVar(&c.retention, "retention", durationEnv("VANTHU_RETENTION", 10*365*24*time.Hour), "how long signed versions are locked against deletion (VANTHU_RETENTION)")
	f.Int64Var(&c.s3.BufferMemory, "upload-memory", int64Env("VANTHU_UPLOAD_MEMORY", 64<<20), "bytes of uploads in flight to MinIO held in memory, all together (one upload at most half); beyond, they go to <data-dir>/spool; -1: always the spool (VANTHU_UPLOAD_MEMORY)")
	f.Int64Var(&c.maxUpload, "max-upload", int64Env("VANTHU_MAX_UPLOAD", 200<<20), "largest accepted file in bytes (VANTHU_MAX_UPLOAD)")
	f.Int64Var(&c.blobCacheMB, "blob-cache-mb", int64Env("VANTHU_BLOB_CACHE_MB", cache.DefaultBudget>>20), "MiB of document bytes kept in memory after a read or a signature, for the next view, verification, signature or issue (a blob up to 32 MiB); 0: no cache (VANTHU_BLOB_CACHE_MB)")
	f.DurationVar(&c.sweepInterval, "sweep-interval", durationEnv("VANTHU_SWEEP_INTERVAL", time.Hour), "how often unreferenced blobs are swept (VANTHU_SWEEP_INTERVAL)")
	f.DurationVar(&c.sweepGrace, "sweep-grace", durationEnv("VANTHU_SWEEP_GRACE", 24*time.Hour), "age before an unreferenced blob is removed (VANTHU_SWEEP_GRACE)")
	// Secrets come from the environment only, so they never show in a process list.
	c.databaseURL = os.Getenv("VANTHU_DATABASE_URL")
	c.migrateURL = os.Getenv("VANTHU_MIGRATE_DATABASE_URL")
	c.s3.AccessKey = os.Getenv("VANTHU_S3_ACCESS_KEY")
	c.s3.SecretKey = os.Getenv("VANTHU_S3_SECRET_KEY")
}

func durationEnv(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func int64Env(name string, def int64) int64 {
	if n, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return n
	}
	return def
}

// openDatabase connects to the configured database, or starts the embedded
// one, and brings its schema up to date; it returns the URL the service
// runs with, and stop releases whatever was started. The embedded database
// is migrated as the cluster's superuser and used as storage.ServiceRole,
// which may only read and append the audit log; that URL is written to
// <data-dir>/database-url. An external database is migrated through
// VANTHU_MIGRATE_DATABASE_URL when set, else VANTHU_DATABASE_URL.
func (c *serviceConfig) openDatabase(ctx context.Context) (url string, stop func(), err error) {
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return "", nil, fmt.Errorf("data dir: %w", err)
	}
	if c.databaseURL != "" {
		if err := storage.Migrate(ctx, cmp.Or(c.migrateURL, c.databaseURL)); err != nil {
			return "", nil, err
		}
		return c.databaseURL, func() {}, nil
	}
	srv, err := startEmbedded(ctx, c.dataDir)
	if err != nil {
		return "", nil, err
	}
	if url, err = migrateEmbedded(ctx, srv.URL()); err != nil {
		srv.Stop()
		return "", nil, err
	}
	if err := writeSecretFile(filepath.Join(c.dataDir, "database-url"), url+"\n"); err != nil {
		srv.Stop()
		return "", nil, err
	}
	// A database that dies (killed, out of memory) is restarted with
	// backoff; meanwhile the API answers 503 and recovers by itself.
	superviseCtx, cancel := context.WithCancel(context.Background())
	supervised := make(chan struct{})
	go func() {
		defer close(supervised)
		srv.Supervise(superviseCtx)
	}()
	return url, func() {
		cancel()
		<-supervised
		srv.Stop()
	}, nil
}

// startEmbedded starts the private PostgreSQL of a data directory.
func startEmbedded(ctx context.Context, dataDir string) (*pgembed.Server, error) {
	return pgembed.Start(ctx, filepath.Join(dataDir, "pg"), "vanthu")
}

// migrateEmbedded migrates the embedded database as the cluster's superuser
// and returns the URL of the service's role (the cluster trusts local
// connections, so it needs no password). A cluster without that role (its
// schema predates it) keeps running as the superuser, with a warning.
func migrateEmbedded(ctx context.Context, superURL string) (string, error) {
	if err := storage.Migrate(ctx, superURL); err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return "", fmt.Errorf("database: %w", err)
	}
	defer conn.Close(ctx)
	ok, err := storage.RoleExists(ctx, conn, storage.ServiceRole)
	if err != nil {
		return "", err
	}
	if !ok {
		slog.Warn("embedded database has no service role; running as its superuser", "role", storage.ServiceRole)
		return superURL, nil
	}
	return storage.RoleURL(superURL, storage.ServiceRole)
}

func (c *serviceConfig) openBlobs(ctx context.Context) (blob.Store, error) {
	if c.s3.Endpoint == "" {
		return localdisk.New(filepath.Join(c.dataDir, "blobs"))
	}
	// Uploads are spooled on the data volume, not in a tmpfs /tmp that
	// would hold 200 MB files in memory; a killed process's leftovers there
	// are removed by the sweeper.
	cfg := c.s3
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(c.dataDir, "spool")
		if err := os.MkdirAll(cfg.SpoolDir, 0o700); err != nil {
			return nil, fmt.Errorf("spool dir: %w", err)
		}
	}
	return s3.New(ctx, cfg)
}

func init() {
	var cfg serviceConfig
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP service",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cmd, &cfg, addr)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", envOr("VANTHU_ADDR", "127.0.0.1:8080"), "listen address (VANTHU_ADDR)")
	cmd.Flags().StringVar(&cfg.metricsAddr, "metrics-addr", envOr("VANTHU_METRICS_ADDR", "127.0.0.1:9090"), "listen address of the Prometheus /metrics endpoint, apart from the API so it is never public; empty: none (VANTHU_METRICS_ADDR)")
	cmd.Flags().Bool("secure-cookies", envOr("VANTHU_SECURE_COOKIES", "") == "true", "mark the session cookie Secure on plain HTTP too, behind a proxy that terminates TLS (VANTHU_SECURE_COOKIES)")
	cmd.Flags().StringVar(&cfg.tsaURL, "tsa-url", envOr("VANTHU_TSA_URL", ""), "RFC 3161 timestamp authority; the audit log's head is timestamped by it (VANTHU_TSA_URL)")
	cmd.Flags().StringSliceVar(&cfg.proxies, "trusted-proxy", splitComma(os.Getenv("VANTHU_TRUSTED_PROXIES")), "address or CIDR of a reverse proxy whose X-Forwarded-For names the client, for login throttling and the audit log (repeatable or comma-separated; VANTHU_TRUSTED_PROXIES)")
	cmd.Flags().BoolVar(&cfg.verifyOffline, "verify-offline", envOr("VANTHU_VERIFY_OFFLINE", "") == "true", "verify with only the revocation data embedded in the files, never fetching OCSP or CRLs (VANTHU_VERIFY_OFFLINE)")
	cmd.Flags().Int64Var(&cfg.verifyBudget, "verify-budget", int64Env("VANTHU_VERIFY_BUDGET", pdf.DefaultBudget), "bytes of decoded stream data one verification may hold at once; beyond, its report says so and the checks that needed the data are INDETERMINATE (VANTHU_VERIFY_BUDGET)")
	cmd.Flags().Int64Var(&cfg.verifyShared, "verify-budget-total", int64Env("VANTHU_VERIFY_BUDGET_TOTAL", web.DefaultVerifyBudgetTotal), "bytes of decoded stream data all verifications together may hold at once (VANTHU_VERIFY_BUDGET_TOTAL)")
	cmd.Flags().StringVar(&cfg.signingTSAURL, "signing-tsa-url", envOr("VANTHU_SIGNING_TSA_URL", ""), "RFC 3161 timestamp authority of the signatures the service makes (B-T and up); empty: --tsa-url (VANTHU_SIGNING_TSA_URL)")
	cmd.Flags().DurationVar(&cfg.anchorEvery, "audit-anchor-interval", durationEnv("VANTHU_AUDIT_ANCHOR_INTERVAL", time.Hour), "how often the audit log's head is timestamped when it moved (VANTHU_AUDIT_ANCHOR_INTERVAL)")
	cmd.Flags().Int("max-conns-per-client", int(int64Env("VANTHU_MAX_CONNS_PER_CLIENT", int64(web.DefaultLimits.ConnsPerClient))), "connections one client address may hold at once; more are closed when accepted (trusted proxies exempt; raise it for many users behind one NAT address; 0: no limit) (VANTHU_MAX_CONNS_PER_CLIENT)")
	cmd.Flags().StringVar(&cfg.publicURL, "public-url", envOr("VANTHU_PUBLIC_URL", ""), "the service's address as the public reaches it, carried by the QR codes of copies (PUBLIC_URL/v/{code}); empty: http://<addr> (VANTHU_PUBLIC_URL)")
	cmd.Flags().BoolVar(&cfg.demo, "demo", false, "on the first start, create a demo office (two organisations, one user per role, keys from a development PKI served in the process); accounts in <data-dir>/demo-accounts")
	cfg.flags(cmd)
	cfg.accounts.flags(cmd.Flags())
	cfg.oidc.flags(cmd.Flags())
	cfg.notify.flags(cmd.Flags())
	rootCmd.AddCommand(cmd)
}

func serve(ctx context.Context, cmd *cobra.Command, cfg *serviceConfig, addr string) error {
	dbURL, stopDB, err := cfg.openDatabase(ctx)
	if err != nil {
		return err
	}
	defer stopDB()
	if cfg.demo {
		stopPKI, err := cfg.startDemoPKI(ctx)
		if err != nil {
			return err
		}
		defer stopPKI()
	}
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if can, err := audit.CanRewrite(ctx, db.Pool); err != nil {
		return err
	} else if can {
		slog.Warn("the service's database role can change or delete audit entries: run it as a role that may only read and append them, migrating through VANTHU_MIGRATE_DATABASE_URL",
			"role", storage.URLUser(dbURL))
	}
	if err := cfg.removeLeftovers(); err != nil {
		return err
	}
	tempDir, err := cfg.tempDir()
	if err != nil {
		return err
	}
	blobs, err := cfg.openBlobs(ctx)
	if err != nil {
		return err
	}
	blobs = metrics.Blobs(blobs)
	// Outside the metrics wrapper: vanthu_blob_operations_total counts
	// what reaches the store, the cache counts its own hits and misses.
	blobs = cache.New(blobs, cache.Options{Budget: cfg.blobCacheMB << 20, Hits: metrics.BlobCacheHits, Misses: metrics.BlobCacheMisses})
	// Outermost, so every read goes through it: a signature's or an
	// issue's update is written ahead into PostgreSQL and moved into the
	// store right after its commit (storage/blob/staged).
	// A local disk keeps every version whole: nothing is staged there.
	stagedOpts := staged.Options{}
	if cfg.s3.Endpoint == "" {
		stagedOpts.MaxTail = -1
	}
	stagedBlobs, err := staged.New(blobs, db.Pool, stagedOpts)
	if err != nil {
		return err
	}
	// Not the signal context: a move under way finishes at shutdown.
	if err := stagedBlobs.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stagedBlobs.Stop(stopCtx); err != nil {
			slog.Warn("blob mover stopped uncleanly", "err", err)
		}
	}()
	blobs = stagedBlobs
	if err := metrics.RegisterPool(db.Pool); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	tokenFile := filepath.Join(cfg.dataDir, "admin-token")
	created, err := bootstrapAdmin(ctx, db, tokenFile)
	if err != nil {
		return err
	}
	if cfg.tsaURL != "" {
		go audit.RunAnchorer(ctx, db, cfg.tsaURL, cfg.anchorEvery)
	}
	if cmp.Or(cfg.signingTSAURL, cfg.tsaURL) == "" {
		slog.Warn("no timestamp authority (--signing-tsa-url, --tsa-url): signing in the service is refused at B-T and above")
	}
	acct, err := cfg.accountsService(db)
	if err != nil {
		return err
	}
	// API tokens' principals are kept in memory while the database tells
	// every change to them; the listener's connection closes before the
	// pool does.
	tokensCtx, stopTokens := context.WithCancel(ctx)
	waitTokens := acct.StartTokenCache(tokensCtx)
	defer func() {
		stopTokens()
		waitTokens()
	}()
	trust, err := cfg.trustStore()
	if err != nil {
		return err
	}
	proxies, err := parsePrefixes(cfg.proxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxy: %w", err)
	}
	oidcClient, err := cfg.oidc.client(ctx)
	if err != nil {
		return err
	}
	if cfg.verifyBudget <= 0 || cfg.verifyShared < cfg.verifyBudget {
		return fmt.Errorf("--verify-budget must be positive and at most --verify-budget-total (%d, %d)", cfg.verifyBudget, cfg.verifyShared)
	}
	docs := &documents.Service{DB: db, Blobs: blobs, MaxUpload: cfg.maxUpload, Retention: cfg.retention}
	if cfg.demo {
		if err := cfg.seedDemo(ctx, db, acct, docs, cmd.OutOrStdout()); err != nil {
			return err
		}
	}
	go func() {
		// Sweep once at start: a killed predecessor may have left spool
		// files and unfinished multipart uploads.
		if n, err := blob.Sweep(ctx, docs.SweptBlobs(), docs.IsReferenced, cfg.sweepGrace); err != nil {
			slog.Warn("blob sweep failed", "err", err)
		} else if n > 0 {
			slog.Info("blob sweep removed leftovers", "count", n)
		}
		blob.RunSweeper(ctx, cfg.sweepInterval, docs.SweptBlobs(), docs.IsReferenced, cfg.sweepGrace)
	}()

	engine, stopNotify, err := cfg.notify.start(ctx, db, blobs)
	if err != nil {
		return err
	}
	defer stopNotify()

	secureCookies, _ := cmd.Flags().GetBool("secure-cookies")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Slow clients: header, body-rate and idle limits, and a cap on the
	// connections one address may hold (trusted proxies exempt).
	limits := web.DefaultLimits
	limits.ConnsPerClient, _ = cmd.Flags().GetInt("max-conns-per-client")
	ln = web.LimitListener(ln, limits.ConnsPerClient, proxies)
	server := &web.Server{DB: db, Blobs: blobs, Docs: docs, Accounts: acct, SecureCookies: secureCookies, OIDC: oidcClient, TrustedProxies: proxies, Pages: true,
		Verify: verify.Options{Trust: trust, Offline: cfg.verifyOffline, Budget: cfg.verifyBudget, SharedBudget: pdf.NewBudget(cfg.verifyShared)}, TempDir: tempDir, BodyLimits: limits,
		Signing: signingConfig(cmp.Or(cfg.signingTSAURL, cfg.tsaURL), trust, tempDir), Notify: engine,
		PublicURL: cmp.Or(cfg.publicURL, "http://"+addr), PublicVerdictTTL: publicverify.DefaultVerdictTTL}
	srv := web.NewHTTPServer(server.Handler(), limits)
	// Deliveries from other organisations arrive (verified, in the
	// receiver's queue) even while nobody lists the queue.
	go server.RunArrivals(ctx, 15*time.Second)
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "vanthu is serving on http://%s\n", ln.Addr())
	if created {
		fmt.Fprintf(out, "administrator created; its API token is in %s\n", tokenFile)
	} else if _, err := os.Stat(tokenFile); err == nil {
		fmt.Fprintf(out, "administrator API token: %s\n", tokenFile)
	}
	if cfg.databaseURL == "" {
		fmt.Fprintf(out, "database URL: %s\n", filepath.Join(cfg.dataDir, "database-url"))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if cfg.metricsAddr != "" {
		// Metrics are for watching the service, not part of it: an address
		// already taken (another instance on the host) is logged, and the
		// service runs on without them.
		if msrv, err := serveMetrics(cfg.metricsAddr); err != nil {
			slog.Error("metrics are not served", "addr", cfg.metricsAddr, "err", err)
		} else {
			defer msrv.Close()
			fmt.Fprintf(out, "metrics on http://%s/metrics\n", msrv.Addr)
		}
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// serveMetrics serves /metrics, and nothing else, on its own listener:
// the API's listener is the public one, this one stays on loopback or a
// monitoring network. Addr of the returned server is the bound address.
func serveMetrics(addr string) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	srv := &http.Server{Addr: ln.Addr().String(), Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics endpoint stopped", "err", err)
		}
	}()
	return srv, nil
}

// bootstrapAdmin creates the first administrator and its API token on a
// database without users, writing the token to tokenFile (0600) before the
// transaction commits so that a failed write leaves no unusable account.
func bootstrapAdmin(ctx context.Context, db *storage.DB, tokenFile string) (bool, error) {
	created := false
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE users IN EXCLUSIVE MODE"); err != nil {
			return err
		}
		n, err := storage.CountUsers(ctx, tx)
		if err != nil || n > 0 {
			return err
		}
		u, err := storage.CreateUser(ctx, tx, storage.User{Username: "admin", FullName: "Quản trị hệ thống", IsSuperadmin: true}, "")
		if err != nil {
			return err
		}
		token, err := newToken()
		if err != nil {
			return err
		}
		tok, err := storage.CreateToken(ctx, tx, u.ID, "bootstrap", token, nil, nil)
		if err != nil {
			return err
		}
		// The system acts here: no actor.
		if err := audit.Append(ctx, tx, audit.Event{Action: "user.create", Object: "user:" + u.ID,
			Details: map[string]any{"username": u.Username, "superadmin": true, "bootstrap": true}}); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, audit.Event{Action: "token.create", Object: "token:" + tok.ID,
			Details: map[string]any{"user": u.ID, "name": tok.Name, "scopes": tok.Scopes}}); err != nil {
			return err
		}
		created = true
		return writeSecretFile(tokenFile, token+"\n")
	})
	if err != nil {
		return false, fmt.Errorf("bootstrap administrator: %w", err)
	}
	return created, nil
}

// newToken returns a random API token; only its hash is stored.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "vt_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// writeSecretFile writes a file readable only by its owner, atomically.
func writeSecretFile(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func splitComma(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// parsePrefixes reads addresses (one host each) and CIDR prefixes.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range list {
		v = strings.TrimSpace(v)
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", v)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
