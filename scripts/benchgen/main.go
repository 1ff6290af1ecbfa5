// Command benchgen writes an unsigned test PDF of a given size for the
// verifier benchmark (scripts/bench-verify.sh).
package main

import (
	"bufio"
	"flag"
	"log"
	"os"

	"github.com/vanthu/vanthu/internal/testpdf"
)

func main() {
	size := flag.Int64("size", 0, "approximate size in bytes (0: minimal)")
	pages := flag.Int("pages", 1, "pages")
	out := flag.String("o", "", "output file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := testpdf.Write(w, testpdf.Options{Pages: *pages, Text: "Quyet dinh so 05/QD-UBND", Size: *size}); err != nil {
		log.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
