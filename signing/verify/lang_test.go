package verify_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/tamper"
)

// englishWords are words of the report's English vocabulary; none may stand
// in a Vietnamese sentence. Codes in capitals (VALID, HASH_FAILURE) and
// the names of PDF and CMS parts (ByteRange, SignerInfo) are not words.
var englishWords = regexp.MustCompile(`\b(?:[Tt]he|[Nn]ot|[Oo]f|[Aa]nd|[Ss]ignatures?|[Ss]igned|[Ss]igning|[Ss]igner|[Ss]tructure|[Cc]ertificates?|[Ff]ound|[Dd]igest|[Cc]hanges?|[Cc]hanged|[Dd]ocument|[Cc]annot|[Rr]ead|[Ff]ile|[Rr]evisions?|[Oo]ffset|[Oo]bjects?|[Aa]dded|[Mm]odified|[Aa]llowed|[Tt]imestamps?|[Ee]rrors?|[Ww]arnings?|[Bb]ytes|[Aa]fter|[Pp]age|[Hh]idden|[Tt]rust|[Cc]ontent|[Ee]ncoded|[Aa]ttributes|[Pp]olicy|[Aa]lgorithm|[Vv]alid|[Cc]overage|[Ff]ailure|[Dd]ictionary|[Rr]epaired|[Dd]amaged|[Mm]issing|[Uu]nknown|[Dd]oes|[Mm]atch|[Cc]hecked|[Ll]evel|[Pp]ermitted|[Rr]ule|[Ee]ntire|[Pp]artial|[Dd]ata|[Ss]tream|[Bb]udget|[Ee]xceeded|[Ss]ection|[Pp]oints?|[Ee]ntry|[Ww]rong)\b`)

// vietnamese finds Vietnamese letters: none may stand in an English line.
var vietnamese = regexp.MustCompile(`[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹàáèéìíòóùúýĂÂĐÊÔƠƯ]`)

// MixedLanguage returns the lines of a report in lang that mix in the other
// language: its text apart from the data it reports (file, signer, issuer,
// field names) and from what follows the technical-detail marker.
func mixedLines(rep *verify.Report, lang verify.Lang, lines []string) []string {
	marker := map[verify.Lang]string{verify.Vietnamese: " — chi tiết kỹ thuật: ", verify.English: " — technical detail: "}[lang]
	data := []string{rep.File}
	for _, s := range rep.Signatures {
		data = append(data, s.Signer, s.Issuer, s.Field, s.SubFilter)
	}
	var bad []string
	for _, l := range lines {
		text, _, _ := strings.Cut(l, marker)
		for _, d := range data {
			if d != "" {
				text = strings.ReplaceAll(text, d, "")
			}
		}
		if lang == verify.Vietnamese && englishWords.MatchString(text) || lang == verify.English && vietnamese.MatchString(text) {
			bad = append(bad, l)
		}
	}
	return bad
}

// reportsOfEveryKind verifies the shared corpus and the hostile inputs made
// from one of its signed files, named.
func reportsOfEveryKind(t *testing.T) map[string]*verify.Report {
	dir := testharness.SignatureCorpus(t)
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts := verify.Options{Offline: true, Trust: chain.NewStore(), At: time.Date(2020, 11, 1, 0, 0, 0, 0, time.UTC)}
	out := map[string]*verify.Report{}
	run := func(name string, b []byte) {
		rep, err := verify.Verify(context.Background(), bytesReader(b), int64(len(b)), opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = rep
	}
	files := map[string][]byte{}
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
		run(name, b)
	}
	signed, donor := files["esig-dss/pdf-signed-original.pdf"], files["pyhanko/minimal-signed-twice-both-created.pdf"]
	if signed == nil || donor == nil {
		t.Fatal("the corpus lacks its signed files")
	}
	for _, c := range tamper.Hostile(signed, donor) {
		b, err := c.Apply(signed)
		if err != nil {
			continue // the manipulation does not apply to this file
		}
		run("hostile/"+c.Name, b)
	}
	return out
}

// TestReportSpeaksOneLanguage: over the corpus and the hostile inputs, no
// line of the text and PDF report mixes Vietnamese and English; the
// parser's own words appear only after the technical-detail marker. (As
// "Lỗi: PDF structure: pdf: no startxref found" did.)
func TestReportSpeaksOneLanguage(t *testing.T) {
	reps := reportsOfEveryKind(t)
	if len(reps) < 45 {
		t.Fatalf("only %d reports", len(reps))
	}
	pdftotext := testharness.Tool(t, "pdftotext", "poppler-utils")
	dir := t.TempDir()
	for name, rep := range reps {
		for _, lang := range []verify.Lang{verify.Vietnamese, verify.English} {
			lines := verify.Lines(rep, lang)
			if bad := mixedLines(rep, lang, lines); len(bad) > 0 {
				t.Errorf("%s (%s): lines mix languages:\n%s", name, lang, strings.Join(bad, "\n"))
			}
			// The PDF report shows these very lines (wrapped to its width).
			var b bytes.Buffer
			if err := verify.WritePDF(&b, []*verify.Report{rep}, lang, time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			path := filepath.Join(dir, "report.pdf")
			if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdftotext, "-raw", path, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("%s: pdftotext: %v\n%s", name, err, out)
			}
			text := strings.Join(strings.Fields(string(out)), "")
			for _, l := range lines {
				if want := strings.Join(strings.Fields(l), ""); !strings.Contains(text, want) {
					t.Errorf("%s (%s): the PDF report lacks the line %q", name, lang, l)
					break
				}
			}
		}
	}
}

// TestExplainSplitsTheParsersWords: a finding's sentence is the reader's
// language and the parser's English is its detail.
func TestExplainSplitsTheParsersWords(t *testing.T) {
	for _, c := range []struct {
		msg, vi, en, detail string
	}{
		{"PDF structure: pdf: no startxref found: the file is truncated or not a PDF", "Không đọc được cấu trúc của tệp PDF", "The PDF's structure cannot be read", "pdf: no startxref found: the file is truncated or not a PDF"},
		{"HASH_FAILURE: message digest does not match the signed bytes: the document was changed", "Giá trị băm không khớp", "The message digest does not match", "the document was changed"},
		{"FORMAT_FAILURE: something nobody worded yet", "Chữ ký sai định dạng", "The signature is not well formed", "something nobody worded yet"},
		{"an error nobody worded", "Lỗi do bộ kiểm tra ghi nhận", "An error the verifier found", "an error nobody worded"},
	} {
		vi, en := verify.Vietnamese.Error(c.msg), verify.English.Error(c.msg)
		if !strings.HasPrefix(vi.Text, c.vi) || vi.Detail != c.detail {
			t.Errorf("%q in Vietnamese: %+v", c.msg, vi)
		}
		if !strings.HasPrefix(en.Text, c.en) || en.Detail != c.detail {
			t.Errorf("%q in English: %+v", c.msg, en)
		}
	}
}
