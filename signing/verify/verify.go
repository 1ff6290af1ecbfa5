// Package verify is vanthu's auditor-grade validator of signed PDFs. It owns
// finding every signature of a file (form fields and hidden signature
// dictionaries alike), checking each one (ByteRange and coverage, CMS
// structure and cryptography, algorithm policy, certificate chain, revocation,
// timestamps, changes made after signing) and the report in ETSI EN 319 102-1
// vocabulary, rendered as text (Vietnamese or English), JSON lines or a PDF
// an auditor can file.
//
// Its subpackages: cms (CMS parsing and signer checks), chain (trust anchors,
// path building, revocation), etsi (indications), tamper (generators of
// manipulated files for the regression suite). Change analysis lives in
// signing/verify/diff.
package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/vanthu/vanthu/internal/prefixdigest"
	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/cms"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// Options configure a validation.
type Options struct {
	Trust   *chain.Store // trust anchors; nil trusts nothing
	At      time.Time    // validation time when no timestamp proves an earlier one; zero = now
	Offline bool         // use only revocation data embedded in the file
	// Fetcher asks for OCSP responses and CRLs online when not Offline;
	// nil means the one package chain/online registers where it is linked
	// (the service and everything that signs), else none (see chain.Request).
	Fetcher chain.Fetcher
	Logger  *slog.Logger
	// Budget bounds the decoded stream data (object streams, xref streams,
	// the DSS) one verification holds in memory at once; 0 means
	// pdf.DefaultBudget. What it refuses leaves the checks that needed
	// it INDETERMINATE, with the report saying so.
	Budget int64
	// SharedBudget, when set, is the process-wide budget every
	// verification's Budget also draws on (the service's verification
	// slots share one).
	SharedBudget *pdf.Budget
}

// sharedBudgetWait is how long a verification waits for other
// verifications to release bytes of the shared budget before its decoding
// is refused.
const sharedBudgetWait = 5 * time.Second

// maxSignatures bounds the work on a hostile file with thousands of
// signature dictionaries.
const maxSignatures = 200

// VerifyFile validates the file at path.
func VerifyFile(ctx context.Context, path string, opts Options) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	rep, err := Verify(ctx, f, st.Size(), opts)
	if rep != nil {
		rep.File = path
	}
	return rep, err
}

