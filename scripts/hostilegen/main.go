// Command hostilegen writes the hostile corpus for the verifier's memory
// benchmark (scripts/bench-verify-memory.sh): every decompression bomb of
// signing/verify/tamper on an unsigned and on each given signed PDF, every
// manipulation of tamper.Cases on the signed PDFs, and the inputs Go's fuzzer
// kept for FuzzVerify and FuzzOpen (from the build cache, when there are any).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/verify/tamper"
)

func main() {
	out := flag.String("o", "", "output directory (created)")
	fuzzCache := flag.String("fuzz-cache", "", "Go's fuzz cache ($(go env GOCACHE)/fuzz); its FuzzVerify and FuzzOpen inputs are written as PDFs")
	flag.Parse()
	if *out == "" {
		log.Fatal("hostilegen: -o is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	bases := map[string][]byte{"plain": testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Cong van so 12/UBND"})}
	var signed []string
	for _, p := range flag.Args() {
		b, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		bases[name] = b
		signed = append(signed, name)
	}
	n := 0
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(*out, name+".pdf"), b, 0o644); err != nil {
			log.Fatal(err)
		}
		n++
	}
	for name, base := range bases {
		for _, c := range tamper.Bombs() {
			b, err := c.Apply(base)
			if err != nil {
				log.Fatalf("%s on %s: %v", c.Name, name, err)
			}
			write(c.Name+"-"+name, b)
		}
	}
	for i, name := range signed {
		donor := bases[signed[(i+1)%len(signed)]]
		for _, c := range tamper.Cases(donor) {
			b, err := c.Apply(bases[name])
			if err != nil {
				log.Printf("%s on %s: %v (skipped)", c.Name, name, err)
				continue
			}
			write(c.Name+"-"+name, b)
		}
	}
	if *fuzzCache != "" {
		for _, target := range []string{"signing/verify/FuzzVerify", "signing/pdf/FuzzOpen"} {
			dir := filepath.Join(*fuzzCache, "github.com/vanthu/vanthu", target)
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					log.Fatal(err)
				}
				if b, ok := fuzzInput(raw); ok {
					write("fuzz-"+filepath.Base(target)+"-"+e.Name(), b)
				}
			}
		}
	}
	fmt.Printf("hostilegen: %d files in %s\n", n, *out)
}

// fuzzInput decodes a corpus file of Go's fuzzer holding one []byte.
func fuzzInput(raw []byte) ([]byte, bool) {
	lines := bytes.SplitN(raw, []byte("\n"), 2)
	if len(lines) != 2 || !bytes.HasPrefix(lines[0], []byte("go test fuzz v1")) {
		return nil, false
	}
	lit := strings.TrimSpace(string(lines[1]))
	if !strings.HasPrefix(lit, "[]byte(") || !strings.HasSuffix(lit, ")") {
		return nil, false
	}
	s, err := strconv.Unquote(lit[len("[]byte(") : len(lit)-1])
	if err != nil {
		return nil, false
	}
	return []byte(s), true
}
