package staged_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vanthu/vanthu/storage/blob/blobtest"
	"github.com/vanthu/vanthu/storage/blob/s3"
	"github.com/vanthu/vanthu/storage/blob/staged"
)

const killHelperEnv = "VANTHU_STAGED_KILL_HELPER"

func killHelperSpec() string { return os.Getenv(killHelperEnv) }

// killSpec is what the helper process stages.
type killSpec struct {
	DB     string
	Config s3.Config
	Append staged.Append
}

// runKillHelper is the process killed: it stages the update and commits,
// says so and waits to be killed before its mover starts (the moment
// between a commit and its move).
func runKillHelper(spec string) {
	var k killSpec
	if err := json.Unmarshal([]byte(spec), &k); err != nil {
		fmt.Println("spec:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, k.DB)
	if err != nil {
		fmt.Println("db:", err)
		os.Exit(2)
	}
	blobs, err := s3.New(ctx, k.Config)
	if err != nil {
		fmt.Println("s3:", err)
		os.Exit(2)
	}
	st, err := staged.New(blobs, pool, staged.Options{Lead: true, Backoff: fastBackoff, PollInterval: 100 * time.Millisecond})
	if err == nil {
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return st.Stage(ctx, tx, k.Append) })
	}
	if err != nil {
		fmt.Println("stage:", err)
		os.Exit(2)
	}
	fmt.Println("committed")
	time.Sleep(time.Hour)
	os.Exit(0)
}

func TestKilledBetweenTheCommitAndTheMove(t *testing.T) {
	e := newEnv(t)
	u := e.newUpdate(8, 500<<10, 40<<10)
	spec, err := json.Marshal(killSpec{DB: e.url, Config: e.s3cfg, Append: u.a})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+string(spec))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "committed" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q", line)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// The version reads whole before any mover runs again.
	checkReads(t, e.store, u)
	if n := e.rows(); n != 1 {
		t.Fatalf("%d rows after the kill", n)
	}
	// Restarted: the update is moved.
	objects := blobtest.Objects(t, e.raw)
	e.start(e.store)
	e.waitMoved()
	after := blobtest.Objects(t, e.raw)
	if len(after) != len(objects)+1 || after[u.a.Key] != int64(len(u.a.Tail)) {
		t.Fatalf("objects after the move: %v (before %v)", after, objects)
	}
	checkReads(t, e.raw, u)
}
