package web_test

import (
	"bytes"
	"context"
	"crypto"
	cryptorand "crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	vchain "github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// trinhKy is the whole outgoing flow's first half over the API with the
// real approval chain as the signing step's turns (no stand-in): a
// template of the unit's reviewer, the văn thư's format check and the
// chairman's signature; the drafter, the reviewer and the clerk of VP.
type trinhKy struct {
	*signWorld
	reviewer, clerk member
	template        string
	signStage       string // the template's sign stage
	// early, when set, runs between submission and the first approval.
	early func(docID string)
}

func newTrinhKy(t *testing.T) *trinhKy {
	t.Helper()
	w := newSignWorld(t)
	// The service as `vanthu serve` builds it: no Turns, so signing asks
	// the chain the routes run.
	w.e.configure(func(s *web.Server) { s.Turns = nil })
	org, vp := w.e.office.org.ID, w.e.office.units["VP"].ID
	k := &trinhKy{signWorld: w,
		reviewer: w.e.member(org, "truongphong", []string{storage.RoleReviewer}, vp),
		clerk:    w.e.member(org, "vanthu", []string{storage.RoleClerk}, vp)}
	resp, b := w.call(w.admin.token, "POST", "/api/v1/chain-templates", map[string]any{"name": "Quyết định của Chủ tịch", "document_types": []string{"QĐ"},
		"stages": []map[string]any{
			{"name": "Trưởng phòng kiểm tra", "kind": "review", "participants": []map[string]string{{"role": storage.RoleReviewer, "unit_id": "drafter"}}, "rule": "any"},
			{"name": "Văn thư kiểm tra thể thức", "kind": "format-check", "participants": []map[string]string{{"role": storage.RoleClerk}}, "rule": "any"},
			{"name": "Chủ tịch ký", "kind": "sign", "participants": []map[string]string{{"user_id": w.an.user.ID}}, "rule": "all"},
		}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("template: %d %s", resp.StatusCode, b)
	}
	k.template = decode[struct {
		ID string `json:"id"`
	}](t, b).ID
	k.signStage = "Chủ tịch ký"
	return k
}

// chainState is the part of GET /documents/{id}/chain these tests read.
type chainState struct {
	Status        string `json:"status"`
	Version       int    `json:"version"`
	VersionSHA256 string `json:"version_sha256"`
	Signatures    int    `json:"signatures"`
	CurrentStage  string `json:"current_stage"`
}

// approved uploads pdf as the drafter (unit VP), submits it on the
// template, and has the reviewer approve and the clerk pass the format
// check: the document awaits the chairman's signature.
func (k *trinhKy) approved(subject string, pdf []byte) storage.Document {
	t := k.e.t
	t.Helper()
	resp, b := k.e.upload([]part{{name: "type", value: "QĐ"}, {name: "subject", value: subject}, {name: "unit", value: "VP"},
		{name: "file", fileName: "du-thao.pdf", value: string(pdf)}}, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	doc := decode[storage.Document](t, b)
	path := "/api/v1/documents/" + doc.ID
	if resp, b := k.call(k.e.token, "POST", path+"/submit", map[string]any{"template_id": k.template}); resp.StatusCode != http.StatusOK {
		t.Fatalf("submit: %d %s", resp.StatusCode, b)
	}
	if k.early != nil {
		k.early(doc.ID)
	}
	for _, m := range []member{k.reviewer, k.clerk} {
		if resp, b := k.call(m.token, "POST", path+"/actions", map[string]any{"action": "approve"}); resp.StatusCode != http.StatusOK {
			t.Fatalf("approve by %s: %d %s", m.user.Username, resp.StatusCode, b)
		}
	}
	if c := k.chain(doc.ID); c.Status != "approved" || c.Version != 1 || c.VersionSHA256 != sha(pdf) || c.CurrentStage != k.signStage {
		t.Fatalf("after the checks: %+v", c)
	}
	return doc
}

func (k *trinhKy) chain(docID string) chainState {
	k.e.t.Helper()
	resp, b := k.call(k.e.token, "GET", "/api/v1/documents/"+docID+"/chain", nil)
	if resp.StatusCode != http.StatusOK {
		k.e.t.Fatalf("chain: %d %s", resp.StatusCode, b)
	}
	return decode[chainState](k.e.t, b)
}

type historyEntry struct {
	Action        string `json:"action"`
	ActorID       string `json:"actor_id"`
	OnBehalfOfID  string `json:"on_behalf_of_id"`
	AuthorityForm string `json:"authority_form"`
	Stage         string `json:"stage"`
	Version       int    `json:"version"`
	VersionSHA256 string `json:"version_sha256"`
	AtDisplay     string `json:"at_display"`
}

func (k *trinhKy) history(docID string) []historyEntry {
	k.e.t.Helper()
	resp, b := k.call(k.e.token, "GET", "/api/v1/documents/"+docID+"/history", nil)
	if resp.StatusCode != http.StatusOK {
		k.e.t.Fatalf("history: %d %s", resp.StatusCode, b)
	}
	return decode[struct {
		History []historyEntry `json:"history"`
	}](k.e.t, b).History
}

// assertHistory checks the document's history is submit, the two checks
// and one signature, each naming the version it was given for by SHA-256:
// the draft's for all but the signature, which names the signed version.
func (k *trinhKy) assertHistory(docID string, draftSHA, signedSHA, signer, onBehalfOf, form string) {
	t := k.e.t
	t.Helper()
	h := k.history(docID)
	want := []struct {
		action, actor string
		version       int
		sha           string
	}{
		{"submit", "", 1, draftSHA},
		{"approve", k.reviewer.user.ID, 1, draftSHA},
		{"approve", k.clerk.user.ID, 1, draftSHA},
		{"sign", signer, 2, signedSHA},
	}
	if len(h) != len(want) {
		t.Fatalf("history has %d entries, want %d: %+v", len(h), len(want), h)
	}
	for i, w := range want {
		e := h[i]
		if e.Action != w.action || (w.actor != "" && e.ActorID != w.actor) || e.Version != w.version || e.VersionSHA256 != w.sha || !strings.HasSuffix(e.AtDisplay, "+07:00") {
			t.Fatalf("history entry %d: %+v, want %s by %s on v%d %s", i, e, w.action, w.actor, w.version, w.sha)
		}
	}
	if s := h[3]; s.OnBehalfOfID != onBehalfOf || s.AuthorityForm != form {
		t.Fatalf("the signature's entry: %+v, want on behalf of %q as %q", s, onBehalfOf, form)
	}
}

// status reads the document's status.
func (k *trinhKy) status(docID string) string {
	k.e.t.Helper()
	resp, b := k.call(k.e.token, "GET", "/api/v1/documents/"+docID, nil)
	if resp.StatusCode != http.StatusOK {
		k.e.t.Fatalf("document: %d %s", resp.StatusCode, b)
	}
	return decode[struct {
		Status string `json:"status"`
	}](k.e.t, b).Status
}

// TestTrinhKy: a printed draft goes through its chain — submit, the
// reviewer's approval, the văn thư's format check — and the chairman signs
// it in the service with his own key (SoftHSM2-bound, or a sealed PKCS#12):
// the chain gives the turn, the signed file is the next version, VALID for
// the verifier on the dev PKI and for pdfsig, only the handwritten image
// drawn in the gap above his printed name; the document is signed, its
// history names every version by SHA-256; a second signature and an
// approver's signature are refused with their reasons.
func TestTrinhKy(t *testing.T) {
	for _, kind := range []string{"pkcs11", "pkcs12"} {
		t.Run(kind, func(t *testing.T) {
			k := newTrinhKy(t)
			if kind == "pkcs12" {
				k.bindP12(k.an, devpki.Official)
			} else {
				k.bindSoftHSM(k.an, devpki.Official)
			}
			// Before the stages before signing pass, the signer has no turn.
			k.early = func(docID string) {
				resp, b := k.call(k.an.token, "POST", "/api/v1/documents/"+docID+"/sign", nil)
				if p := decode[problem](t, b); resp.StatusCode != http.StatusConflict || p.Type != "/problems/not-your-turn" || !strings.Contains(p.Detail, "in_review") {
					t.Fatalf("signing in review: %d %s", resp.StatusCode, b)
				}
			}
			in := draft(t, "qd-chu-tich.pdf")
			doc := k.approved("Quyết định ban hành quy chế làm việc", in)
			path := "/api/v1/documents/" + doc.ID

			// An approver whose stage has passed has no signing turn.
			resp, b := k.call(k.reviewer.token, "POST", path+"/sign", nil)
			if p := decode[problem](t, b); (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusConflict) || p.Detail == "" {
				t.Fatalf("the reviewer signing: %d %s", resp.StatusCode, b)
			}

			if n := k.openInbox(k.an); n != 1 {
				t.Fatalf("the chairman's inbox holds %d open items before he signs", n)
			}
			resp, b = k.call(k.an.token, "POST", path+"/sign", map[string]any{})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("sign: %d %s", resp.StatusCode, b)
			}
			v := decode[storage.Version](t, b)
			if v.Number != 2 || !v.Signed {
				t.Fatalf("new version %+v", v)
			}
			out := k.file(doc.ID, 2)
			if sha(out) != v.SHA256 {
				t.Fatal("the stored file is not the version's bytes")
			}
			k.assertSigned(in, out, 1, "Nguyễn Văn An")
			if st := k.status(doc.ID); st != "signed" {
				t.Fatalf("status %q after the last signature", st)
			}
			if c := k.chain(doc.ID); c.Status != "signed" || c.Version != 2 || c.VersionSHA256 != v.SHA256 || c.Signatures != 1 {
				t.Fatalf("chain after signing: %+v", c)
			}
			k.assertHistory(doc.ID, sha(in), v.SHA256, k.an.user.ID, "", "")
			if n := k.openInbox(k.an); n != 0 {
				t.Fatalf("the chairman's inbox holds %d open items after he signed", n)
			}

			// The turn is spent.
			resp, b = k.call(k.an.token, "POST", path+"/sign", nil)
			if p := decode[conflictWithState](t, b); resp.StatusCode != http.StatusConflict || !strings.Contains(p.Detail, "signed") || p.State.Status != "signed" {
				t.Fatalf("second signature: %d %s", resp.StatusCode, b)
			}
			// After the signature no unsigned version may be added.
			body, ct := multipartBody([]part{{name: "file", fileName: "v3.pdf", value: string(in)}})
			if resp, b := send(t, k.e.url, k.e.token, "POST", path+"/versions", body, ct); resp.StatusCode != http.StatusConflict {
				t.Fatalf("an unsigned version over the signed one: %d %s", resp.StatusCode, b)
			}
			if n := k.versions(doc.ID); n != 2 {
				t.Fatalf("%d versions", n)
			}
			var audited int
			k.e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE action = 'document.sign' AND object = $1", "document:"+doc.ID).Scan(&audited)
			if audited != 1 {
				t.Fatalf("%d audit entries for the signature", audited)
			}
		})
	}
}

// TestTrinhKyDeputy: on the chairman's turn, the deputy holding his KT.
// delegation for QĐ signs the KT. draft with her own key; the history
// records her signature on his behalf, as KT.
func TestTrinhKyDeputy(t *testing.T) {
	k := newTrinhKy(t)
	k.bindP12(k.binh, devpki.Deputy)
	if _, err := k.e.accounts.CreateDelegation(context.Background(), operator, storage.Delegation{FromUser: k.an.user.ID, ToUser: k.binh.user.ID, Form: "KT.",
		DocumentTypes: []string{"QĐ"}, Basis: "Quyết định phân công công tác", EndsAt: timeIn(30)}); err != nil {
		t.Fatal(err)
	}
	in := draft(t, "qd-kt-pho-chu-tich.pdf")
	doc := k.approved("Quyết định thành lập tổ công tác", in)
	resp, b := k.call(k.binh.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("KT. signature: %d %s", resp.StatusCode, b)
	}
	v := decode[storage.Version](t, b)
	k.assertSigned(in, k.file(doc.ID, 2), 1, "Trần Thị Bình")
	if st := k.status(doc.ID); st != "signed" {
		t.Fatalf("status %q", st)
	}
	k.assertHistory(doc.ID, sha(in), v.SHA256, k.binh.user.ID, k.an.user.ID, "KT.")
}

// TestTrinhKyConcurrentSign: the signer's two sign calls at once (a double
// click, a retry) make exactly one signature: one 201, one 409, one
// signed version and one sign in the history.
func TestTrinhKyConcurrentSign(t *testing.T) {
	k := newTrinhKy(t)
	k.bindP12(k.an, devpki.Official)
	in := draft(t, "qd-chu-tich.pdf")
	doc := k.approved("Quyết định ban hành quy chế", in)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	bodies := make([][]byte, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, b := k.call(k.an.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", nil)
			codes[i], bodies[i] = resp.StatusCode, b
		}()
	}
	wg.Wait()
	if codes[0]+codes[1] != http.StatusCreated+http.StatusConflict {
		t.Fatalf("two signatures at once: %d %s / %d %s", codes[0], bodies[0], codes[1], bodies[1])
	}
	if n := k.versions(doc.ID); n != 2 {
		t.Fatalf("%d versions", n)
	}
	signs := 0
	for _, e := range k.history(doc.ID) {
		if e.Action == "sign" {
			signs++
		}
	}
	if c := k.chain(doc.ID); signs != 1 || c.Signatures != 1 || c.Status != "signed" {
		t.Fatalf("%d signs in the history, chain %+v", signs, c)
	}
	won, lost := bodies[0], bodies[1]
	if codes[1] == http.StatusCreated {
		won, lost = bodies[1], bodies[0]
	}
	// The loser is told why, with the chain as it now stands.
	if p := decode[conflictWithState](t, lost); p.Type != "/problems/not-your-turn" || !strings.Contains(p.Detail, "signed") || p.State.Status != "signed" || p.State.Version != 2 {
		t.Fatalf("the loser's answer: %s", lost)
	}
	k.assertSigned(in, k.file(doc.ID, 2), 1, "Nguyễn Văn An")
	if v := decode[storage.Version](t, won); v.Number != 2 {
		t.Fatal(fmt.Sprintf("the winner made version %d", v.Number))
	}
}

// TestTrinhKyTwoSteps: the deputy signs KT. with her desk token through
// sign/prepare and sign/complete on the real chain. While her signature is
// prepared the turn is reserved to her: the chairman's server-side
// signature and a new version are refused; completing it signs the
// document and records her signature on his behalf.
func TestTrinhKyTwoSteps(t *testing.T) {
	k := newTrinhKy(t)
	keyID := k.bindExternal(k.binh, devpki.Deputy)
	k.bindP12(k.an, devpki.Official)
	if _, err := k.e.accounts.CreateDelegation(context.Background(), operator, storage.Delegation{FromUser: k.an.user.ID, ToUser: k.binh.user.ID, Form: "KT.",
		DocumentTypes: []string{"QĐ"}, Basis: "Quyết định phân công công tác", EndsAt: timeIn(30)}); err != nil {
		t.Fatal(err)
	}
	in := draft(t, "qd-kt-pho-chu-tich.pdf")
	doc := k.approved("Quyết định thành lập tổ công tác", in)
	path := "/api/v1/documents/" + doc.ID
	p := k.prepare(k.binh, doc.ID, map[string]any{"key_id": keyID})
	if p.Version != 1 {
		t.Fatalf("prepared %+v", p)
	}
	resp, b := k.call(k.an.token, "POST", path+"/sign", nil)
	if pr := decode[problem](t, b); resp.StatusCode != http.StatusConflict || !strings.Contains(pr.Detail, "another signature is being made") {
		t.Fatalf("the chairman signing during her prepared signature: %d %s", resp.StatusCode, b)
	}
	body, ct := multipartBody([]part{{name: "file", fileName: "v2.pdf", value: string(in)}})
	if resp, b := send(t, k.e.url, k.e.token, "POST", path+"/versions", body, ct); resp.StatusCode != http.StatusConflict {
		t.Fatalf("a version during the prepared signature: %d %s", resp.StatusCode, b)
	}
	deputy, err := k.pki.Key(devpki.Deputy)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := deputy.Sign(cryptorand.Reader, p.Digest, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	resp, b = k.call(k.binh.token, "POST", path+"/sign/complete", map[string]any{"session_id": p.SessionID, "signature": sig})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("complete: %d %s", resp.StatusCode, b)
	}
	v := decode[storage.Version](t, b)
	k.assertSigned(in, k.file(doc.ID, 2), 1, "Trần Thị Bình")
	if st := k.status(doc.ID); st != "signed" {
		t.Fatalf("status %q", st)
	}
	k.assertHistory(doc.ID, sha(in), v.SHA256, k.binh.user.ID, k.an.user.ID, "KT.")
	if c := k.chain(doc.ID); c.Status != "signed" || c.Signatures != 1 {
		t.Fatalf("chain %+v", c)
	}
}

// TestTrinhKyTwoSigners: a sign stage of two signers (rule all) — the
// document stays approved after the first signature, the second signer
// signs the signed version (placing hers by a rectangle: the draft prints
// only the chairman's name), and only then is it signed, VALID with both.
func TestTrinhKyTwoSigners(t *testing.T) {
	k := newTrinhKy(t)
	k.bindP12(k.an, devpki.Official)
	k.bindP12(k.binh, devpki.Deputy)
	resp, b := k.call(k.admin.token, "POST", "/api/v1/chain-templates", map[string]any{"name": "Liên tịch", "document_types": []string{"QĐ"},
		"stages": []map[string]any{
			{"name": "Trưởng phòng kiểm tra", "kind": "review", "participants": []map[string]string{{"role": storage.RoleReviewer, "unit_id": "drafter"}}, "rule": "any"},
			{"name": "Văn thư kiểm tra thể thức", "kind": "format-check", "participants": []map[string]string{{"role": storage.RoleClerk}}, "rule": "any"},
			{"name": "Ký", "kind": "sign", "participants": []map[string]string{{"user_id": k.an.user.ID}, {"user_id": k.binh.user.ID}}, "rule": "all"},
		}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("template: %d %s", resp.StatusCode, b)
	}
	k.template = decode[struct {
		ID string `json:"id"`
	}](t, b).ID
	k.signStage = "Ký"
	in := draft(t, "qd-chu-tich.pdf")
	doc := k.approved("Quyết định liên tịch", in)
	path := "/api/v1/documents/" + doc.ID
	if resp, b := k.call(k.an.token, "POST", path+"/sign", nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("first signature: %d %s", resp.StatusCode, b)
	}
	if c := k.chain(doc.ID); c.Status != "approved" || c.Signatures != 1 || c.Version != 2 {
		t.Fatalf("after the first signature: %+v", c)
	}
	resp, b = k.call(k.binh.token, "POST", path+"/sign", map[string]any{"page": 1, "rect": []float64{60, 60, 260, 160}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("second signature: %d %s", resp.StatusCode, b)
	}
	v := decode[storage.Version](t, b)
	if v.Number != 3 {
		t.Fatalf("second signature made version %d", v.Number)
	}
	out := k.file(doc.ID, 3)
	rep, err := verify.Verify(context.Background(), bytes.NewReader(out), int64(len(out)), verify.Options{Trust: vchain.NewStore(k.pki.Root())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 {
		t.Fatalf("verifier: %s with %d signatures", rep.Verdict, len(rep.Signatures))
	}
	rendercheck.AssertPdfsigValid(t, out, 2)
	if c := k.chain(doc.ID); c.Status != "signed" || c.Signatures != 2 || c.Version != 3 || c.VersionSHA256 != v.SHA256 {
		t.Fatalf("after the second signature: %+v", c)
	}
}

// openInbox counts what waits for m to sign.
func (k *trinhKy) openInbox(m member) int {
	k.e.t.Helper()
	resp, b := k.call(m.token, "GET", "/api/v1/inbox?view=open&expected_action=sign", nil)
	if resp.StatusCode != http.StatusOK {
		k.e.t.Fatalf("inbox: %d %s", resp.StatusCode, b)
	}
	return len(decode[struct {
		Items []json.RawMessage `json:"items"`
	}](k.e.t, b).Items)
}

// TestTrinhKyWithdrawnWhilePrepared: the drafter cannot withdraw the
// document while the deputy's desk-token signature is prepared (the turn is
// reserved to her: the answer says so and carries the chain); completing it
// then signs the document.
func TestTrinhKyWithdrawnWhilePrepared(t *testing.T) {
	k := newTrinhKy(t)
	keyID := k.bindExternal(k.binh, devpki.Deputy)
	if _, err := k.e.accounts.CreateDelegation(context.Background(), operator, storage.Delegation{FromUser: k.an.user.ID, ToUser: k.binh.user.ID, Form: "KT.",
		DocumentTypes: []string{"QĐ"}, Basis: "Quyết định phân công công tác", EndsAt: timeIn(30)}); err != nil {
		t.Fatal(err)
	}
	in := draft(t, "qd-kt-pho-chu-tich.pdf")
	doc := k.approved("Quyết định thành lập tổ công tác", in)
	path := "/api/v1/documents/" + doc.ID
	p := k.prepare(k.binh, doc.ID, map[string]any{"key_id": keyID})
	resp, b := k.call(k.e.token, "POST", path+"/actions", map[string]any{"action": "withdraw", "comment": "Rút lại để sửa"})
	if pr := decode[conflictWithState](t, b); resp.StatusCode != http.StatusConflict || !strings.Contains(pr.Detail, "signature is being made") || pr.State.Status != "approved" {
		t.Fatalf("withdraw during the prepared signature: %d %s", resp.StatusCode, b)
	}
	deputy, err := k.pki.Key(devpki.Deputy)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := deputy.Sign(cryptorand.Reader, p.Digest, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	resp, b = k.call(k.binh.token, "POST", path+"/sign/complete", map[string]any{"session_id": p.SessionID, "signature": sig})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("complete: %d %s", resp.StatusCode, b)
	}
	if c := k.chain(doc.ID); c.Status != "signed" || k.versions(doc.ID) != 2 {
		t.Fatalf("chain %+v", c)
	}
	// Withdrawing after the signature is refused too.
	if resp, b := k.call(k.e.token, "POST", path+"/actions", map[string]any{"action": "withdraw", "comment": "Rút lại"}); resp.StatusCode != http.StatusConflict {
		t.Fatalf("withdraw after the signature: %d %s", resp.StatusCode, b)
	}
}

type conflictWithState struct {
	problem
	State chainState `json:"state"`
}
