// Package verifycli owns the `vanthu verify` command: its flags, its output
// and its exit statuses. Both binaries carry it: the service binary
// (cmd/vanthu, in a cobra command) and the small static command-line binary
// (cmd/vanthu-cli, with pflag alone), which starts in a fraction of the time
// because it links only the verifier.
package verifycli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// verifyHeapHeadroom is the heap `vanthu verify` may use beyond its
// decoding budget before the garbage collector works harder: the reports,
// the parsed objects, the file mapping's bookkeeping. It is a soft limit:
// a larger heap is slower to collect, never refused.
const verifyHeapHeadroom = 32 << 20

// verifyGCPercent is the garbage collector's GOGC for `vanthu verify`: the
// heap may grow to five times what is live before a collection.
const verifyGCPercent = 400

// Exit statuses of `vanthu verify`, worst first wins in this order:
// unreadable > invalid > indeterminate > unsigned > valid.
const (
	ExitValid         = 0
	ExitInvalid       = 1
	ExitIndeterminate = 2
	ExitUnsigned      = 3
	ExitUnreadable    = 4
)

const (
	exitValid         = ExitValid
	exitInvalid       = ExitInvalid
	exitIndeterminate = ExitIndeterminate
	exitUnsigned      = ExitUnsigned
	exitUnreadable    = ExitUnreadable
)

// ExitError carries the process exit status of a failed verification out
// of the command; main passes ExitCode to os.Exit.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the process exit status.
func (e *ExitError) ExitCode() int { return e.Code }

// Use, Short and Long describe the command in help texts.
const (
	Use   = "verify [flags] PATH..."
	Short = "Validate the signatures of PDF files (ETSI EN 319 102-1 indications)"
	Long  = `Validate every signature and document timestamp of the given PDF files
(directories are walked). Exit status: 0 all VALID, 1 any INVALID, 2 otherwise
INDETERMINATE, 3 UNSIGNED, 4 unreadable input or usage error. Nothing is trusted
unless given with --trust.`
)

// Verify is one `vanthu verify` command line: its flags (Flags) and its
// run (Run). The package links no command framework, so that the small
// binary (cmd/vanthu-cli) parses its flags with pflag alone; the service
// binary wraps it in a cobra command.
type Verify struct {
	// Handoff, when set, is for a program that cannot fetch revocation
	// data itself (no chain.Fetcher registered: the small binary, which
	// does not link net/http). It verifies with the revocation data the
	// files carry; when a certificate's status needs an online answer and
	// --offline was not given, it calls Handoff, which runs the whole
	// command again in a program that can (exec of the service binary: it
	// replaces this process and returns only when it failed). The output
	// is held back until then, so nothing is printed twice. If Handoff
	// fails, the offline result is printed, with a warning saying so.
	Handoff func() error

	trust   []string
	at      string
	offline bool
	format  string
	lang    string
	pdfOut  string
	budget  int64
}

// Flags registers the command's flags on f, their defaults from the
// environment.
func (v *Verify) Flags(f *pflag.FlagSet) {
	f.StringArrayVar(&v.trust, "trust", splitList(envOr("VANTHU_TRUST", "")), "trust anchor certificates: a PEM/DER file or a directory (repeatable)")
	f.StringVar(&v.at, "at", envOr("VANTHU_VERIFY_AT", ""), "validation time (RFC 3339) when no timestamp proves an earlier one; default now")
	f.BoolVar(&v.offline, "offline", envOr("VANTHU_OFFLINE", "") == "1", "use only revocation data embedded in the files")
	f.StringVar(&v.format, "format", envOr("VANTHU_VERIFY_FORMAT", "text"), "output: text or json (one object per line)")
	f.StringVar(&v.lang, "lang", envOr("VANTHU_LANG", "vi"), "language of text and PDF reports: vi or en")
	f.StringVar(&v.pdfOut, "pdf-report", "", "also write a PDF report to this file")
	f.Int64Var(&v.budget, "memory-budget", int64Env("VANTHU_VERIFY_BUDGET", pdf.DefaultBudget), "bytes of decoded stream data held at once; a file needing more is reported INDETERMINATE with the reason (VANTHU_VERIFY_BUDGET)")
}

