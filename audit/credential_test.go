package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/audit"
)

// Entries name the credential used and the token's minter; both enter the
// hash when set, so stripping them shows, while entries made before they
// existed (none set) hash exactly as they always did.
func TestCredentialAndMinterAreChained(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	record(t, db, 2) // as before: no credential
	const admin = "7d1c1a8e-52a6-4d8e-9d54-1b3c5a0f2e11"
	for _, e := range []audit.Event{
		{Actor: "0b5e3c55-3a2b-4a0c-9b8e-6f7d1e2c3b4a", ActorName: "thanhtra", Action: "document.read_confidential", Object: "document:1",
			Credential: "token:5f0e8a44-2a1b-4c3d-8e9f-0a1b2c3d4e5f", MintedBy: admin, MintedByName: "quantri"},
		{Actor: "0b5e3c55-3a2b-4a0c-9b8e-6f7d1e2c3b4a", ActorName: "thanhtra", Action: "document.read_confidential", Object: "document:1",
			Credential: "session:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
	} {
		if err := audit.Record(ctx, db, e); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := audit.Verify(ctx, db.Pool); err != nil || r.Break != nil || r.Entries != 4 {
		t.Fatalf("verify: %+v %v", r, err)
	}
	entries, err := audit.Entries(ctx, db.Pool, "", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if e := entries[2]; e.Credential != "token:5f0e8a44-2a1b-4c3d-8e9f-0a1b2c3d4e5f" || e.MintedBy != admin || e.MintedByName != "quantri" {
		t.Fatalf("stored: %+v", e)
	}
	// An entry without the new fields hashes as entries always did.
	old := entries[0]
	if !bytes.Equal(old.Hash, hashBeforeCredentials(old)) || !bytes.Equal(old.ComputeHash(), old.Hash) {
		t.Fatal("entries without a credential no longer hash as before")
	}

	// The export carries them and verifies on its own.
	var out bytes.Buffer
	if _, err := audit.Export(ctx, db.Pool, &out, audit.ExportFilter{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var third map[string]any
	if err := json.Unmarshal([]byte(lines[2]), &third); err != nil {
		t.Fatal(err)
	}
	if third["credential"] != "token:5f0e8a44-2a1b-4c3d-8e9f-0a1b2c3d4e5f" || third["minted_by"] != admin || third["minted_by_name"] != "quantri" ||
		strings.Contains(lines[0], "credential") {
		t.Fatalf("export: %s", out.String())
	}
	if r, err := audit.VerifyExport(&out); err != nil || r.Break != nil || r.Entries != 4 {
		t.Fatalf("verify export: %+v %v", r, err)
	}

	for _, tc := range []struct{ name, sql string }{
		{"credential stripped", "UPDATE audit_log SET credential = '' WHERE seq = 4"},
		{"minter stripped", "UPDATE audit_log SET minted_by = NULL, minted_by_name = '' WHERE seq = 3"},
		{"minter renamed", "UPDATE audit_log SET minted_by_name = 'someone' WHERE seq = 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openDB(t)
			record(t, db, 2)
			for _, e := range []audit.Event{
				{ActorName: "thanhtra", Action: "document.read_confidential", Credential: "token:a", MintedBy: admin, MintedByName: "quantri"},
				{ActorName: "thanhtra", Action: "document.read_confidential", Credential: "session:b"},
			} {
				if err := audit.Record(ctx, db, e); err != nil {
					t.Fatal(err)
				}
			}
			tamper(t, db, execSQL(tc.sql))
			r, err := audit.Verify(ctx, db.Pool)
			if err != nil || r.Break == nil || !strings.Contains(r.Break.Reason, "edited") {
				t.Fatalf("%s: %+v %v", tc.name, r.Break, err)
			}
		})
	}
}

// hashBeforeCredentials is the entry hash as it was defined before
// credentials were recorded: nine length-prefixed fields.
func hashBeforeCredentials(en audit.Entry) []byte {
	h := sha256.New()
	var n [8]byte
	for _, f := range [][]byte{
		[]byte(jsonInt(en.Seq)), []byte(en.At.UTC().Format("2006-01-02T15:04:05.000000Z")),
		[]byte(en.Actor), []byte(en.ActorName), []byte(en.OrgID), []byte(en.Action), []byte(en.Object), en.Details, en.PrevHash,
	} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write(f)
	}
	return h.Sum(nil)
}

func jsonInt(i int64) string { b, _ := json.Marshal(i); return string(b) }