// Verify validates a signed PDF read through r. Only a read error is
// returned as an error: anything wrong with the file is in the report.
func Verify(ctx context.Context, r io.ReaderAt, size int64, opts Options) (*Report, error) {
	now := time.Now()
	rep := &Report{Size: size, CheckedAt: now.UTC(), Errors: []string{}, Warnings: []string{}, Signatures: []*Signature{}}
	known, _ := r.(KnownSHA256)
	osf, _ := r.(*os.File)
	if fb, ok := r.(fileBacked); ok {
		osf = fb.File()
	}
	if osf != nil && size > 0 && size < 1<<40 {
		// Map the file instead of reading it: the parser and the scans
		// read it in place, without copies, and only the pages they touch
		// become resident.
		if data, err := syscall.Mmap(int(osf.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED); err == nil {
			defer func() { _ = syscall.Munmap(data) }()
			r = memReader(data)
		}
	}
	var states *prefixdigest.States
	if known != nil {
		states = known.SHA256States()
	}

	v := &verifier{r: r, size: size, opts: opts, rep: rep, now: now, digests: newRangeDigests(r, size, states)}
	if v.opts.Logger == nil {
		v.opts.Logger = slog.Default()
	}
	budget := opts.SharedBudget.Sub(opts.Budget, sharedBudgetWait)
	lim := pdf.DefaultLimits()
	lim.Budget = budget
	// No stream may be larger than the budget, and decoding (which a file
	// may make the reader repeat) stops at two budgets' worth of work: the
	// corpus's largest need is 100 KB.
	lim.MaxStreamBytes = budget.Limit()
	lim.MaxTotalDecoded = 2 * budget.Limit()
	v.st = openStructure(r, size, &lim)
	defer v.st.close()
	rep.Revisions = len(v.st.revisionEnds())
	if err := v.st.err(); err != nil {
		rep.Errors = append(rep.Errors, "PDF structure: "+err.Error())
	}
	rep.Warnings = append(rep.Warnings, v.st.warnings()...)
	v.discover()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v.checkAll(ctx)
	// The file's digest last: the signatures' ranges have hashed most of
	// it by now, and it resumes from there.
	sum, err := v.digests.fileSHA256()
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	rep.SHA256 = hex.EncodeToString(sum)
	rep.Decoding = v.decoding(budget)
	v.verdict()
	return rep, nil
}

// decoding reports the decoded data the verification held and what its
// limits refused.
func (v *verifier) decoding(b *pdf.Budget) Decoding {
	d := Decoding{Budget: b.Limit(), Peak: b.Peak(), Total: b.Total()}
	if err := v.st.decodeRefusal(); err != nil {
		d.Exceeded = err.Error()
		var be *pdf.BudgetError
		d.Shared = errors.As(err, &be) && be.Shared
	}
	return d
}

type verifier struct {
	r    io.ReaderAt
	size int64
	opts Options
	rep  *Report
	now  time.Time
	st   structure

	sigs []*sigEntry
	dss  chain.Evidence
	// digests hashes the signed ranges and the file, each byte about once.
	digests *rangeDigests
	// dicts are the signature dictionaries parsed so far, by offset: the
	// form fields, the scan for /ByteRange and the search for the
	// enclosing dictionary all parse the same ones (each with its
	// /Contents decoded).
	dicts      map[int64]parsedSigDict
	dictsBytes int
}

type parsedSigDict struct {
	d   *sigDict
	err error
}

// maxCachedDictBytes bounds the /Contents the parsed dictionaries keep
// beyond the signatures that hold them anyway (a hostile file's many
// /ByteRange keys are parsed, not all kept).
const maxCachedDictBytes = 16 << 20

// sigDictAt parses the signature dictionary at off once.
func (v *verifier) sigDictAt(off int64) (*sigDict, error) {
	if p, ok := v.dicts[off]; ok {
		return p.d, p.err
	}
	d, err := parseSigDictAt(v.r, v.size, off)
	n := 64
	if d != nil {
		n += len(d.Contents)
	}
	if v.dictsBytes+n <= maxCachedDictBytes {
		if v.dicts == nil {
			v.dicts = map[int64]parsedSigDict{}
		}
		v.dicts[off] = parsedSigDict{d, err}
		v.dictsBytes += n
	}
	return d, err
}

type sigEntry struct {
	rep  *Signature
	dict *sigDict
	sd   *cms.SignedData
	// cryptoOK: the CMS verifies over the ranges and the ranges are sane.
	cryptoOK  bool
	signer    *x509.Certificate
	certs     []*x509.Certificate // CMS certificates plus DSS and certificate-values
	sigTSAt   time.Time           // genTime of the first valid signature timestamp
	docTSAt   time.Time           // genTime of a document timestamp
	tstCerts  []*x509.Certificate // the TSA's certificates (document timestamps)
	tstSigner *x509.Certificate
}

// discover finds the signatures: form fields of the latest revision first,
// then every other dictionary with a /ByteRange, reported as hidden.
func (v *verifier) discover() {
	fields := v.st.fields()
	byOffset := map[int64]string{}
	for _, f := range fields {
		byOffset[f.offset] = f.name
	}
	seen := map[int64]bool{}
	add := func(off int64, field string, hidden bool) {
		if seen[off] || len(v.sigs) >= maxSignatures {
			return
		}
		seen[off] = true
		s := &Signature{Field: field, Hidden: hidden, Revision: -1, Changes: []Change{}, Checks: []Check{}, Errors: []string{}, Warnings: []string{}, Type: "signature", offset: off}
		e := &sigEntry{rep: s}
		d, err := v.sigDictAt(off)
		if err != nil {
			s.fail(etsi.TotalFailed, etsi.FormatFailure, "signature dictionary cannot be parsed: "+err.Error())
		} else {
			e.dict = d
			if d.ObjNum >= 0 {
				s.Object = fmt.Sprintf("%d 0 obj", d.ObjNum)
			}
		}
		if hidden {
			s.Warnings = append(s.Warnings, "signature dictionary not reachable from the form fields of the latest revision (hidden signature)")
		}
		v.sigs = append(v.sigs, e)
	}
	for _, f := range fields {
		if f.offset < 0 {
			s := &Signature{Field: f.name, Revision: -1, Changes: []Change{}, Checks: []Check{}, Errors: []string{}, Warnings: []string{}, Type: "signature"}
			s.fail(etsi.TotalFailed, etsi.FormatFailure, "signature dictionary is not a plain object in the file ("+f.problem+")")
			v.sigs = append(v.sigs, &sigEntry{rep: s})
			continue
		}
		add(f.offset, f.name, false)
	}
	for _, pos := range scanSigDicts(v.r, v.size) {
		off, ok := v.enclosingDict(pos)
		if !ok {
			// "/ByteRange" where no dictionary can be read: a broken or
			// disguised signature, never silently ignored.
			s := &Signature{Field: "", Hidden: true, Revision: -1, Changes: []Change{}, Checks: []Check{}, Errors: []string{}, Warnings: []string{}, Type: "signature", offset: pos}
			s.fail(etsi.TotalFailed, etsi.FormatFailure, fmt.Sprintf("/ByteRange at offset %d outside any readable dictionary", pos))
			if !seen[pos] && len(v.sigs) < maxSignatures {
				seen[pos] = true
				v.sigs = append(v.sigs, &sigEntry{rep: s})
			}
			continue
		}
		if _, isField := byOffset[off]; isField || seen[off] {
			continue
		}
		d, err := v.sigDictAt(off)
		if err == nil && !d.isSignature() {
			continue // a /ByteRange in some other dictionary
		}
		add(off, "", true)
	}
	for _, off := range v.st.streamSigDicts() {
		s := &Signature{Hidden: true, Revision: -1, Changes: []Change{}, Checks: []Check{}, Errors: []string{}, Warnings: []string{}, Type: "signature"}
		s.fail(etsi.TotalFailed, etsi.FormatFailure, fmt.Sprintf("signature dictionary %s inside an object stream cannot have a verifiable /Contents gap", off))
		v.sigs = append(v.sigs, &sigEntry{rep: s})
	}
	if len(v.sigs) >= maxSignatures {
		v.rep.Errors = append(v.rep.Errors, fmt.Sprintf("more than %d signature dictionaries; the rest were not checked", maxSignatures))
	}
	sort.SliceStable(v.sigs, func(i, j int) bool { return v.sigs[i].rep.offset < v.sigs[j].rep.offset })
	v.dss = v.st.dss()
}

// isSignature: an object with /ByteRange and /Contents, /Type /Sig or
// /DocTimeStamp (or no /Type, which the specification allows).
func (d *sigDict) isSignature() bool {
	return d.ContentsEnd > 0 || d.Type == "Sig" || d.Type == "DocTimeStamp"
}

// enclosingDict finds the object (or dictionary) that holds the /ByteRange
// key at pos.
func (v *verifier) enclosingDict(pos int64) (int64, bool) {
	if off, ok := findObjectStart(v.r, pos); ok {
		if d, err := v.sigDictAt(off); err == nil && len(d.ByteRange) > 0 || err == nil && d.ByteRangeOK {
			return off, true
		}
	}
	// No object header: try each "<<" before pos, innermost first.
	const back = 64 << 10
	from := max(0, pos-back)
	buf, err := span(v.r, from, pos-from)
	if err != nil || int64(len(buf)) != pos-from {
		return 0, false
	}
	for tries, i := 0, len(buf); tries < 16; tries++ {
		i = bytes.LastIndex(buf[:i], []byte("<<"))
		if i < 0 {
			break
		}
		if d, err := v.sigDictAt(from + int64(i)); err == nil && d.ByteRangeOK && d.ContentsEnd > from+int64(i) {
			return from + int64(i), true
		}
	}
	return 0, false
}

func (v *verifier) checkAll(ctx context.Context) {
	// Pass 1: structure and cryptography of every signature and timestamp.
	for _, e := range v.sigs {
		if ctx.Err() != nil {
			return
		}
		if e.dict != nil {
			v.checkIntrinsic(e)
		}
	}
	// Pass 2: document timestamps (their chains) give proof of existence to
	// the signatures they cover.
	for _, e := range v.sigs {
		if e.dict != nil && e.rep.Type == "document-timestamp" && e.cryptoOK {
			v.checkTimestampChain(ctx, e)
		}
	}
	// Pass 3: chains, revocation and changes.
	for _, e := range v.sigs {
		if ctx.Err() != nil {
			return
		}
		if e.dict != nil && e.rep.Type == "signature" && e.sd != nil {
			v.checkTrust(ctx, e)
		}
		if e.dict != nil {
			v.checkChanges(e)
		}
		v.level(e)
		e.rep.conclude()
	}
}

// poe returns the earliest time a valid document timestamp proves the bytes
// up to end existed.
func (v *verifier) poe(end int64) (time.Time, bool) {
	var best time.Time
	for _, e := range v.sigs {
		if e.rep.Type != "document-timestamp" || !e.cryptoOK || e.rep.Indication != etsi.TotalPassed {
			continue
		}
		br := e.rep.ByteRange
		if len(br) == 4 && br[2]+br[3] >= end && (best.IsZero() || e.docTSAt.Before(best)) {
			best = e.docTSAt
		}
	}
	return best, !best.IsZero()
}

func (v *verifier) validationTime() time.Time {
	if !v.opts.At.IsZero() {
		return v.opts.At
	}
	return v.now
}

func (v *verifier) verdict() {
	rep := v.rep
	if len(v.sigs) == 0 {
		rep.Verdict = etsi.Unsigned
		return
	}
	invalid, allPassed := false, true
	for _, e := range v.sigs {
		s := e.rep
		rep.Signatures = append(rep.Signatures, s)
		if s.Indication == etsi.TotalFailed || s.Modifications == ModDisallowed {
			invalid = true
		}
		if s.Indication != etsi.TotalPassed || s.Hidden || s.Modifications == ModUnknown {
			allPassed = false
		}
		if s.Hidden {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("hidden signature dictionary at offset %d", s.offset))
		}
	}
	switch {
	case invalid:
		rep.Verdict = etsi.Invalid
	case allPassed && len(rep.Errors) == 0 && rep.Decoding.Exceeded == "":
		rep.Verdict = etsi.Valid
	default:
		rep.Verdict = etsi.VerdictIndeterminate
	}
}

// hashRanges digests the signed byte ranges with each of hs.
func (v *verifier) hashRanges(br []int64, hs ...crypto.Hash) ([][]byte, error) {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		sum, err := v.digests.digest(br, h)
		if err != nil {
			return nil, err
		}
		out[i] = sum
	}
	return out, nil
}

// revisionOf says which revision a range end closes, tolerating the EOL
// that may follow %%EOF.
func (v *verifier) revisionOf(end int64) (int, bool) {
	ends := v.st.revisionEnds()
	for i, e := range ends {
		if e == end {
			return i, true
		}
		if end < e && e-end <= 2 && v.onlyEOL(end, e) {
			return i, true
		}
	}
	return -1, false
}

func (v *verifier) onlyEOL(from, to int64) bool {
	b, err := span(v.r, from, to-from)
	if err != nil {
		return false
	}
	return len(bytes.Trim(b, "\r\n")) == 0
}
