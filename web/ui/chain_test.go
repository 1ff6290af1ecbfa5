package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// chainWorld is the office of env with an approval chain: a reviewer
// (truongphong), the chairman who signs (an, Nguyễn Văn An, Chủ tịch, with
// his handwritten-signature image), the dev PKI's TSA, and a chain
// template "Trình ký quyết định": review by the reviewer, then signing by
// the chairman.
type chainWorld struct {
	e        *env
	pki      *devpki.PKI
	template string
}

func newChainWorld(t *testing.T) *chainWorld {
	t.Helper()
	e := newEnv(t)
	pki := testharness.DevPKI(t)
	e.accounts.Anchors = append(e.accounts.Anchors, pki.Root())
	e.configure(func(s *web.Server) {
		s.Signing = web.SigningConfig{TSAURL: pki.TSAURL(), TempDir: t.TempDir()}
	})
	w := &chainWorld{e: e, pki: pki}
	reviewer := e.user("truongphong", "Phạm Thị Dung", storage.RoleReviewer)
	an := w.titled("an", "Nguyễn Văn An", "Chủ tịch", storage.RoleSigner)
	var img bytes.Buffer
	if err := png.Encode(&img, appearance.DemoSignature(an.FullName)); err != nil {
		t.Fatal(err)
	}
	w.api("an", "PUT", "/api/v1/users/"+an.ID+"/signature-image", "image/png", img.Bytes(), http.StatusOK)
	tpl := map[string]any{"name": "Trình ký quyết định", "stages": []map[string]any{
		{"name": "Trưởng phòng thẩm định", "kind": "review", "participants": []map[string]string{{"user_id": reviewer.ID}}, "rule": "all"},
		{"name": "Chủ tịch ký", "kind": "sign", "participants": []map[string]string{{"user_id": an.ID}}, "rule": "all"},
	}}
	b, _ := json.Marshal(tpl)
	var created struct{ ID string }
	json.Unmarshal(w.api("quantri", "POST", "/api/v1/chain-templates", "application/json", b, http.StatusCreated), &created)
	w.template = created.ID
	return w
}

// titled creates a member of unit VP with a title, who logs in with
// testPassword.
func (w *chainWorld) titled(username, fullName, title string, roles ...string) storage.User {
	w.e.t.Helper()
	ctx := context.Background()
	u, err := w.e.accounts.CreateUser(ctx, operator, accounts.NewUser{Username: username, FullName: fullName, Title: title,
		OrganizationID: w.e.org.ID, UnitIDs: []string{w.e.units["VP"].ID}, Roles: roles})
	if err != nil {
		w.e.t.Fatal(err)
	}
	hash, err := testPasswordHash()
	if err == nil {
		err = storage.SetPassword(ctx, w.e.db.Pool, u.ID, hash)
	}
	if err != nil {
		w.e.t.Fatal(err)
	}
	w.e.users[username] = u
	return u
}

// api calls the JSON API as username with a token and wants status.
func (w *chainWorld) api(username, method, path, ct string, body []byte, want int) []byte {
	w.e.t.Helper()
	req, _ := http.NewRequest(method, w.e.url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+w.e.token(w.e.t, username))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		w.e.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	return out
}

// bindP12 binds the dev PKI's PKCS#12 of name to username, sealed in the
// keystore.
func (w *chainWorld) bindP12(username, name string) {
	w.e.t.Helper()
	p12, err := os.ReadFile(w.pki.P12Path(name))
	if err != nil {
		w.e.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"kind": "pkcs12", "pkcs12": p12, "password": string(w.pki.Password())})
	w.api(username, "POST", "/api/v1/users/"+w.e.users[username].ID+"/keys", "application/json", b, http.StatusCreated)
}

