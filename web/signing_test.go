package web_test

import (
	"bytes"
	"context"
	"crypto"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/docsign"
	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/signing/ltv"
	"github.com/vanthu/vanthu/signing/pdfupdate"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// testTurns stands in for the approval chain, the one part of signing
// these tests fake: it grants a document's signing turn to one user, for its
// latest version, under the document's row lock, and records FinishSign.
type testTurns struct {
	mu       sync.Mutex
	turnOf   map[string]string // document → the user whose turn it is
	finished []finishedTurn
}

type finishedTurn struct {
	signer  string
	turn    documents.SignTurn
	version int
	sha256  string
	form    string
}

func newTestTurns() *testTurns { return &testTurns{turnOf: map[string]string{}} }

func (tt *testTurns) give(documentID, userID string) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.turnOf[documentID] = userID
}

func (tt *testTurns) done() []finishedTurn {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return append([]finishedTurn(nil), tt.finished...)
}

// turn is the signing turn given on the document.
func (tt *testTurns) turn(documentID string) (documents.SignTurn, error) {
	tt.mu.Lock()
	owner, ok := tt.turnOf[documentID]
	tt.mu.Unlock()
	if !ok {
		return documents.SignTurn{}, errors.New("the document is not awaiting a signature")
	}
	return documents.SignTurn{DocumentID: documentID, StageID: "sign", ItemID: "item-" + owner, TurnOf: owner}, nil
}

func (tt *testTurns) BeginSign(ctx context.Context, tx pgx.Tx, p documents.Principal, documentID string) (documents.SignTurn, error) {
	t, err := tt.turn(documentID)
	if err != nil {
		return t, err
	}
	// One round trip, as the chain's own reading of the turn: the
	// document's row locked with its latest version read.
	err = tx.QueryRow(ctx, `SELECT v.number, v.blob_key FROM documents d
		JOIN LATERAL (SELECT number, blob_key FROM document_versions WHERE document_id = d.id ORDER BY number DESC LIMIT 1) v ON true
		WHERE d.id = $1 FOR UPDATE OF d`, documentID).Scan(&t.Version, &t.VersionSHA256)
	return t, err
}

func (tt *testTurns) FinishSign(ctx context.Context, tx pgx.Tx, p documents.Principal, t documents.SignTurn, newVersion int, newSHA256, form string) error {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if tt.turnOf[t.DocumentID] != t.TurnOf {
		return errors.New("the turn was taken")
	}
	delete(tt.turnOf, t.DocumentID)
	tt.finished = append(tt.finished, finishedTurn{p.ID, t, newVersion, newSHA256, form})
	return nil
}

// QueueSignTurn queues the chain's own locked read (the stand-in's
// documents have no chain, so it finds none), for the transaction's
// first round trip to carry what it carries with the chain; the turn is
// then granted on the latest version that round trip read, as the
// chain's is. Nothing of the stand-in is written, so nothing is queued
// for the reservation.
func (tt *testTurns) QueueSignTurn(b *pgx.Batch, documentID string) documents.SignTurnRead {
	var st storage.LockedChainState
	storage.QueueLockChain(b, documentID, &st)
	return func(ctx context.Context, tx pgx.Tx, p documents.Principal, doc documents.Document, latest storage.Version, noLatest error, reserved *pgx.Batch) (documents.SignTurn, error) {
		t, err := tt.turn(documentID)
		if err != nil {
			return t, err
		}
		if noLatest != nil {
			return t, noLatest
		}
		t.Version, t.VersionSHA256 = latest.Number, latest.SHA256
		return t, nil
	}
}

// QueueFinishSign finishes the turn as FinishSign does: nothing of the
// stand-in is in the database, so nothing is queued.
func (tt *testTurns) QueueFinishSign(ctx context.Context, b *pgx.Batch, p documents.Principal, t documents.SignTurn, newVersion int, newSHA256, form string) (func(context.Context, pgx.Tx) error, error) {
	return nil, tt.FinishSign(ctx, nil, p, t, newVersion, newSHA256, form)
}

// signWorld is a service with the test chain and the dev PKI's TSA, the
// drafts' two signers (An, Chủ tịch; Bình, Phó Chủ tịch) with their
// signature images, and a drafter.
type signWorld struct {
	e        *env
	pki      *devpki.PKI
	turns    *testTurns
	an, binh member
	admin    member
}

