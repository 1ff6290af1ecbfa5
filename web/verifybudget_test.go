package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/tamper"
	"github.com/vanthu/vanthu/web"
)

// TestVerificationsShareOneDecodingBudget: decompression bombs posted at
// once each stay within their own decoding budget and all of them together
// within the service's shared one, every byte of which is given back when
// they are answered; each answer says its budget refused data, and a plain
// file verified beside them is unaffected.
func TestVerificationsShareOneDecodingBudget(t *testing.T) {
	e := newEnv(t, 4<<20)
	const own, total = 8 << 20, 12 << 20
	shared := pdf.NewBudget(total)
	e.configure(func(s *web.Server) { s.Verify = verify.Options{Budget: own, SharedBudget: shared} })
	plain := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Cong van 3/UBND"})
	// Streams of 6 MiB: one fits a verification's budget, two do not fit
	// the shared one, so the bombs take turns for it.
	bomb, err := tamper.ManyStreamsBomb(plain, 16, 6<<20)
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		Verdict  string          `json:"verdict"`
		Decoding verify.Decoding `json:"decoding"`
	}
	post := func(b []byte) (answer, error) {
		body, ct := multipartBody([]part{{name: "file", fileName: "a.pdf", value: string(b)}})
		req, _ := http.NewRequest("POST", e.url+"/api/v1/verify?offline=true", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return answer{}, err
		}
		defer resp.Body.Close()
		var a answer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
			return a, fmt.Errorf("%s: %v", resp.Status, err)
		}
		return a, nil
	}
	var wg sync.WaitGroup
	answers := make([]answer, 5)
	errs := make([]error, 5)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := bomb
			if i == 4 {
				f = plain
			}
			answers[i], errs[i] = post(f)
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		d := a.Decoding
		if d.Budget != own || d.Peak > own {
			t.Errorf("request %d: decoding %+v beyond its own budget", i, d)
		}
		if i == 4 {
			if a.Verdict != "UNSIGNED" || d.Exceeded != "" {
				t.Errorf("the plain file: %s, %+v", a.Verdict, d)
			}
			continue
		}
		if d.Exceeded == "" || d.Total > 2*own {
			t.Errorf("bomb %d: decoding %+v: a refusal expected, within two budgets of work", i, d)
		}
	}
	if shared.Peak() > total || shared.Held() != 0 || shared.Total() < 6<<20 {
		t.Fatalf("shared budget: peak %d, held %d after the answers, %d in all", shared.Peak(), shared.Held(), shared.Total())
	}
	t.Logf("shared budget: peak %d of %d, %d reserved in all", shared.Peak(), total, shared.Total())
}
