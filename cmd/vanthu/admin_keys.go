package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/storage"
)

type keyFlags struct {
	user, org                    string
	seal                         bool
	pkcs11, pkcs12, externalCert string
	chain                        string
	passwordFile                 string
	passwordStdin                bool
}

func (a *admin) keyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Signing keys bound to users, and organisations' seal keys", Args: cobra.NoArgs}
	var f keyFlags
	bind := &cobra.Command{
		Use:   "bind (--user an | --seal --org UBND) (--pkcs11 URI | --pkcs12 FILE --password-file F | --external-cert PEM) [--chain PEM] [--trust FILE|DIR ...]",
		Short: "Check a key's certificate and bind the key to a user, or as an organisation's seal",
		Long: `Bind a signing key after checking its certificate: valid now, a signing key
usage, matching the key, and chaining to a --trust anchor (VANTHU_TRUST).

  --pkcs11 URI          a key the service reaches on an HSM or token, by its
                        RFC 7512 URI. The PIN is checked now from the URI's
                        pin-source=file:… or VANTHU_PKCS11_PIN; the bound URI
                        keeps neither (serve takes the PIN from its own
                        --pkcs11-pin-file or VANTHU_PKCS11_PIN), and an
                        x-chain-file is read now and kept as certificates.
  --pkcs12 FILE         a key file sealed into the service's keystore
                        (<data-dir>/keystore-key or --keystore-key); its
                        password from --password-file or --password-stdin.
  --external-cert PEM   the certificate (then issuing CAs) of a key the user
                        holds on their own token and signs with in two steps.

--seal binds the organisation's seal key, which only its clerks may apply.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error { return e.bindKey(ctx, f) })
		},
	}
	fl := bind.Flags()
	fl.StringVar(&f.user, "user", "", "username of the key's holder")
	fl.BoolVar(&f.seal, "seal", false, "bind the organisation's seal key (with --org)")
	fl.StringVar(&f.org, "org", "", "organisation code (with --seal)")
	fl.StringVar(&f.pkcs11, "pkcs11", "", "pkcs11: URI of the key")
	fl.StringVar(&f.pkcs12, "pkcs12", "", "PKCS#12 file of the key")
	fl.StringVar(&f.externalCert, "external-cert", "", "PEM file: the external key's certificate, then issuing CAs")
	fl.StringVar(&f.chain, "chain", "", "PEM file of issuing CA certificates to keep with the key")
	fl.StringVar(&f.passwordFile, "password-file", "", "file holding the PKCS#12 password")
	fl.BoolVar(&f.passwordStdin, "password-stdin", false, "read the PKCS#12 password from stdin")
	var listUser, listOrg string
	list := &cobra.Command{
		Use:   "list (--user an | --org UBND)",
		Short: "List the keys bound to a user, or an organisation's seal keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (listUser == "") == (listOrg == "") {
				return usage("give --user or --org")
			}
			return a.run(cmd, func(ctx context.Context, e *adminEnv) error {
				var bs []storage.KeyBinding
				if listUser != "" {
					u, err := e.user(ctx, listUser)
					if err != nil {
						return err
					}
					if bs, err = e.svc.Keys(ctx, e.op, u.ID); err != nil {
						return err
					}
				} else {
					o, err := e.org(ctx, listOrg)
					if err != nil {
						return err
					}
					if bs, err = storage.ListKeyBindings(ctx, e.db.Pool, "", o.ID); err != nil {
						return err
					}
				}
				return e.printKeys(bs, bs)
			})
		},
	}
	list.Flags().StringVar(&listUser, "user", "", "username")
	list.Flags().StringVar(&listOrg, "org", "", "organisation code (its seal keys)")
	revoke := a.revokeCmd("key binding", func(ctx context.Context, e *adminEnv, id string) error { return e.svc.RevokeKey(ctx, e.op, id) })
	cmd.AddCommand(bind, list, revoke)
	return cmd
}

func (f keyFlags) check() error {
	n := 0
	for _, s := range []string{f.pkcs11, f.pkcs12, f.externalCert} {
		if s != "" {
			n++
		}
	}
	switch {
	case n != 1:
		return usage("give exactly one of --pkcs11, --pkcs12 and --external-cert")
	case f.seal && (f.org == "" || f.user != ""):
		return usage("--seal binds an organisation's key: give --org and no --user")
	case !f.seal && (f.user == "" || f.org != ""):
		return usage("give --user, or --seal with --org")
	case f.passwordFile != "" && f.passwordStdin:
		return usage("give --password-file or --password-stdin, not both")
	case (f.passwordFile != "" || f.passwordStdin) && f.pkcs12 == "":
		return usage("a password is only read for --pkcs12")
	case f.pkcs12 != "" && f.passwordFile == "" && !f.passwordStdin:
		return usage("--pkcs12 needs --password-file or --password-stdin")
	}
	return nil
}

func (e *adminEnv) bindKey(ctx context.Context, f keyFlags) error {
	var userID, orgID string
	if f.seal {
		o, err := e.org(ctx, f.org)
		if err != nil {
			return err
		}
		orgID = o.ID
	} else {
		u, err := e.user(ctx, f.user)
		if err != nil {
			return err
		}
		userID = u.ID
	}
	var m accounts.KeyMaterial
	if f.chain != "" {
		certs, err := readCertificates(f.chain)
		if err != nil {
			return fmt.Errorf("--chain: %w", err)
		}
		m.Certificates = certs
	}
	switch {
	case f.pkcs11 != "":
		uri, extra, err := e.operatorURI(f.pkcs11)
		if err != nil {
			return err
		}
		m.Kind, m.URI, m.Certificates = storage.KeyPKCS11, uri, append(m.Certificates, extra...)
	case f.pkcs12 != "":
		data, err := os.ReadFile(f.pkcs12)
		if err != nil {
			return fmt.Errorf("--pkcs12: %w", err)
		}
		pw, err := e.readSecret(f.passwordFile, f.passwordStdin)
		if err != nil {
			return fmt.Errorf("password: %w", err)
		}
		m.Kind, m.PKCS12, m.Password = storage.KeyPKCS12, data, pw
	default:
		certs, err := readCertificates(f.externalCert)
		if err != nil {
			return fmt.Errorf("--external-cert: %w", err)
		}
		m.Kind, m.Certificates = storage.KeyExternal, append(certs, m.Certificates...)
	}
	b, err := e.svc.BindKey(ctx, e.op, userID, orgID, m)
	if err != nil {
		return err
	}
	return e.printKeys([]storage.KeyBinding{b}, b)
}

// operatorURI turns the URI the operator typed into the one the service
// keeps. The operator may say what an API caller may not, since they run
// the server: their module-path is allowed for this binding, a pin-source
// supplies the PIN for the check now, and an x-chain-file is read now. The
// kept URI names neither file (BindKey refuses both): serve finds the PIN in
// its own configuration. A pin-value is refused, as a command line is
// visible to everyone on the machine.
func (e *adminEnv) operatorURI(uri string) (string, []*x509.Certificate, error) {
	u, err := keys.ParsePKCS11URI(uri)
	if err != nil {
		return "", nil, fmt.Errorf("--pkcs11: %w", err)
	}
	if u.PINValue != "" {
		return "", nil, usage("--pkcs11: the URI carries pin-value, and command lines are visible to everyone on the machine; use pin-source=file:… or VANTHU_PKCS11_PIN")
	}
	if u.ModulePath != "" && !slices.Contains(e.svc.PKCS11Modules, u.ModulePath) {
		e.svc.PKCS11Modules = append(e.svc.PKCS11Modules, u.ModulePath)
	}
	if u.PINSource != "" {
		// keys reads the PIN from the URI's pin-source; it is used for the
		// check through a URI of the same key that says nothing else.
		path := strings.TrimPrefix(strings.TrimPrefix(u.PINSource, "file:"), "//")
		if !strings.HasPrefix(path, "/") && strings.HasPrefix(u.PINSource, "file://") {
			path = "/" + path // as keys reads file://host-less/paths
		}
		e.svc.PIN = keys.PasswordFromFile(path)
	}
	var certs []*x509.Certificate
	if u.ChainFile != "" {
		if certs, err = readCertificates(u.ChainFile); err != nil {
			return "", nil, fmt.Errorf("--pkcs11: x-chain-file: %w", err)
		}
	}
	return withoutQuery(uri, "pin-source", "x-chain-file"), certs, nil
}

// withoutQuery drops the named query attributes from a pkcs11: URI,
// leaving the rest as written.
func withoutQuery(uri string, drop ...string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	var kept []string
	for _, attr := range strings.Split(query, "&") {
		name, _, _ := strings.Cut(attr, "=")
		if !slices.Contains(drop, name) {
			kept = append(kept, attr)
		}
	}
	if len(kept) == 0 {
		return path
	}
	return path + "?" + strings.Join(kept, "&")
}

func readCertificates(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := chain.ParseCertificates(b)
	if err == nil && len(certs) == 0 {
		err = errors.New("no certificate found")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

func (e *adminEnv) printKeys(bs []storage.KeyBinding, v any) error {
	return e.print(v, "ID\tKIND\tSUBJECT\tVALID UNTIL\tFINGERPRINT\tREVOKED", func(w io.Writer) {
		for _, b := range bs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.Kind, b.Subject, when(b.NotAfter), b.Fingerprint[:16]+"…", whenPtr(b.RevokedAt, "-"))
		}
	})
}
