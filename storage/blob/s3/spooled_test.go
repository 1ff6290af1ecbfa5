package s3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage/blob"
)

func keyOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// MinIO itself refuses bytes that do not hash to the content key they are
// sent to, and an object already there (retained or not) stays as it was.
func TestVerifiedPutRefusesOtherBytes(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, modes[1], 0)
	real, other := []byte("quyết định số 05/QĐ-UBND"), []byte("quyết định số 06/QĐ-UBND")

	if err := s.putVerified(ctx, keyOf(real), bytes.NewReader(other), int64(len(other))); !errors.Is(err, blob.ErrDigestMismatch) {
		t.Fatalf("MinIO stored bytes under another content's key, or failed otherwise: %v", err)
	}
	if objects, uploads := bucketContents(t, s); len(objects) != 0 || len(uploads) != 0 {
		t.Fatalf("a refused put left objects %v, uploads %v", objects, uploads)
	}

	info, err := s.Put(ctx, bytes.NewReader(real), blob.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Retain(ctx, info.Key, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.putVerified(ctx, info.Key, bytes.NewReader(other), int64(len(other))); !errors.Is(err, blob.ErrDigestMismatch) {
		t.Fatalf("MinIO stored bytes over a retained object of other content, or failed otherwise: %v", err)
	}
	if objects, _ := bucketContents(t, s); len(objects) != 1 {
		t.Fatalf("the content key has versions %v, want the one put", objects)
	}
	if got := readObject(t, s, info.Key); !bytes.Equal(got, real) {
		t.Fatalf("content key now holds %q", got)
	}
}

func readObject(t *testing.T, s *Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A put cut off half-way, as when the client's request ends, leaves nothing.
func TestVerifiedPutCancelledLeavesNothing(t *testing.T) {
	s := newStore(t, modes[1], 0)
	data := make([]byte, 24<<20)
	rand.New(rand.NewSource(5)).Read(data)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &slowReadSeeker{r: bytes.NewReader(data), after: 8 << 20, at: cancel}
	if err := s.putVerified(ctx, keyOf(data), r, int64(len(data))); err == nil {
		t.Fatal("a cancelled put succeeded")
	}
	if objects, uploads := bucketContents(t, s); len(objects) != 0 || len(uploads) != 0 {
		t.Fatalf("left behind: objects %v, uploads %v", objects, uploads)
	}
}

// slowReadSeeker reads slowly and calls at once after bytes have been read.
type slowReadSeeker struct {
	r     *bytes.Reader
	after int64
	at    func()
	read  int64
}

func (s *slowReadSeeker) Read(p []byte) (int, error) {
	if s.read >= s.after && s.at != nil {
		s.at()
		s.at = nil
	}
	time.Sleep(time.Millisecond)
	n, err := s.r.Read(p[:min(len(p), 64<<10)])
	s.read += int64(n)
	return n, err
}

func (s *slowReadSeeker) Seek(off int64, whence int) (int64, error) { return s.r.Seek(off, whence) }

const killHelperEnv = "VANTHU_S3_KILL_HELPER"

// TestKillDuringVerifiedPut kills a process with SIGKILL while its PUT to a
// content key is half sent: no object and no upload may remain.
func TestKillDuringVerifiedPut(t *testing.T) {
	cfg := testharness.MinIO(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+strings.Join([]string{cfg.Endpoint, cfg.AccessKey, cfg.SecretKey, cfg.Bucket}, " "))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "sending" {
		t.Fatalf("helper said %q (%v)", line, err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s, err := New(context.Background(), Config{Endpoint: cfg.Endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Bucket: cfg.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	// MinIO notices the dropped connection on its own time.
	deadline := time.Now().Add(time.Minute) // a hang, not a speed
	for {
		objects, uploads := bucketContents(t, s)
		if len(objects) == 0 && len(uploads) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the kill: objects %v, uploads %v", objects, uploads)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runKillHelper is the process TestKillDuringVerifiedPut kills: it starts a
// verified put of 64 MiB, says "sending" once 8 MiB are on their way, and
// keeps sending slowly.
func runKillHelper(spec string) {
	f := strings.Fields(spec)
	s, err := New(context.Background(), Config{Endpoint: f[0], AccessKey: f[1], SecretKey: f[2], Bucket: f[3]})
	if err != nil {
		fmt.Fprintln(os.Stderr, "kill helper:", err)
		os.Exit(2)
	}
	data := make([]byte, 64<<20)
	rand.New(rand.NewSource(6)).Read(data)
	r := &slowReadSeeker{r: bytes.NewReader(data), after: 8 << 20, at: func() { fmt.Println("sending") }}
	err = s.putVerified(context.Background(), keyOf(data), r, int64(len(data)))
	fmt.Fprintln(os.Stderr, "kill helper: the put ended before the kill:", err)
	os.Exit(3)
}
