package register_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/metrics"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/pdfupdate"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/blobtest"
	"github.com/vanthu/vanthu/storage/blob/cache"
	"github.com/vanthu/vanthu/storage/blob/s3"
)

// BenchmarkIssue1MB compares issuing a signed 1 MB document (the number
// taken, the organisation's seal from a PKCS#12 key at B-T with the dev
// TSA, the new version stored in MinIO and retained, the register entry,
// two deliveries: another organisation and an e-mail address, the audit
// entry) with signing.Sign on the same bytes with the same seal key,
// level, TSA and seal image, in the same run. The ratio of the two is what
// issuing adds to the seal's signature (target: at most 1.5, BENCHMARKS.md);
// cpu-ms/op is this process's CPU per issue or signature, the figure to
// compare on a loaded machine. The seal image is drawn once, and kept as a
// deployment keeps it (a PNG file, register.DecodeSealImage), for both. api-cached issues through the blob cache (storage/blob/cache) as
// serve does.
//
// With VANTHU_TEST_PG_DURABLE=1 PostgreSQL commits durably, as in
// production (the seal's update is committed into it: storage/blob/staged):
//
//	VANTHU_TEST_PG_DURABLE=1 go run ./internal/testharness/cmd/testenv -- go test -run '^$' -bench Issue1MB -benchtime 10x -count 3 ./documents/register/
func BenchmarkIssue1MB(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	cfg := testharness.MinIO(b)
	// The store as `vanthu serve` builds it: spooling, wrapped with metrics.
	store, err := s3.New(ctx, s3.Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket, SpoolDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	measured := metrics.Blobs(store)
	w.svc.Docs.Blobs = stagedBlobs(b, w.db, measured, false)
	// The seal as a deployment keeps it: a PNG file, decoded with its
	// content key.
	var sealPNG bytes.Buffer
	if err := png.Encode(&sealPNG, appearance.DemoSeal(w.org.Name)); err != nil {
		b.Fatal(err)
	}
	stored, err := register.DecodeSealImage(sealPNG.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	seal := stored.Image
	w.svc.SealImage = func(context.Context, storage.Organization) (image.Image, error) { return stored, nil }

	// The signer's signed version, about 1 MB: the draft grown by an
	// unreferenced stream of incompressible bytes (a scanned annex), then
	// signed as documents/docsign signs.
	draft := testpdf.Bytes(testpdf.Options{Text: "QUYET DINH ve viec ban hanh quy che"})
	doc, err := pdfupdate.Open(bytes.NewReader(draft), int64(len(draft)))
	if err != nil {
		b.Fatal(err)
	}
	noise := make([]byte, 1<<20-len(draft))
	r := rand.New(rand.NewPCG(5, 6))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	u := doc.NewUpdate()
	u.Add(pdfupdate.Stream(pdfupdate.Dict{}, noise))
	var grown bytes.Buffer
	if _, err := u.Write(&grown); err != nil {
		b.Fatal(err)
	}
	official, err := w.pki.Key(devpki.Official)
	if err != nil {
		b.Fatal(err)
	}
	signed := signing.NewBuffer(grown.Len() + 64<<10)
	err = signing.Sign(ctx, bytes.NewReader(grown.Bytes()), int64(grown.Len()), signed, official, signing.Options{Level: signing.LevelBT,
		TSAURL: w.pki.TSAURL(), Name: "Nguyễn Văn An", Reason: "Ký ban hành",
		Visible: &signing.Visible{Page: 1, Rect: [4]float64{320, 120, 520, 220}, Image: appearance.DemoSignature("Nguyễn Văn An")}})
	if err != nil {
		b.Fatal(err)
	}
	in := signed.Bytes()
	w.draftKey, w.draftSize = w.put(grown.Bytes())
	w.signedKey, w.signedSize = w.put(in)
	req := register.IssueRequest{Recipients: []register.Recipient{{OrganizationID: w.other.ID}, {Name: "Báo Nhân Dân", Email: "toasoan@example.vn"}}}

	issue := func(b *testing.B) {
		var stored, logical, wal, moved int64
		var cpu time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			d := w.signedDocument("QĐ", "thuong")
			before := blobtest.Objects(b, w.svc.Docs.Blobs)
			lsn := walInserted(b, w.db)
			b.StartTimer()
			c0 := processCPU()
			if _, err := w.svc.Issue(ctx, w.clerk, d.ID, req); err != nil {
				b.Fatal(err)
			}
			cpu += processCPU() - c0
			b.StopTimer()
			issued := walInserted(b, w.db)
			waitUnstaged(b, w.db)
			wal, moved = wal+issued-lsn, moved+walInserted(b, w.db)-issued
			s, l := blobtest.NewBytes(b, w.svc.Docs.Blobs, before)
			stored, logical = stored+s, logical+l
			b.StartTimer()
		}
		// What each issued file weighs, and what the bucket keeps of it
		// (an appended blob: only the seal's incremental update).
		b.ReportMetric(float64(logical)/float64(b.N), "file-B/op")
		b.ReportMetric(float64(stored)/float64(b.N), "stored-B/op")
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		// What PostgreSQL writes ahead for the issue (and the River
		// clients' background statements meanwhile), and for the seal's
		// update moved into the blob store after it.
		b.ReportMetric(float64(wal)/float64(b.N), "wal-B/op")
		b.ReportMetric(float64(moved)/float64(b.N), "move-wal-B/op")
	}
	b.Run("api", issue)
	// The store wrapped with the blob cache and the write-ahead of
	// appended versions as serve wraps it; the signed version is in memory
	// as docsign leaves it.
	cachedRun := func(b *testing.B, stage bool) {
		api := w.svc.Docs.Blobs
		cached := cache.New(measured, cache.Options{Budget: cache.DefaultBudget})
		w.svc.Docs.Blobs = cached
		if stage {
			w.svc.Docs.Blobs = stagedBlobs(b, w.db, cached, false)
		}
		defer func() { w.svc.Docs.Blobs = api }()
		if _, err := cached.(blob.KnownPutter).PutKnown(ctx, w.signedKey, in, time.Time{}); err != nil {
			b.Fatal(err)
		}
		issue(b)
		st := cached.(*cache.Store).Stats()
		b.ReportMetric(float64(st.Hits)/float64(b.N), "cache-hits/op")
		b.ReportMetric(float64(st.Misses)/float64(b.N), "cache-misses/op")
	}
	b.Run("api-cached", func(b *testing.B) { cachedRun(b, true) })
	// The same without the write-ahead: the seal's update put into MinIO
	// before the commit, as before it (for the comparison).
	b.Run("api-cached-put", func(b *testing.B) { cachedRun(b, false) })

	b.Run("library", func(b *testing.B) {
		key, err := w.pki.Key(devpki.Seal)
		if err != nil {
			b.Fatal(err)
		}
		at := w.clock.now()
		vis, _, err := register.SealLayout(bytes.NewReader(in), int64(len(in)), seal, 1, at)
		if err != nil {
			b.Fatal(err)
		}
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			out := signing.NewBuffer(len(in) + 64<<10)
			err := signing.Sign(ctx, bytes.NewReader(in), int64(len(in)), out, key, signing.Options{Level: signing.LevelBT, TSAURL: w.pki.TSAURL(),
				Time: at, Name: w.org.Name, Reason: "Phát hành 1/QĐ-UBND", Lock: true, Visible: vis})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((processCPU()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
}

// processCPU is the CPU time this process has used (user and system, all
// threads): in a benchmark, the service's and the in-process dev TSA's,
// not PostgreSQL's or MinIO's. Under load it is what a comparison can go
// by; wall time is not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// walInserted is PostgreSQL's write-ahead log position, in bytes: the
// difference of two is what the cluster wrote ahead between them.
func walInserted(b *testing.B, db *storage.DB) int64 {
	b.Helper()
	var at int64
	if err := db.Pool.QueryRow(context.Background(), "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint").Scan(&at); err != nil {
		b.Fatal(err)
	}
	return at
}
