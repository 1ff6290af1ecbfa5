package register_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
)

// signDraft signs a Decree 30 draft as the signer does in the service: the
// handwritten image in the gap between the printed title and name.
func (w *world) signDraft(draft []byte, name string) []byte {
	w.t.Helper()
	ctx := context.Background()
	spec := appearance.Spec{Kind: appearance.Signer, Name: name, SignatureImage: appearance.DemoSignature(name)}
	pl, err := appearance.PlaceSigner(bytes.NewReader(draft), int64(len(draft)), spec, 0, nil, 200)
	if err != nil {
		w.t.Fatal(err)
	}
	key, err := w.pki.Key(devpki.Official)
	if err != nil {
		w.t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(w.t.TempDir(), "signed.pdf"))
	if err != nil {
		w.t.Fatal(err)
	}
	defer out.Close()
	r := pl.Rect
	err = signing.Sign(ctx, bytes.NewReader(draft), int64(len(draft)), out, key, signing.Options{Level: signing.LevelBT, TSAURL: w.pki.TSAURL(),
		Name: name, Reason: "Ký ban hành", Visible: &signing.Visible{Page: pl.Page, Rect: [4]float64{r.X1, r.Y1, r.X2, r.Y2}, Image: pl.Image}})
	if err != nil {
		w.t.Fatal(err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// documentOf is a signed document whose versions are draft and signed.
func (w *world) documentOf(typ string, draft, signed []byte) storage.Document {
	w.t.Helper()
	dk, ds := w.draftKey, w.draftSize
	sk, ss := w.signedKey, w.signedSize
	defer func() { w.draftKey, w.draftSize, w.signedKey, w.signedSize = dk, ds, sk, ss }()
	w.draftKey, w.draftSize = w.put(draft)
	w.signedKey, w.signedSize = w.put(signed)
	return w.signedDocument(typ, "thuong")
}

func (w *world) latest(d storage.Document) []byte {
	w.t.Helper()
	ctx := context.Background()
	got, err := storage.GetDocument(ctx, w.db.Pool, d.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	v, err := storage.GetVersion(ctx, w.db.Pool, d.ID, got.Versions)
	if err != nil {
		w.t.Fatal(err)
	}
	rc, err := w.svc.Docs.Open(ctx, v, 0, -1)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// Issuing a Decree 30 draft writes the number right after "Số:" and the
// day and month on the date line, as widgets of the organisation's
// signature, and lays the seal over the left third of the signer's image:
// poppler's rendering of page 1 changes there and nowhere else, and both
// signatures are VALID in the verifier and in pdfsig.
func TestIssueFillsThePlaceholders(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, c := range []struct{ file, signer string }{
		{"qd-chu-tich.pdf", "Nguyễn Văn An"},
		{"qd-kt-pho-chu-tich.pdf", "Trần Thị Bình"},
	} {
		t.Run(c.file, func(t *testing.T) {
			draft, err := os.ReadFile(filepath.Join(testharness.Drafts(t), c.file))
			if err != nil {
				t.Fatal(err)
			}
			signed := w.signDraft(draft, c.signer)
			d := w.documentOf("QĐ", draft, signed)
			out, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)})
			if err != nil {
				t.Fatal(err)
			}
			for _, warning := range out.Warnings {
				if strings.Contains(warning, "prints no blank") {
					t.Fatalf("placeholders not found: %q", out.Warnings)
				}
			}
			issued := w.latest(d)
			os.WriteFile("/tmp/probe/"+c.file, issued, 0o644)
			if !bytes.HasPrefix(issued, signed) {
				t.Fatal("the issued file does not keep the signed file's bytes")
			}

			// Where the changes may be, from poppler's word boxes of the
			// signed file (points from the top left).
			word := func(s string) rendercheck.Box {
				b, ok := rendercheck.WordBox(t, signed, 1, s)
				if !ok {
					t.Fatalf("%q not printed on page 1", s)
				}
				return b
			}
			so, symbol := word("Số:"), word("/QĐ-UBND")
			ngay, nam := word("ngày"), word("năm")
			afterSo := rendercheck.Box{X1: so.X2, Y1: so.Y1, X2: symbol.X1, Y2: so.Y2}
			dateLine := rendercheck.Box{X1: ngay.X2, Y1: ngay.Y1, X2: nam.X1, Y2: ngay.Y2}
			page, sig, err := register.SignerWidget(bytes.NewReader(signed), int64(len(signed)))
			if err != nil || page != 1 {
				t.Fatalf("signer's widget on page %d: %v", page, err)
			}
			h := rendercheck.PageHeight(t, signed, 1)
			dia := 36 / 25.4 * 72
			right := sig.X1 + sig.W()/3
			cy := h - (sig.Y1+sig.Y2)/2
			sealBox := rendercheck.Box{X1: right - dia, Y1: cy - dia/2, X2: right, Y2: cy + dia/2}
			areas := rendercheck.AssertChangesOnlyIn(t, signed, issued, 1, afterSo, dateLine, sealBox)
			// The number stands against the symbol's slash; the seal reaches
			// into the signer's image, not past its left third.
			if areas[0].X2 < symbol.X1-4 {
				t.Errorf("number drawn at %s, not against %q at %s", areas[0], "/QĐ-UBND", symbol)
			}
			if areas[2].X2 < sig.X1 {
				t.Errorf("seal drawn at %s does not reach the signer's image at x %.1f", areas[2], sig.X1)
			}

			rep, err := verify.Verify(ctx, bytes.NewReader(issued), int64(len(issued)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 {
				t.Fatalf("verifier: %s with %d signatures: %v", rep.Verdict, len(rep.Signatures), rep.Errors)
			}
			for _, s := range rep.Signatures {
				if s.Indication != etsi.TotalPassed {
					t.Fatalf("signature %s: %s %s", s.Field, s.Indication, s.SubIndication)
				}
			}
			rendercheck.AssertPdfsigValid(t, issued, 2)
		})
	}
}
