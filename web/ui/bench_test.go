package ui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/notify"
	"github.com/vanthu/vanthu/storage"
)

// seedDocuments adds n documents of the drafter's unit, sharing one stored
// version (the bytes do not matter to the pages), in one statement: the
// first is uploaded through the service, the rest copy its rows.
func (e *env) seedDocuments(tb testing.TB, n int) string {
	tb.Helper()
	ctx := context.Background()
	draft, err := os.Open(fixture(tb, "drafts/qd-chu-tich.pdf"))
	if err != nil {
		tb.Fatal(err)
	}
	defer draft.Close()
	p, err := e.accounts.AuthenticateToken(ctx, e.token(tb, "chuyenvien"))
	if err != nil {
		tb.Fatal(err)
	}
	stored, err := e.docs.StoreFile(ctx, draft, "qd.pdf")
	if err != nil {
		tb.Fatal(err)
	}
	meta, err := e.docs.CheckMeta(ctx, p, documents.Meta{Type: "QĐ", Subject: "Quyết định số 1 về công tác văn thư"})
	if err != nil {
		tb.Fatal(err)
	}
	first, _, err := e.docs.Create(ctx, p, meta, stored, "")
	if err != nil {
		tb.Fatal(err)
	}
	_, err = e.db.Pool.Exec(ctx, `
		WITH made AS (
			INSERT INTO documents (type_code, subject, urgency, confidentiality, unit, organization_id, unit_id, status, search_text, created_by, created_at, updated_at)
			SELECT d.type_code, 'Quyết định số ' || g || ' về công tác văn thư', d.urgency, d.confidentiality, d.unit, d.organization_id, d.unit_id,
				d.status, 'quyet dinh so ' || g || ' ve cong tac van thu', d.created_by, d.created_at - g * interval '1 minute', d.updated_at - g * interval '1 minute'
			FROM documents d, generate_series(2, $2) g WHERE d.id = $1
			RETURNING id)
		INSERT INTO document_versions (document_id, number, blob_key, size, file_name, signed, created_by, created_at)
		SELECT made.id, 1, v.blob_key, v.size, v.file_name, v.signed, v.created_by, v.created_at FROM made, document_versions v WHERE v.document_id = $1`,
		first.ID, n)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(ctx, "ANALYZE documents; ANALYZE document_versions"); err != nil {
		tb.Fatal(err)
	}
	return first.ID
}

// token gives a user an API token (benchmarks authenticate as them).
func (e *env) token(tb testing.TB, username string) string {
	tb.Helper()
	tok, _, err := e.accounts.IssueToken(context.Background(), operator, e.users[username].ID, "bench", nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// BenchmarkPages measures each page's server time with 100,000 documents
// (VANTHU_BENCH_DOCUMENTS to change), through HTTP with a session cookie
// of the page's user (the drafter, the clerk, the auditor), and reports its
// 95th percentile. The clerk's and the auditor's lists filter the same
// 100,000 rows: a query that walks them shows here.
func BenchmarkPages(b *testing.B) {
	n := 100_000
	if s := os.Getenv("VANTHU_BENCH_DOCUMENTS"); s != "" {
		fmt.Sscan(s, &n)
	}
	e := newEnv(b)
	e.withNotify(notify.Config{}) // every page counts the bell's unread
	e.user("vanthu", "Lê Thị Thư", storage.RoleClerk)
	id := e.seedDocuments(b, n)
	clients := map[string]*http.Client{}
	for _, u := range []string{"chuyenvien", "vanthu", "kiemtra"} {
		clients[u] = e.client()
		e.login(clients[u], u)
	}
	var outgoing string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id FROM registers WHERE organization_id = $1 AND kind = 'outgoing' AND is_default`, e.org.ID).Scan(&outgoing); err != nil {
		b.Fatal(err)
	}
	for _, page := range []struct{ name, who, path string }{
		{"inbox", "chuyenvien", "/"},
		{"documents", "chuyenvien", "/documents"},
		{"search", "chuyenvien", "/documents?q=quyet+dinh+so+4321"},
		{"filtered", "chuyenvien", "/documents?type=Q%C4%90&from=2020-01-01"},
		{"document", "chuyenvien", "/documents/" + id},
		{"upload", "chuyenvien", "/documents/new"},
		{"notifications", "chuyenvien", "/notifications"},
		{"issuing", "vanthu", "/issuing"},
		{"registers", "vanthu", "/registers"},
		{"register", "vanthu", "/registers/" + outgoing},
		{"reception", "vanthu", "/reception"},
		{"audit", "kiemtra", "/audit"},
		{"statistics", "kiemtra", "/statistics"},
	} {
		c := clients[page.who]
		b.Run(page.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				resp, err := c.Get(e.url + page.path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				times = append(times, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", page.path, resp.StatusCode)
				}
			}
			slices.Sort(times)
			p95 := times[min(len(times)-1, len(times)*95/100)]
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
		})
	}
}
