package main

import (
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
	c := web.SigningConfig{TSAURL: tsaURL, TempDir: tempDir}
	if tsaURL != "" {
		ext := &ltv.Extender{TSA: ltv.TSA{URL: tsaURL}}
		if trust != nil {
			ext.Options.Roots = trust.Certificates()
		}
		c.Extender = ext
	}
	return c
}
