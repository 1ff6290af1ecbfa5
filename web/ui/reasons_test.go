package ui_test

import (
	"regexp"
	"strings"
	"testing"

	// Every service whose refusals the pages word: their reasons are
	// declared when the package initialises.
	_ "github.com/vanthu/vanthu/accounts"
	_ "github.com/vanthu/vanthu/documents/calendar"
	_ "github.com/vanthu/vanthu/documents/certify"
	_ "github.com/vanthu/vanthu/documents/chain"
	_ "github.com/vanthu/vanthu/documents/copies"
	_ "github.com/vanthu/vanthu/documents/docsign"
	_ "github.com/vanthu/vanthu/documents/handling"
	_ "github.com/vanthu/vanthu/documents/reception"
	_ "github.com/vanthu/vanthu/documents/register"
	_ "github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/web/ui"
)

// verb is a fmt verb of a wording (%% is none).
var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

// TestEveryReasonIsWorded: each reason a service declares (package
// refusal's registry, filled as the packages initialise, so a reason
// cannot be used without being listed) has its Vietnamese and English
// wording on the pages, the two take the same arguments in the same
// order, and the Vietnamese says what to do, not the service's English.
func TestEveryReasonIsWorded(t *testing.T) {
	all := refusal.All()
	if len(all) < 150 {
		t.Fatalf("only %d reasons are declared; the services' packages did not register theirs", len(all))
	}
	prefixes := map[string]int{}
	for _, r := range all {
		key := "refusal." + r.String()
		vi, en := ui.Messages(key)
		if vi == "" || en == "" {
			t.Errorf("reason %s: no wording (vi %q, en %q)", r, vi, en)
			continue
		}
		if vi == en {
			t.Errorf("reason %s: the Vietnamese wording is the English one: %q", r, vi)
		}
		if a, b := strings.Join(verb.FindAllString(vi, -1), " "), strings.Join(verb.FindAllString(en, -1), " "); a != b {
			t.Errorf("reason %s: the wordings take different arguments: vi %q, en %q", r, a, b)
		}
		if name, _, ok := strings.Cut(r.String(), "."); ok {
			prefixes[name]++
		}
	}
	for _, workflow := range []string{"chain", "sign", "issue", "register", "handling", "arrival", "cert", "copy", "calendar", "notify", "stats"} {
		if prefixes[workflow] == 0 {
			t.Errorf("no reason names a refusal of %s", workflow)
		}
	}
}

// halfTranslation finds Vietnamese letters in an English text.
var halfTranslation = regexp.MustCompile(`[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹàáèéìíòóùúýĂÂĐÊÔƠƯ]`)

// vietnameseTerms are the Vietnamese words an English page keeps: names
// of legal forms and symbols that have no English equivalent in use, the
// currency, and the language switch's own name.
var vietnameseTerms = []string{"Tiếng Việt", "QĐ", "SAO LỤC", "TRÍCH SAO", "sao lục", "trích sao", "bản sao y", "Lưu", " đ", "văn thư"}

// TestEnglishHasNoHalfTranslations: no English text of the pages carries
// a Vietnamese phrase in place of its English (as "Số đến to be
// assigned" did), apart from the legal terms kept on purpose.
func TestEnglishHasNoHalfTranslations(t *testing.T) {
	for _, key := range ui.MessageKeys() {
		_, en := ui.Messages(key)
		rest := en
		for _, term := range vietnameseTerms {
			rest = strings.ReplaceAll(rest, term, "")
		}
		if halfTranslation.MatchString(rest) {
			t.Errorf("%s: the English text is partly Vietnamese: %q", key, en)
		}
	}
}
