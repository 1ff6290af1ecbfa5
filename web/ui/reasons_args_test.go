package ui_test

import (
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/chain"
	"github.com/vanthu/vanthu/refusal"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web/ui"
)

// reasonPackages are the services whose refusals the pages word.
var reasonPackages = []string{"accounts", "documents", "documents/calendar", "documents/certify", "documents/chain", "documents/copies",
	"documents/docsign", "documents/handling", "documents/reception", "documents/register", "notify"}

// termVocabulary is every value of each set of terms a reason may take.
var termVocabulary = map[string][]string{
	"kind":     {chain.KindReview, chain.KindConsult, chain.KindFormatCheck, chain.KindSign},
	"rule":     {"all", "any"},
	"role":     storage.AllRoles,
	"language": accounts.Languages,
	"status": {documents.StatusDraft, documents.StatusInReview, documents.StatusReturned, documents.StatusApproved,
		documents.StatusSigned, documents.StatusIssued, documents.StatusWithdrawn, documents.StatusRejected},
}

// closedVocabulary finds an argument that names a value of a closed
// vocabulary (a kind, a rule, a status, a role, an action, a language, or
// a list joined in English) without saying so: it would reach the
// Vietnamese sentence as the service's English identifier.
var closedVocabulary = regexp.MustCompile(`\b(?:Kind|Kinds|Status|Statuses|Rule|Role|Roles|Action|Actions|Languages|AllRoles)(?:$|[^.\w])|strings\.Join`)

// shownAsTheyAre are the arguments a reason takes as they are on purpose:
// document types are the Decree's Vietnamese abbreviations (QĐ, CV), and
// token scopes are the API's identifiers, which the token page shows as
// they are.
var shownAsTheyAre = regexp.MustCompile(`DocumentTypes|AllScopes`)

// reasonCall is one refusal a service words with arguments: the reason's
// name and, per argument, the term set it is passed as ("" for a value a
// person gave, a name or a number) or the offending expression.
type reasonCall struct {
	at     string
	reason string
	sets   []string
	bare   []string
}

// reasonCalls reads the services' source for every refusal with its
// arguments (because, refusal.Because, invalidBecause, refuseBecause).
func reasonCalls(t *testing.T) []reasonCall {
	t.Helper()
	var out []reasonCall
	fset := token.NewFileSet()
	for _, pkg := range reasonPackages {
		dir := filepath.Join("..", "..", pkg)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]string{} // rX -> "chain.x"
		var files []*ast.File
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
			ast.Inspect(f, func(n ast.Node) bool {
				vs, ok := n.(*ast.ValueSpec)
				if !ok || len(vs.Values) != len(vs.Names) {
					return true
				}
				for i, v := range vs.Values {
					if c, ok := v.(*ast.CallExpr); ok && exprText(fset, c.Fun) == "refusal.Name" && len(c.Args) == 1 {
						if lit, ok := c.Args[0].(*ast.BasicLit); ok {
							names[vs.Names[i].Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
				return true
			})
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				c, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				first := 0
				switch exprText(fset, c.Fun) {
				case "because", "refusal.Because":
					first = 2 // reason, error, args...
				case "invalidBecause", "refuseBecause":
					first = 2 // reason, format, args...
				default:
					return true
				}
				if len(c.Args) <= first {
					return true
				}
				id, ok := c.Args[0].(*ast.Ident)
				if !ok || names[id.Name] == "" {
					return true // the package's own helper passing its reason on
				}
				call := reasonCall{at: fset.Position(c.Pos()).String(), reason: names[id.Name]}
				for _, a := range c.Args[first:] {
					set := ""
					if tc, ok := a.(*ast.CallExpr); ok {
						if fn := exprText(fset, tc.Fun); (fn == "refusal.T" || fn == "refusal.List") && len(tc.Args) > 0 {
							if lit, ok := tc.Args[0].(*ast.BasicLit); ok {
								set, _ = strconv.Unquote(lit.Value)
							}
						}
					}
					call.sets = append(call.sets, set)
					if text := exprText(fset, a); set == "" && closedVocabulary.MatchString(text) && !shownAsTheyAre.MatchString(text) {
						call.bare = append(call.bare, text)
					}
				}
				out = append(out, call)
				return true
			})
		}
	}
	return out
}

func exprText(fset *token.FileSet, e ast.Expr) string {
	var b strings.Builder
	_ = printer.Fprint(&b, fset, e)
	return b.String()
}

// TestReasonArgumentsSpeakTheReadersLanguage: every argument of a
// refusal's wording that names a value of a closed vocabulary (a stage
// kind, a rule, a role, a language) is passed as a refusal.Term, and each
// reason's Vietnamese sentence, given every value of such a term, holds
// the Vietnamese word for it and not the English identifier (as "Bước
// "Trình" là bước review" would); the English sentence holds no
// Vietnamese.
func TestReasonArgumentsSpeakTheReadersLanguage(t *testing.T) {
	calls := reasonCalls(t)
	if len(calls) < 80 {
		t.Fatalf("only %d refusals with arguments found in the services' source", len(calls))
	}
	declared := map[string]bool{}
	for _, r := range refusal.All() {
		declared[r.String()] = true
	}
	terms := 0
	for _, c := range calls {
		if !declared[c.reason] {
			t.Errorf("%s: reason %s is not declared", c.at, c.reason)
			continue
		}
		for _, b := range c.bare {
			t.Errorf("%s: reason %s takes %s as it is: pass it as refusal.T or refusal.List so the pages word it", c.at, c.reason, b)
		}
		for i, set := range c.sets {
			if set == "" {
				continue
			}
			values, ok := termVocabulary[set]
			if !ok {
				t.Errorf("%s: reason %s: no vocabulary for the term set %q in this test", c.at, c.reason, set)
				continue
			}
			for _, v := range values {
				args := make([]any, len(c.sets))
				for j := range args {
					args[j] = "Tên"
					if j == i {
						args[j] = refusal.T(set, v)
					}
				}
				vi, en := ui.ReasonWords("vi", c.reason, args...), ui.ReasonWords("en", c.reason, args...)
				word := ui.TermWords("vi", refusal.T(set, v))
				terms++
				switch {
				case word == v:
					t.Errorf("term %s %q has no Vietnamese word", set, v)
				case !strings.Contains(vi, word):
					t.Errorf("%s: %s with %s %q: the Vietnamese sentence lacks %q: %q", c.at, c.reason, set, v, word, vi)
				case regexp.MustCompile(`\b` + regexp.QuoteMeta(v) + `\b`).MatchString(strings.ReplaceAll(vi, word, "")):
					t.Errorf("%s: %s with %s %q: the Vietnamese sentence says it in English: %q", c.at, c.reason, set, v, vi)
				}
				if halfTranslation.MatchString(strings.ReplaceAll(en, "Tên", "")) {
					t.Errorf("%s: %s with %s %q: the English sentence is partly Vietnamese: %q", c.at, c.reason, set, v, en)
				}
			}
		}
	}
	if terms == 0 {
		t.Fatal("no reason takes a term: the scan found none")
	}
}
