package ui_test

import (
	"bufio"
	"context"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/certname"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/tamper"
	"github.com/vanthu/vanthu/web/ui"
)

// reportEnglish are words of the report's English vocabulary: none may
// stand in the Vietnamese page's text outside <code> (codes in capitals,
// such as HASH_FAILURE, and names of PDF parts such as ByteRange are not
// words).
var reportEnglish = regexp.MustCompile(`\b(?:[Tt]he|[Nn]ot|[Oo]f|[Aa]nd|[Ss]ignatures?|[Ss]igned|[Ss]igning|[Ss]igner|[Ss]tructure|[Cc]ertificates?|[Ff]ound|[Dd]igest|[Cc]hanges?|[Cc]hanged|[Dd]ocument|[Cc]annot|[Rr]ead|[Ff]ile|[Rr]evisions?|[Rr]ev|[Oo]ffset|[Oo]bjects?|[Aa]dded|[Mm]odified|[Aa]llowed|[Tt]imestamps?|[Ee]rrors?|[Ww]arnings?|[Bb]ytes|[Aa]fter|[Pp]age|[Hh]idden|[Tt]rust|[Cc]ontent|[Ee]ncoded|[Aa]ttributes|[Pp]olicy|[Aa]lgorithm|[Vv]alid|[Cc]overage|[Ff]ailure|[Dd]ictionary|[Rr]epaired|[Dd]amaged|[Mm]issing|[Uu]nknown|[Dd]oes|[Mm]atch|[Cc]hecked|[Ll]evel|[Pp]ermitted|[Rr]ule|[Ee]ntire|[Pp]artial|[Dd]ata|[Ss]tream|[Bb]udget|[Ee]xceeded|[Ss]ection|[Ee]ntry|[Ww]rong|[Rr]esult|[Vv]erdict)\b`)

var (
	codeElement = regexp.MustCompile(`(?s)<code[^>]*>.*?</code>`)
	anyTag      = regexp.MustCompile(`(?s)<[^>]+>`)
)

// pageText is a rendered report's text a reader sees outside <code>, with
// the data it reports (file, signer, issuer, authority form) left out.
func pageText(page string, rep *verify.Report) string {
	text := html.UnescapeString(anyTag.ReplaceAllString(codeElement.ReplaceAllString(page, " "), " "))
	for _, s := range rep.Signatures {
		// Names are the certificates' data, in their own language: the
		// subjects, and the parts of them the pages show.
		signer, issuer := certname.Parse(s.Signer), certname.Parse(s.Issuer)
		for _, d := range []string{s.Signer, s.Issuer, s.Reason, signer.Common, signer.Organization, issuer.Shown()} {
			if d != "" {
				text = strings.ReplaceAll(text, d, "")
			}
		}
	}
	return text
}

// TestReportPageSpeaksOneLanguage walks the verification report as the
// pages show it (the verify page, a document's signature panel and an
// arrival share its template) over the signature corpus and the hostile
// inputs made from it, in both languages: the Vietnamese page's text
// outside <code> holds no English word of the report's vocabulary, and
// the English page's no Vietnamese letter. ("Lỗi PDF structure: pdf: no
// startxref found" was the Vietnamese page's line for a truncated file.)
func TestReportPageSpeaksOneLanguage(t *testing.T) {
	dir := testharness.SignatureCorpus(t)
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), "\t")
		if name == "file" || name == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
		names = append(names, name)
	}
	signed, donor := files["esig-dss/pdf-signed-original.pdf"], files["pyhanko/minimal-signed-twice-both-created.pdf"]
	for _, c := range tamper.Hostile(signed, donor) {
		b, err := c.Apply(signed)
		if err != nil {
			continue // does not apply to this file
		}
		files["hostile/"+c.Name] = b
		names = append(names, "hostile/"+c.Name)
	}
	if len(names) < 45 {
		t.Fatalf("only %d files", len(names))
	}
	opts := verify.Options{Offline: true, Trust: chain.NewStore(), At: time.Date(2020, 11, 1, 0, 0, 0, 0, time.UTC)}
	words := 0
	for _, name := range names {
		b := files[name]
		rep, err := verify.Verify(context.Background(), strings.NewReader(string(b)), int64(len(b)), opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, lang := range []string{"vi", "en"} {
			page, err := ui.RenderReport(rep, lang)
			if err != nil {
				t.Fatalf("%s (%s): %v", name, lang, err)
			}
			text := pageText(page, rep)
			words += len(strings.Fields(text))
			for _, line := range strings.Split(text, "\n") {
				if lang == "vi" && reportEnglish.MatchString(line) {
					t.Errorf("%s: the Vietnamese report says %q in English in %q", name, reportEnglish.FindString(line), strings.TrimSpace(line))
				}
				if lang == "en" && halfTranslation.MatchString(line) {
					t.Errorf("%s: the English report is partly Vietnamese: %q", name, strings.TrimSpace(line))
				}
			}
		}
	}
	// The check saw the reports, not empty pages.
	if words < 100*len(names) {
		t.Fatalf("only %d words in %d reports", words, len(names))
	}
}
