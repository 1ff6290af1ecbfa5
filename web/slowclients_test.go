package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/web"
)

// testLimits are small enough for a test to cross them, with margins wide
// enough for a loaded machine: a body must bring 1 KiB every 2 s.
var testLimits = web.Limits{
	HeaderTimeout:  time.Second,
	MaxHeaderBytes: 8 << 10,
	BodyWindow:     2 * time.Second,
	BodyMinBytes:   1 << 10,
	IdleTimeout:    10 * time.Second,
	ConnsPerClient: 4,
}

// serveLimited runs e's routes on a real listener as `vanthu serve` does,
// with testLimits, and returns its address.
func serveLimited(t *testing.T, e *env) string {
	t.Helper()
	e.configure(func(s *web.Server) { s.BodyLimits = testLimits })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewHTTPServer(*e.handler.Load(), testLimits)
	go srv.Serve(web.LimitListener(ln, testLimits.ConnsPerClient, nil))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// closedByServer reads c until the server closes it (a generous bound
// stands for "never"), and returns what it sent.
func closedByServer(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept the connection open for a minute; it sent %q", b)
	}
	return string(b)
}

// dribble writes s a few bytes at a time, far below the minimum rate, until
// the server closes the connection or stop is closed.
func dribble(c net.Conn, s string, stop chan struct{}) {
	for i := 0; ; i = (i + 4) % len(s) {
		if _, err := c.Write([]byte(s[i:min(i+4, len(s))])); err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func TestSlowClientsAreClosed(t *testing.T) {
	e := newEnv(t, 1<<20)
	addr := serveLimited(t, e)
	for _, tc := range []struct {
		name, head, body, wantStatus string
	}{
		// Headers that never end (slowloris).
		{"headers", "GET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: yes\r\n", ""},
		// An unauthenticated body: answered 401 at once, then the rest
		// of the body must still come at the minimum rate.
		{"unauthenticated body", "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n", `{"username":"`, ""},
		{"upload body", "POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + e.token + "\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n" +
			"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n", "%PDF-1.7 ", "408"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.head); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			defer close(stop)
			go dribble(c, tc.body, stop)
			got := closedByServer(t, c)
			if tc.wantStatus != "" && !strings.HasPrefix(got, "HTTP/1.1 "+tc.wantStatus) {
				t.Fatalf("answer %q, want %s", got, tc.wantStatus)
			}
		})
	}
	t.Run("oversized headers", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("64 KiB of headers: %s", resp.Status)
		}
	})
}

// TestSlowSteadyUploadSucceeds sends an upload at 4 KiB a second, above the
// minimum rate but taking several body windows: there is no total deadline.
func TestSlowSteadyUploadSucceeds(t *testing.T) {
	e := newEnv(t, 1<<20)
	addr := serveLimited(t, e)
	pdf := testpdf.Bytes(testpdf.Options{Size: 32 << 10})
	body, ct := multipartBody([]part{{name: "type", value: "QĐ"}, {name: "subject", value: "Tải lên chậm mà đều"}, {name: "file", fileName: "cham.pdf", value: string(pdf)}})
	windows := float64(body.Len()) / 4096 / testLimits.BodyWindow.Seconds()
	if windows < 3 {
		t.Fatalf("the upload spans %.1f body windows; make it longer", windows)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/documents", &steadyReader{r: body, chunk: 1024, every: 250 * time.Millisecond})
	req.ContentLength = int64(body.Len())
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("slow steady upload: %d %s", resp.StatusCode, b)
	}
}

// steadyReader yields chunk bytes every interval.
type steadyReader struct {
	r     *bytes.Buffer
	chunk int
	every time.Duration
	n     int
}

func (s *steadyReader) Read(p []byte) (int, error) {
	if s.n > 0 {
		time.Sleep(s.every)
	}
	s.n++
	return s.r.Read(p[:min(len(p), s.chunk)])
}

// TestConnectionsPerClientCapped: a fifth connection from one address is
// closed when accepted while four are open; once one closes, a new one is
// served.
func TestConnectionsPerClientCapped(t *testing.T) {
	e := newEnv(t, 1<<20)
	addr := serveLimited(t, e)
	healthy := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(time.Minute))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	}
	var open []net.Conn
	for i := range testLimits.ConnsPerClient {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := healthy(c); err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		open = append(open, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if err := healthy(extra); err == nil {
		t.Fatal("a fifth connection was served")
	}
	open[0].Close()
	// The server notices the close when its read of the connection ends.
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		err = healthy(c)
		c.Close()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection served after one of four closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
