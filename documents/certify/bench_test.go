package certify_test

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/certify"
	"github.com/vanthu/vanthu/documents/scancheck"
	"github.com/vanthu/vanthu/documents/scancheck/scantest"
)

// BenchmarkCertify10Pages measures the certifier's step on a 10-page
// A5 200-dpi colour scan: the number, the statement, both signatures at
// the organisation's level (B-T: the dev TSA on loopback), the copy stored
// in MinIO and retained, the receipt and the register row. The request is
// opened and scanned outside the timer.
func BenchmarkCertify10Pages(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	data := scan(10, 200, scantest.RGB)
	ids := make([]string, b.N)
	for i := range ids {
		c, err := w.svc.Open(ctx, w.desk, certify.NewRequest{RequesterName: "Nguyễn Thị Hồng", RequesterIDNumber: "001190012345",
			OriginalName: "Học bạ", PageCount: 10, Copies: 1})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.svc.Scan(ctx, w.desk, c.ID, bytes.NewReader(data), "hoc-ba.pdf"); err != nil {
			b.Fatal(err)
		}
		ids[i] = c.ID
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu := processCPU()
	for i := range ids {
		if _, err := w.svc.Certify(ctx, w.certifier, ids[i], ""); err != nil {
			b.Fatal(err)
		}
	}
	// The test process's CPU time (the certifying service and the dev TSA;
	// not PostgreSQL nor MinIO) says more than wall time on a shared,
	// loaded machine.
	b.ReportMetric(float64((processCPU()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScanCheck10Pages measures the scan check alone.
func BenchmarkScanCheck10Pages(b *testing.B) {
	data := scan(10, 200, scantest.RGB)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := scancheck.Check(data); err != nil {
			b.Fatal(err)
		}
	}
}