func newSignWorld(t testing.TB) *signWorld {
	t.Helper()
	e := newEnv(t, 20<<20)
	pki := testharness.DevPKI(t)
	e.accounts.Anchors = []*x509.Certificate{pki.Root()}
	turns := newTestTurns()
	e.configure(func(s *web.Server) {
		s.Turns = turns
		s.Signing = web.SigningConfig{TSAURL: pki.TSAURL(), TempDir: t.TempDir()}
	})
	w := &signWorld{e: e, pki: pki, turns: turns}
	vp := e.office.units["VP"].ID
	w.an = w.person("an", "Nguyễn Văn An", "Chủ tịch", vp)
	w.binh = w.person("binh", "Trần Thị Bình", "Phó Chủ tịch", vp)
	w.admin = e.member(e.office.org.ID, "quantri", []string{storage.RoleAdmin}, vp)
	for _, m := range []member{w.an, w.binh} {
		resp, b := w.putImage(m.token, m.user.ID, pngBytes(t, appearance.DemoSignature(m.user.FullName)))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("signature image of %s: %d %s", m.user.Username, resp.StatusCode, b)
		}
	}
	return w
}

func (w *signWorld) person(username, fullName, title string, unitID string) member {
	w.e.t.Helper()
	u, err := w.e.accounts.CreateUser(context.Background(), operator, accounts.NewUser{Username: username, FullName: fullName, Title: title,
		OrganizationID: w.e.office.org.ID, UnitIDs: []string{unitID}, Roles: []string{storage.RoleSigner}})
	if err != nil {
		w.e.t.Fatal(err)
	}
	return member{user: u, token: w.e.issueToken(u.ID)}
}

func (w *signWorld) call(token, method, path string, body any) (*http.Response, []byte) {
	w.e.t.Helper()
	var rd *bytes.Reader
	ct := ""
	if body != nil {
		b, _ := json.Marshal(body)
		rd, ct = bytes.NewReader(b), "application/json"
	} else {
		rd = bytes.NewReader(nil)
	}
	return send(w.e.t, w.e.url, token, method, path, rd, ct)
}

func (w *signWorld) putImage(token, userID string, png []byte) (*http.Response, []byte) {
	return send(w.e.t, w.e.url, token, "PUT", "/api/v1/users/"+userID+"/signature-image", bytes.NewReader(png), "image/png")
}

// bindP12 binds the dev PKI's PKCS#12 of name to m, sealed in the keystore.
func (w *signWorld) bindP12(m member, name string) {
	w.e.t.Helper()
	p12, err := os.ReadFile(w.pki.P12Path(name))
	if err != nil {
		w.e.t.Fatal(err)
	}
	resp, b := w.call(m.token, "POST", "/api/v1/users/"+m.user.ID+"/keys", map[string]any{"kind": "pkcs12", "pkcs12": p12, "password": string(w.pki.Password())})
	if resp.StatusCode != http.StatusCreated {
		w.e.t.Fatalf("bind PKCS#12: %d %s", resp.StatusCode, b)
	}
}

// bindSeal binds the dev PKI's seal (a PKCS#12) as the organisation's
// seal key, as the system administrator does.
func (w *signWorld) bindSeal(orgID string) {
	w.e.t.Helper()
	p12, err := os.ReadFile(w.pki.P12Path(devpki.Seal))
	if err != nil {
		w.e.t.Fatal(err)
	}
	resp, b := w.call(w.admin.token, "POST", "/api/v1/organizations/"+orgID+"/seal-key", map[string]any{"kind": "pkcs12", "pkcs12": p12, "password": string(w.pki.Password())})
	if resp.StatusCode != http.StatusCreated {
		w.e.t.Fatalf("bind seal: %d %s", resp.StatusCode, b)
	}
}

// bindSoftHSM puts the dev PKI's key of name on a SoftHSM2 token and binds
// it to m, the PIN being the service's configuration.
func (w *signWorld) bindSoftHSM(m member, name string) {
	w.e.t.Helper()
	tok := testharness.SoftHSM(w.e.t)
	w.e.accounts.PIN = keys.PasswordFromFile(tok.PINFile)
	w.e.accounts.PKCS11Modules = []string{tok.ModulePath}
	k, err := w.pki.Key(name)
	if err != nil {
		w.e.t.Fatal(err)
	}
	uri, _, _ := strings.Cut(testharness.ImportKey(w.e.t, tok, k, k.Chain()[:1], name, []byte{1}), "&pin-source=")
	resp, b := w.call(m.token, "POST", "/api/v1/users/"+m.user.ID+"/keys", map[string]string{"kind": "pkcs11", "uri": uri, "certificates": pemChain(k.Chain()[1:])})
	if resp.StatusCode != http.StatusCreated {
		w.e.t.Fatalf("bind PKCS#11: %d %s", resp.StatusCode, b)
	}
}

