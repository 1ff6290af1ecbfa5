// Command slowclients opens many connections to a vanthu service that send
// an unauthenticated login request's body one byte at a time, far below any
// useful rate, and samples how many file descriptors the service process
// holds meanwhile (from /proc/<pid>/fd). Used by scripts/bench-slowclients.sh.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "service address")
	pid := flag.Int("pid", 0, "service process id")
	n := flag.Int("n", 1000, "connections")
	every := flag.Duration("every", 5*time.Second, "one body byte per connection this often")
	samples := flag.String("at", "2s,10s,20s,40s,65s", "when to count the service's descriptors")
	flag.Parse()
	fds := func() int {
		e, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", *pid))
		if err != nil {
			return -1
		}
		return len(e)
	}
	fmt.Printf("service descriptors before: %d\n", fds())
	var open, refused atomic.Int64
	head := "POST /api/v1/session HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
	for range *n {
		c, err := net.Dial("tcp", *addr)
		if err != nil {
			refused.Add(1)
			continue
		}
		open.Add(1)
		go func() {
			defer open.Add(-1)
			defer c.Close()
			if _, err := c.Write([]byte(head)); err != nil {
				return
			}
			for {
				time.Sleep(*every)
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
	}
	start := time.Now()
	var at []time.Duration
	for _, s := range splitComma(*samples) {
		d, err := time.ParseDuration(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		at = append(at, d)
	}
	fmt.Printf("%d connections opened (%d refused at dial)\n", int64(*n)-refused.Load(), refused.Load())
	fmt.Println("after\tservice fds\tclient conns still writing")
	for _, d := range at {
		time.Sleep(time.Until(start.Add(d)))
		fmt.Printf("%s\t%d\t%d\n", d, fds(), open.Load())
	}
}

func splitComma(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != ',' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
