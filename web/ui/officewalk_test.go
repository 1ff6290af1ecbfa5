package ui_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPagesLinkOnlyToWhatTheReaderMayUse: the pages found broken links in
// the office walk (TestOfficeWalk) show them no more: the documents list
// offers the upload to a drafter only.
func TestPagesLinkOnlyToWhatTheReaderMayUse(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		username string
		upload   bool
	}{{"chuyenvien", true}, {"kiemtra", false}, {"quantri", false}} {
		cl := e.client()
		e.login(cl, c.username)
		resp, body := get(t, cl, e.url+"/documents")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: /documents: %d", c.username, resp.StatusCode)
		}
		if got := strings.Contains(body, `href="/documents/new"`); got != c.upload {
			t.Errorf("%s: the documents list links to the upload: %v, want %v", c.username, got, c.upload)
		}
		resp, _ = get(t, cl, e.url+"/documents/new")
		if may := resp.StatusCode == http.StatusOK; may != c.upload {
			t.Errorf("%s: the upload page answers %d", c.username, resp.StatusCode)
		}
	}
}
