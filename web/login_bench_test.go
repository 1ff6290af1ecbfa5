package web_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanthu/vanthu/web"
)

// rssBytes is the process's resident set size now.
func rssBytes() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkLoginFlood sends 200 logins at once (unknown users, each from
// its own address through a trusted proxy, so no lockout cuts the work
// short) while one client makes authenticated API calls one after
// another. It reports the process's peak RSS during the flood and the
// API calls' median and p99 latency, and how many logins were hashed
// (401) or turned away (503).
func BenchmarkLoginFlood(b *testing.B) {
	e := newEnv(b, 1<<20)
	e.configure(func(s *web.Server) { s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 300}}
	var peak atomic.Uint64
	var latencies, quiet []time.Duration
	apiCall := func() time.Duration {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/documents?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("API call: %d", resp.StatusCode)
		}
		return time.Since(start)
	}
	b.StopTimer()
	// The same calls on the same machine without the flood, for comparison:
	// on a shared machine the load of others shows in both.
	for range 100 {
		quiet = append(quiet, apiCall())
	}
	baseRSS := rssBytes()
	b.StartTimer()
	var hashed, busy, other atomic.Int64
	for n := range b.N {
		stop := make(chan struct{})
		var samplers sync.WaitGroup
		samplers.Add(2)
		go func() { // RSS every 5 ms
			defer samplers.Done()
			for {
				if v := rssBytes(); v > peak.Load() {
					peak.Store(v)
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		go func() { // the API user
			defer samplers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				latencies = append(latencies, apiCall())
			}
		}()
		var logins sync.WaitGroup
		for i := range 200 {
			logins.Add(1)
			go func() {
				defer logins.Done()
				body := fmt.Sprintf(`{"username":"khong-co-%d-%d","password":"sai mật khẩu rồi"}`, n, i)
				req, _ := http.NewRequest("POST", e.url+"/api/v1/session", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n%250, i/250, i%250+1))
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusUnauthorized:
					hashed.Add(1)
				case http.StatusServiceUnavailable:
					busy.Add(1)
				default:
					other.Add(1)
				}
			}()
		}
		logins.Wait()
		close(stop)
		samplers.Wait()
	}
	b.StopTimer()
	pct := func(l []time.Duration, p float64) float64 {
		if len(l) == 0 {
			return 0
		}
		slices.Sort(l)
		return float64(l[int(p*float64(len(l)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(baseRSS)/(1<<20), "base-RSS-MB")
	b.ReportMetric(pct(latencies, 0.5), "api-p50-ms")
	b.ReportMetric(pct(latencies, 0.99), "api-p99-ms")
	b.ReportMetric(pct(quiet, 0.99), "quiet-api-p99-ms")
	b.ReportMetric(float64(len(latencies))/float64(b.N), "api-calls/op")
	b.ReportMetric(float64(hashed.Load())/float64(b.N), "hashed/op")
	b.ReportMetric(float64(busy.Load())/float64(b.N), "busy-503/op")
	if other.Load() > 0 {
		b.Errorf("%d logins answered neither 401 nor 503", other.Load())
	}
}
