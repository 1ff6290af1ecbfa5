package ltv

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/digitorus/pdf"

	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// ErrUpToDate is returned when every signature already has a VRI entry and
// Options.Refresh is not set: there is nothing to add.
var ErrUpToDate = errors.New("ltv: every signature already has validation data in the DSS")

// existingVRIKeys lists the signatures an earlier DSS already covers.
func existingVRIKeys(doc *pdfupdate.Doc) (map[string]bool, error) {
	cat, err := doc.Catalog()
	if err != nil {
		return nil, fmt.Errorf("ltv: read catalog: %w", err)
	}
	keys := map[string]bool{}
	err = pdfupdate.Safe(func() error {
		for _, k := range cat.Key("DSS").Key("VRI").Keys() {
			keys[k] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ltv: existing DSS: %w", err)
	}
	return keys, nil
}

// SignatureReport says what was recorded for one signature.
type SignatureReport struct {
	Field     string
	SubFilter string
	VRIKey    string
	Evidence  *Evidence
}

// Report describes one DSS update.
type Report struct {
	Signatures []SignatureReport
	// Added counts the streams this update added (the rest were already in
	// the DSS).
	AddedCerts, AddedOCSPs, AddedCRLs int
}

// AddValidationData reads the PDF in (size bytes), gathers validation data
// for every signature and document timestamp in it (the signer's chain, the
// chains of signature timestamp TSAs, OCSP responders' certificates, OCSP
// responses and CRLs), and writes the whole file followed by one incremental
// update whose catalog has a /DSS (merged with an existing one) with a /VRI
// entry per signature. Nothing is written to out unless every piece of
// evidence was fetched and verified, but callers should still write to a
// temporary file: a failing out.Write leaves a partial file.
func AddValidationData(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, opts Options) (*Report, error) {
	u, rep, err := prepareDSS(ctx, in, size, opts)
	if err != nil {
		return nil, err
	}
	if _, err := u.Write(out); err != nil {
		return nil, fmt.Errorf("ltv: write DSS update: %w", err)
	}
	return rep, nil
}

// prepareDSS gathers the evidence and builds the update without writing it.
func prepareDSS(ctx context.Context, in io.ReaderAt, size int64, opts Options) (*pdfupdate.Update, *Report, error) {
	doc, err := pdfupdate.Open(in, size)
	if err != nil {
		return nil, nil, fmt.Errorf("ltv: open PDF: %w", err)
	}
	sigs, err := FindSignatures(doc.Reader())
	if err != nil {
		return nil, nil, err
	}
	if len(sigs) == 0 {
		return nil, nil, errors.New("ltv: the PDF has no signatures to add validation data for")
	}
	covered, err := existingVRIKeys(doc)
	if err != nil {
		return nil, nil, err
	}
	col := NewCollector(opts)
	rep := &Report{}
	for _, s := range sigs {
		if covered[s.VRIKey()] && !opts.Refresh {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("ltv: %w", err)
		}
		ev, err := col.CollectSignature(ctx, s)
		if err != nil {
			return nil, nil, fmt.Errorf("ltv: signature %q: %w", s.Field, err)
		}
		rep.Signatures = append(rep.Signatures, SignatureReport{Field: s.Field, SubFilter: s.SubFilter, VRIKey: s.VRIKey(), Evidence: ev})
	}
	if len(rep.Signatures) == 0 {
		return nil, nil, ErrUpToDate
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	u, err := buildDSSUpdate(doc, rep, now)
	if err != nil {
		return nil, nil, err
	}
	return u, rep, nil
}

// CollectSignature gathers the evidence for one signature: its signer's chain
// (using the CMS's embedded certificates) and that of every signature
// timestamp's TSA.
func (c *Collector) CollectSignature(ctx context.Context, s *Signature) (*Evidence, error) {
	ev, err := c.Collect(ctx, s.Signer, s.Certs)
	if err != nil {
		return nil, err
	}
	for _, ts := range s.Timestamps {
		tev, err := c.Collect(ctx, ts.Signer, ts.Certs)
		if err != nil {
			return nil, fmt.Errorf("timestamp authority %q: %w", ts.Signer.Subject, err)
		}
		ev.Merge(tev)
	}
	return ev, nil
}

// dssStreams is one of the three DSS arrays being assembled: existing
// references are kept in order, new streams appended, duplicates (by content)
// dropped.
type dssStreams struct {
	refs  []string
	byKey map[[32]byte]string
	added int
}

func newDSSStreams() *dssStreams { return &dssStreams{byKey: map[[32]byte]string{}} }

func (d *dssStreams) keep(ref string, data []byte) {
	k := sha256.Sum256(data)
	if _, ok := d.byKey[k]; ok {
		return
	}
	d.byKey[k] = ref
	d.refs = append(d.refs, ref)
}

func (d *dssStreams) add(u *pdfupdate.Update, data []byte) (string, error) {
	k := sha256.Sum256(data)
	if ref, ok := d.byKey[k]; ok {
		return ref, nil
	}
	body, err := flateStream(data)
	if err != nil {
		return "", err
	}
	ref := u.Add(body).String()
	d.byKey[k] = ref
	d.refs = append(d.refs, ref)
	d.added++
	return ref, nil
}

func (d *dssStreams) array() string { return "[" + strings.Join(d.refs, " ") + "]" }

func flateStream(data []byte) ([]byte, error) {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("ltv: compress DSS stream: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("ltv: compress DSS stream: %w", err)
	}
	return pdfupdate.Stream(pdfupdate.Dict{"Filter": "/FlateDecode"}, z.Bytes()), nil
}

// buildDSSUpdate prepares the incremental update holding the new DSS.
func buildDSSUpdate(doc *pdfupdate.Doc, rep *Report, now time.Time) (*pdfupdate.Update, error) {
	cat, err := doc.Catalog()
	if err != nil {
		return nil, fmt.Errorf("ltv: read catalog: %w", err)
	}
	u := doc.NewUpdate()
	certs, ocsps, crls := newDSSStreams(), newDSSStreams(), newDSSStreams()
	vri := map[string]string{} // key → serialised entry
	var dssRef pdfupdate.Ref
	dssExtra := pdfupdate.Dict{}

	// Read what an earlier DSS holds, so B-LTA on top of B-LT, or a second
	// signer's LT, keeps and reuses it.
	err = pdfupdate.Safe(func() error {
		old := cat.Key("DSS")
		if old.IsNull() {
			return nil
		}
		if old.Kind() != pdf.Dict {
			return fmt.Errorf("/DSS is not a dictionary")
		}
		self := old.GetPtr().GetID()
		if self != 0 && self != cat.GetPtr().GetID() {
			dssRef = pdfupdate.Ref{Num: self, Gen: old.GetPtr().GetGen()}
		}
		for _, part := range []struct {
			key string
			s   *dssStreams
		}{{"Certs", certs}, {"OCSPs", ocsps}, {"CRLs", crls}} {
			arr := old.Key(part.key)
			for i := 0; i < arr.Len(); i++ {
				st := arr.Index(i)
				if st.Kind() != pdf.Stream {
					return fmt.Errorf("/DSS /%s[%d] is not a stream", part.key, i)
				}
				p := st.GetPtr()
				part.s.keep(fmt.Sprintf("%d %d R", p.GetID(), p.GetGen()), st.Data())
			}
		}
		ov := old.Key("VRI")
		for _, k := range ov.Keys() {
			s, err := pdfupdate.Value(ov.Key(k), ov.GetPtr().GetID())
			if err != nil {
				return fmt.Errorf("/DSS /VRI /%s: %w", k, err)
			}
			vri[k] = s
		}
		for _, k := range old.Keys() {
			switch k {
			case "Certs", "OCSPs", "CRLs", "VRI", "Type":
				continue
			}
			s, err := pdfupdate.Value(old.Key(k), self)
			if err != nil {
				return fmt.Errorf("/DSS /%s: %w", k, err)
			}
			dssExtra[k] = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ltv: existing DSS: %w", err)
	}

	tu := pdfupdate.LiteralString([]byte(pdfDate(now)))
	for _, sr := range rep.Signatures {
		var c, o, l []string
		for _, cert := range sr.Evidence.Certs {
			ref, err := certs.add(u, cert.Raw)
			if err != nil {
				return nil, err
			}
			c = append(c, ref)
		}
		for _, e := range sr.Evidence.OCSPs {
			ref, err := ocsps.add(u, e.Raw)
			if err != nil {
				return nil, err
			}
			o = append(o, ref)
		}
		for _, e := range sr.Evidence.CRLs {
			ref, err := crls.add(u, e.Raw)
			if err != nil {
				return nil, err
			}
			l = append(l, ref)
		}
		entry := pdfupdate.Dict{"TU": tu}
		if len(c) > 0 {
			entry["Cert"] = "[" + strings.Join(c, " ") + "]"
		}
		if len(o) > 0 {
			entry["OCSP"] = "[" + strings.Join(o, " ") + "]"
		}
		if len(l) > 0 {
			entry["CRL"] = "[" + strings.Join(l, " ") + "]"
		}
		vri[sr.VRIKey] = entry.String()
	}
	rep.AddedCerts, rep.AddedOCSPs, rep.AddedCRLs = certs.added, ocsps.added, crls.added

	keys := make([]string, 0, len(vri))
	for k := range vri {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var vb strings.Builder
	vb.WriteString("<<")
	for _, k := range keys {
		vb.WriteString(pdfupdate.Name(k))
		vb.WriteByte(' ')
		vb.WriteString(vri[k])
		vb.WriteByte(' ')
	}
	vb.WriteString(">>")

	dss := dssExtra
	dss["Type"] = "/DSS"
	dss["VRI"] = vb.String()
	if len(certs.refs) > 0 {
		dss["Certs"] = certs.array()
	}
	if len(ocsps.refs) > 0 {
		dss["OCSPs"] = ocsps.array()
	}
	if len(crls.refs) > 0 {
		dss["CRLs"] = crls.array()
	}

	if dssRef.Num != 0 {
		// A new version of the existing DSS object: the catalog need not change.
		u.Set(dssRef, dss.Bytes())
		return u, nil
	}
	newRef := u.Add(dss.Bytes())
	cd, err := pdfupdate.DictOf(cat)
	if err != nil {
		return nil, fmt.Errorf("ltv: copy catalog: %w", err)
	}
	cd["DSS"] = newRef.String()
	if _, ok := cd["Extensions"]; !ok && pdfVersionBelow2(doc) {
		// PAdES on PDF 1.7 declares the ESIC extension (ETSI EN 319 142-1
		// §5.4.1): level 5 introduced the DSS.
		cd["Extensions"] = "<</ESIC <</BaseVersion /1.7 /ExtensionLevel 5>>>>"
	}
	u.Set(doc.Root(), cd.Bytes())
	return u, nil
}

func pdfVersionBelow2(doc *pdfupdate.Doc) bool {
	v := doc.Reader().PDFVersion
	return v == "" || v < "2.0"
}

// pdfDate formats t as a PDF date string in UTC.
func pdfDate(t time.Time) string {
	return "D:" + t.UTC().Format("20060102150405") + "Z"
}