// upload stores a printed draft as the drafter's document of type QĐ.
func (w *chainWorld) upload(t *testing.T, fixtureName, subject string) documents.Document {
	t.Helper()
	ctx := context.Background()
	f, err := os.Open(fixture(t, "drafts/"+fixtureName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := w.e.accounts.AuthenticateToken(ctx, w.e.token(t, "chuyenvien"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := w.e.docs.StoreFile(ctx, f, fixtureName)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := w.e.docs.CheckMeta(ctx, p, documents.Meta{Type: "QĐ", Subject: subject, Unit: "VP"})
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := w.e.docs.Create(ctx, p, meta, stored, "")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// pageOK GETs a page and wants status 200.
func pageOK(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, body := get(t, c, u)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, body)
	}
	return body
}

// postPage posts a form and returns the answer's status, Location and body.
func postPage(t *testing.T, e *env, c *http.Client, path string, form url.Values) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func mustContain(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Fatalf("%s lacks %q", what, p)
		}
	}
}

// TestTrinhKyPages walks the chain through the pages' forms without a
// browser: the drafter submits along the template; the reviewer finds it
// in the inbox (counter 1, a link to the document), is refused a return
// without a comment, approves; the signer is refused signing without a
// key (readably, nothing added), then signs with his sealed PKCS#12: the
// signed file is version 2, the document is signed, and the history shows
// each action with its actor and a +07:00 time.
func TestTrinhKyPages(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	doc := w.upload(t, "qd-chu-tich.pdf", "Quyết định ban hành quy chế làm việc")
	docPath := "/documents/" + doc.ID

	drafter := e.client()
	e.login(drafter, "chuyenvien")
	body := pageOK(t, drafter, e.url+docPath)
	mustContain(t, "the drafter's document page", body, "Luồng trình ký", "Văn bản chưa được trình.", `name="template_id"`, "Trình ký quyết định")
	status, loc, _ := postPage(t, e, drafter, docPath+"/submit", url.Values{"template_id": {w.template}})
	if status != http.StatusSeeOther || loc != docPath+"?done=submit" {
		t.Fatalf("submit: %d to %q", status, loc)
	}
	body = pageOK(t, drafter, e.url+loc)
	mustContain(t, "the page after submitting", body, "Đã trình văn bản.", "Bước hiện tại: Trưởng phòng thẩm định", "Phạm Thị Dung", "Đang trình", `id="withdraw-btn"`)

	reviewer := e.client()
	e.login(reviewer, "truongphong")
	body = pageOK(t, reviewer, e.url+"/")
	mustContain(t, "the reviewer's inbox", body, `<span class="count">1</span> <span>Chờ xử lý</span>`, `href="`+docPath+`"`, "Trưởng phòng thẩm định", "Duyệt")
	body = pageOK(t, reviewer, e.url+"/?view=handled")
	mustContain(t, "the reviewer's handled view", body, "Không có việc nào ở đây.")
	if resp, _ := get(t, reviewer, e.url+"/?view=nonsense"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unknown view: %d", resp.StatusCode)
	}
	status, _, body = postPage(t, e, reviewer, docPath+"/actions", url.Values{"action": {"return"}, "comment": {"  "}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("return without a comment: %d", status)
	}
	mustContain(t, "the refused return", body, "Trả lại phải kèm ý kiến.", `id="approve-btn"`)
	// The drafter may not approve in the reviewer's place.
	status, _, body = postPage(t, e, drafter, docPath+"/actions", url.Values{"action": {"approve"}})
	if status < 400 || status >= 500 {
		t.Fatalf("the drafter approving: %d", status)
	}
	status, loc, _ = postPage(t, e, reviewer, docPath+"/actions", url.Values{"action": {"approve"}, "comment": {"Đồng ý trình Chủ tịch."}})
	if status != http.StatusSeeOther || loc != docPath+"?done=approve" {
		t.Fatalf("approve: %d to %q", status, loc)
	}
	body = pageOK(t, reviewer, e.url+"/?view=handled")
	mustContain(t, "the reviewer's handled view after approving", body, `<span class="count">1</span> <span>Đã xử lý</span>`, `href="`+docPath+`"`)

	signer := e.client()
	e.login(signer, "an")
	body = pageOK(t, signer, e.url+docPath)
	mustContain(t, "the signer's document page", body, `id="sign-btn"`, "Đồng ý trình Chủ tịch.", "Đã duyệt, chờ ký")
	status, _, body = postPage(t, e, signer, docPath+"/sign", nil)
	if status != http.StatusConflict {
		t.Fatalf("signing without a key: %d", status)
	}
	mustContain(t, "the refused signature", body, `role="alert"`, "an chưa có khóa ký còn hiệu lực do hệ thống giữ; hãy nhờ quản trị gắn khóa")
	w.bindP12("an", devpki.Official)
	status, loc, body = postPage(t, e, signer, docPath+"/sign", nil)
	if status != http.StatusSeeOther || loc != docPath+"?done=sign" {
		t.Fatalf("sign: %d to %q\n%s", status, loc, body)
	}
	body = pageOK(t, signer, e.url+loc)
	mustContain(t, "the page after signing", body, "Đã ký số. Văn bản đã ký là phiên bản mới.", "Đã ký, chờ ban hành", "Phiên bản 2",
		"Lịch sử xử lý", "Nguyễn Văn An", "Phạm Thị Dung", "&#43;07:00)", "Ký số")
	if strings.Contains(body, `id="sign-btn"`) {
		t.Fatal("the sign button is still there after signing")
	}
	vs, err := e.docs.Versions(context.Background(), accounts.Operator("test"), doc.ID)
	if err == nil && (len(vs) != 2 || !vs[1].Signed) {
		t.Fatalf("versions after signing: %+v", vs)
	}
}

// TestTrinhKyFormsRefuseAndRoute: with a template of review, the văn
// thư's format check and signing, the clerk's page offers the format check
// (not approve); a drafter withdraws a submission and submits again; the
// chairman signing a draft that prints another signer's name is refused
// with a readable 422 (the printed name not found), in Vietnamese and in
// English, and nothing is added.
func TestTrinhKyFormsRefuseAndRoute(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	clerk := e.user("vanthu", "Đỗ Thị Hoa", storage.RoleClerk)
	tpl := map[string]any{"name": "Trình ký có kiểm tra thể thức", "stages": []map[string]any{
		{"name": "Thẩm định", "kind": "review", "participants": []map[string]string{{"user_id": e.users["truongphong"].ID}}, "rule": "all"},
		{"name": "Văn thư kiểm tra thể thức", "kind": "format-check", "participants": []map[string]string{{"user_id": clerk.ID}}, "rule": "all"},
		{"name": "Chủ tịch ký", "kind": "sign", "participants": []map[string]string{{"user_id": e.users["an"].ID}}, "rule": "all"},
	}}
	b, _ := json.Marshal(tpl)
	var created struct{ ID string }
	json.Unmarshal(w.api("quantri", "POST", "/api/v1/chain-templates", "application/json", b, http.StatusCreated), &created)
	w.bindP12("an", devpki.Official)

	// The draft prints Trần Thị Bình's name, not the chairman's.
	doc := w.upload(t, "qd-kt-pho-chu-tich.pdf", "Quyết định thành lập tổ công tác")
	docPath := "/documents/" + doc.ID
	drafter, reviewer, vt, signer := e.client(), e.client(), e.client(), e.client()
	e.login(drafter, "chuyenvien")
	e.login(reviewer, "truongphong")
	e.login(vt, "vanthu")
	e.login(signer, "an")
	expect := func(who string, c *http.Client, path string, form url.Values, wantLoc string) {
		t.Helper()
		status, loc, body := postPage(t, e, c, path, form)
		if status != http.StatusSeeOther || loc != wantLoc {
			t.Fatalf("%s POST %s %v: %d to %q\n%s", who, path, form, status, loc, body)
		}
	}
	expect("drafter", drafter, docPath+"/submit", url.Values{"template_id": {created.ID}}, docPath+"?done=submit")
	expect("drafter", drafter, docPath+"/actions", url.Values{"action": {"withdraw"}}, docPath+"?done=withdraw")
	body := pageOK(t, drafter, e.url+docPath+"?done=withdraw")
	mustContain(t, "the withdrawn document", body, "Đã rút lại văn bản.", "Đã rút lại", "Trình lại", "Rút lại")
	expect("drafter", drafter, docPath+"/submit", nil, docPath+"?done=submit")
	expect("reviewer", reviewer, docPath+"/actions", url.Values{"action": {"approve"}}, docPath+"?done=approve")

	body = pageOK(t, vt, e.url+"/")
	mustContain(t, "the clerk's inbox", body, `href="`+docPath+`"`, "Kiểm tra thể thức")
	body = pageOK(t, vt, e.url+docPath)
	mustContain(t, "the clerk's document page", body, "Đạt thể thức", `value="return"`)
	if strings.Contains(body, `id="sign-btn"`) {
		t.Fatal("the clerk is offered the sign button")
	}
	expect("clerk", vt, docPath+"/actions", url.Values{"action": {"approve"}}, docPath+"?done=approve")

	status, _, body := postPage(t, e, signer, docPath+"/sign", nil)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("signing a draft without the signer's printed name: %d", status)
	}
	mustContain(t, "the refused signature", body, `role="alert"`, "Không xác định được chỗ ký theo tên người ký", "hãy kéo khung chữ ký đến đúng chỗ trên trang", `id="sign-btn"`)
	lang := e.post(signer, "/language", "lang=en&back="+url.QueryEscape(docPath), nil)
	if lang.StatusCode != http.StatusSeeOther {
		t.Fatalf("switch to English: %d", lang.StatusCode)
	}
	status, _, body = postPage(t, e, signer, docPath+"/sign", nil)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("signing again in English: %d", status)
	}
	mustContain(t, "the refused signature in English", body, "The signer&#39;s name was not found on the document", "drag the signature box to its place on the page", "Approval chain", "History", "Sign")
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM document_versions WHERE document_id = $1", doc.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d versions after refused signatures (%v)", n, err)
	}
}
