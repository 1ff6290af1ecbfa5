package ltv

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

func TestCollect(t *testing.T) {
	ca, other := newTinyCA(t), newTinyCA(t)
	good, _ := ca.leaf("Nguyễn Văn A")
	revoked, _ := ca.leaf("Trần Thị B")
	ca.revoke(revoked)

	tests := []struct {
		name       string
		leaf       *x509.Certificate
		pool       []*x509.Certificate
		opts       Options
		setup      func()
		wantErr    string
		wantStatus Status
		wantOCSPs  int
		wantCRLs   int
	}{
		{name: "good, both sources, chain from AIA", leaf: good, opts: Options{Roots: []*x509.Certificate{ca.root}},
			wantStatus: StatusGood, wantOCSPs: 1, wantCRLs: 2},
		{name: "good, chain from pool", leaf: good, pool: []*x509.Certificate{ca.ca}, opts: Options{Roots: []*x509.Certificate{ca.root}, NoAIAFetch: true},
			wantStatus: StatusGood, wantOCSPs: 1, wantCRLs: 2},
		{name: "revoked shows revoked", leaf: revoked, opts: Options{Roots: []*x509.Certificate{ca.root}},
			wantStatus: StatusRevoked, wantOCSPs: 1, wantCRLs: 2},
		{name: "CRL only", leaf: good, opts: Options{Sources: SourcesCRL},
			wantStatus: StatusGood, wantOCSPs: 0, wantCRLs: 2},
		{name: "OCSP only fails on a CA without a responder", leaf: good, opts: Options{Sources: SourcesOCSP},
			wantErr: "names no OCSP responder"},
		{name: "untrusted root", leaf: good, opts: Options{Roots: []*x509.Certificate{other.root}},
			wantErr: "not a configured trust anchor"},
		{name: "broken OCSP answer", leaf: good, setup: func() { ca.ocspBroken = true },
			wantErr: "OCSP answer from"},
		{name: "CRL endpoint down", leaf: good, setup: func() { ca.crlDown = true },
			wantErr: "503"},
		{name: "no issuer anywhere", leaf: good, opts: Options{Roots: []*x509.Certificate{ca.root}, NoAIAFetch: true},
			wantErr: "no issuer found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ca.mu.Lock()
			ca.ocspBroken, ca.crlDown = false, false
			ca.mu.Unlock()
			if tc.setup != nil {
				ca.mu.Lock()
				tc.setup()
				ca.mu.Unlock()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ev, err := NewCollector(tc.opts).Collect(ctx, tc.leaf, tc.pool)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st, ok := ev.StatusOf(tc.leaf)
			if !ok || st.Status != tc.wantStatus {
				t.Fatalf("status = %v (%v), want %v", st.Status, ok, tc.wantStatus)
			}
			if len(ev.OCSPs) != tc.wantOCSPs || len(ev.CRLs) != tc.wantCRLs {
				t.Fatalf("got %d OCSPs, %d CRLs; want %d, %d", len(ev.OCSPs), len(ev.CRLs), tc.wantOCSPs, tc.wantCRLs)
			}
			for _, o := range ev.OCSPs {
				// The stored bytes must verify on their own, offline.
				r, err := VerifyOCSP(o.Raw, o.Subject, ca.ca, time.Now())
				if err != nil {
					t.Fatalf("stored OCSP does not verify: %v", err)
				}
				if want := map[Status]int{StatusGood: ocsp.Good, StatusRevoked: ocsp.Revoked}[tc.wantStatus]; r.Status != want {
					t.Fatalf("OCSP status %d, want %d", r.Status, want)
				}
			}
			if tc.wantStatus == StatusRevoked {
				listed := false
				for _, c := range ev.CRLs {
					if revokedEntry(c.List, tc.leaf.SerialNumber) != nil {
						listed = true
					}
				}
				if !listed {
					t.Fatal("no CRL lists the revoked serial")
				}
			}
			// Chain and responder certificates are all there for the DSS.
			for _, want := range []*x509.Certificate{tc.leaf, ca.ca} {
				if !containsCert(ev.Certs, want) {
					t.Fatalf("evidence lacks certificate %q", want.Subject)
				}
			}
			if tc.wantOCSPs > 0 && !containsCert(ev.Certs, ca.responder) {
				t.Fatal("evidence lacks the OCSP responder certificate")
			}
		})
	}
}

func containsCert(list []*x509.Certificate, c *x509.Certificate) bool {
	for _, have := range list {
		if have.Equal(c) {
			return true
		}
	}
	return false
}

func TestVerifyOCSPRejectsForeignSigner(t *testing.T) {
	a, b := newTinyCA(t), newTinyCA(t)
	leaf, _ := a.leaf("X")
	ev, err := NewCollector(Options{Sources: SourcesOCSP, NoAIAFetch: true}).fetchOCSP(context.Background(), leaf, a.ca)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyOCSP(ev.Raw, leaf, b.ca, time.Now()); err == nil || !strings.Contains(err.Error(), "not issued by") {
		t.Fatalf("err = %v, want responder-not-issued-by error", err)
	}
	if _, err := VerifyOCSP(ev.Raw, leaf, a.ca, time.Now().Add(48*time.Hour)); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("err = %v, want stale", err)
	}
	crl, err := NewCollector(Options{}).fetchCRL(context.Background(), leaf, a.ca)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyCRL(crl.Raw, b.ca, time.Now()); err == nil {
		t.Fatal("CRL verified against the wrong issuer")
	}
}
