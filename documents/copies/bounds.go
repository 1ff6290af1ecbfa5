package copies

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/digitorus/pdf"

	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// pdfcpu trusts a file's page tree: a /Count of two thousand million over
// one page, or a /Kids array naming one page two hundred thousand times,
// keeps it working without end. So the original's structure is measured by
// our own parser first, against limits no real document reaches, and
// pdfcpu runs only on what passes, on a bounded number of workers with a
// time budget as the last guard.

// Bounds of an original whose pages are copied.
const (
	// maxObjects bounds the cross-reference table (the trailer's /Size).
	maxObjects = 1 << 20
	// maxTreeDepth bounds the page tree's nesting (real trees: 2–4).
	maxTreeDepth = 32
	// maxTreeNodes bounds the page tree's nodes, pages and intermediate.
	maxTreeNodes = 2*maxPages + 64
)

// ErrBusy: every extraction worker is taken (by work over its budget that
// has not yet returned); the request may be tried again later.
var ErrBusy = errors.New("page extraction is busy; try again later")

// DefaultExtractBudget is how long pdfcpu may work on one original that
// passed the structural check before the copy is refused.
const DefaultExtractBudget = 2 * time.Minute

// extractWorkers bounds the extractions running at once, counting those
// given up on that have not returned: work over its budget cannot be
// stopped, only kept from piling up.
const extractWorkers = 2

var (
	extractSlots  = make(chan struct{}, extractWorkers)
	extractBudget = DefaultExtractBudget
)

// checkStructure measures the original with our own parser: a readable
// cross-reference table of at most maxObjects objects, and a page tree
// that is a tree (no node reached twice), at most maxTreeDepth deep, of at
// most maxPages pages, whose every /Count is the number of pages under it.
// It returns the page count.
func checkStructure(r io.ReaderAt, size int64) (pages int, err error) {
	doc, err := pdfupdate.Open(r, size)
	if err != nil {
		return 0, fmt.Errorf("%w: read: %v", ErrExtract, err)
	}
	err = pdfupdate.Safe(func() error {
		if n := doc.Reader().Trailer().Key("Size").Int64(); n < 1 || n > maxObjects {
			return fmt.Errorf("the cross-reference table declares %d objects, at most %d are copied", n, maxObjects)
		}
		root := doc.Reader().Trailer().Key("Root").Key("Pages")
		if root.Kind() != pdf.Dict {
			return errors.New("the document has no page tree")
		}
		w := treeWalk{seen: map[uint32]bool{}}
		pages, err = w.node(root, 0, 0)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrExtract, err)
	}
	if pages < 1 {
		return 0, fmt.Errorf("%w: the document has no pages", ErrExtract)
	}
	return pages, nil
}

type treeWalk struct {
	seen  map[uint32]bool
	nodes int
}

// node counts the pages under v; parent is the object v was read from
// (a kid written inline, not by reference, shares its parent's number).
func (w *treeWalk) node(v pdf.Value, parent uint32, depth int) (int, error) {
	if depth > maxTreeDepth {
		return 0, fmt.Errorf("the page tree is deeper than %d levels", maxTreeDepth)
	}
	if w.nodes++; w.nodes > maxTreeNodes {
		return 0, fmt.Errorf("the page tree has more than %d nodes", maxTreeNodes)
	}
	if id := v.GetPtr().GetID(); id != 0 && id != parent {
		if w.seen[id] {
			return 0, fmt.Errorf("object %d appears twice in the page tree", id)
		}
		w.seen[id] = true
	}
	if v.Kind() != pdf.Dict {
		return 0, errors.New("a page tree node is not a dictionary")
	}
	kids := v.Key("Kids")
	if v.Key("Type").Name() == "Page" || (kids.Kind() != pdf.Array && v.Key("Type").Name() != "Pages") {
		return 1, nil
	}
	if kids.Kind() != pdf.Array {
		return 0, errors.New("a page tree node has no /Kids array")
	}
	if kids.Len() > maxTreeNodes {
		return 0, fmt.Errorf("a page tree node has %d kids", kids.Len())
	}
	id := v.GetPtr().GetID()
	total := 0
	for i := 0; i < kids.Len(); i++ {
		n, err := w.node(kids.Index(i), id, depth+1)
		if err != nil {
			return 0, err
		}
		if total += n; total > maxPages {
			return 0, fmt.Errorf("the document has more than %d pages", maxPages)
		}
	}
	if c := v.Key("Count"); c.Kind() != pdf.Integer || c.Int64() != int64(total) {
		return 0, fmt.Errorf("a page tree node counts %s pages but holds %d", c, total)
	}
	return total, nil
}

// lockedWriter is the extraction's output: once the caller has given up
// on the work, whatever it still writes is refused, not raced.
type lockedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, errors.New("extraction abandoned")
	}
	return l.w.Write(p)
}

func (l *lockedWriter) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// budgeted runs work on one of the workers (a slot of slots), writing to w, for
// at most budget: past it (or when ctx ends) the copy is refused and the
// work left to finish on its worker, whose slot stays taken until it does.
// The workers all taken is ErrBusy.
func budgeted(ctx context.Context, slots chan struct{}, budget time.Duration, w io.Writer, work func(io.Writer) (Extracted, error)) (Extracted, error) {
	timer := time.NewTimer(budget)
	defer timer.Stop()
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return Extracted{}, ctx.Err()
	case <-timer.C:
		return Extracted{}, ErrBusy
	}
	type result struct {
		ex  Extracted
		err error
	}
	lw := &lockedWriter{w: w}
	done := make(chan result, 1)
	go func() {
		defer func() { <-slots }()
		var r result
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.err = fmt.Errorf("%w: %v", ErrExtract, p)
				}
			}()
			r.ex, r.err = work(lw)
		}()
		done <- r
	}()
	select {
	case r := <-done:
		return r.ex, r.err
	case <-ctx.Done():
		lw.close()
		return Extracted{}, ctx.Err()
	case <-timer.C:
		lw.close()
		return Extracted{}, fmt.Errorf("%w: its structure is too complex to copy within %s", ErrExtract, budget)
	}
}