// Run verifies the files and directories in args with the parsed flags.
// Its error is an *ExitError unless the verification was VALID.
func (v *Verify) Run(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	usage := func(err error) error { return &ExitError{Code: exitUnreadable, Err: err} }
	if len(args) == 0 {
		return usage(errors.New("verify: no PATH given"))
	}
	if v.format != "text" && v.format != "json" {
		return usage(fmt.Errorf("verify: --format must be text or json, not %q", v.format))
	}
	if v.lang != "vi" && v.lang != "en" {
		return usage(fmt.Errorf("verify: --lang must be vi or en, not %q", v.lang))
	}
	if v.budget <= 0 {
		return usage(fmt.Errorf("verify: --memory-budget must be a positive number of bytes, not %d", v.budget))
	}
	// The files verified side by side share the budget: the
	// process holds that much decoded data at most. Decoded data
	// released is garbage until the collector runs, so the
	// collector is told to keep the heap near the budget instead
	// of letting it double (unless GOMEMLIMIT says otherwise).
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(v.budget + verifyHeapHeadroom)
	}
	// Below that limit, collect late: a verification's garbage is
	// its parse trees, and a process usually verifies one file
	// and exits, so an early collection (the default starts one
	// at 4 MiB of heap) costs a tenth of a small file's CPU and
	// frees nothing that is needed. The memory limit above still
	// bounds the heap (unless GOGC says otherwise).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(verifyGCPercent)
	}
	opts := verify.Options{Offline: v.offline, Trust: chain.NewStore(), Budget: v.budget, SharedBudget: pdf.NewBudget(v.budget)}
	if len(v.trust) > 0 {
		st, err := chain.LoadStore(v.trust...)
		if err != nil {
			return usage(err)
		}
		opts.Trust = st
	}
	if v.at != "" {
		t, err := time.Parse(time.RFC3339, v.at)
		if err != nil {
			return usage(fmt.Errorf("verify: --at: %w", err))
		}
		opts.At = t
	}
	out, errOut := stdout, stderr
	var h *handingOff
	var heldOut, heldErr bytes.Buffer
	if !v.offline && v.Handoff != nil && chain.RegisteredFetcher() == nil {
		h = &handingOff{run: v.Handoff, stderr: stderr}
		opts.Fetcher = h
		out, errOut = &heldOut, &heldErr
	}
	files, walkErrs := collectPDFs(args)
	code, err := runVerify(ctx, out, errOut, files, walkErrs, opts, v.format, verify.Lang(v.lang), v.pdfOut, h)
	if h != nil {
		// Not handed off: this process's answer is the final one.
		stderr.Write(heldErr.Bytes())
		stdout.Write(heldOut.Bytes())
	}
	if err != nil {
		return usage(err)
	}
	if code != exitValid {
		return &ExitError{Code: code, Err: fmt.Errorf("verification result: %s", codeName(code))}
	}
	return nil
}

// envOr returns the environment variable name if set, else def.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func int64Env(name string, def int64) int64 {
	if n, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return n
	}
	return def
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return filepath.SplitList(s)
}

func codeName(c int) string {
	switch c {
	case exitInvalid:
		return "INVALID"
	case exitIndeterminate:
		return "INDETERMINATE"
	case exitUnsigned:
		return "UNSIGNED"
	case exitUnreadable:
		return "unreadable input"
	}
	return "VALID"
}

// collectPDFs expands directories into the files under them (*.pdf, any
// case); files named explicitly are taken whatever their name.
func collectPDFs(args []string) ([]string, []string) {
	var files, errs []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, err.Error())
				return nil
			}
			if d.Type().IsRegular() && strings.EqualFold(filepath.Ext(p), ".pdf") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	return files, errs
}

// handingOff is the chain.Fetcher of a program that cannot go online: it
// records that an online answer was wanted, so that runVerify hands the
// command to one that can.
type handingOff struct {
	asked  atomic.Bool
	run    func() error // replaces the process; returns only on failure
	failed bool         // run was called and failed
	stderr io.Writer    // where to say so
}

func (h *handingOff) OCSP(_ context.Context, url string, _, _ *x509.Certificate) ([]byte, error) {
	h.asked.Store(true)
	return nil, fmt.Errorf("%s: %w", url, errNotAsked)
}

func (h *handingOff) CRL(_ context.Context, url string) ([]byte, error) {
	h.asked.Store(true)
	return nil, fmt.Errorf("%s: %w", url, errNotAsked)
}

var errNotAsked = errors.New("not asked: online checks run in the service binary, which could not be started")

// handOffIfAsked runs the command again where it can go online once any
// verification wanted an online answer; it returns only if that failed.
func (h *handingOff) handOffIfAsked() {
	if h == nil || h.failed || !h.asked.Load() {
		return
	}
	err := h.run()
	h.failed = true
	fmt.Fprintf(h.stderr, "vanthu verify: online OCSP/CRL checks are made by the service binary, which could not be started (%v): the results below use only the revocation data the files carry (--offline)\n", err)
}

