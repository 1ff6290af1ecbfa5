package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"net/http"
	"testing"

	"github.com/vanthu/vanthu/documents/reception"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob/blobtest"
	"github.com/vanthu/vanthu/web"
)

// TestSignedTwiceAndIssuedFromAppendedBlobs: a draft signed by two people
// and issued is kept in MinIO as the draft and three appended updates (the
// bucket holds each signature's bytes once), and every way the service
// hands the files out gives the very bytes that were signed: the version
// download, the ranges pdf.js asks for (across the parts too), the
// receiving organisation's arrival, and public verification by upload.
func TestSignedTwiceAndIssuedFromAppendedBlobs(t *testing.T) {
	w := newSignWorld(t)
	w.e.configure(func(s *web.Server) {
		s.Issuing = web.IssueConfig{SealImage: func(_ context.Context, org storage.Organization) (image.Image, error) {
			return appearance.DemoSeal(org.Name), nil
		}}
		s.PublicURL = "https://vanthu.example"
		s.Verify = verify.Options{Trust: chain.NewStore(w.pki.Root())}
	})
	w.bindP12(w.an, devpki.Official)
	w.bindP12(w.binh, devpki.Deputy)
	org := w.e.office.org.ID
	w.bindSeal(org)
	clerk := w.e.member(org, "vanthu", []string{storage.RoleClerk}, w.e.office.units["VP"].ID)
	stc := w.e.newOffice("STC", "Sở Tài chính", "VP")
	stcClerk := w.e.member(stc.org.ID, "vanthu-stc", []string{storage.RoleClerk}, stc.units["VP"].ID)

	doc := w.e.uploadPDF("Quyết định ban hành quy chế", draft(t, "qd-chu-tich.pdf"))
	for _, s := range []struct {
		m    member
		body map[string]any
	}{
		{w.binh, map[string]any{"page": 1, "rect": []float64{60, 100, 260, 200}}}, // Bình's name is not printed
		{w.an, map[string]any{}},
	} {
		w.turns.give(doc.ID, s.m.user.ID)
		if resp, b := w.call(s.m.token, "POST", "/api/v1/documents/"+doc.ID+"/sign", s.body); resp.StatusCode != http.StatusCreated {
			t.Fatalf("sign by %s: %d %s", s.m.user.Username, resp.StatusCode, b)
		}
	}
	if _, err := w.e.db.Pool.Exec(context.Background(), "UPDATE documents SET status = 'signed' WHERE id = $1", doc.ID); err != nil {
		t.Fatal(err)
	}
	resp, b := w.call(clerk.token, "POST", "/api/v1/documents/"+doc.ID+"/issue", map[string]any{"recipients": []map[string]string{{"organization_id": stc.org.ID}}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d %s", resp.StatusCode, b)
	}
	issued := decode[register.Issued](t, b)
	if issued.Version != 4 {
		t.Fatalf("issued as version %d, want 4", issued.Version)
	}

	// Each version reads back as the bytes its key names, each starts
	// with the one before, and the bucket keeps only what was appended.
	w.e.moved()
	stored := blobtest.Objects(t, w.e.blobs)
	var files [][]byte
	for n := 1; n <= 4; n++ {
		f := w.file(doc.ID, n)
		var key string
		var size int64
		if err := w.e.db.Pool.QueryRow(context.Background(), "SELECT blob_key, size FROM document_versions WHERE document_id = $1 AND number = $2", doc.ID, n).Scan(&key, &size); err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(f); hex.EncodeToString(sum[:]) != key || int64(len(f)) != size {
			t.Fatalf("version %d: %d bytes that are not %s (%d bytes)", n, len(f), key, size)
		}
		want := int64(len(f))
		if n > 1 {
			prev := files[n-2]
			if !bytes.HasPrefix(f, prev) {
				t.Fatalf("version %d does not start with version %d", n, n-1)
			}
			want -= int64(len(prev))
		}
		if stored[key] != want {
			t.Fatalf("version %d: the bucket keeps %d bytes, want %d", n, stored[key], want)
		}
		files = append(files, f)
	}
	last := files[3]
	rep, err := verify.Verify(context.Background(), bytes.NewReader(last), int64(len(last)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 3 {
		t.Fatalf("issued file: %s with %d signatures", rep.Verdict, len(rep.Signatures))
	}

	// pdf.js reads by ranges; these cross from part to part.
	n1, n2, n3 := len(files[0]), len(files[1]), len(files[2])
	for _, r := range []struct {
		header   string
		from, to int // the bytes expected, to exclusive
	}{
		{"bytes=0-1023", 0, 1024},
		{fmt.Sprintf("bytes=%d-%d", n1-100, n1+99), n1 - 100, n1 + 100},
		{fmt.Sprintf("bytes=%d-%d", n1-10, n3+9), n1 - 10, n3 + 10},
		{fmt.Sprintf("bytes=%d-", n2), n2, len(last)},
		{fmt.Sprintf("bytes=%d-%d", n3, n3), n3, n3 + 1},
		{"bytes=-2000", len(last) - 2000, len(last)},
		{fmt.Sprintf("bytes=%d-%d", len(last)-5, len(last)+100), len(last) - 5, len(last)},
	} {
		resp, b := w.e.do("GET", fmt.Sprintf("/api/v1/documents/%s/versions/4/file", doc.ID), nil, "", map[string]string{"Range": r.header, "Authorization": "Bearer " + clerk.token})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, last[r.from:r.to]) {
			t.Fatalf("range %s: %d, %d bytes, want %d", r.header, resp.StatusCode, len(b), r.to-r.from)
		}
	}

	// The receiving organisation's arrival.
	resp, b = w.call(stcClerk.token, "GET", "/api/v1/reception", nil)
	items := decode[struct {
		Items []reception.Item `json:"items"`
	}](t, b).Items
	if resp.StatusCode != http.StatusOK || len(items) != 1 || items[0].Verdict != "VALID" {
		t.Fatalf("reception queue: %d %s", resp.StatusCode, b)
	}
	resp, b = w.call(stcClerk.token, "GET", "/api/v1/reception/"+items[0].ID+"/file", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, last) {
		t.Fatalf("arrived file: %d, %d bytes", resp.StatusCode, len(b))
	}

	// Public verification by upload finds the issued file by its bytes.
	iw := &issuedOverHTTP{signWorld: w}
	resp, a, b := iw.publicVerify(last)
	if resp.StatusCode != http.StatusOK || !a.Found || a.Kind != "issued" || a.Number != issued.Symbol || a.Verdict != "VALID" || len(a.Signatures) != 3 {
		t.Fatalf("public verification: %d %s", resp.StatusCode, b)
	}
}
