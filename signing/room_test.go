package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

func TestLearnedCMSSizes(t *testing.T) {
	pki := testPKI(t)
	official, deputy := pkiKey(t, devpki.Official).Chain(), pkiKey(t, devpki.Deputy).Chain()
	keyOf := func(c []*x509.Certificate, o Options) cmsKey { return cmsKeyOf(c, &o) }
	bt := Options{Level: LevelBT, TSAURL: pki.TSAURL(), Hash: crypto.SHA256}
	key := keyOf(official, bt)

	c := newCMSSizes()
	if n := c.reserve(key); n != 0 {
		t.Fatalf("nothing learned reserves %d, want 0 (the estimate)", n)
	}
	c.learn(key, 7000)
	if n := c.reserve(key); n != 7000+ContentsMargin {
		t.Fatalf("after a CMS of 7000 bytes reserves %d, want %d", n, 7000+ContentsMargin)
	}
	for _, o := range []struct {
		name  string
		key   cmsKey
		other bool // another CMS size: nothing learned
	}{
		{"same key, level, TSA, hash", keyOf(official, bt), false},
		{"same but the signer's name and reason", keyOf(official, Options{Level: LevelBT, TSAURL: pki.TSAURL(), Hash: crypto.SHA256, Name: "x", Reason: "y"}), false},
		{"another signer", keyOf(deputy, bt), true},
		{"another level", keyOf(official, Options{Level: LevelBB, TSAURL: pki.TSAURL(), Hash: crypto.SHA256}), true},
		{"another TSA", keyOf(official, Options{Level: LevelBT, TSAURL: "http://other.example/tsa", Hash: crypto.SHA256}), true},
		{"another hash", keyOf(official, Options{Level: LevelBT, TSAURL: pki.TSAURL(), Hash: crypto.SHA384}), true},
		{"RSA-PSS", keyOf(official, Options{Level: LevelBT, TSAURL: pki.TSAURL(), Hash: crypto.SHA256, PSS: true}), true},
		{"a chain without its CA", keyOf(official[:1], bt), true},
	} {
		t.Run(o.name, func(t *testing.T) {
			want := 7000 + ContentsMargin
			if o.other {
				want = 0
			}
			if n := c.reserve(o.key); n != want {
				t.Fatalf("reserves %d, want %d", n, want)
			}
		})
	}
	// Below B-T no token is embedded: the TSA does not matter.
	if keyOf(official, Options{Level: LevelBB, TSAURL: "a"}) != keyOf(official, Options{Level: LevelBB}) {
		t.Fatal("a TSA URL changes the key of a B-B signature")
	}
	c.learn(key, 0)
	if n := c.reserve(key); n != 7000+ContentsMargin {
		t.Fatalf("learning no CMS changed the reserve to %d", n)
	}
	c.forget(key)
	if n := c.reserve(key); n != 0 {
		t.Fatalf("forgotten, reserves %d, want 0", n)
	}
	// Bounded: past maxLearnedCMS keys, new ones are not kept, known ones
	// still are.
	for i := range maxLearnedCMS + 10 {
		c.learn(keyOf(official, Options{Level: LevelBT, TSAURL: strconv.Itoa(i)}), 3000)
	}
	if len(c.last) != maxLearnedCMS {
		t.Fatalf("%d sizes kept, want at most %d", len(c.last), maxLearnedCMS)
	}
	known := keyOf(official, Options{Level: LevelBT, TSAURL: "0"})
	c.learn(known, 3001)
	if n := c.reserve(known); n != 3001+ContentsMargin {
		t.Fatalf("a known key at the bound reserves %d, want %d", n, 3001+ContentsMargin)
	}
}

// freshLearning gives the test a process with nothing learned, and puts
// back what was learned before at its end.
func freshLearning(t *testing.T) {
	t.Helper()
	was := learnedCMS
	learnedCMS = newCMSSizes()
	t.Cleanup(func() { learnedCMS = was })
}

// shrinkLearned makes every learned CMS size n bytes, as if the last CMSs
// had been that small (a TSA whose token then grew).
func shrinkLearned(n int) {
	learnedCMS.mu.Lock()
	defer learnedCMS.mu.Unlock()
	for k := range learnedCMS.last {
		learnedCMS.last[k] = n
	}
}

var byteRange = regexp.MustCompile(`/ByteRange \[\s*0 (\d+) (\d+) (\d+)\s*\]`)

