package handling_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/documents/handling"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// recorder is a Publisher that keeps what was published, in order.
type recorder struct {
	mu  sync.Mutex
	evs []events.Event
}

func (r *recorder) Publish(_ context.Context, _ pgx.Tx, ev events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	return nil
}

func (r *recorder) kinds() []events.Kind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.Kind
	for _, e := range r.evs {
		out = append(out, e.Kind)
	}
	return out
}

// world is one organisation (UBND) with units VP, TP and KT, its people,
// a second organisation (OTHER), and a clock the tests move.
type world struct {
	t      testing.TB
	ctx    context.Context
	db     *storage.DB
	docs   *documents.Service
	svc    *handling.Service
	events *recorder
	org    storage.Organization
	other  storage.Organization
	units  map[string]storage.Unit
	people map[string]accounts.Principal
	mu     sync.Mutex
	clock  time.Time
	serial int
}

// tet2027 is the working calendar of 2027 with Tết Nguyên đán: Thursday
// 4 February to Friday 12 February off (mùng 1 is Saturday 6 February).
var tet2027 = calendar.Year{Holidays: []calendar.Day{
	{Date: "2027-02-04", Name: "Tết"}, {Date: "2027-02-05", Name: "Tết"},
	{Date: "2027-02-08", Name: "Tết"}, {Date: "2027-02-09", Name: "Tết"}, {Date: "2027-02-10", Name: "Tết"},
	{Date: "2027-02-11", Name: "Tết"}, {Date: "2027-02-12", Name: "Tết"}}}

func vn(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Vietnam)
	if err != nil {
		panic(err)
	}
	return t.UTC()
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
	w := &world{t: t, ctx: ctx, db: db, people: map[string]accounts.Principal{}, units: map[string]storage.Unit{},
		clock: vn("2027-02-03 09:00"), events: &recorder{}}
	w.docs = &documents.Service{DB: db, Blobs: blobs, MaxUpload: 1 << 20}
	w.svc = &handling.Service{DB: db, Events: w.events, Now: w.now}
	cal := &calendar.Service{DB: db}
	if _, err := cal.SetYear(ctx, accounts.Operator("test"), 2027, tet2027); err != nil {
		t.Fatal(err)
	}
	if w.org, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã"}); err != nil {
		t.Fatal(err)
	}
	if w.other, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "KHAC", Name: "Cơ quan khác"}); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"VP", "TP", "KT"} {
		u, err := storage.CreateUnit(ctx, db.Pool, storage.Unit{OrganizationID: w.org.ID, Code: code, Name: "Phòng " + code})
		if err != nil {
			t.Fatal(err)
		}
		w.units[code] = u
	}
	ou, err := storage.CreateUnit(ctx, db.Pool, storage.Unit{OrganizationID: w.other.ID, Code: "VP", Name: "Văn phòng"})
	if err != nil {
		t.Fatal(err)
	}
	w.person("clerk", w.org, w.units["VP"], storage.RoleClerk)
	w.person("leader", w.org, w.units["VP"], storage.RoleSigner)
	w.person("drafter", w.org, w.units["VP"], storage.RoleDrafter)
	w.person("headTP", w.org, w.units["TP"], storage.RoleReviewer)
	w.person("handlerTP", w.org, w.units["TP"], storage.RoleDrafter)
	w.person("headKT", w.org, w.units["KT"], storage.RoleReviewer)
	w.person("staffKT", w.org, w.units["KT"], storage.RoleDrafter)
	w.person("auditor", w.org, w.units["VP"], storage.RoleAuditor)
	w.person("otherLeader", w.other, ou, storage.RoleSigner, storage.RoleClerk)
	return w
}

func (w *world) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock
}

func (w *world) set(t time.Time) {
	w.mu.Lock()
	w.clock = t
	w.mu.Unlock()
}

func (w *world) person(name string, org storage.Organization, unit storage.Unit, roles ...string) accounts.Principal {
	u, err := storage.CreateUser(w.ctx, w.db.Pool, storage.User{Username: name, FullName: "Ông " + name, OrganizationID: org.ID,
		Roles: roles, UnitIDs: []string{unit.ID}}, "")
	if err != nil {
		w.t.Fatal(err)
	}
	p := accounts.Principal{User: u}
	w.people[name] = p
	return p
}

func (w *world) p(name string) accounts.Principal {
	p, ok := w.people[name]
	if !ok {
		w.t.Fatalf("no person %s", name)
	}
	return p
}

func (w *world) id(name string) string { return w.p(name).ID }

// document stores a document of the organisation in a unit, by the clerk
// (an incoming one) or a drafter (an outgoing one).
func (w *world) document(by, unit string) storage.Document {
	w.t.Helper()
	w.serial++
	f, err := w.docs.StoreFile(w.ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: fmt.Sprintf("document %d", w.serial)})), "d.pdf")
	if err != nil {
		w.t.Fatal(err)
	}
	d, _, err := w.docs.Create(w.ctx, w.p(by), documents.Meta{Type: "CV", Subject: fmt.Sprintf("Công văn %d", w.serial),
		Urgency: "thuong", Confidentiality: "thuong", Unit: unit, UnitID: w.units[unit].ID}, f, "")
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// incoming stores a document and registers it for handling, as reception does.
func (w *world) incoming() storage.Document {
	w.t.Helper()
	d := w.document("clerk", "VP")
	if err := w.db.InTx(w.ctx, func(tx pgx.Tx) error { return handling.Open(w.ctx, tx, d.ID, w.org.ID, w.now()) }); err != nil {
		w.t.Fatal(err)
	}
	return d
}

// otherDocument is a document of the other organisation.
func (w *world) otherDocument() storage.Document {
	w.t.Helper()
	w.serial++
	f, err := w.docs.StoreFile(w.ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: fmt.Sprintf("other %d", w.serial)})), "d.pdf")
	if err != nil {
		w.t.Fatal(err)
	}
	d, _, err := w.docs.Create(w.ctx, w.p("otherLeader"), documents.Meta{Type: "CV", Subject: "Công văn khác", Urgency: "thuong", Confidentiality: "thuong"}, f, "")
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

func (w *world) inbox(name, view string) storage.InboxCounts {
	w.t.Helper()
	c, err := storage.CountInbox(w.ctx, w.db.Pool, w.id(name), w.now(), w.now().Add(24*time.Hour))
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func isConflict(err error) bool  { return errors.Is(err, handling.ErrConflict) }
func isInvalid(err error) bool   { return errors.Is(err, handling.ErrInvalid) }
func isForbidden(err error) bool { return errors.Is(err, accounts.ErrForbidden) }
func isNotFound(err error) bool  { return errors.Is(err, storage.ErrNotFound) }

func days(n int) *handling.Due { return &handling.Due{Days: n} }
