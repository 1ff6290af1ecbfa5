package pdf_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/pdf/pdftest"
)

func TestBudgetAccounting(t *testing.T) {
	b := pdf.NewBudget(100)
	if err := b.Reserve(60); err != nil {
		t.Fatal(err)
	}
	err := b.Reserve(41)
	var be *pdf.BudgetError
	if !errors.Is(err, pdf.ErrBudget) || !errors.As(err, &be) || be.Shared || be.Need != 41 || be.Held != 60 {
		t.Fatalf("over the limit: %v", err)
	}
	if err := b.Reserve(40); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
	b.Release(100)
	b.Release(5) // more than held: ignored, never negative
	if b.Held() != 0 || b.Peak() != 100 || b.Total() != 100 {
		t.Fatalf("held %d peak %d total %d", b.Held(), b.Peak(), b.Total())
	}
	if first, n := b.Refusal(); first == nil || n != 1 {
		t.Fatalf("refusal %v, %d", first, n)
	}
}

func TestSharedBudget(t *testing.T) {
	shared := pdf.NewBudget(100)
	a := shared.Sub(80, 0)
	c := shared.Sub(80, time.Minute)
	if err := a.Reserve(70); err != nil {
		t.Fatal(err)
	}
	// Another verification's own budget has room, the shared one has not:
	// after a short wait, refused as the shared budget's.
	var be *pdf.BudgetError
	if err := shared.Sub(80, time.Millisecond).Reserve(40); !errors.As(err, &be) || !be.Shared {
		t.Fatalf("shared budget full, short wait: %v", err)
	}
	// A verification waiting for the shared budget gets it when another
	// releases, whenever the release comes.
	done := make(chan error)
	go func() { done <- c.Reserve(40) }()
	a.Release(70)
	if err := <-done; err != nil {
		t.Fatalf("waiting reservation: %v", err)
	}
	if shared.Held() != 40 || c.Held() != 40 || a.Held() != 0 {
		t.Fatalf("held: shared %d, a %d, c %d", shared.Held(), a.Held(), c.Held())
	}
	// More than the shared budget can ever give is refused at once.
	big := shared.Sub(1000, time.Hour)
	if err := big.Reserve(200); !errors.As(err, &be) || !be.Shared {
		t.Fatalf("larger than the shared budget: %v", err)
	}
}

// zeros is a flate stream object of n zero bytes.
func zerosStream(n int) []byte {
	data := pdftest.Deflate(make([]byte, n))
	return append(append([]byte(fmt.Sprintf("<</Filter /FlateDecode /Length %d>>\nstream\n", len(data))), data...), "\nendstream"...)
}

func TestDecodeWithinBudget(t *testing.T) {
	const limit = 1 << 20
	cases := []struct {
		name   string
		size   int
		refuse bool
	}{
		{"small", 1000, false},
		{"exactly the budget", limit, false},
		{"one byte more", limit + 1, true},
		{"bomb", 16 << 20, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := pdftest.New()
			b.Obj(1, "<</Type /Catalog /Pages 2 0 R>>")
			b.Obj(2, "<</Type /Pages /Kids [] /Count 0>>")
			b.Obj(3, string(zerosStream(tc.size)))
			b.EndRevision()
			budget := pdf.NewBudget(limit)
			f, err := pdf.OpenBytes(b.Bytes(), &pdf.Limits{Budget: budget})
			if err != nil {
				t.Fatal(err)
			}
			o, err := f.Get(pdf.Ref{Num: 3}, 0)
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			data, err := f.StreamData(o.(*pdf.Stream), 0)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			if tc.refuse {
				if !errors.Is(err, pdf.ErrBudget) || !errors.Is(f.DecodeRefusal(), pdf.ErrBudget) {
					t.Fatalf("error %v, refusal %v; want the budget's", err, f.DecodeRefusal())
				}
				// Refused by its size alone: the decompressor's state and a
				// scratch buffer, never the data.
				if alloc > 256<<10 || budget.Peak() != 0 {
					t.Fatalf("refusing allocated %d bytes, budget peak %d", alloc, budget.Peak())
				}
				return
			}
			if err != nil || len(data) != tc.size {
				t.Fatalf("%d bytes, %v", len(data), err)
			}
			// Exactly the data, allocated once, held until Close.
			if budget.Held() != int64(tc.size) || alloc > uint64(tc.size)+256<<10 {
				t.Fatalf("held %d, allocated %d for %d bytes", budget.Held(), alloc, tc.size)
			}
			f.Close()
			if budget.Held() != 0 {
				t.Fatalf("held %d after Close", budget.Held())
			}
		})
	}
}

// TestObjectStreamsGiveWayToTheBudget: object streams are cached while the
// budget has room and given back when it has not, so a file with more
// object-stream data than the budget still reads, within it.
func TestObjectStreamsGiveWayToTheBudget(t *testing.T) {
	b := pdftest.New()
	b.Obj(1, "<</Type /Catalog /Pages 2 0 R>>")
	b.Obj(2, "<</Type /Pages /Kids [] /Count 0>>")
	b.EndRevision()
	pad := string(bytes.Repeat([]byte(" "), 600<<10))
	for i := uint32(0); i < 4; i++ {
		b.ObjStm(10+2*i, map[uint32]string{11 + 2*i: fmt.Sprintf("<</N %d>>%s", i, pad)})
	}
	b.EndRevisionXrefStream(20)
	budget := pdf.NewBudget(1 << 20)
	f, err := pdf.OpenBytes(b.Bytes(), &pdf.Limits{Budget: budget})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		for i := uint32(0); i < 4; i++ {
			o, err := f.Get(pdf.Ref{Num: 11 + 2*i}, 1)
			if err != nil {
				t.Fatalf("object %d: %v", 11+2*i, err)
			}
			if n, _ := o.(pdf.Dict).Int("N"); n != int64(i) {
				t.Fatalf("object %d: %v", 11+2*i, o)
			}
		}
	}
	if budget.Peak() > 1<<20 || f.DecodeRefusal() != nil {
		t.Fatalf("peak %d, refusal %v", budget.Peak(), f.DecodeRefusal())
	}
	f.Close()
	if budget.Held() != 0 {
		t.Fatalf("held %d after Close", budget.Held())
	}
}
