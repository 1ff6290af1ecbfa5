// Package chain decides whether a signer's (or a timestamp authority's)
// certificate is trustworthy at a given time: it loads the configured trust
// anchors, builds the path with crypto/x509, checks key usage and looks up
// revocation status from embedded evidence first and online OCSP/CRL second,
// checking each response's own signature and freshness. Nothing is trusted
// by default: anchors are configuration.
package chain

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Store is a set of trust anchors.
type Store struct {
	pool  *x509.CertPool
	certs []*x509.Certificate
}

// NewStore returns a store holding the given anchors.
func NewStore(certs ...*x509.Certificate) *Store {
	s := &Store{pool: x509.NewCertPool()}
	for _, c := range certs {
		s.Add(c)
	}
	return s
}

// Add trusts one more anchor.
func (s *Store) Add(c *x509.Certificate) {
	s.pool.AddCert(c)
	s.certs = append(s.certs, c)
}

// Len is the number of anchors.
func (s *Store) Len() int {
	if s == nil {
		return 0
	}
	return len(s.certs)
}

// Certificates returns the anchors.
func (s *Store) Certificates() []*x509.Certificate { return s.certs }

// LoadStore reads anchors from PEM or DER files and from directories (not
// recursive into hidden entries). A file that holds no certificate is an
// error: a typo in a trust path must not silently trust nothing.
func LoadStore(paths ...string) (*Store, error) {
	s := NewStore()
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("trust anchors: %w", err)
		}
		if !st.IsDir() {
			if err := s.loadFile(p, true); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || d.Name()[0] == '.' {
				return nil
			}
			return s.loadFile(path, false)
		})
		if err != nil {
			return nil, fmt.Errorf("trust anchors in %s: %w", p, err)
		}
	}
	return s, nil
}

func (s *Store) loadFile(path string, strict bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("trust anchors: %w", err)
	}
	certs, err := ParseCertificates(b)
	if err != nil || len(certs) == 0 {
		if !strict {
			return nil // directories may hold READMEs and keys
		}
		if err == nil {
			err = fmt.Errorf("no certificate found")
		}
		return fmt.Errorf("trust anchors in %s: %w", path, err)
	}
	for _, c := range certs {
		s.Add(c)
	}
	return nil
}

// ParseCertificates reads every CERTIFICATE block of a PEM file, or one DER
// certificate.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := b
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) > 0 {
		return out, nil
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return []*x509.Certificate{c}, nil
}