// bindExternal binds the certificate of the dev PKI's key name to m as a
// key m holds themselves (a desk token).
func (w *signWorld) bindExternal(m member, name string) string {
	w.e.t.Helper()
	c, err := w.pki.Chain(name)
	if err != nil {
		w.e.t.Fatal(err)
	}
	resp, b := w.call(m.token, "POST", "/api/v1/users/"+m.user.ID+"/keys", map[string]string{"kind": "external", "certificates": pemChain(c)})
	if resp.StatusCode != http.StatusCreated {
		w.e.t.Fatalf("bind external: %d %s", resp.StatusCode, b)
	}
	return decode[storage.KeyBinding](w.e.t, b).ID
}

func pemChain(cs []*x509.Certificate) string {
	var s strings.Builder
	for _, c := range cs {
		pem.Encode(&s, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return s.String()
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func draft(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testharness.Drafts(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// file downloads version n of a document.
func (w *signWorld) file(docID string, n int) []byte {
	w.e.t.Helper()
	resp, b := w.call(w.e.token, "GET", fmt.Sprintf("/api/v1/documents/%s/versions/%d/file", docID, n), nil)
	if resp.StatusCode != http.StatusOK {
		w.e.t.Fatalf("download v%d: %d %s", n, resp.StatusCode, b)
	}
	return b
}

func (w *signWorld) versions(docID string) int {
	w.e.t.Helper()
	var n int
	if err := w.e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM document_versions WHERE document_id = $1", docID).Scan(&n); err != nil {
		w.e.t.Fatal(err)
	}
	return n
}

// assertValid checks a signed file with the verifier (on the dev root) and
// pdfsig, and that its last page differs from the draft's only in the gap
// above name.
func (w *signWorld) assertSigned(before, after []byte, sigs int, name string) {
	w.e.t.Helper()
	rep, err := verify.Verify(context.Background(), bytes.NewReader(after), int64(len(after)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
	if err != nil {
		w.e.t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid {
		w.e.t.Fatalf("verifier: %s", rep.Verdict)
	}
	rendercheck.AssertPdfsigValid(w.e.t, after, sigs)
	rendercheck.AssertOnlyInNameGap(w.e.t, before, after, name)
}

// TestSignWithServerKeys: the signer whose turn it is signs the printed
// draft with their own key held by the service, a sealed PKCS#12 or a
// SoftHSM2 key: 201 with version 2, VALID for the verifier and pdfsig, only
// the handwritten image drawn, in the gap; the chain's FinishSign saw the
// version and the authority form; the audit log has the signature.
func TestSignWithServerKeys(t *testing.T) {
	for _, kind := range []string{"pkcs12", "pkcs11"} {
		t.Run(kind, func(t *testing.T) {
			w := newSignWorld(t)
			if kind == "pkcs12" {
				w.bindP12(w.an, devpki.Official)
			} else {
				w.bindSoftHSM(w.an, devpki.Official)
			}
			in := draft(t, "qd-chu-tich.pdf")
			doc := w.e.uploadPDF("Quyết định ban hành quy chế", in)
			w.turns.give(doc.ID, w.an.user.ID)
			parses := pdfupdate.Parses()
			resp, b := w.call(w.an.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", map[string]any{})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("sign: %d %s", resp.StatusCode, b)
			}
			// The lock check, the search for the signer's name and the
			// signature read one parse of the version (none when the
			// process signed these bytes before: signing.Versions keeps
			// them parsed, TestSigningKeptVersions).
			if n := pdfupdate.Parses() - parses; n > 1 {
				t.Fatalf("the signature parsed the version %d times, want at most once", n)
			}
			v := decode[storage.Version](t, b)
			if v.Number != 2 || !v.Signed || resp.Header.Get("Location") == "" {
				t.Fatalf("new version %+v, Location %q", v, resp.Header.Get("Location"))
			}
			out := w.file(doc.ID, 2)
			if sha(out) != v.SHA256 {
				t.Fatal("the stored file is not the version's bytes")
			}
			w.assertSigned(in, out, 1, "Nguyễn Văn An")
			fin := w.turns.done()
			if len(fin) != 1 || fin[0].version != 2 || fin[0].sha256 != v.SHA256 || fin[0].signer != w.an.user.ID || fin[0].form != "" || fin[0].turn.Version != 1 {
				t.Fatalf("FinishSign calls %+v", fin)
			}
			var audited int
			w.e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = 'document.sign' AND object = $1", "document:"+doc.ID).Scan(&audited)
			if audited != 1 {
				t.Fatalf("%d audit entries for the signature", audited)
			}
			// The turn is spent: signing again is refused, nothing added.
			resp, b = w.call(w.an.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", nil)
			if p := decode[problem](t, b); resp.StatusCode != http.StatusConflict || p.Type != "/problems/not-your-turn" {
				t.Fatalf("second signature: %d %s", resp.StatusCode, b)
			}
			if n := w.versions(doc.ID); n != 2 {
				t.Fatalf("%d versions", n)
			}
		})
	}
}

// TestSignAsDeputy: on the chairman's turn, the deputy with a KT.
// delegation from him for QĐ signs the KT. draft with her own key; without
// a delegation covering the document she is refused with the reason.
func TestSignAsDeputy(t *testing.T) {
	w := newSignWorld(t)
	w.bindP12(w.binh, devpki.Deputy)
	in := draft(t, "qd-kt-pho-chu-tich.pdf")
	doc := w.e.uploadPDF("Quyết định thành lập tổ công tác", in)
	w.turns.give(doc.ID, w.an.user.ID)
	ctx := context.Background()

	// A KT. delegation for another document type does not apply.
	d, err := w.e.accounts.CreateDelegation(ctx, operator, storage.Delegation{FromUser: w.an.user.ID, ToUser: w.binh.user.ID, Form: "KT.",
		DocumentTypes: []string{"KH"}, Basis: "Quyết định phân công", EndsAt: timeIn(30)})
	if err != nil {
		t.Fatal(err)
	}
	resp, b := w.call(w.binh.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", nil)
	if p := decode[problem](t, b); resp.StatusCode != http.StatusUnprocessableEntity || p.Type != "/problems/delegation-refused" || !strings.Contains(p.Detail, "document type QĐ is outside its scope") {
		t.Fatalf("without a covering delegation: %d %s", resp.StatusCode, b)
	}
	if err := w.e.accounts.RevokeDelegation(ctx, operator, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.e.accounts.CreateDelegation(ctx, operator, storage.Delegation{FromUser: w.an.user.ID, ToUser: w.binh.user.ID, Form: "KT.",
		DocumentTypes: []string{"QĐ"}, Basis: "Quyết định phân công", EndsAt: timeIn(30)}); err != nil {
		t.Fatal(err)
	}
	resp, b = w.call(w.binh.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", map[string]any{"level": "B-T"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("KT. signature: %d %s", resp.StatusCode, b)
	}
	w.assertSigned(in, w.file(doc.ID, 2), 1, "Trần Thị Bình")
	if fin := w.turns.done(); len(fin) != 1 || fin[0].form != "KT." || fin[0].turn.TurnOf != w.an.user.ID {
		t.Fatalf("FinishSign calls %+v", fin)
	}
}

// TestSignRefusals: what the sign route refuses, each with its reason and
// without adding a version.
func TestSignRefusals(t *testing.T) {
	w := newSignWorld(t)
	w.bindP12(w.an, devpki.Official)
	drafted := w.e.uploadPDF("Quyết định", draft(t, "qd-chu-tich.pdf"))
	plain := w.e.uploadPDF("Quyết định không in tên", testpdf.Bytes(testpdf.Options{Pages: 2, Text: "QUYET DINH"}))

	// A document sealed by the organisation (every field locked).
	sealedPDF := signedWith(t, w.pki, testpdf.Bytes(testpdf.Options{Text: "QUYET DINH"}), signing.Options{Lock: true, Name: "UBND"})
	sealed := w.e.uploadPDF("Quyết định đã ban hành", sealedPDF)
	// A document certified with no changes permitted.
	certified := w.e.uploadPDF("Quyết định chứng thực", signedWith(t, w.pki, testpdf.Bytes(testpdf.Options{Text: "QUYET DINH"}), signing.Options{Certify: 1, Name: "UBND"}))
	for _, d := range []storage.Document{drafted, plain, sealed, certified} {
		w.turns.give(d.ID, w.an.user.ID)
	}
	noImage := w.person("cuong", "Lê Văn Cường", "Phó Chủ tịch", w.e.office.units["VP"].ID)
	w.bindP12(noImage, devpki.Official)
	cases := []struct {
		name   string
		token  string
		doc    string
		body   any
		status int
		typ    string
		detail string
	}{
		{"no turn", w.an.token, w.e.uploadPDF("Khác", draft(t, "qd-chu-tich.pdf")).ID, nil, http.StatusConflict, "/problems/not-your-turn", "not awaiting a signature"},
		{"drafter", w.e.token, drafted.ID, nil, http.StatusForbidden, "/problems/forbidden", ""},
		{"no key", w.binh.token, drafted.ID, nil, http.StatusConflict, "/problems/no-signing-key", "sign/prepare"},
		{"sealed", w.an.token, sealed.ID, nil, http.StatusConflict, "/problems/document-locked", "locks every field"},
		{"certified P=1", w.an.token, certified.ID, nil, http.StatusConflict, "/problems/document-locked", "DocMDP P=1"},
		{"name printed nowhere", w.an.token, plain.ID, nil, http.StatusUnprocessableEntity, "/problems/signature-place", "give page and rect"},
		{"another signer without a delegation", noImage.token, drafted.ID, nil, http.StatusUnprocessableEntity, "/problems/delegation-refused", "holds no delegation"},
		{"level below the organisation's", w.an.token, drafted.ID, map[string]any{"level": "B-B"}, http.StatusUnprocessableEntity, "/problems/invalid-input", "below the organisation's B-T"},
		{"unknown level", w.an.token, drafted.ID, map[string]any{"level": "B-X"}, http.StatusUnprocessableEntity, "/problems/invalid-input", "unknown PAdES level"},
		{"B-LT without an extender", w.an.token, drafted.ID, map[string]any{"level": "B-LT"}, http.StatusServiceUnavailable, "/problems/signing-unavailable", "revocation data"},
		{"bad rect", w.an.token, plain.ID, map[string]any{"page": 1, "rect": []float64{1, 2, 3}}, http.StatusUnprocessableEntity, "/problems/invalid-input", "rect"},
		{"tiny rect", w.an.token, plain.ID, map[string]any{"page": 1, "rect": []float64{1, 2, 3, 4}}, http.StatusUnprocessableEntity, "/problems/invalid-input", "rect"},
		{"page out of range", w.an.token, plain.ID, map[string]any{"page": 9, "rect": []float64{300, 100, 500, 200}}, http.StatusUnprocessableEntity, "", ""},
		{"not JSON", w.an.token, drafted.ID, "[", http.StatusBadRequest, "/problems/malformed-json", ""},
		{"unknown document", w.an.token, "00000000-0000-0000-0000-000000000000", nil, http.StatusNotFound, "/problems/not-found", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := w.versions(c.doc)
			var resp *http.Response
			var b []byte
			if s, ok := c.body.(string); ok {
				resp, b = send(t, w.e.url, c.token, "POST", "/api/v1/documents/"+c.doc+"/sign", strings.NewReader(s), "application/json")
			} else {
				resp, b = w.call(c.token, "POST", "/api/v1/documents/"+c.doc+"/sign", c.body)
			}
			p := decode[problem](t, b)
			if resp.StatusCode != c.status || (c.typ != "" && p.Type != c.typ) || !strings.Contains(p.Detail, c.detail) {
				t.Fatalf("%d %s, want %d %s with %q", resp.StatusCode, b, c.status, c.typ, c.detail)
			}
			if resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("answered as %s", resp.Header.Get("Content-Type"))
			}
			if after := w.versions(c.doc); after != before {
				t.Fatalf("versions %d → %d", before, after)
			}
		})
	}
	if fin := w.turns.done(); len(fin) != 0 {
		t.Fatalf("FinishSign called by refused signatures: %+v", fin)
	}

	// A signer without a signature image, on a draft printing the block.
	if _, err := w.e.db.Pool.Exec(context.Background(), "DELETE FROM signature_images WHERE user_id = $1", w.an.user.ID); err != nil {
		t.Fatal(err)
	}
	resp, b := w.call(w.an.token, "POST", "/api/v1/documents/"+drafted.ID+"/sign", nil)
	if p := decode[problem](t, b); resp.StatusCode != http.StatusConflict || p.Type != "/problems/no-signature-image" || !strings.Contains(p.Detail, "signature-image") {
		t.Fatalf("without a signature image: %d %s", resp.StatusCode, b)
	}

	// A rectangle on a document that prints no name: the whole block,
	// drawn without an image too.
	resp, b = w.call(w.an.token, "POST", "/api/v1/documents/"+plain.ID+"/sign", map[string]any{"page": 2, "rect": []float64{330, 100, 530, 230}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("with a rectangle: %d %s", resp.StatusCode, b)
	}
	rendercheck.AssertPdfsigValid(t, w.file(plain.ID, 2), 1)

	// Without the stand-in the service's own chain decides, and a draft
	// never submitted has no signing turn.
	w.e.configure(func(s *web.Server) { s.Turns = nil })
	resp, b = w.call(w.an.token, "POST", "/api/v1/documents/"+drafted.ID+"/sign", nil)
	if p := decode[problem](t, b); resp.StatusCode != http.StatusConflict || p.Type != "/problems/not-your-turn" || !strings.Contains(p.Detail, "the document is a draft") {
		t.Fatalf("a draft never submitted: %d %s", resp.StatusCode, b)
	}
}

// signedWith signs pdf with the dev PKI's seal key.
func signedWith(t *testing.T, pki *devpki.PKI, pdf []byte, o signing.Options) []byte {
	t.Helper()
	k, err := pki.Key(devpki.Seal)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(t.TempDir(), "*.pdf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := signing.Sign(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), f, k, o); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignatureImageUpload: who may set a signature image and what is
// accepted: a PNG with transparency within the limits.
func TestSignatureImageUpload(t *testing.T) {
	w := newSignWorld(t)
	good := pngBytes(t, appearance.DemoSignature("Trần Thị Bình"))
	opaque := image.NewNRGBA(image.Rect(0, 0, 40, 20))
	for i := range opaque.Pix {
		opaque.Pix[i] = 0xff
	}
	huge := image.NewNRGBA(image.Rect(0, 0, 1900, 900))
	noise := rand.New(rand.NewPCG(1, 2))
	for i := range huge.Pix {
		huge.Pix[i] = byte(noise.Uint32()) // does not compress
	}
	tooWide := image.NewNRGBA(image.Rect(0, 0, 3000, 10))
	tooWide.Set(0, 0, color.NRGBA{0, 0, 0, 0})
	other := e2(w)
	cases := []struct {
		name   string
		token  string
		user   string
		ct     string
		body   []byte
		status int
	}{
		{"own", w.binh.token, w.binh.user.ID, "image/png", good, http.StatusOK},
		{"administrator of the organisation", w.admin.token, w.binh.user.ID, "image/png", good, http.StatusOK},
		{"another user", w.an.token, w.binh.user.ID, "image/png", good, http.StatusForbidden},
		{"another organisation's administrator", other.token, w.binh.user.ID, "image/png", good, http.StatusNotFound},
		{"not image/png", w.binh.token, w.binh.user.ID, "image/jpeg", good, http.StatusUnsupportedMediaType},
		{"not a PNG", w.binh.token, w.binh.user.ID, "image/png", []byte("GIF89a not a png"), http.StatusUnprocessableEntity},
		{"truncated PNG", w.binh.token, w.binh.user.ID, "image/png", good[:len(good)/2], http.StatusUnprocessableEntity},
		{"no transparency", w.binh.token, w.binh.user.ID, "image/png", pngBytes(t, opaque), http.StatusUnprocessableEntity},
		{"too many pixels", w.binh.token, w.binh.user.ID, "image/png", pngBytes(t, tooWide), http.StatusUnprocessableEntity},
		{"too many bytes", w.binh.token, w.binh.user.ID, "image/png", pngBytes(t, huge), http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before string
			w.e.db.Pool.QueryRow(context.Background(), "SELECT sha256 FROM signature_images WHERE user_id = $1", c.user).Scan(&before)
			resp, b := send(t, w.e.url, c.token, "PUT", "/api/v1/users/"+c.user+"/signature-image", bytes.NewReader(c.body), c.ct)
			if resp.StatusCode != c.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, b, c.status)
			}
			var after string
			w.e.db.Pool.QueryRow(context.Background(), "SELECT sha256 FROM signature_images WHERE user_id = $1", c.user).Scan(&after)
			if c.status == http.StatusOK {
				if after != sha(c.body) {
					t.Fatal("the image stored is not the one sent")
				}
				if strings.Contains(string(b), "png") && bytes.Contains(b, c.body[:16]) {
					t.Fatal("the answer echoes the image")
				}
			} else if after != before {
				t.Fatal("a refused image replaced the stored one")
			}
		})
	}
}

// e2 is an administrator of a second organisation.
func e2(w *signWorld) member {
	o := w.e.newOffice("SYT", "Sở Y tế", "VP")
	return w.e.member(o.org.ID, "quantri-syt", []string{storage.RoleAdmin}, o.units["VP"].ID)
}

func timeIn(days int) time.Time { return time.Now().AddDate(0, 0, days) }

// prepared is the answer of sign/prepare.
type prepared struct {
	SessionID          string `json:"session_id"`
	DataToSign         []byte `json:"data_to_sign"`
	Digest             []byte `json:"digest"`
	DigestAlgorithm    string `json:"digest_algorithm"`
	SignatureAlgorithm string `json:"signature_algorithm"`
	Certificate        []byte `json:"certificate"`
	Version            int    `json:"version"`
}

func (w *signWorld) prepare(m member, docID string, body any) prepared {
	w.e.t.Helper()
	resp, b := w.call(m.token, "POST", "/api/v1/documents/"+docID+"/sign/prepare", body)
	if resp.StatusCode != http.StatusCreated {
		w.e.t.Fatalf("prepare: %d %s", resp.StatusCode, b)
	}
	return decode[prepared](w.e.t, b)
}

// TestSignInTwoSteps: the deputy signs with a key the service never sees
// (her desk token, here the dev PKI's key in the test): prepare hands out
// the hash of the signed attributes, complete embeds the value after
// checking it; wrong values, other people's, expired and used sessions and
// a document changed in between are refused, and nothing is added.
func TestSignInTwoSteps(t *testing.T) {
	w := newSignWorld(t)
	keyID := w.bindExternal(w.binh, devpki.Deputy)
	in := draft(t, "qd-kt-pho-chu-tich.pdf")
	doc := w.e.uploadPDF("Quyết định thành lập tổ công tác", in)
	w.turns.give(doc.ID, w.an.user.ID)
	if _, err := w.e.accounts.CreateDelegation(context.Background(), operator, storage.Delegation{FromUser: w.an.user.ID, ToUser: w.binh.user.ID, Form: "KT.",
		Basis: "Quyết định phân công", EndsAt: timeIn(30)}); err != nil {
		t.Fatal(err)
	}
	deputy, err := w.pki.Key(devpki.Deputy)
	if err != nil {
		t.Fatal(err)
	}
	official, err := w.pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	signDigest := func(k keys.Key, p prepared) []byte {
		sig, err := k.Sign(cryptorand.Reader, p.Digest, crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	complete := func(m member, body any) (*http.Response, problem, []byte) {
		resp, b := w.call(m.token, "POST", "/api/v1/documents/"+doc.ID+"/sign/complete", body)
		var p problem
		if resp.StatusCode >= 400 {
			p = decode[problem](t, b)
		}
		return resp, p, b
	}

	p := w.prepare(w.binh, doc.ID, map[string]any{"key_id": keyID})
	if p.DigestAlgorithm != "SHA-256" || p.SignatureAlgorithm != "RSASSA-PKCS1-v1_5" || len(p.Digest) != 32 || p.Version != 1 {
		t.Fatalf("prepared %+v", p)
	}
	if d := sha256.Sum256(p.DataToSign); !bytes.Equal(d[:], p.Digest) {
		t.Fatal("the digest is not the hash of the data to sign")
	}
	if cert, err := x509.ParseCertificate(p.Certificate); err != nil || cert.Subject.CommonName != "Trần Thị Bình" {
		t.Fatalf("prepared for certificate %v (%v)", cert, err)
	}
	refusals := []struct {
		name   string
		who    member
		body   any
		status int
		typ    string
	}{
		{"another key's signature", w.binh, map[string]any{"session_id": p.SessionID, "signature": signDigest(official, p)}, http.StatusUnprocessableEntity, "/problems/signature-rejected"},
		{"garbage CMS", w.binh, map[string]any{"session_id": p.SessionID, "cms": []byte("not a CMS")}, http.StatusUnprocessableEntity, "/problems/signature-rejected"},
		{"both signature and CMS", w.binh, map[string]any{"session_id": p.SessionID, "signature": []byte{1}, "cms": []byte{1}}, http.StatusUnprocessableEntity, "/problems/invalid-input"},
		{"someone else's session", w.an, map[string]any{"session_id": p.SessionID, "signature": signDigest(deputy, p)}, http.StatusNotFound, "/problems/not-found"},
		{"no such session", w.binh, map[string]any{"session_id": "6f1c2d4e-0000-4000-8000-000000000000", "signature": signDigest(deputy, p)}, http.StatusNotFound, "/problems/not-found"},
	}
	for _, c := range refusals {
		resp, pr, b := complete(c.who, c.body)
		if resp.StatusCode != c.status || pr.Type != c.typ {
			t.Fatalf("%s: %d %s, want %d %s", c.name, resp.StatusCode, b, c.status, c.typ)
		}
		if n := w.versions(doc.ID); n != 1 {
			t.Fatalf("%s added a version", c.name)
		}
	}

	resp, _, b := complete(w.binh, map[string]any{"session_id": p.SessionID, "signature": signDigest(deputy, p)})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("complete: %d %s", resp.StatusCode, b)
	}
	v := decode[storage.Version](t, b)
	w.assertSigned(in, w.file(doc.ID, v.Number), 1, "Trần Thị Bình")
	if fin := w.turns.done(); len(fin) != 1 || fin[0].form != "KT." || fin[0].version != 2 {
		t.Fatalf("FinishSign calls %+v", fin)
	}
	if resp, pr, b := complete(w.binh, map[string]any{"session_id": p.SessionID, "signature": signDigest(deputy, p)}); resp.StatusCode != http.StatusConflict || pr.Type != "/problems/sign-session-used" {
		t.Fatalf("completing twice: %d %s", resp.StatusCode, b)
	}

	// An expired session, and one whose document changed since.
	w.turns.give(doc.ID, w.an.user.ID)
	p = w.prepare(w.binh, doc.ID, nil)
	if _, err := w.e.db.Pool.Exec(context.Background(), "UPDATE sign_sessions SET expires_at = now() - interval '1 second' WHERE id = $1", p.SessionID); err != nil {
		t.Fatal(err)
	}
	if resp, pr, b := complete(w.binh, map[string]any{"session_id": p.SessionID, "signature": signDigest(deputy, p)}); resp.StatusCode != http.StatusGone || pr.Type != "/problems/sign-session-expired" {
		t.Fatalf("expired session: %d %s", resp.StatusCode, b)
	}
	p = w.prepare(w.binh, doc.ID, nil)
	if _, err := w.e.db.Pool.Exec(context.Background(), "UPDATE signature_images SET sha256 = 'changed' WHERE user_id = $1", w.binh.user.ID); err != nil {
		t.Fatal(err)
	}
	if resp, pr, b := complete(w.binh, map[string]any{"session_id": p.SessionID, "signature": signDigest(deputy, p)}); resp.StatusCode != http.StatusConflict || pr.Type != "/problems/prepared-signature-stale" {
		t.Fatalf("stale session: %d %s", resp.StatusCode, b)
	}
	if n := w.versions(doc.ID); n != 2 {
		t.Fatalf("%d versions after the refusals", n)
	}
	// Sessions keep no secret: no signature value, no key.
	var stored string
	w.e.db.Pool.QueryRow(context.Background(), "SELECT params::text FROM sign_sessions WHERE id = $1", p.SessionID).Scan(&stored)
	if !strings.Contains(stored, `"authority_form": "KT."`) || strings.Contains(stored, "PRIVATE") {
		t.Fatalf("session parameters %s", stored)
	}
}

// TestSignAtOrganisationLevel: an organisation configured for B-LT gets
// B-LT signatures (validation data in the DSS), VALID offline.
func TestSignAtOrganisationLevel(t *testing.T) {
	w := newSignWorld(t)
	w.e.configure(func(s *web.Server) {
		s.Signing.Extender = &ltv.Extender{Options: ltv.Options{Roots: []*x509.Certificate{w.pki.Root()}}, TSA: ltv.TSA{URL: w.pki.TSAURL()}}
	})
	if err := docsign.SetOrganizationLevel(context.Background(), w.e.db, operator, w.e.office.org.ID, "B-LT"); err != nil {
		t.Fatal(err)
	}
	w.bindP12(w.an, devpki.Official)
	doc := w.e.uploadPDF("Quyết định", draft(t, "qd-chu-tich.pdf"))
	w.turns.give(doc.ID, w.an.user.ID)
	resp, b := w.call(w.an.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign: %d %s", resp.StatusCode, b)
	}
	out := w.file(doc.ID, 2)
	rep, err := verify.Verify(context.Background(), bytes.NewReader(out), int64(len(out)), verify.Options{Trust: chain.NewStore(w.pki.Root()), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || rep.Signatures[0].Level != "B-LT" {
		t.Fatalf("verifier offline: %s at %s", rep.Verdict, rep.Signatures[0].Level)
	}
}

// TestSignIdempotencyKey: a signature request sent again under its
// Idempotency-Key (a lost answer, a double tap, two at once) answers with
// the version the first made; one signature, one version. The key with a
// different request is refused.
func TestSignIdempotencyKey(t *testing.T) {
	w := newSignWorld(t)
	w.bindP12(w.an, devpki.Official)
	doc := w.e.uploadPDF("Quyết định ban hành quy chế", draft(t, "qd-chu-tich.pdf"))
	w.turns.give(doc.ID, w.an.user.ID)
	signKeyed := func(body string) (int, []byte) {
		req, err := http.NewRequest("POST", w.e.url+"/api/v1/documents/"+doc.ID+"/sign", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		req.Header.Set("Authorization", "Bearer "+w.an.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "sign-once")
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	var wg sync.WaitGroup
	codes, bodies := make([]int, 3), make([][]byte, 3)
	for i := range codes {
		wg.Go(func() { codes[i], bodies[i] = signKeyed(`{}`) })
	}
	wg.Wait()
	for i := range codes {
		if codes[i] != http.StatusCreated {
			t.Fatalf("request %d: %d %s", i, codes[i], bodies[i])
		}
		if v := decode[storage.Version](t, bodies[i]); v.Number != 2 || !v.Signed {
			t.Fatalf("request %d answered version %+v", i, v)
		}
	}
	if n := w.versions(doc.ID); n != 2 {
		t.Fatalf("%d versions after three keyed requests", n)
	}
	if code, b := signKeyed(`{"level": "B-T"}`); code != http.StatusUnprocessableEntity {
		t.Fatalf("the key with another request: %d %s", code, b)
	}
}
