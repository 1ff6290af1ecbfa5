package ui_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// postNamedFile posts a multipart form with one file field named file, as the
// browser sends the document page's new-version form.
func postNamedFile(t *testing.T, c *http.Client, u, fileName string, content []byte) (int, string, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", fileName)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", u, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestNewVersionAnswersAReturn: the office walk found that a drafter
// whose draft was returned had no way on the pages to upload the
// corrected file (only the API's POST .../versions). The returned draft's
// page now offers the drafter a new-version form: an empty file is
// refused on the page with its reason linked to the field and nothing
// added; a PDF with a Vietnamese name becomes version 2 and the draft is
// resubmitted; the reviewer is not offered the drafter's form, and an
// auditor, who never changes documents, is refused it.
func TestNewVersionAnswersAReturn(t *testing.T) {
	w := newChainWorld(t)
	e := w.e
	doc := w.upload(t, "qd-chu-tich.pdf", "Quyết định về việc sửa theo ý kiến")
	docPath := "/documents/" + doc.ID
	drafter, reviewer := e.client(), e.client()
	e.login(drafter, "chuyenvien")
	e.login(reviewer, "truongphong")
	if status, _, body := postPage(t, e, drafter, docPath+"/submit", url.Values{"template_id": {w.template}}); status != http.StatusSeeOther {
		t.Fatalf("submit: %d\n%.500s", status, body)
	}
	if strings.Contains(pageOK(t, drafter, e.url+docPath), `id="version-form"`) {
		t.Fatal("a submitted draft offers its drafter a new version")
	}
	if status, _, body := postPage(t, e, reviewer, docPath+"/actions", url.Values{"action": {"return"}, "comment": {"Sửa lại phần căn cứ"}}); status != http.StatusSeeOther {
		t.Fatalf("return: %d\n%.500s", status, body)
	}
	body := pageOK(t, drafter, e.url+docPath)
	mustContain(t, "the returned draft's page", body, `id="version-form"`, `action="`+docPath+`/versions"`, `enctype="multipart/form-data"`, "Tải lên phiên bản mới")
	if strings.Contains(pageOK(t, reviewer, e.url+docPath), `id="version-form"`) {
		t.Fatal("the reviewer is offered the drafter's new-version form")
	}
	versions := func() int {
		var n int
		if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM document_versions WHERE document_id = $1", doc.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	status, _, body := postNamedFile(t, drafter, e.url+docPath+"/versions", "trống.pdf", nil)
	if status != http.StatusBadRequest {
		t.Fatalf("an empty file: %d, want 400", status)
	}
	mustContain(t, "the refused empty file", body, `role="alert"`, `<a href="#version-file">Tệp PDF của phiên bản mới</a>: <span id="error-reason">Tệp rỗng`, `id="version-form"`)
	if n := versions(); n != 1 {
		t.Fatalf("%d versions after the refused file", n)
	}

	pdf, err := os.ReadFile(fixture(t, "drafts/qd-kt-pho-chu-tich.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	auditor := e.client()
	e.login(auditor, "kiemtra")
	status, _, body = postNamedFile(t, auditor, e.url+docPath+"/versions", "bản của người khác.pdf", pdf)
	if status != http.StatusForbidden || !strings.Contains(body, `role="alert"`) {
		t.Fatalf("the auditor's new version: %d, want the 403 page\n%.300s", status, body)
	}
	status, loc, body := postNamedFile(t, drafter, e.url+docPath+"/versions", "Quyết định — bản sửa lần 2.pdf", pdf)
	if status != http.StatusSeeOther || loc != docPath+"?done=version" {
		t.Fatalf("the new version: %d to %q\n%.500s", status, loc, body)
	}
	if n := versions(); n != 2 {
		t.Fatalf("%d versions after the new one, want 2", n)
	}
	body = pageOK(t, drafter, e.url+loc)
	mustContain(t, "the page after the new version", body, "Đã tải lên phiên bản mới.", "Phiên bản 2", "Quyết định — bản sửa lần 2.pdf", "Trình lại")
	if status, _, body := postPage(t, e, drafter, docPath+"/submit", nil); status != http.StatusSeeOther {
		t.Fatalf("resubmit with the new version: %d\n%.500s", status, body)
	}
}
