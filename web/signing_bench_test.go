package web_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/pdfupdate"
	"github.com/vanthu/vanthu/storage/blob/blobtest"
	"github.com/vanthu/vanthu/storage/blob/cache"
	"github.com/vanthu/vanthu/web"
)

// megabyteDraft is the printed chairman's draft grown to about 1 MB by an
// incremental update holding an unreferenced stream of incompressible
// bytes, as a draft with a scanned annex weighs.
func megabyteDraft(tb testing.TB) []byte {
	tb.Helper()
	in := draft(tb, "qd-chu-tich.pdf")
	doc, err := pdfupdate.Open(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		tb.Fatal(err)
	}
	noise := make([]byte, 1<<20-len(in))
	r := rand.New(rand.NewPCG(3, 4))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	u := doc.NewUpdate()
	u.Add(pdfupdate.Stream(pdfupdate.Dict{}, noise))
	var out bytes.Buffer
	if _, err := u.Write(&out); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// withNoise is in with an incremental update of a few random bytes: a
// draft the service has not seen.
func withNoise(tb testing.TB, in []byte) []byte {
	tb.Helper()
	doc, err := pdfupdate.Open(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		tb.Fatal(err)
	}
	u := doc.NewUpdate()
	u.Add(pdfupdate.Stream(pdfupdate.Dict{}, []byte(crand.Text())))
	var out bytes.Buffer
	if _, err := u.Write(&out); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkSignDraft compares signing a 1 MB draft through the API (turn,
// authority, reading the version from MinIO, finding the name, signing at
// B-T with the dev TSA, storing the new version, audit) with signing.Sign on
// the same bytes with the same key, level, TSA and appearance, in the same
// run. The ratio of the two is the service's overhead (BENCHMARKS.md).
// api-cached signs through the blob cache (storage/blob/cache) as serve
// does; api-unseen signs a draft the service has not seen at every
// signature (not kept in signing.Versions).
func BenchmarkSignDraft(b *testing.B) {
	w := newSignWorld(b)
	w.bindP12(w.an, devpki.Official)
	in := megabyteDraft(b)
	ctx := context.Background()

	// signDrafts signs b.N drafts, each next() uploaded as a new document.
	signDrafts := func(b *testing.B, next func() []byte) {
		var stored, logical, reads, parses, hashed int64
		var cpu time.Duration
		var heap heapWork
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			doc := w.e.uploadPDF("Quyết định", next())
			w.turns.give(doc.ID, w.an.user.ID)
			before := blobtest.Objects(b, w.e.blobs)
			st, p, h := signing.Versions.Stats(), pdfupdate.Parses(), signing.HashedBytes()
			settleHeap()
			b.StartTimer()
			c0, h0 := processCPU(), readHeapWork()
			resp, body := w.call(w.an.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", nil)
			cpu += processCPU() - c0
			heap.add(readHeapWork(), h0)
			if resp.StatusCode != http.StatusCreated {
				b.Fatalf("sign: %d %s", resp.StatusCode, body)
			}
			b.StopTimer()
			w.e.moved()
			reads += signing.Versions.Stats().Misses - st.Misses
			parses += pdfupdate.Parses() - p
			hashed += signing.HashedBytes() - h
			s, l := blobtest.NewBytes(b, w.e.blobs, before)
			stored, logical = stored+s, logical+l
			b.StartTimer()
		}
		// What each signed file weighs, and what the bucket keeps of it
		// (an appended blob: only the signature's incremental update).
		b.ReportMetric(float64(logical)/float64(b.N), "file-B/op")
		b.ReportMetric(float64(stored)/float64(b.N), "stored-B/op")
		// What the kept versions (signing.Versions) spared: reads of a
		// version, parses and bytes hashed per signature.
		b.ReportMetric(float64(reads)/float64(b.N), "version-reads/op")
		b.ReportMetric(float64(parses)/float64(b.N), "parses/op")
		b.ReportMetric(float64(hashed)/float64(b.N), "hashed-B/op")
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		heap.report(b)
	}
	sign := func(b *testing.B) { signDrafts(b, func() []byte { return in }) }
	b.Run("api", sign)

	// Every draft different (a few random bytes appended): the first
	// signature of a version the service has not seen reads, hashes and
	// parses it, as the first signer of an uploaded draft does.
	b.Run("api-unseen", func(b *testing.B) {
		signDrafts(b, func() []byte { return withNoise(b, in) })
	})

	// The service's store wrapped with the blob cache and the write-ahead
	// of appended versions as serve wraps it. Every upload is the same
	// draft, so from the first signature on the draft is read from
	// memory.
	cachedRun := func(b *testing.B, stage bool) {
		store := w.e.server.Docs.Blobs
		cached := cache.New(w.e.inner, cache.Options{Budget: cache.DefaultBudget})
		use := cached
		if stage {
			use, _ = stagedBlobs(b, w.e.db, cached)
		}
		w.e.configure(func(s *web.Server) { s.Blobs, s.Docs.Blobs = use, use })
		defer w.e.configure(func(s *web.Server) { s.Blobs, s.Docs.Blobs = store, store })
		sign(b)
		st := cached.(*cache.Store).Stats()
		b.ReportMetric(float64(st.Hits)/float64(b.N), "cache-hits/op")
		b.ReportMetric(float64(st.Misses)/float64(b.N), "cache-misses/op")
	}
	b.Run("api-cached", func(b *testing.B) { cachedRun(b, true) })
	// The same without the write-ahead: the signature's update put into
	// MinIO before the commit, as before it (for the comparison).
	b.Run("api-cached-put", func(b *testing.B) { cachedRun(b, false) })

	b.Run("library", func(b *testing.B) {
		key, err := w.pki.Key(devpki.Official)
		if err != nil {
			b.Fatal(err)
		}
		img := appearance.DemoSignature(w.an.user.FullName)
		pl, err := appearance.PlaceSigner(bytes.NewReader(in), int64(len(in)), appearance.Spec{Kind: appearance.Signer, Name: w.an.user.FullName, SignatureImage: img}, 0, nil, 200)
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		var cpu time.Duration
		var heap heapWork
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			f, err := os.CreateTemp(dir, "*.pdf")
			if err != nil {
				b.Fatal(err)
			}
			settleHeap()
			b.StartTimer()
			c0, h0 := processCPU(), readHeapWork()
			r := pl.Rect
			err = signing.Sign(ctx, bytes.NewReader(in), int64(len(in)), f, key, signing.Options{Level: signing.LevelBT, TSAURL: w.pki.TSAURL(),
				Name: w.an.user.FullName, Visible: &signing.Visible{Page: pl.Page, Rect: [4]float64{r.X1, r.Y1, r.X2, r.Y2}, Image: img}})
			cpu += processCPU() - c0
			heap.add(readHeapWork(), h0)
			b.StopTimer()
			f.Close()
			os.Remove(f.Name())
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		heap.report(b)
	})
}

// settleHeap finishes, outside the timed section, the garbage collection
// the untimed work provoked (the API's upload and its listing of the
// bucket, the library's temporary file), so that neither side's signature
// is charged for a collection of garbage it did not make: both loops call
// it right before their timed section.
func settleHeap() { runtime.GC() }

// heapWork is what the Go heap did in this process (the service, the
// client and the dev TSA): bytes allocated and garbage collections
// completed. The collections during a signature, and what provoked them,
// are where its slow tail comes from (BENCHMARKS.md).
type heapWork struct{ allocated, cycles uint64 }

var heapSamples = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}

func readHeapWork() heapWork {
	s := slices.Clone(heapSamples)
	metrics.Read(s)
	return heapWork{allocated: s[0].Value.Uint64(), cycles: s[1].Value.Uint64()}
}

func (h *heapWork) add(now, before heapWork) {
	h.allocated += now.allocated - before.allocated
	h.cycles += now.cycles - before.cycles
}

func (h heapWork) report(b *testing.B) {
	b.ReportMetric(float64(h.allocated)/float64(b.N), "alloc-B/op")
	b.ReportMetric(float64(h.cycles)/float64(b.N), "gc/op")
}

// processCPU is the CPU time this process has used (user and system, all
// threads): the service's, the client's and the in-process dev TSA's, not
// PostgreSQL's or MinIO's. On a loaded machine it is what a comparison
// can go by; wall time is not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
