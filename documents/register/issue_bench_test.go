package register_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/storage"
)

// BenchmarkConcurrentIssues100 issues 100 signed documents into one series
// at once (the organisation's seal from a PKCS#12 key, B-T with the dev
// TSA, one delivery each) and reports issues/s: the counter row is held
// from taking the number to commit, so this measures what is done under it.
//
//	go run ./internal/testharness/cmd/testenv -- go test -run '^$' -bench ConcurrentIssues100 -benchtime 3x ./documents/register/
func BenchmarkConcurrentIssues100(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	const n = 100
	req := register.IssueRequest{Recipients: []register.Recipient{{OrganizationID: w.other.ID}}}
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		docs := make([]storage.Document, n)
		for j := range docs {
			docs[j] = w.signedDocument("QĐ", "thuong")
		}
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for j := range docs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[j] = w.svc.Issue(ctx, w.clerk, docs[j].ID, req)
			}()
		}
		wg.Wait()
		total += time.Since(start)
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "issues/s")
}
