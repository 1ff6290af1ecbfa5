package chain_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// world is one organisation (UBND) with units VP and TP, its people and
// a clock the tests move.
type world struct {
	t      testing.TB
	ctx    context.Context
	db     *storage.DB
	url    string
	docs   *documents.Service
	svc    *chain.Service
	org    storage.Organization
	vp, tp storage.Unit
	people map[string]accounts.Principal
	mu     sync.Mutex
	clock  time.Time
	serial int
	// finishedUnqueued counts signQueued's finishes that FinishSign made,
	// publishedAfter those whose announcement was published after the
	// batch.
	finishedUnqueued, publishedAfter int
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
	w := &world{t: t, ctx: ctx, db: db, url: url, people: map[string]accounts.Principal{},
		clock: time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)} // a Tuesday, 16:00 in Hà Nội
	w.docs = &documents.Service{DB: db, Blobs: blobs, MaxUpload: 1 << 20}
	w.svc = &chain.Service{DB: db, Docs: w.docs, Now: w.now}
	if w.org, err = storage.CreateOrganization(ctx, db.Pool, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*storage.Unit{&w.vp, &w.tp} {
		code := "VP"
		if u == &w.tp {
			code = "TP"
		}
		if *u, err = storage.CreateUnit(ctx, db.Pool, storage.Unit{OrganizationID: w.org.ID, Code: code, Name: "Phòng " + code}); err != nil {
			t.Fatal(err)
		}
	}
	w.person("drafter", w.vp, storage.RoleDrafter)
	w.person("reviewer", w.vp, storage.RoleReviewer)
	w.person("reviewer2", w.vp, storage.RoleReviewer)
	w.person("outsider", w.tp, storage.RoleReviewer) // a reviewer of another unit
	w.person("consultee", w.tp, storage.RoleDrafter)
	w.person("clerk", w.vp, storage.RoleClerk)
	w.person("signer", w.vp, storage.RoleSigner)
	w.person("deputy", w.vp, storage.RoleSigner)
	w.person("signer2", w.vp, storage.RoleSigner)
	// The deputy may sign KT. for the signer.
	if _, err := storage.CreateDelegation(ctx, db.Pool, storage.Delegation{OrganizationID: w.org.ID, FromUser: w.id("signer"), ToUser: w.id("deputy"),
		Form: accounts.FormDeputy, StartsAt: w.clock.AddDate(-5, 0, 0), EndsAt: w.clock.AddDate(50, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock
}

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.clock = w.clock.Add(d)
	w.mu.Unlock()
}

func (w *world) person(name string, unit storage.Unit, roles ...string) accounts.Principal {
	u, err := storage.CreateUser(w.ctx, w.db.Pool, storage.User{Username: name, FullName: "Ông " + name, OrganizationID: w.org.ID,
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

// draft uploads a new document by the drafter.
func (w *world) draft() storage.Document {
	w.t.Helper()
	w.serial++
	f, err := w.docs.StoreFile(w.ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: fmt.Sprintf("draft %d", w.serial)})), "d.pdf")
	if err != nil {
		w.t.Fatal(err)
	}
	d, _, err := w.docs.Create(w.ctx, w.p("drafter"), documents.Meta{Type: "QĐ", Subject: fmt.Sprintf("Quyết định %d", w.serial),
		Urgency: "thuong", Confidentiality: "thuong", Unit: "VP", UnitID: w.vp.ID}, f, "")
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// newVersion uploads an unsigned new version by the drafter.
func (w *world) newVersion(docID string) (storage.Version, error) {
	w.serial++
	f, err := w.docs.StoreFile(w.ctx, bytes.NewReader(testpdf.Bytes(testpdf.Options{Text: fmt.Sprintf("revision %d", w.serial)})), "d.pdf")
	if err != nil {
		w.t.Fatal(err)
	}
	return w.docs.AddVersion(w.ctx, w.p("drafter"), docID, f)
}

func yes() *bool { b := true; return &b }

// standard is the office's usual chain: a reviewer of the drafter's unit
// (any one, 2 working days), a non-blocking consultation, the văn thư's
// format check, and the signer.
func (w *world) standard() chain.Definition {
	return chain.Definition{
		Stages: []chain.StageSpec{
			{Name: "Kiểm tra", Kind: chain.KindReview, Participants: []chain.Participant{{Role: storage.RoleReviewer, UnitID: chain.DrafterUnit}},
				Rule: chain.Rule{Kind: "any"}, Due: &chain.Due{Days: 2}},
			{Name: "Xin ý kiến", Kind: chain.KindConsult, Participants: []chain.Participant{{UserID: w.id("consultee")}}},
			{Name: "Thể thức", Kind: chain.KindFormatCheck, Participants: []chain.Participant{{Role: storage.RoleClerk}}, Rule: chain.Rule{Kind: "any"}},
			{Name: "Ký", Kind: chain.KindSign, Participants: []chain.Participant{{UserID: w.id("signer")}}},
		},
		AllowAddedConsultees: true, AllowAddedSigners: true,
	}
}

func (w *world) template(name string, def chain.Definition) chain.Template {
	w.t.Helper()
	admin, ok := w.people["admin"]
	if !ok {
		admin = w.person("admin", w.vp, storage.RoleAdmin)
	}
	tm, err := w.svc.CreateTemplate(w.ctx, admin, chain.TemplateRequest{Name: name, Definition: def})
	if err != nil {
		w.t.Fatal(err)
	}
	return tm
}

func (w *world) submit(docID string, def chain.Definition) chain.View {
	w.t.Helper()
	v, err := w.svc.Submit(w.ctx, w.p("drafter"), docID, chain.SubmitRequest{Definition: def}, "")
	if err != nil {
		w.t.Fatalf("submit: %v", err)
	}
	return v
}

func (w *world) act(who, docID string, req chain.ActionRequest) (chain.View, error) {
	return w.svc.Act(w.ctx, w.p(who), docID, req, "")
}

func (w *world) must(who, docID string, req chain.ActionRequest) chain.View {
	w.t.Helper()
	v, err := w.act(who, docID, req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", who, req.Action, err)
	}
	return v
}

// sign makes who's signature through the signing turns, as the signing
// step does: the signed bytes (here stand-in bytes) become the next
// version in the same transaction.
func (w *world) sign(who, docID, form string) error {
	p := w.p(who)
	return w.db.InTx(w.ctx, func(tx pgx.Tx) error {
		turn, err := w.svc.BeginSign(w.ctx, tx, p, docID)
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(fmt.Sprintf("signed %s by %s over %s", docID, who, turn.VersionSHA256)))
		v, err := storage.InsertVersion(w.ctx, tx, storage.Version{DocumentID: docID, SHA256: hex.EncodeToString(sum[:]), Size: 1000,
			FileName: "signed.pdf", Signed: true, CreatedBy: p.ID})
		if err != nil {
			return err
		}
		return w.svc.FinishSign(w.ctx, tx, p, turn, v.Number, v.SHA256, form)
	})
}

// status reads the document's status as listings see it.
func (w *world) status(docID string) string {
	w.t.Helper()
	d, err := storage.GetDocument(w.ctx, w.db.Pool, docID)
	if err != nil {
		w.t.Fatal(err)
	}
	return d.Status
}

func isConflict(err error) bool  { return errors.Is(err, chain.ErrConflict) }
func isForbidden(err error) bool { return errors.Is(err, accounts.ErrForbidden) }
func isInvalid(err error) bool   { return errors.Is(err, chain.ErrInvalid) }

type pgxTx = pgx.Tx

func principal(u storage.User) accounts.Principal { return accounts.Principal{User: u} }

// widePool reconnects the world's services through a pool of n
// connections (pool_max_conns in the database URL, as a deployment sets
// it); pgxpool's default is four on two cores.
func (w *world) widePool(n int) {
	w.t.Helper()
	sep := "?"
	if strings.Contains(w.url, "?") {
		sep = "&"
	}
	db, err := storage.Open(w.ctx, w.url+sep+"pool_max_conns="+strconv.Itoa(n))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(db.Close)
	w.db, w.docs.DB, w.svc.DB = db, db, db
}
