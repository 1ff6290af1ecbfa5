package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/calendar"
)

// readDemoAccounts reads <data-dir>/demo-accounts, which must be the
// owner's only, as role → username → password.
func readDemoAccounts(t *testing.T, dataDir string) map[string][2]string {
	t.Helper()
	file := filepath.Join(dataDir, demoAccountsFile)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", file, fi.Mode().Perm())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("line %q is not `role username password`", line)
		}
		if _, seen := out[f[0]]; !seen { // the first signer is An
			out[f[0]] = [2]string{f[1], f[2]}
		}
	}
	return out
}

func login(t *testing.T, base, username, password string) (int, map[string]any) {
	t.Helper()
	status, out, _ := loginCookies(t, base, username, password)
	return status, out
}

// loginCookies logs in and returns the session cookies too.
func loginCookies(t *testing.T, base, username, password string) (int, map[string]any, []*http.Cookie) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, _ := http.NewRequest("POST", base+"/api/v1/session", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Cookies()
}

// getWithCookies GETs a JSON resource as a logged-in browser would.
func getWithCookies(t *testing.T, url string, cookies []*http.Cookie, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func TestDemoOfficeIsCreatedOnceAndLogsIn(t *testing.T) {
	dataDir := t.TempDir()
	s := startServiceArgs(t, dataDir, []string{"--demo"})
	accts := readDemoAccounts(t, dataDir)
	for _, role := range []string{"drafter", "reviewer", "signer", "clerk", "certifier", "desk", "auditor", "admin"} {
		if accts[role][0] == "" {
			t.Fatalf("no %s in demo-accounts: %v", role, accts)
		}
	}
	drafter := accts["drafter"]
	if !strings.Contains(s.logs.String(), drafter[1]) {
		t.Fatal("the passwords are not printed on the first start")
	}
	status, user, drafterCookies := loginCookies(t, s.url, drafter[0], drafter[1])
	if status != 200 || user["username"] != drafter[0] {
		t.Fatalf("drafter login: %d %v", status, user)
	}
	// countDocs counts the drafter's drafts (the incoming document given
	// them to handle is not one).
	countDocs := func() int {
		var docs struct{ Documents []struct{ ID, Status string } }
		getWithCookies(t, s.url+"/api/v1/documents", drafterCookies, &docs)
		n := 0
		for _, d := range docs.Documents {
			if d.Status != "received" {
				n++
			}
		}
		return n
	}
	if n := countDocs(); n != 4 {
		t.Fatalf("the drafter sees %d demo documents, want 4", n)
	}
	// The submitted drafts wait at their stages: one for the reviewer, one
	// for the clerk's format check (the reviewer, the office's head, also
	// holds the office's open incoming documents: handling, not chain).
	for _, w := range []struct{ role, stage string }{{"reviewer", "Duyệt"}, {"clerk", "Kiểm tra thể thức"}} {
		_, _, cookies := loginCookies(t, s.url, accts[w.role][0], accts[w.role][1])
		var inbox struct {
			Items []struct{ Stage, State string }
		}
		getWithCookies(t, s.url+"/api/v1/inbox?source=chain", cookies, &inbox)
		if len(inbox.Items) != 1 || inbox.Items[0].Stage != w.stage {
			t.Fatalf("the %s's inbox: %+v, want one item at %q", w.role, inbox.Items, w.stage)
		}
	}
	// Incoming documents: the drafter handles one the chairman gave the
	// office; the clerk's queue holds one to register.
	var work struct {
		Items []struct {
			Source         string
			ExpectedAction string `json:"expected_action"`
		}
	}
	getWithCookies(t, s.url+"/api/v1/inbox?source=handling", drafterCookies, &work)
	if len(work.Items) != 1 || work.Items[0].ExpectedAction != "handle" {
		t.Fatalf("the drafter's handling work: %+v, want one item to handle", work.Items)
	}
	// The statistics page has months to draw: documents handled on time
	// and late in the weeks before the first start, and some still open.
	if day := time.Now().In(calendar.Vietnam).YearDay(); day > 14 {
		_, _, signerCookies := loginCookies(t, s.url, accts["signer"][0], accts["signer"][1])
		var st struct {
			Organization struct {
				Received        int
				CompletedOnTime int `json:"completed_on_time"`
				CompletedLate   int `json:"completed_late"`
			}
		}
		year := time.Now().In(calendar.Vietnam).Format("2006")
		getWithCookies(t, s.url+"/api/v1/statistics?from="+year+"-01-01&to="+time.Now().In(calendar.Vietnam).Format(time.DateOnly), signerCookies, &st)
		if o := st.Organization; o.Received < demoHistoryDocuments || o.CompletedOnTime == 0 || o.CompletedLate == 0 {
			t.Fatalf("the demo's statistics: %+v, want at least %d received, some on time and some late", o, demoHistoryDocuments)
		}
	}
	_, _, clerkCookies := loginCookies(t, s.url, accts["clerk"][0], accts["clerk"][1])
	var queue struct{ Items []struct{ Status string } }
	getWithCookies(t, s.url+"/api/v1/reception", clerkCookies, &queue)
	if len(queue.Items) != 1 || queue.Items[0].Status != "arrived" {
		t.Fatalf("the clerk's reception queue: %+v, want one arrival", queue.Items)
	}
	// The commune's report travelled to the district as a delivery (not a
	// paper copy typed in), and the district's clerk registered it.
	var districtClerk [2]string
	if b, err := os.ReadFile(filepath.Join(dataDir, demoAccountsFile)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[1] == "vanthu.huyen" {
				districtClerk = [2]string{f[1], f[2]}
			}
		}
	}
	_, _, districtCookies := loginCookies(t, s.url, districtClerk[0], districtClerk[1])
	var registered struct {
		Items []struct {
			Source, Status, From string
			FromOrganizationID   string `json:"from_organization_id"`
		}
	}
	getWithCookies(t, s.url+"/api/v1/reception?status=registered", districtCookies, &registered)
	if len(registered.Items) != 1 || registered.Items[0].Source != "delivery" || registered.Items[0].FromOrganizationID == "" {
		t.Fatalf("the district's registered arrivals: %+v, want the commune's delivery", registered.Items)
	}
	if status, _ := login(t, s.url, drafter[0], "wrong-password-1"); status != 401 {
		t.Fatalf("wrong password: %d", status)
	}
	admin := readToken(t, dataDir)
	_, _, adminCookies := loginCookies(t, s.url, accts["admin"][0], accts["admin"][1])
	count := func() (orgs, users, keys int) {
		var os struct{ Organizations []struct{ ID, Code string } }
		apiJSON(t, "GET", s.url+"/api/v1/organizations", admin, nil, &os, 200)
		for _, o := range os.Organizations {
			var us struct{ Users []struct{ ID string } }
			apiJSON(t, "GET", s.url+"/api/v1/users?organization_id="+o.ID, admin, nil, &us, 200)
			users += len(us.Users)
			for _, u := range us.Users {
				var ks struct{ Keys []struct{ ID string } }
				if o.Code == demoCommuneCode { // the commune's administrator sees its keys
					getWithCookies(t, s.url+"/api/v1/users/"+u.ID+"/keys", adminCookies, &ks)
				}
				keys += len(ks.Keys)
			}
		}
		return len(os.Organizations), users, keys
	}
	orgs, users, keys := count()
	if orgs != 2 || users != 10 || keys != 3 {
		t.Fatalf("demo office: %d organisations, %d users, %d user keys; want 2, 10, 3", orgs, users, keys)
	}
	// The certifier finds a scanned request waiting on the desk's page.
	_, _, certifierCookies := loginCookies(t, s.url, accts["certifier"][0], accts["certifier"][1])
	req, _ := http.NewRequest("GET", s.url+"/certifications", nil)
	for _, c := range certifierCookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Bằng tốt nghiệp trung học phổ thông") || strings.Contains(string(page), "Giấy khai sinh") {
		t.Fatalf("the certifier's queue: %d\n%s", resp.StatusCode, page)
	}
	s.stop(t)
	before, _ := os.ReadFile(filepath.Join(dataDir, demoAccountsFile))

	s = startServiceArgs(t, dataDir, []string{"--demo"})
	if strings.Contains(s.logs.String(), drafter[1]) {
		t.Fatal("a second start prints the passwords again")
	}
	after, _ := os.ReadFile(filepath.Join(dataDir, demoAccountsFile))
	if !bytes.Equal(before, after) {
		t.Fatal("a second start rewrote demo-accounts")
	}
	status, _, adminCookies = loginCookies(t, s.url, accts["admin"][0], accts["admin"][1])
	if status != 200 {
		t.Fatalf("admin login after restart: %d", status)
	}
	if o, u, k := count(); o != orgs || u != users || k != keys {
		t.Fatalf("after a second start: %d organisations, %d users, %d keys; want %d, %d, %d", o, u, k, orgs, users, keys)
	}
	if n := countDocs(); n != 4 {
		t.Fatalf("after a second start the drafter sees %d demo documents, want 4", n)
	}
	s.stop(t)
}

func TestServeWithoutDemoCreatesNoDemo(t *testing.T) {
	dataDir := t.TempDir()
	s := startService(t, dataDir)
	var orgs struct{ Organizations []struct{ ID string } }
	apiJSON(t, "GET", s.url+"/api/v1/organizations", readToken(t, dataDir), nil, &orgs, 200)
	if len(orgs.Organizations) != 0 {
		t.Fatalf("%d organisations without --demo", len(orgs.Organizations))
	}
	for _, name := range []string{demoAccountsFile, demoPKIDir} {
		if _, err := os.Stat(filepath.Join(dataDir, name)); err == nil {
			t.Fatalf("%s exists without --demo", name)
		}
	}
	s.stop(t)
}
