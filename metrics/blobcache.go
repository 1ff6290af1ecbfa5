package metrics

import "github.com/prometheus/client_golang/prometheus"

// BlobCacheHits and BlobCacheMisses count the reads of blobs served from
// the service's memory (storage/blob/cache) and those that went to the
// store. The cache sits outside Blobs, so vanthu_blob_operations_total
// counts only what reaches the store.
var (
	BlobCacheHits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vanthu_blob_cache_hits_total",
		Help: "Blob reads served from the in-memory blob cache.",
	})
	BlobCacheMisses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vanthu_blob_cache_misses_total",
		Help: "Blob reads the in-memory blob cache passed to the blob store.",
	})
)

func init() { Registry.MustRegister(BlobCacheHits, BlobCacheMisses) }