// signedRoom checks that signed is in followed by one signature's update
// whose byte ranges cover the whole file (no bytes of an earlier attempt
// left), and returns the room its /Contents reserves and the length of the
// CMS in it, in bytes.
func signedRoom(t *testing.T, in, signed []byte) (room, cms int) {
	t.Helper()
	if !bytes.HasPrefix(signed, in) {
		t.Fatal("the signed file does not begin with the input")
	}
	update := signed[len(in):]
	if n := bytes.Count(update, []byte("/ByteRange")); n != 1 {
		t.Fatalf("the update holds %d signature dictionaries, want 1", n)
	}
	if n := bytes.Count(update, []byte("%%EOF")); n != 1 {
		t.Fatalf("the update holds %d ends of file, want 1", n)
	}
	m := byteRange.FindSubmatch(update)
	if m == nil {
		t.Fatal("no /ByteRange in the update")
	}
	var r [3]int
	for i := range r {
		r[i], _ = strconv.Atoi(string(m[i+1]))
	}
	if r[1]+r[2] != len(signed) {
		t.Fatalf("the signature covers %d bytes of a file of %d", r[1]+r[2], len(signed))
	}
	digits := signed[r[0]+1 : r[1]-1] // inside < >
	der, err := hex.DecodeString(string(digits))
	if err != nil {
		t.Fatalf("/Contents: %v", err)
	}
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(der, &v); err != nil {
		t.Fatalf("the CMS: %v", err)
	}
	if bytes.ContainsFunc(der[len(v.FullBytes):], func(r rune) bool { return r != 0 }) {
		t.Fatal("bytes after the CMS in /Contents")
	}
	return len(der), len(v.FullBytes)
}

