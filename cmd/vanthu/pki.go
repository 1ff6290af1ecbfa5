package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
)

// The development PKI: `vanthu pki init` creates the hierarchy, `vanthu pki
// serve` runs its OCSP, CRL and TSA responders so demos and local signing
// behave like production against a real CA.
func init() {
	pki := &cobra.Command{
		Use:   "pki",
		Short: "Development PKI: a test CA hierarchy with OCSP, CRL and timestamp responders",
	}

	var baseURL string
	var ecdsa bool
	initCmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Create a development PKI in DIR (root and issuing CA, officials, seal, TSA, OCSP responder)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := devpki.Init(dir, baseURL, devpki.Options{ECDSA: ecdsa}); err != nil {
				return err
			}
			if err := writeDemoImages(dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), `development PKI created in %[1]s
trust anchor: %[1]s/root-ca.pem
.p12 password: %[1]s/p12-password
demo images: %[1]s/signature.png (the official's handwritten signature), %[1]s/seal.png (the organisation's seal)
serve it with: vanthu pki serve %[1]s
sign with: vanthu sign --key %[1]s/official.p12 --password-file %[1]s/p12-password --visible --anchor TEXT --image %[1]s/signature.png IN.pdf OUT.pdf
seal with: vanthu sign --key %[1]s/seal.p12 --password-file %[1]s/p12-password --seal %[1]s/seal.png --number N --date YYYY-MM-DD IN.pdf OUT.pdf
`, dir)
			return nil
		},
	}
	initCmd.Flags().StringVar(&baseURL, "url", envOr("VANTHU_PKI_URL", "http://127.0.0.1:8099"), "base URL the responders will be served at (written into the certificates)")
	initCmd.Flags().BoolVar(&ecdsa, "ecdsa", true, "also create official-ec.p12, an ECDSA P-256 signer")

	var addr string
	serveCmd := &cobra.Command{
		Use:   "serve DIR",
		Short: "Serve the OCSP (/ocsp), CRL (/crl/…), TSA (/tsa) and CA certificate (/ca/…) responders of the PKI in DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := devpki.Load(args[0])
			if err != nil {
				return err
			}
			listen := addr
			if listen == "" {
				u, err := url.Parse(p.URL())
				if err != nil {
					return fmt.Errorf("PKI base URL: %w", err)
				}
				listen = u.Host
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return servePKI(ctx, p, listen)
		},
	}
	serveCmd.Flags().StringVar(&addr, "addr", envOr("VANTHU_PKI_ADDR", ""), "listen address (default: the host:port of the PKI's base URL)")

	revokeCmd := &cobra.Command{
		Use:   "revoke DIR NAME",
		Short: "Revoke an identity of the PKI (official, deputy, seal, tsa, …); a running server must be restarted to see it",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := devpki.Load(args[0])
			if err != nil {
				return err
			}
			return p.Revoke(args[1])
		},
	}

	pki.AddCommand(initCmd, serveCmd, revokeCmd)
	rootCmd.AddCommand(pki)
}

// Demo images written by `pki init` next to the keys, so visible signatures
// work out of the box.
const (
	demoSignatureFile = "signature.png"
	demoSealFile      = "seal.png"
)

// writeDemoImages draws the official's handwritten-looking signature and the
// organisation's red seal (transparent PNGs) into dir, using the names in the
// PKI's certificates.
func writeDemoImages(dir string) error {
	p, err := devpki.Load(dir)
	if err != nil {
		return err
	}
	official, err := p.Cert(devpki.Official)
	if err != nil {
		return err
	}
	seal, err := p.Cert(devpki.Seal)
	if err != nil {
		return err
	}
	org := seal.Subject.CommonName
	if len(seal.Subject.Organization) > 0 {
		org = seal.Subject.Organization[0]
	}
	for _, img := range []struct {
		name string
		img  image.Image
	}{
		{demoSignatureFile, appearance.DemoSignature(official.Subject.CommonName)},
		{demoSealFile, appearance.DemoSeal(org)},
	} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img.img); err != nil {
			return fmt.Errorf("pki init: %s: %w", img.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, img.name), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("pki init: %w", err)
		}
	}
	return nil
}

// servePKI serves p's responders on addr until ctx ends, then shuts down
// gracefully.
func servePKI(ctx context.Context, p *devpki.PKI, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("pki serve: %w", err)}
	}
	srv := &http.Server{
		Handler:           logRequests(p.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
	}
	slog.Info("development PKI responders", "addr", ln.Addr().String(), "base_url", p.URL(), "dir", p.Dir())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("pki serve: %w", err)
	case <-ctx.Done():
	}
	slog.Info("development PKI shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("pki serve: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("pki serve: %w", err)
	}
	return nil
}

// statusRecorder remembers the status and size of a response for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		path := r.URL.Path
		if len(path) > 64 {
			// OCSP GET paths carry the whole request; the prefix says enough.
			path = path[:64] + "…"
		}
		slog.InfoContext(r.Context(), "pki request", "method", r.Method, "path", path,
			"status", rec.status, "bytes", rec.bytes, "duration", time.Since(start).Round(time.Microsecond), "remote", r.RemoteAddr)
	})
}
