package notify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// world is one organisation with a few people, a database of its own, a
// blob store and a clock the test moves.
type world struct {
	t      testing.TB
	ctx    context.Context
	db     *storage.DB
	blobs  blob.Store
	org    storage.Organization
	unit   storage.Unit
	people map[string]accounts.Principal
	mu     sync.Mutex
	clock  time.Time
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := context.Background()
	url := testharness.Postgres(t)
	if err := storage.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	blobs, err := localdisk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, ctx: ctx, db: db, blobs: blobs, people: map[string]accounts.Principal{},
		clock: time.Date(2025, 3, 4, 2, 0, 0, 0, time.UTC)} // Tuesday 4 March 2025, 09:00 in Hà Nội
	jobDump = jobLister{w}
	if w.org, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã"}); err != nil {
		t.Fatal(err)
	}
	if w.unit, err = storage.CreateUnit(ctx, db.Pool, storage.Unit{OrganizationID: w.org.ID, Code: "VP", Name: "Văn phòng"}); err != nil {
		t.Fatal(err)
	}
	w.person("drafter", storage.RoleDrafter)
	w.person("head", storage.RoleReviewer)
	w.person("clerk", storage.RoleClerk)
	w.person("admin", storage.RoleAdmin)
	root, err := storage.CreateUser(ctx, db.Pool, storage.User{Username: "root", FullName: "Quản trị hệ thống", IsSuperadmin: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	w.people["root"] = accounts.Principal{User: root}
	return w
}

func (w *world) person(name string, roles ...string) accounts.Principal {
	u, err := storage.CreateUser(w.ctx, w.db.Pool, storage.User{Username: name, FullName: "Bà " + name, OrganizationID: w.org.ID,
		Roles: roles, UnitIDs: []string{w.unit.ID}}, "")
	if err != nil {
		w.t.Fatal(err)
	}
	p := accounts.Principal{User: u}
	w.people[name] = p
	return p
}

func (w *world) id(name string) string { return w.people[name].ID }

func (w *world) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock
}

func (w *world) setClock(t time.Time) {
	w.mu.Lock()
	w.clock = t
	w.mu.Unlock()
}

// engine builds an engine over the world with quick retries; started, it
// is stopped at cleanup.
// jobDump lists the jobs of the last world, for a failure message.
var jobDump fmt.Stringer = dumpNone{}

type dumpNone struct{}

func (dumpNone) String() string { return "" }

type jobLister struct{ w *world }

func (j jobLister) String() string {
	rows, err := j.w.db.Pool.Query(j.w.ctx, "SELECT id, kind, state, attempt, args::text, coalesce(array_to_string(errors, ' | '), '') FROM river_job ORDER BY id LIMIT 20")
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id int64
		var kind, state, args, errs string
		var attempt int
		if err := rows.Scan(&id, &kind, &state, &attempt, &args, &errs); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "%d %s %s attempt %d %s %s\n", id, kind, state, attempt, args, errs)
	}
	return b.String()
}

func (w *world) engine(cfg notify.Config, start bool) *notify.Engine {
	w.t.Helper()
	cfg.Blobs = w.blobs
	cfg.Now = w.now
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return 100 * time.Millisecond }
	}
	cfg.PollInterval = 100 * time.Millisecond
	e, err := notify.New(w.db, cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	if start {
		if err := e.Start(w.ctx); err != nil {
			w.t.Fatal(err)
		}
		w.t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := e.Stop(ctx); err != nil {
				w.t.Errorf("stop: %v", err)
			}
		})
	}
	return e
}

// document makes a draft document of the organisation.
func (w *world) document(subject string) string {
	var id string
	err := w.db.Pool.QueryRow(w.ctx, `INSERT INTO documents (type_code, subject, search_text, created_by, organization_id)
		VALUES ('CV', $1, lower($1), $2, $3) RETURNING id`, subject, w.id("drafter"), w.org.ID).Scan(&id)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// publish publishes ev in a transaction of its own.
func (w *world) publish(e *notify.Engine, ev events.Event) {
	w.t.Helper()
	if err := w.db.InTx(w.ctx, func(tx pgx.Tx) error { return events.Publish(w.ctx, e, tx, ev) }); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) count(query string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.Pool.QueryRow(w.ctx, query, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// eventually waits until ok holds; the bound is generous, for a busy
// machine: the tests assert what happened, not how fast.
func eventually(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s; jobs:\n%s", what, jobDump)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *world) setEmail(name string, on bool) {
	w.t.Helper()
	if _, err := w.engine(notify.Config{}, false).SetPreferences(w.ctx, w.people[name], notify.Preferences{Email: name + "@xa.gov.vn", EmailOn: on}); err != nil {
		w.t.Fatal(err)
	}
}

// settled waits until no job is queued, running or waiting to retry.
func (w *world) settled() {
	w.t.Helper()
	eventually(w.t, "every job finished", func() bool {
		return w.count("SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled') AND kind <> 'reminder-scan'") == 0
	})
}

// attachment is the body, still base64, of the part named name of a
// multipart e-mail (nil when there is none).
func attachment(t testing.TB, data []byte, name string) []byte {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if part.FileName() == name {
			// multipart decodes only quoted-printable; the caller decodes base64
			b, _ := io.ReadAll(part)
			return b
		}
	}
}

func decodeBase64(t testing.TB, b []byte) []byte {
	t.Helper()
	out, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
