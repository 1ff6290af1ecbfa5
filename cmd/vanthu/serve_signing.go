package main

import (
	"net/http"
	"time"

	"github.com/vanthu/vanthu/signing/ltv"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/web"
)

// signingConfig is how `vanthu serve` makes the signatures of signing in
// the service: timestamps from --tsa-url (the one that anchors the audit
// log), and B-LT/B-LTA validation data collected over OCSP and CRL for
// chains ending in a --trust anchor. Without a TSA the service signs
// nothing (B-T is the least an organisation's level may be).
func signingConfig(tsaURL string, trust *chain.Store, tempDir string) web.SigningConfig {
	c := web.SigningConfig{TSAURL: tsaURL, TempDir: tempDir, HTTPClient: tsaHTTPClient()}
	if tsaURL != "" {
		ext := &ltv.Extender{TSA: ltv.TSA{URL: tsaURL}}
		if trust != nil {
			ext.Options.Roots = trust.Certificates()
		}
		c.Extender = ext
	}
	return c
}

// tsaHTTPClient is the client of the signature timestamps: every
// signature and every issue waits for one, so its connections to the TSA
// are kept open between them. http.DefaultClient keeps two per host for
// 90 s, so signatures made at once, or after a pause, would each open a
// connection (and, to a TSA over HTTPS, make a TLS handshake) first.
func tsaHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	t.IdleConnTimeout = 10 * time.Minute
	return &http.Client{Transport: t}
}
