package register_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents/publicverify"
	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
	"github.com/vanthu/vanthu/storage"
)

// Only the organisation's administrators turn the QR code on, each change
// audited with what it replaced; members read the setting.
func TestIssuingSettings(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin := w.user("quantri", "Quản Trị", w.org.ID, storage.RoleAdmin)
	on, off := true, false
	got, err := w.svc.IssuingSettings(ctx, w.clerk, w.org.ID)
	if err != nil || got.VerifyQR {
		t.Fatalf("default settings %+v %v", got, err)
	}
	if _, err := w.svc.SetIssuingSettings(ctx, w.clerk, w.org.ID, register.IssuingSettingsRequest{VerifyQR: &on}); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("a clerk turns the QR code on: %v, want forbidden", err)
	}
	if _, err := w.svc.SetIssuingSettings(ctx, w.otherClerk, w.org.ID, register.IssuingSettingsRequest{VerifyQR: &on}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("another organisation's member: %v, want not found", err)
	}
	var in *accounts.InputError
	if _, err := w.svc.SetIssuingSettings(ctx, admin, w.org.ID, register.IssuingSettingsRequest{}); !errors.As(err, &in) {
		t.Fatalf("no verify_qr: %v, want an input error", err)
	}
	for _, v := range []*bool{&on, &off, &on} {
		if got, err = w.svc.SetIssuingSettings(ctx, admin, w.org.ID, register.IssuingSettingsRequest{VerifyQR: v}); err != nil || got.VerifyQR != *v {
			t.Fatalf("set %v: %+v %v", *v, got, err)
		}
	}
	if got, err = w.svc.IssuingSettings(ctx, w.clerk, w.org.ID); err != nil || !got.VerifyQR || got.UpdatedBy != admin.ID {
		t.Fatalf("settings after the changes %+v %v", got, err)
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE action = 'organization.issuing_settings' AND object = $1
		AND details->'verify_qr'->>'from' = 'false' AND details->'verify_qr'->>'to' = 'true'`, "organization:"+w.org.ID); n != 2 {
		t.Fatalf("%d audit entries turning the QR code on, want 2", n)
	}
}

func (w *world) turnQROn(t *testing.T) {
	t.Helper()
	admin := w.user("quantri", "Quản Trị", w.org.ID, storage.RoleAdmin)
	on := true
	if _, err := w.svc.SetIssuingSettings(context.Background(), admin, w.org.ID, register.IssuingSettingsRequest{VerifyQR: &on}); err != nil {
		t.Fatal(err)
	}
}

// An organisation that turned the QR code on issues documents whose
// organisation's signature carries, left of the seal, the QR code of the
// URL public verification answers found for that very file; both
// signatures stay VALID (verifier and pdfsig).
func TestIssuedDocumentCarriesVerifyQR(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.svc.PublicURL = "https://vanthu.example/"
	w.turnQROn(t)
	d := w.signedDocument("QĐ", "thuong")
	out, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := storage.GetVersion(ctx, w.db.Pool, d.ID, out.Version)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := w.svc.Docs.Open(ctx, v, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	file, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	var code, kind string
	if err := w.db.Pool.QueryRow(ctx, "SELECT code, kind FROM public_records WHERE sha256 = $1", v.SHA256).Scan(&code, &kind); err != nil {
		t.Fatal(err)
	}
	url := "https://vanthu.example/v/" + code
	if kind != publicverify.KindIssued {
		t.Fatalf("recorded as %s", kind)
	}

	w.requireValid(t, file)

	// The organisation's widget grew leftwards by the code and the gap:
	// the seal covers the signer's widget [320 120 520 220] as before.
	_, rect, err := register.SignerWidget(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	dia := 36 / 25.4 * 72
	sealX1 := 320 + 200.0/3 - dia
	if want := sealX1 - register.QRSidePt - register.QRGapPt; rect.X1 < want-0.5 || rect.X1 > want+0.5 || rect.X2 < 320+200.0/3-0.5 || rect.X2 > 320+200.0/3+0.5 {
		t.Fatalf("organisation's widget %s, want from %.1f to %.1f", rect, want, 320+200.0/3)
	}
	// The code's top edge is 170 + QRSidePt/2 points above the page's bottom.
	const dpi = 288
	page := rendercheck.Render(t, file, 1, dpi)
	pageH := float64(page.Bounds().Dy()) * 72 / dpi
	rendercheck.QR(t, page, dpi, url, sealX1-register.QRGapPt-register.QRSidePt, pageH-(170+register.QRSidePt/2), register.QRSidePt)

	// The URL answers found for this file: by its code, and by its bytes.
	pub := &publicverify.Service{DB: w.db, Blobs: w.svc.Docs.Blobs, TempDir: t.TempDir(),
		Verify: func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
			return verify.Verify(ctx, r, size, verify.Options{Trust: chain.NewStore(w.pki.Root())})
		}}
	a, err := pub.ByCode(ctx, code)
	if err != nil || !a.Found || a.SHA256 != v.SHA256 || a.Number != out.Symbol || a.Kind != publicverify.KindIssued || a.Verdict != string(etsi.Valid) {
		t.Fatalf("by the QR code: %+v %v", a, err)
	}
	if a, err = pub.Upload(ctx, bytes.NewReader(file), 0); err != nil || !a.Found || a.Number != out.Symbol {
		t.Fatalf("by the file: %+v %v", a, err)
	}
}

// failingEvents refuses every event: issuing fails after the number, the
// sealed version and the public record were written in its transaction.
type failingEvents struct{}

func (failingEvents) Publish(context.Context, pgx.Tx, events.Event) error {
	return errors.New("the event log is down")
}

// An issue that fails after the code was drawn and recorded leaves
// neither the number nor the public record; the next issue records its
// file with its own code.
func TestFailedIssueLeavesNoPublicRecord(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.svc.PublicURL = "https://vanthu.example"
	w.turnQROn(t)
	d := w.signedDocument("QĐ", "thuong")
	w.svc.Events = failingEvents{}
	if _, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); err == nil {
		t.Fatal("issued with the event log down")
	}
	if n := w.count("SELECT count(*) FROM public_records"); n != 0 {
		t.Fatalf("%d public records after a failed issue", n)
	}
	if n := w.count("SELECT coalesce(sum(last_number), 0) FROM register_counters"); n != 0 {
		t.Fatalf("a failed issue took %d numbers", n)
	}
	w.svc.Events = nil
	out, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)})
	if err != nil || out.Number != 1 {
		t.Fatalf("issue after the failure: %+v %v", out, err)
	}
	if n := w.count("SELECT count(*) FROM public_records WHERE document_id = $1 AND kind = 'issued'", d.ID); n != 1 {
		t.Fatalf("%d public records of the issued document, want 1", n)
	}
}

// With the QR code on, an issue encodes only the code: the seal's
// encoding, kept between issues, is drawn as it is, and the code, new at
// every issue, is an image of its own beside it. Every issued file is
// VALID with both signatures, and carries its own code.
func TestIssueWithQREncodesOnlyTheCode(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.svc.PublicURL = "https://vanthu.example/"
	w.turnQROn(t)
	var sealPNG bytes.Buffer
	if err := png.Encode(&sealPNG, appearance.DemoSeal(w.org.Name)); err != nil {
		t.Fatal(err)
	}
	stored, err := register.DecodeSealImage(sealPNG.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	w.svc.SealImage = func(context.Context, storage.Organization) (image.Image, error) { return stored, nil }
	codes := map[string]bool{}
	for i := range 3 {
		d := w.signedDocument("QĐ", "thuong")
		before := signing.ImagesEncoded()
		out, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)})
		if err != nil {
			t.Fatal(err)
		}
		// The first issue of the process may encode the seal too.
		n := signing.ImagesEncoded() - before
		if n != 1 && !(i == 0 && n == 2) {
			t.Fatalf("issue %d encoded %d images, want only the QR code", i+1, n)
		}
		v, err := storage.GetVersion(ctx, w.db.Pool, d.ID, out.Version)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := w.svc.Docs.Open(ctx, v, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		file, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Verify(ctx, bytes.NewReader(file), int64(len(file)), verify.Options{Trust: chain.NewStore(w.pki.Root())})
		if err != nil || rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 {
			t.Fatalf("issue %d: verifier %v %+v", i+1, err, rep)
		}
		var code string
		if err := w.db.Pool.QueryRow(ctx, "SELECT code FROM public_records WHERE sha256 = $1", v.SHA256).Scan(&code); err != nil {
			t.Fatal(err)
		}
		if codes[code] {
			t.Fatalf("issue %d drew the code %s again", i+1, code)
		}
		codes[code] = true
		if i == 0 {
			// Where the code and the seal are drawn: the code is found
			// where it always was, left of the seal.
			const dpi = 288
			page := rendercheck.Render(t, file, 1, dpi)
			pageH := float64(page.Bounds().Dy()) * 72 / dpi
			sealX1 := 320 + 200.0/3 - 36/25.4*72
			rendercheck.QR(t, page, dpi, "https://vanthu.example/v/"+code, sealX1-register.QRGapPt-register.QRSidePt, pageH-(170+register.QRSidePt/2), register.QRSidePt)
		}
	}
}