type result struct {
	rep *verify.Report
	err error
}

// runVerify verifies files on GOMAXPROCS workers and prints the reports in
// input order. With h set, the first verification that wants an online
// answer hands the command over (see CommandHandingOff).
func runVerify(ctx context.Context, stdout, stderr io.Writer, files, walkErrs []string, opts verify.Options, format string, lang verify.Lang, pdfOut string, h *handingOff) (int, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	code := exitValid
	worse := func(c int) {
		rank := map[int]int{exitValid: 0, exitUnsigned: 1, exitIndeterminate: 2, exitInvalid: 3, exitUnreadable: 4}
		if rank[c] > rank[code] {
			code = c
		}
	}
	for _, e := range walkErrs {
		fmt.Fprintln(stderr, "vanthu verify:", e)
		worse(exitUnreadable)
	}
	results := make([]chan result, len(files))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(files))
	if len(files) == 1 {
		// One file (the usual command line): verify it here, without
		// handing it to another goroutine and back.
		growStack()
		rep, err := verify.VerifyFile(ctx, files[0], opts)
		results[0] <- result{rep, err}
		workers = 0
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				rep, err := verify.VerifyFile(ctx, files[i], opts)
				results[i] <- result{rep, err}
			}
		}()
	}
	if workers > 0 {
		go func() {
			for i := range files {
				jobs <- i
			}
			close(jobs)
		}()
	}
	barOut := stderr
	if h != nil {
		barOut = h.stderr // the bar is drawn on a terminal, never held back
	}
	bar := newProgress(barOut, len(files))
	out := bufio.NewWriter(stdout)
	var reps []*verify.Report
	for i := range files {
		r := <-results[i]
		h.handOffIfAsked()
		bar.step()
		if r.err != nil {
			worse(exitUnreadable)
			if format == "json" {
				fmt.Fprintf(out, "{\"file\":%q,\"verdict\":\"UNREADABLE\",\"errors\":[%q],\"warnings\":[],\"signatures\":[]}\n", files[i], r.err.Error())
			} else {
				fmt.Fprintf(out, "%s: %v\n\n", files[i], r.err)
			}
			continue
		}
		switch r.rep.Verdict {
		case etsi.Invalid:
			worse(exitInvalid)
		case etsi.VerdictIndeterminate:
			worse(exitIndeterminate)
		case etsi.Unsigned:
			worse(exitUnsigned)
		}
		var err error
		if format == "json" {
			err = verify.WriteJSON(out, r.rep)
		} else {
			err = verify.WriteText(out, r.rep, lang)
		}
		if err != nil {
			return exitUnreadable, err
		}
		if pdfOut != "" {
			reps = append(reps, r.rep)
		}
	}
	wg.Wait()
	bar.done()
	if err := out.Flush(); err != nil {
		return exitUnreadable, err
	}
	if pdfOut != "" {
		f, err := os.Create(pdfOut)
		if err != nil {
			return exitUnreadable, fmt.Errorf("pdf report: %w", err)
		}
		if err := verify.WritePDF(f, reps, lang, time.Now()); err != nil {
			f.Close()
			return exitUnreadable, fmt.Errorf("pdf report: %w", err)
		}
		if err := f.Close(); err != nil {
			return exitUnreadable, fmt.Errorf("pdf report: %w", err)
		}
	}
	if len(files) == 0 && len(walkErrs) == 0 {
		return exitUnreadable, errors.New("no PDF files found")
	}
	return code, nil
}

// progress draws a one-line bar on stderr, only when stderr is a terminal.
type progress struct {
	w          io.Writer
	total, n   int
	on         bool
	start      time.Time
	lastRedraw time.Time
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok && total > 1 {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) step() {
	p.n++
	if !p.on || time.Since(p.lastRedraw) < 100*time.Millisecond && p.n < p.total {
		return
	}
	p.lastRedraw = time.Now()
	const width = 30
	filled := width * p.n / max(p.total, 1)
	rate := float64(p.n) / max(time.Since(p.start).Seconds(), 1e-6)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d  %.0f files/s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.n, p.total, rate)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprintln(p.w)
	}
}

// growStack grows the goroutine's stack once, while it is shallow, to
// about what a verification's deepest calls (the parsers' recursion, the
// certificate checks) need: otherwise it doubles from 8 KiB several times
// during the verification, each time copying and adjusting every frame.
//
//go:noinline
func growStack() byte {
	var pad [48 << 10]byte
	return pad[len(pad)/2]
}
