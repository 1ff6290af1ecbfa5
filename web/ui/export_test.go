package ui

import (
	"sort"
	"strings"

	"github.com/vanthu/vanthu/signing/verify"
)

// MessageKeys lists every message key, for the tests that look for a key
// shown where its text should be (a text nobody translated).
func MessageKeys() []string {
	keys := make([]string, 0, len(messages["vi"]))
	for k := range messages["vi"] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Messages is a key's Vietnamese and English texts.
func Messages(key string) (vi, en string) { return messages["vi"][key], messages["en"][key] }

// RenderReport renders a verification report as the pages show it (the
// shared "report" template) in lang.
func RenderReport(rep *verify.Report, lang string) (string, error) {
	var b strings.Builder
	err := parsePages(loadAssets())["report"].ExecuteTemplate(&b, "report", reportView{Report: rep, Lang: lang, PDFURL: "/verify/reports/x/pdf"})
	return b.String(), err
}

// ReasonWords is a reason's wording in lang with args, as the pages word
// a refusal (terms in the reader's language).
func ReasonWords(lang, reason string, args ...any) string {
	return translate(messages[lang], "refusal."+reason, termArgsIn(lang, args)...)
}