// requireVerified checks that signed is well-formed (qpdf) and verifies
// VALID with its one signature, in the verifier and in pdfsig.
func requireVerified(t *testing.T, signed []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(path, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	assertAllValid(t, path, 1)
	qpdfCheck(t, path)
	rep, err := verify.VerifyFile(context.Background(), path, verify.Options{Trust: chain.NewStore(testPKI(t).Root())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 1 || rep.Signatures[0].Indication != etsi.TotalPassed {
		t.Fatalf("verifier: %s %+v", rep.Verdict, rep.Signatures)
	}
}

// roomOutput is one of the outputs a one-step signature can empty and
// write again, with the way it is signed into: Sign, or a Source opened
// from a Known (whose copy runs in the background while the key signs).
type roomOutput struct {
	name string
	sign func(t *testing.T, in []byte, opts Options) []byte
}

func roomOutputs() []roomOutput {
	toBuffer := func(t *testing.T, in []byte, sign func(Output) error) []byte {
		out := NewBuffer(len(in) + 64<<10)
		if err := sign(out); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	toFile := func(t *testing.T, in []byte, sign func(Output) error) []byte {
		f, err := os.Create(filepath.Join(t.TempDir(), "signed.pdf"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := sign(f); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	plain := func(t *testing.T, in []byte, opts Options) func(Output) error {
		key := pkiKey(t, devpki.OfficialEC)
		return func(out Output) error {
			return Sign(context.Background(), bytes.NewReader(in), int64(len(in)), out, key, opts)
		}
	}
	known := func(t *testing.T, in []byte, opts Options) func(Output) error {
		k, err := NewKnown(in, sha256Hex(in))
		if err != nil {
			t.Fatal(err)
		}
		src, err := OpenKnown(k)
		if err != nil {
			t.Fatal(err)
		}
		key := pkiKey(t, devpki.OfficialEC)
		return func(out Output) error { return src.Sign(context.Background(), out, key, opts) }
	}
	return []roomOutput{
		{"Buffer", func(t *testing.T, in []byte, o Options) []byte { return toBuffer(t, in, plain(t, in, o)) }},
		{"file", func(t *testing.T, in []byte, o Options) []byte { return toFile(t, in, plain(t, in, o)) }},
		{"Buffer, known source", func(t *testing.T, in []byte, o Options) []byte { return toBuffer(t, in, known(t, in, o)) }},
		{"file, known source", func(t *testing.T, in []byte, o Options) []byte { return toFile(t, in, known(t, in, o)) }},
	}
}

// TestSignReservesTheLearnedRoom: the first signature of a key reserves
// the estimate; the next reserve the CMS it embedded and ContentsMargin,
// and verify VALID.
func TestSignReservesTheLearnedRoom(t *testing.T) {
	pki := testPKI(t)
	in := testpdf.Bytes(testpdf.Options{Pages: 1, Size: 100 << 10})
	chain := pkiKey(t, devpki.OfficialEC).Chain()
	for _, level := range []Level{LevelBB, LevelBT} {
		for _, out := range roomOutputs() {
			t.Run(fmt.Sprintf("%s %s", level, out.name), func(t *testing.T) {
				freshLearning(t)
				opts := Options{Level: level, TSAURL: pki.TSAURL(), Name: "Nguyễn Văn An"}
				estimate := contentsEstimate(chain, &opts)
				first := out.sign(t, in, opts)
				room1, cms1 := signedRoom(t, in, first)
				if room1 != estimate {
					t.Fatalf("the first signature reserves %d bytes, want the estimate %d", room1, estimate)
				}
				second := out.sign(t, in, opts)
				room2, cms2 := signedRoom(t, in, second)
				if room2 != cms1+ContentsMargin || cms2 > room2 {
					t.Fatalf("the second signature reserves %d bytes for a CMS of %d; want the first's %d and %d", room2, cms2, cms1, ContentsMargin)
				}
				if len(first)-len(second) != 2*(room1-room2) {
					t.Fatalf("the second file is %d bytes, the first %d: not the padding cut", len(second), len(first))
				}
				t.Logf("%s: reserved %d bytes for a CMS of %d, then %d", level, room1, cms1, room2)
				requireVerified(t, first)
				requireVerified(t, second)
				// An asked room is reserved as asked.
				asked := opts
				asked.ContentsSize = 20000
				if room, _ := signedRoom(t, in, out.sign(t, in, asked)); room != 20000 {
					t.Fatalf("ContentsSize 20000 reserves %d", room)
				}
			})
		}
	}
}

// TestLearnedRoomTooSmall: a CMS that outgrows the room learned is made
// again with the estimate, in an output emptied of the first attempt, and
// the room is learned again.
func TestLearnedRoomTooSmall(t *testing.T) {
	pki := testPKI(t)
	in := testpdf.Bytes(testpdf.Options{Pages: 1, Size: 100 << 10})
	chain := pkiKey(t, devpki.OfficialEC).Chain()
	opts := Options{Level: LevelBT, TSAURL: pki.TSAURL()}
	estimate := contentsEstimate(chain, &opts)
	for _, out := range roomOutputs() {
		t.Run(out.name, func(t *testing.T) {
			freshLearning(t)
			_, cms1 := signedRoom(t, in, out.sign(t, in, opts))
			shrinkLearned(100)
			retried := out.sign(t, in, opts)
			if room, _ := signedRoom(t, in, retried); room != estimate {
				t.Fatalf("the signature made again reserves %d bytes, want the estimate %d", room, estimate)
			}
			requireVerified(t, retried)
			if room, _ := signedRoom(t, in, out.sign(t, in, opts)); room > cms1+ContentsMargin+64 {
				t.Fatalf("after the retry reserves %d bytes, want about %d again", room, cms1+ContentsMargin)
			}
		})
	}
}

// unseekable is an Output Sign cannot empty for a second attempt.
type unseekable struct{ Buffer }

// TestRoomOnlyWhereItCanBeRetried: an output Sign cannot empty, and a
// two-step signature (whose signer cannot be asked again), reserve the
// estimate whatever was learned.
func TestRoomOnlyWhereItCanBeRetried(t *testing.T) {
	freshLearning(t)
	pki := testPKI(t)
	in := testpdf.Bytes(testpdf.Options{Pages: 1})
	key := pkiKey(t, devpki.OfficialEC)
	opts := Options{Level: LevelBT, TSAURL: pki.TSAURL()}
	estimate := contentsEstimate(key.Chain(), &opts)
	ctx := context.Background()
	learn := NewBuffer(0)
	if err := Sign(ctx, bytes.NewReader(in), int64(len(in)), learn, key, opts); err != nil {
		t.Fatal(err)
	}
	if _, cms := signedRoom(t, in, learn.Bytes()); learnedCMS.reserve(cmsKeyOf(key.Chain(), &Options{Level: LevelBT, TSAURL: pki.TSAURL(), Hash: crypto.SHA256})) != cms+ContentsMargin {
		t.Fatal("the first signature was not learned")
	}
	for _, c := range []struct {
		name string
		sign func() []byte
	}{
		{"output of another type", func() []byte {
			out := &unseekable{}
			if err := Sign(ctx, bytes.NewReader(in), int64(len(in)), out, key, opts); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}},
		{"Prepare and Finalize", func() []byte {
			out := NewBuffer(0)
			p, err := Prepare(ctx, bytes.NewReader(in), int64(len(in)), out, key.Chain(), opts)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := key.Sign(rand.Reader, p.Digest, p.SignerOpts())
			if err != nil {
				t.Fatal(err)
			}
			if err := Finalize(ctx, p, out, sig); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			signed := c.sign()
			if room, _ := signedRoom(t, in, signed); room != estimate {
				t.Fatalf("reserves %d bytes, want the estimate %d", room, estimate)
			}
			requireVerified(t, signed)
		})
	}
}

// TestLearnedRoomConcurrently: signatures of one key at once, some of
// them after their room was shrunk below their CMS, all verify VALID
// (run with -race).
func TestLearnedRoomConcurrently(t *testing.T) {
	freshLearning(t)
	pki := testPKI(t)
	in := testpdf.Bytes(testpdf.Options{Pages: 1})
	key := pkiKey(t, devpki.OfficialEC)
	opts := Options{Level: LevelBT, TSAURL: pki.TSAURL(), Time: time.Now()}
	first := NewBuffer(0)
	if err := Sign(context.Background(), bytes.NewReader(in), int64(len(in)), first, key, opts); err != nil {
		t.Fatal(err)
	}
	const n = 8
	outs := make([]*Buffer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == n/2 {
				shrinkLearned(100)
			}
			outs[i] = NewBuffer(len(in) + 64<<10)
			errs[i] = Sign(context.Background(), bytes.NewReader(in), int64(len(in)), outs[i], key, opts)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("signature %d: %v", i, errs[i])
		}
		signedRoom(t, in, outs[i].Bytes())
		requireVerified(t, outs[i].Bytes())
	}
}
