// Package docsign signs documents inside the service, when the approval
// chain gives the signer their turn: with the signer's own key held by the
// service (a PKCS#11 binding or a sealed PKCS#12) in one step, or with a key
// the signer holds (a desk token, a remote signing service) in two steps,
// prepare and complete. It owns the signing turn's transaction (the chain's
// BeginSign, the new signed version, FinishSign and the audit entry commit
// together), the authority form a signature is made under, where the
// handwritten-signature image goes, and each user's signature image.
package docsign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/staged"
)

// Refusals, each wrapped with the reason in words a signer can act on.
var (
	// ErrNoChain: the service has no approval chain to ask whose turn it is.
	ErrNoChain = errors.New("no approval chain")
	// ErrNotYourTurn: the chain refused the signing turn.
	ErrNotYourTurn = errors.New("not your turn to sign")
	// ErrNoKey: the signer has no key the service can sign with (or, for
	// two-step signing, no certificate of a key they hold).
	ErrNoKey = errors.New("no usable signing key")
	// ErrPlace: the signature's place cannot be found; a page and a
	// rectangle must be given.
	ErrPlace = errors.New("no place for the signature")
	// ErrNoImage: the signer has uploaded no handwritten-signature image.
	ErrNoImage = errors.New("no signature image")
	// ErrStale: what was prepared no longer matches the document, the turn
	// or the signer's image.
	ErrStale = errors.New("the prepared signature is out of date")
	// ErrSessionExpired and ErrSessionUsed: a two-step session past its
	// lifetime, or already completed.
	ErrSessionExpired = errors.New("the signing session has expired")
	ErrSessionUsed    = errors.New("the signing session was already completed")
	// ErrRejected: the signature value or CMS from the signer's device is
	// not the one prepared.
	ErrRejected = errors.New("signature rejected")
	// ErrUnavailable: the timestamp authority or the LTV data could not be
	// had; nothing was stored, and signing may be retried.
	ErrUnavailable = errors.New("signing service unavailable")
)

// SessionLifetime is how long a prepared two-step signature waits for its
// value.
const SessionLifetime = 10 * time.Minute

// Service signs documents for their signers.
type Service struct {
	DB       *storage.DB
	Docs     *documents.Service
	Accounts *accounts.Service
	// Turns is the approval chain; nil refuses every signature (ErrNoChain).
	Turns documents.SigningTurns
	// TSAURL is the RFC 3161 timestamp authority of B-T and up.
	TSAURL     string
	HTTPClient *http.Client
	// Extender makes B-LT and B-LTA; nil refuses those levels.
	Extender signing.Extender
	// TempDir holds the files being signed ("" is the system's).
	TempDir string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Request is what a signer asks for: a level above the organisation's,
// and the page and rectangle of the signature when the draft does not print
// the signer's name where it can be found.
type Request struct {
	Level string
	Page  int
	Rect  *appearance.Rect
	// KeyID chooses among the signer's bound keys (two-step signing:
	// default the newest certificate of a key they hold).
	KeyID string
	// IdempotencyKey makes Sign repeatable: the same request again answers
	// with the version the first made.
	IdempotencyKey string `json:"-"`
}

func refuse(kind error, format string, a ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, a...))
}

func invalid(format string, a ...any) error {
	return &accounts.InputError{Msg: fmt.Sprintf(format, a...)}
}

// job is one signature being made: the turn, the version's bytes (in
// memory, or a temporary file when large), and the options to sign them
// with.
type job struct {
	doc     documents.Document
	turn    documents.SignTurn
	version documents.Version
	form    string
	in      io.ReaderAt
	size    int64
	file    *os.File // the version's bytes when too large to hold in memory
	// src is the version parsed once, for the lock check, the search for
	// the signer's name, the placement and the signature.
	src *signing.Source
	// release gives src back to signing.Versions (nil: not from there).
	release func()
	opts    signing.Options
	params  sessionParams
	// begun is the transaction's time (opening.begun).
	begun time.Time
	// reserved is the chain's reservation of the turn, queued by its
	// begin: prepare commits it, to hold the turn until the signer's
	// device answers. A signature finished in the same transaction leaves
	// it unsent: the finish writes the chain as it ends the turn, and
	// until the commit the document's lock holds others back.
	reserved *pgx.Batch
	// alsoWrite queues, with the signed version's audit entry, what the
	// caller writes once the version is known (the idempotency record,
	// the two-step session completed).
	alsoWrite func(b *pgx.Batch, v documents.Version) error
	// moving: the job that moves the signature's update into the blob
	// store (storage/blob/staged, onto the version signed) was inserted
	// while the signature was made (moveErr: how that failed).
	moving  bool
	moveErr error
	// read is closed once the version's bytes are read and checked
	// (readErr says how) and, when no rectangle was asked for, the
	// signer's printed name searched for (gap, gapErr).
	read    chan struct{}
	readErr error
	gap     appearance.Gap
	gapErr  error
}

// beginTurn begins the chain's signing turn: from what the chain read in
// the transaction's first round trip, its writes queued into reserved,
// when the chain can (documents.QueuedSigningTurns); else the chain reads
// and writes in round trips of its own.
func (s *Service) beginTurn(ctx context.Context, tx pgx.Tx, p documents.Principal, o *opening, reserved *pgx.Batch) (documents.SignTurn, error) {
	if o.turn != nil {
		return o.turn(ctx, tx, p, o.doc, o.latest, o.latestErr, reserved)
	}
	return s.Turns.BeginSign(ctx, tx, p, o.doc.ID)
}

func (j *job) close() {
	if j.read != nil {
		<-j.read
	}
	if j.release != nil {
		j.release()
	}
	if j.file != nil {
		j.file.Close()
		os.Remove(j.file.Name())
	}
}

// sessionParams is what a signature was prepared with, so complete can
// rebuild the very same bytes (and is stored, without secrets, in the
// two-step session).
type sessionParams struct {
	Level    string           `json:"level"`
	Page     int              `json:"page,omitempty"`
	Rect     *appearance.Rect `json:"rect,omitempty"`
	Time     time.Time        `json:"time"`
	Form     string           `json:"authority_form"`
	ImageSHA string           `json:"image_sha256,omitempty"`
}

// begin opens the signing turn in tx and gets everything ready to sign:
// the turn, the version's bytes (refused when locked), the authority form,
// the level, and where the handwritten signature goes. What the
// transaction's first round trip read (o) answers its questions.
func (s *Service) begin(ctx context.Context, tx pgx.Tx, p documents.Principal, o *opening, req Request, at time.Time) (*job, error) {
	doc := o.doc
	reserved := &pgx.Batch{}
	turn, err := s.beginTurn(ctx, tx, p, o, reserved)
	if err != nil {
		if errors.Is(err, documents.ErrNotFound) || errors.Is(err, storage.ErrNotFound) || errors.Is(err, accounts.ErrForbidden) || ctx.Err() != nil {
			return nil, err
		}
		return nil, carry(err, fmt.Errorf("%w: %v", ErrNotYourTurn, err))
	}
	// The document was locked with the transaction's begin (open).
	v, err := o.version(ctx, tx, doc.ID, turn.Version)
	if err != nil {
		return nil, fmt.Errorf("version %d of the turn: %w", turn.Version, err)
	}
	if turn.VersionSHA256 != "" && !strings.EqualFold(v.SHA256, turn.VersionSHA256) {
		return nil, because(rVersionChanged, refuse(ErrStale, "the turn is for version %d with SHA-256 %s, which the stored version does not match", turn.Version, turn.VersionSHA256))
	}
	j := &job{doc: doc, turn: turn, version: v, begun: o.begun, reserved: reserved}
	ok := false
	defer func() {
		if !ok {
			j.close()
		}
	}()
	// The bytes come from the blob store, are checked and searched for the
	// signer's printed name while the database answers the questions below.
	readCtx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()
	j.read = make(chan struct{})
	go func() {
		defer close(j.read)
		if j.readErr = s.openVersion(readCtx, j); j.readErr != nil {
			return
		}
		if j.readErr = j.src.CheckLocked(); j.readErr != nil {
			return
		}
		if req.Rect == nil {
			j.gap, j.gapErr = j.src.SignatureGap(p.FullName, req.Page)
		}
	}()
	if j.form, err = s.authorityForm(ctx, tx, p, o.delegations, doc, turn, at); err != nil {
		return nil, err
	}
	level, err := s.level(o.orgLevel, o.orgErr, req.Level)
	if err != nil {
		return nil, err
	}
	stored, err := signatureImage(ctx, tx, p.ID, o.image, o.imageErr)
	if err != nil {
		return nil, err
	}
	authority := s.authorityLine(ctx, tx, j.form, o, turn)
	<-j.read
	if j.readErr != nil {
		return nil, j.readErr
	}
	spec := appearance.Spec{Kind: appearance.Signer, Name: p.FullName, Title: p.Title, SignatureImage: stored.img, Authority: authority}
	var pl appearance.SignerPlacement
	if req.Rect == nil {
		// PlaceSigner's search, made while the database answered.
		if err = j.gapErr; err == nil {
			pl, err = appearance.PlaceInGap(j.gap, spec)
		}
	} else {
		pl, err = j.src.Appearance().PlaceSigner(spec, req.Page, req.Rect, 200)
	}
	switch {
	case errors.Is(err, appearance.ErrNameNotFound), errors.Is(err, appearance.ErrNameAmbiguous):
		return nil, because(rPlaceNotFound, refuse(ErrPlace, "%v; give page and rect [x1, y1, x2, y2] in points for the signature", err))
	case errors.Is(err, appearance.ErrNoSignatureImage):
		return nil, because(rNoImage, refuse(ErrNoImage, "%v; upload it with PUT /api/v1/users/%s/signature-image", err, p.ID))
	case err != nil:
		return nil, invalid("signature place: %v", err)
	}
	r := pl.Rect
	vis := &signing.Visible{Page: pl.Page, Rect: [4]float64{r.X1, r.Y1, r.X2, r.Y2}, Image: pl.Image}
	if pl.Printed {
		// Only the stored image is drawn: its encoding is the same at
		// every signature, kept by the SHA-256 of its PNG.
		if vis.Encoded, err = signatureImages.Encoded(stored.sum, stored.img); err != nil {
			return nil, fmt.Errorf("stored signature image: %w", err)
		}
		vis.Image = nil
	}
	j.opts = signing.Options{
		Level: level, TSAURL: s.TSAURL, HTTPClient: s.HTTPClient, Extender: s.Extender, Time: at,
		Name: p.FullName, Reason: reason(j.form), Location: "", Visible: vis,
	}
	j.params = sessionParams{Level: string(level), Page: req.Page, Rect: req.Rect, Time: at, Form: j.form, ImageSHA: stored.sha}
	ok = true
	return j, nil
}

// reason is the signature's /Reason: what the signer signs as.
func reason(form string) string {
	if form == "" {
		return "Ký ban hành"
	}
	return "Ký ban hành (" + form + ")"
}

// level is the organisation's PAdES level (org, or why it could not be
// read), or a higher one asked for.
func (s *Service) level(org string, err error, asked string) (signing.Level, error) {
	if err != nil {
		return "", fmt.Errorf("organisation's signing level: %w", err)
	}
	level := signing.Level(org)
	if asked != "" {
		l, err := signing.ParseLevel(asked)
		if err != nil {
			return "", invalid("level: %v", err)
		}
		if rank(l) < rank(level) {
			return "", invalid("level %s is below the organisation's %s; a signature may be made at a higher level, never a lower one", l, level)
		}
		level = l
	}
	if level != signing.LevelBB && s.TSAURL == "" {
		return "", refuse(ErrUnavailable, "level %s needs a timestamp authority and the service has none configured", level)
	}
	if (level == signing.LevelBLT || level == signing.LevelBLTA) && s.Extender == nil {
		return "", refuse(ErrUnavailable, "level %s needs revocation data and the service cannot collect it", level)
	}
	return level, nil
}

func rank(l signing.Level) int {
	return slices.Index([]signing.Level{signing.LevelBB, signing.LevelBT, signing.LevelBLT, signing.LevelBLTA}, l)
}

// inMemoryMax is the largest version signed in memory; a larger one goes
// through temporary files, so a few signatures of large files at once do
// not take the service's memory.
const inMemoryMax = 32 << 20

// openVersion opens the version's bytes for signing (j.src, j.in,
// j.size). A version of up to inMemoryMax comes from signing.Versions:
// one the service has read or signed lately is neither read, hashed nor
// parsed again; any other is read into memory, checked against its
// content key and kept there. A larger one is read into a temporary file
// and parsed.
func (s *Service) openVersion(ctx context.Context, j *job) error {
	if j.version.Size <= inMemoryMax {
		src, release, err := signing.Versions.OpenStored(ctx, j.version.SHA256, j.version.Size, func(ctx context.Context) (io.ReadCloser, error) {
			return s.Docs.Open(ctx, j.version, 0, -1)
		})
		if err != nil {
			return fmt.Errorf("version %d: %w", j.version.Number, err)
		}
		j.src, j.release, j.in, j.size = src, release, src.ReaderAt(), src.Size()
		return nil
	}
	if err := s.readVersion(ctx, j); err != nil {
		return err
	}
	var err error
	j.src, err = signing.OpenSource(j.in, j.size)
	return err
}

// readVersion reads a version too large for memory into a temporary
// file (j.file, j.in, j.size), checking its length against the version's.
func (s *Service) readVersion(ctx context.Context, j *job) error {
	rc, err := s.Docs.Open(ctx, j.version, 0, -1)
	if err != nil {
		return fmt.Errorf("read version %d: %w", j.version.Number, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(s.TempDir, "vanthu-sign-in-*.pdf")
	if err != nil {
		return fmt.Errorf("signing: temporary file: %w", err)
	}
	j.file, j.in = f, f
	n, err := io.Copy(f, rc)
	if err != nil {
		return fmt.Errorf("read version %d: %w", j.version.Number, err)
	}
	if n != j.version.Size {
		return fmt.Errorf("read version %d: %d bytes, want %d", j.version.Number, n, j.version.Size)
	}
	j.size = n
	return nil
}

// signatureImages keeps the encodings of the handwritten signatures drawn
// lately, by the SHA-256 of their PNG: a few dozen signers' images, each
// tens of kilobytes encoded.
var signatureImages = signing.NewImageCache(256, 16<<20)

// storedImage is a user's handwritten signature as stored.
type storedImage struct {
	img image.Image // nil: the user has none
	sha string      // the row's SHA-256, recorded in two-step sessions
	// sum is the SHA-256 of the PNG: the key of its decoding in
	// decodedImages and of its encoding in signatureImages.
	sum [sha256.Size]byte
}

// signatureImage is the user's handwritten signature as the opening read
// it: decoded from its PNG, or, when the PNG was left out because this
// process held its image (decodedImages.heldFor), that image. One dropped
// since (the cache started again) is read again in tx.
func signatureImage(ctx context.Context, tx pgx.Tx, userID string, si storage.SignatureImage, err error) (storedImage, error) {
	if errors.Is(err, storage.ErrNotFound) {
		return storedImage{}, nil
	}
	if err != nil {
		return storedImage{}, err
	}
	if si.PNG == nil {
		sum, ok := sumOf(si.SHA256)
		if img := decodedImages.get(sum); ok && img != nil {
			return storedImage{img: img, sha: si.SHA256, sum: sum}, nil
		}
		if si, err = storage.GetSignatureImage(ctx, tx, userID); err != nil {
			return storedImage{}, fmt.Errorf("stored signature image: %w", err)
		}
	}
	sum := sha256.Sum256(si.PNG)
	img, err := decodedImages.decode(userID, sum, si.PNG)
	if err != nil {
		return storedImage{}, fmt.Errorf("stored signature image: %w", err)
	}
	return storedImage{img: img, sha: si.SHA256, sum: sum}, nil
}

// sumOf is a hex SHA-256 as bytes.
func sumOf(hexSum string) (sum [sha256.Size]byte, ok bool) {
	n, err := hex.Decode(sum[:], []byte(hexSum))
	return sum, err == nil && n == sha256.Size
}

// decodedImages keeps the handwritten signatures decoded lately, by the
// SHA-256 of their PNG (computed from the bytes decoded), and which one
// each signer had: decoding one took about as much CPU as the rest of the
// service's own work on a signature, and reading its PNG again at every
// signature a tenth of a millisecond of PostgreSQL's. The images kept are
// only ever read.
var decodedImages = &decodedCache{max: 16 << 20}

// decodedCache is a few decoded images, up to max bytes of pixels; when
// full it starts again empty (the images of the signers at work come back
// at their next signature).
type decodedCache struct {
	mu   sync.Mutex
	max  int
	used int
	m    map[[sha256.Size]byte]image.Image
	// last is the SHA-256 (hex) of the image decoded last for each user.
	last map[string]string
}

// heldFor is the SHA-256 (hex) of the image decoded last for userID while
// the cache holds it ("": none).
func (c *decodedCache) heldFor(userID string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[userID]
}

// get is the image decoded from the PNG with SHA-256 sum (nil: none kept).
func (c *decodedCache) get(sum [sha256.Size]byte) image.Image {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[sum]
}

// decode is userID's image decoded from png (SHA-256 sum), kept.
func (c *decodedCache) decode(userID string, sum [sha256.Size]byte, png []byte) (image.Image, error) {
	img := c.get(sum)
	if img == nil {
		var err error
		if img, err = decodeSignaturePNG(png); err != nil {
			return nil, err
		}
	}
	n := 4 * img.Bounds().Dx() * img.Bounds().Dy()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, kept := c.m[sum]; !kept {
		if c.m == nil || c.used+n > c.max {
			c.m, c.last, c.used = map[[sha256.Size]byte]image.Image{}, map[string]string{}, 0
		}
		if n > c.max {
			return img, nil
		}
		c.m[sum], c.used = img, c.used+n
	}
	c.last[userID] = hex.EncodeToString(sum[:])
	return img, nil
}

// authorityForm decides the form p signs under (Decree 30 art. 13): when
// the turn is another's (a deputy signing for the head, or a delegate), a
// valid delegation from that person to p for this document type and unit;
// on p's own turn, a delegation p holds that covers the document (TM. for
// the collective's head, KT. for a deputy named in the chain), else p's own
// name. None applying on another's turn is refused with the reasons. held
// are the delegations p holds (storage.DelegationsTo).
func (s *Service) authorityForm(ctx context.Context, q storage.Querier, p documents.Principal, held []storage.Delegation, doc documents.Document, turn documents.SignTurn, at time.Time) (string, error) {
	parentOf := func(id string) (storage.Delegation, error) { return storage.GetDelegation(ctx, q, id) }
	use := accounts.SigningUse{Signer: p.User, DocumentType: doc.Type, UnitID: doc.UnitID, At: at}
	forms := []string{accounts.FormCollective, accounts.FormDeputy, accounts.FormActing, accounts.FormByOrder, accounts.FormAuthorised}
	other := turn.TurnOf != "" && turn.TurnOf != p.ID
	if other {
		var from []storage.Delegation
		for _, d := range held {
			origin := d.FromUser
			if d.ParentID != "" {
				if parent, err := parentOf(d.ParentID); err == nil {
					origin = parent.FromUser
				}
			}
			if d.FromUser == turn.TurnOf || origin == turn.TurnOf {
				from = append(from, d)
			}
		}
		var reasons []string
		for _, f := range forms {
			use.Form = f
			if _, err := accounts.CheckAuthority(use, from, parentOf); err == nil {
				return f + ".", nil
			} else if slices.ContainsFunc(from, func(d storage.Delegation) bool { return d.Form == f }) {
				reasons = append(reasons, strings.TrimPrefix(err.Error(), accounts.ErrDelegation.Error()+": "))
			}
		}
		if len(reasons) == 0 {
			return "", because(rNoDelegation, fmt.Errorf("%w: the signing turn is another signer's and %s holds no delegation from them", accounts.ErrDelegation, p.Username), p.Username)
		}
		return "", because(rDelegationNotValid, fmt.Errorf("%w: the signing turn is another signer's: %s", accounts.ErrDelegation, strings.Join(reasons, "; ")))
	}
	for _, f := range forms {
		use.Form = f
		if _, err := accounts.CheckAuthority(use, held, parentOf); err == nil {
			return f + ".", nil
		}
	}
	use.Form = ""
	if _, err := accounts.CheckAuthority(use, held, parentOf); err != nil {
		return "", err
	}
	return "", nil
}

// authorityLine is the authority form line of a drawn signature block, for
// a document that prints none: "TM. <ORGANISATION>", or the form before the
// title of the person whose turn it is ("KT. CHỦ TỊCH").
func (s *Service) authorityLine(ctx context.Context, q storage.Querier, form string, o *opening, turn documents.SignTurn) string {
	switch form {
	case "":
		return ""
	case accounts.FormCollective + ".":
		if o.orgErr == nil {
			return form + " " + strings.ToUpper(o.org.Name)
		}
	default:
		if u, err := storage.GetUser(ctx, q, turn.TurnOf); err == nil && u.Title != "" {
			return form + " " + strings.ToUpper(u.Title)
		}
	}
	return form
}

// store records the signed file as the next version, with the chain's
// FinishSign and the audit entry (record), and puts it into the blob store,
// retained like every signed version. stored names the blob once it is
// put, for the caller to discard when the transaction does not commit.
//
// A signed file held in memory, on a store that takes known bytes in one
// request (blob.KnownPutter), is hashed once here and put, retained from
// its first moment, while it is recorded. Otherwise it is put (hashed by the store) and
// retained once nothing else can refuse it.
//
// What is left to write (the version, the turn's finish, the audit entry
// and what goes with them) is returned for the caller to send with the
// commit.
func (s *Service) store(ctx context.Context, tx pgx.Tx, p documents.Principal, j *job, out *output, b storage.KeyBinding, extra map[string]any, stored *string) (documents.Version, *pgx.Batch, error) {
	var until time.Time
	if s.Docs.Retention > 0 {
		until = s.now().Add(s.Docs.Retention)
	}
	if kp, ok := s.Docs.Blobs.(blob.KnownPutter); ok && out.file == nil {
		data := out.mem.Bytes()
		// The signed file begins with the version's bytes: from their
		// kept SHA-256 state only the signature's update is hashed, and
		// the file is kept for the next signature or the issue.
		signed, err := j.src.Signed(data)
		if err != nil {
			return documents.Version{}, nil, fmt.Errorf("signed file: %w", err)
		}
		key := signed.Key()
		if staging, ok := s.stager(j, len(data)); ok {
			return s.storeStaged(ctx, tx, p, j, staging, signed, until, b, extra)
		}
		// The PUT travels while the version is recorded (with a chain
		// that cannot queue its finish, a round trip or more): the
		// commit waits for both, so a committed version always has its
		// file; a refusal cancels the PUT, and what it may have stored is
		// discarded by the caller (or, retained, left to the sweeper).
		putCtx, cancelPut := context.WithCancel(ctx)
		defer cancelPut()
		*stored = key
		put := make(chan error, 1)
		go func() {
			// A signature is an incremental update: the store may keep
			// only what it appended to the version signed.
			_, err := blob.PutKnownAfter(putCtx, kp, key, data, j.version.SHA256, j.in, j.size, until)
			put <- err
		}()
		v, writes, err := s.record(ctx, tx, p, j, key, int64(len(data)), b, extra)
		if err != nil {
			cancelPut()
			<-put
			return v, nil, err
		}
		if err := <-put; err != nil {
			return documents.Version{}, nil, fmt.Errorf("store signed file: %w", err)
		}
		signing.Versions.Add(signed)
		return v, writes, nil
	}
	r, err := out.reader()
	if err != nil {
		return documents.Version{}, nil, err
	}
	info, err := s.Docs.Blobs.Put(ctx, r, blob.PutOptions{})
	if err != nil {
		return documents.Version{}, nil, fmt.Errorf("store signed file: %w", err)
	}
	*stored = info.Key
	v, writes, err := s.record(ctx, tx, p, j, info.Key, info.Size, b, extra)
	if err != nil {
		return v, nil, err
	}
	if !until.IsZero() {
		if err := s.Docs.Blobs.Retain(ctx, info.Key, until); err != nil {
			return documents.Version{}, nil, fmt.Errorf("retain signed file: %w", err)
		}
	}
	return v, writes, nil
}

// stager is the blob store's write-ahead (storage/blob/staged) when the
// signed file of n bytes can go through it: the version signed was opened
// from its known bytes and SHA-256 state (the signature's update is
// checked from that state, not by hashing the whole again) and the update
// is within the store's limit.
func (s *Service) stager(j *job, n int) (*staged.Store, bool) {
	st, ok := s.mayStage(j)
	if !ok || int64(n) <= j.size {
		return nil, false
	}
	return st, st.CanStage(n - int(j.size))
}

// mayStage is the blob store's write-ahead when the signature of j's
// version can go through it, whatever the size of its update.
func (s *Service) mayStage(j *job) (*staged.Store, bool) {
	st, ok := s.Docs.Blobs.(*staged.Store)
	if !ok {
		return nil, false
	}
	k := j.src.Known()
	if k == nil || k.Key() != j.version.SHA256 || k.Size() != j.size {
		return nil, false
	}
	return st, true
}

// insertMoveWhileSigning inserts, in tx and while the signature is made,
// the job that will move its update into the blob store, when the update
// will likely be staged: tx's connection is idle while the key signs and
// the timestamp authority answers, and the insert's round trip is spent
// then instead of after. The returned wait must be called before tx is
// used again (it may be called more than once).
func (s *Service) insertMoveWhileSigning(ctx context.Context, tx pgx.Tx, j *job) (wait func()) {
	st, ok := s.mayStage(j)
	if !ok {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.moveErr = st.InsertMoveOnto(ctx, tx, j.version.SHA256)
		j.moving = true
	}()
	return func() { <-done }
}

// storeStaged records the signed file as the next version and writes the
// signature's update (what it appended to the version signed) ahead into
// PostgreSQL in tx, with the job that moves it into the blob store after
// the commit: the commit waits for no PUT. Nothing is left to discard
// when tx does not commit. The whole file goes to the signing and read
// caches at once, so the reads that follow reach neither PostgreSQL nor
// the store. The update is returned with the audit entry's writes, for
// the commit's round trip.
func (s *Service) storeStaged(ctx context.Context, tx pgx.Tx, p documents.Principal, j *job, st *staged.Store, signed *signing.Known,
	until time.Time, b storage.KeyBinding, extra map[string]any) (documents.Version, *pgx.Batch, error) {
	data := signed.Bytes()
	update := staged.Append{Key: signed.Key(), BaseKey: j.version.SHA256, BaseSize: j.size,
		BaseState: j.src.Known().State(), Tail: data[j.size:], Until: until}
	if j.moving && j.moveErr != nil {
		return documents.Version{}, nil, fmt.Errorf("store signed file: %w", j.moveErr)
	}
	if !j.moving {
		if err := st.InsertMove(ctx, tx, signed.Key()); err != nil {
			return documents.Version{}, nil, fmt.Errorf("store signed file: %w", err)
		}
	}
	// The update goes with the audit entry's writes.
	alsoWrite := j.alsoWrite
	defer func() { j.alsoWrite = alsoWrite }()
	j.alsoWrite = func(writes *pgx.Batch, v documents.Version) error {
		if err := st.Queue(writes, update); err != nil {
			return fmt.Errorf("store signed file: %w", err)
		}
		if alsoWrite != nil {
			return alsoWrite(writes, v)
		}
		return nil
	}
	v, writes, err := s.record(ctx, tx, p, j, signed.Key(), signed.Size(), b, extra)
	if err != nil {
		return v, nil, err
	}
	signing.Versions.Add(signed)
	st.Remember(signed.Key(), data)
	return v, writes, nil
}

// record adds the signed file (SHA-256 key, size bytes) as the next
// version and finishes the chain's signing turn, with the audit entry and
// the caller's writes (j.alsoWrite): all of it is returned unsent, for the
// commit's round trip (storage.CommitBatch). The version's number is the
// one after the version signed, whose document is locked since the
// transaction's begin (a number not the next fails the batch), and its
// creation time the transaction's (read with its begin), so what names
// the version needs nothing read back. A chain that cannot queue its
// FinishSign (documents.QueuedSigningTurns) gets the version sent first,
// then FinishSign, as it expects.
func (s *Service) record(ctx context.Context, tx pgx.Tx, p documents.Principal, j *job, key string, size int64, b storage.KeyBinding, extra map[string]any) (documents.Version, *pgx.Batch, error) {
	v := documents.Version{DocumentID: j.doc.ID, Number: j.version.Number + 1, SHA256: key, Size: size,
		FileName: j.version.FileName, Signed: true, CreatedBy: p.ID, CreatedAt: j.begun}
	writes := &pgx.Batch{}
	storage.QueueLockBlob(writes, key)
	storage.QueueInsertNumberedVersion(writes, v)
	after, err := s.finishTurn(ctx, tx, p, j, v, writes)
	if err != nil {
		return documents.Version{}, nil, err
	}
	details := map[string]any{"version": v.Number, "sha256": v.SHA256, "size": v.Size, "signed_version": j.version.Number,
		"level": string(j.opts.Level), "authority_form": j.form, "key_binding": b.ID, "fingerprint": b.Fingerprint, "turn_of": j.turn.TurnOf}
	for k, x := range extra {
		details[k] = x
	}
	e := p.Event("document.sign", "document:"+j.doc.ID, details)
	e.OrgID = j.doc.OrganizationID
	if err := audit.Queue(writes, e); err != nil {
		return v, nil, err
	}
	if j.alsoWrite != nil {
		if err := j.alsoWrite(writes, v); err != nil {
			return v, nil, err
		}
	}
	if after != nil {
		// The chain publishes after its writes and before the commit:
		// the writes go now, the commit alone.
		if err := storage.SendBatch(ctx, tx, writes); err != nil {
			return v, nil, err
		}
		if err := after(ctx, tx); err != nil {
			return v, nil, err
		}
		writes = &pgx.Batch{}
	}
	return v, writes, nil
}

// finishTurn finishes the chain's signing turn for version v, queued
// into writes after v's insert when the chain can (no round trip of its
// own; after is what the chain runs once writes were sent, before the
// commit); else writes (v's insert) are sent, FinishSign called, and
// writes emptied for what follows.
func (s *Service) finishTurn(ctx context.Context, tx pgx.Tx, p documents.Principal, j *job, v documents.Version, writes *pgx.Batch) (after func(context.Context, pgx.Tx) error, err error) {
	if q, ok := s.Turns.(documents.QueuedSigningTurns); ok {
		after, err := q.QueueFinishSign(ctx, writes, p, j.turn, v.Number, v.SHA256, j.form)
		if !errors.Is(err, documents.ErrFinishNotQueued) {
			return after, turnRefused(err)
		}
	}
	if err := storage.SendBatch(ctx, tx, writes); err != nil {
		return nil, err
	}
	*writes = pgx.Batch{}
	return nil, turnRefused(s.Turns.FinishSign(ctx, tx, p, j.turn, v.Number, v.SHA256, j.form))
}

// turnRefused words the chain's refusal to finish a turn as
// ErrNotYourTurn, keeping its reason.
func turnRefused(err error) error {
	if err == nil {
		return nil
	}
	return carry(err, fmt.Errorf("%w: %v", ErrNotYourTurn, err))
}

// output is where a signed file is written: in memory when the version
// signed was small enough to be read into memory, else a temporary file.
type output struct {
	mem  *signing.Buffer
	file *os.File
}

// reader reads what was written from its start.
func (o *output) reader() (io.Reader, error) {
	if o.file == nil {
		return bytes.NewReader(o.mem.Bytes()), nil
	}
	if _, err := o.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("signed file: %w", err)
	}
	return o.file, nil
}

// target is what the signing library writes to: the file itself when
// there is one (B-LT and B-LTA extend it in place).
func (o *output) target() signing.Output {
	if o.file != nil {
		return o.file
	}
	return o.mem
}

// tempOut is the output for signing j's version: in memory beside a
// version held in memory, else a temporary file; B-LT and B-LTA always get
// a file, which their revocation data is added to in place.
func (s *Service) tempOut(j *job) (*output, func(), error) {
	if j.file == nil && (j.opts.Level == signing.LevelBB || j.opts.Level == signing.LevelBT) {
		return &output{mem: signing.NewBuffer(int(j.size) + 64<<10)}, func() {}, nil
	}
	f, err := os.CreateTemp(s.TempDir, "vanthu-sign-out-*.pdf")
	if err != nil {
		return nil, nil, fmt.Errorf("signing: temporary file: %w", err)
	}
	return &output{file: f}, func() { f.Close(); os.Remove(f.Name()) }, nil
}

// signingError sorts a failure of the signing library: a locked document
// and certificate problems are the signer's to know, a TSA or LTV failure
// is the service's (retry later).
func signingError(err error) error {
	switch {
	case errors.Is(err, signing.ErrLocked):
		return because(rLocked, err)
	case errors.Is(err, signing.ErrTSA), errors.Is(err, signing.ErrLevelUnavailable):
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	case errors.Is(err, signing.ErrCertificateNotValid), errors.Is(err, signing.ErrKeyUsage), errors.Is(err, signing.ErrKeyMismatch), errors.Is(err, keys.ErrExpired):
		return because(rKeyInvalid, fmt.Errorf("%w: %v", ErrNoKey, err))
	}
	return err
}

// Sign signs the document with p's own key held by the service, at the
// organisation's level (or the higher one asked for), and returns the new
// version. Everything happens in one transaction: the chain's turn, the
// new version, FinishSign and the audit entry commit together; a failure
// or a crash anywhere leaves no version and the turn open.
func (s *Service) Sign(ctx context.Context, p documents.Principal, documentID string, req Request) (documents.Version, error) {
	idem, err := newIdempotency(p, documentID, "sign", req.IdempotencyKey, req)
	if err != nil {
		return documents.Version{}, err
	}
	return idem.run(ctx, s.DB.Pool, func() (documents.Version, error) { return s.sign(ctx, p, documentID, req, idem) })
}

func (s *Service) sign(ctx context.Context, p documents.Principal, documentID string, req Request, idem *idempotency) (documents.Version, error) {
	at := s.now()
	var doc documents.Document
	var v documents.Version
	var blobKey string
	err := s.inTx(ctx, p, documentID, "", func(tx pgx.Tx, o *opening) (*pgx.Batch, error) {
		doc = o.doc
		bs := usable(o.bindings, at, storage.KeyPKCS11, storage.KeyPKCS12)
		if len(bs) == 0 {
			return nil, because(rNoKey, refuse(ErrNoKey, "%s has no valid key held by the service (PKCS#11 or PKCS#12); bind one, or sign with your own token through sign/prepare and sign/complete", p.Username), p.Username)
		}
		binding := bs[0]
		j, err := s.begin(ctx, tx, p, o, req, at)
		if err != nil {
			return nil, err
		}
		defer j.close()
		j.alsoWrite = idem.queue
		// From here until waited for, tx is the move job's.
		waitMove := s.insertMoveWhileSigning(ctx, tx, j)
		defer waitMove()
		key, err := accounts.SigningKey(ctx, p, binding, s.Accounts.PIN, s.Accounts.Keystore, at)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoKey, err)
		}
		defer keys.Close(key)
		if key, err = withBoundChain(key, binding); err != nil {
			return nil, err
		}
		out, done, err := s.tempOut(j)
		if err != nil {
			return nil, err
		}
		defer done()
		if err := j.src.Sign(ctx, out.target(), key, j.opts); err != nil {
			return nil, signingError(err)
		}
		waitMove()
		var writes *pgx.Batch
		v, writes, err = s.store(ctx, tx, p, j, out, binding, map[string]any{"mode": "service key"}, &blobKey)
		return writes, err
	})
	if err != nil {
		s.discard(ctx, blobKey)
		return documents.Version{}, err
	}
	slog.InfoContext(ctx, "document signed", "document", doc.ID, "version", v.Number, "signer", p.Username)
	return v, nil
}

// discard removes a signed file whose version did not commit, unless
// another row uses the same bytes (or its retention keeps it; the sweeper
// then passes it over until it ends).
func (s *Service) discard(ctx context.Context, key string) {
	if key != "" {
		s.Docs.Discard(ctx, documents.StoredFile{Key: key})
	}
}

// boundKey is a key whose chain is the binding's: a token usually holds the
// signer's certificate alone, and the issuing CAs given when the key was
// bound must go into the signature for it to be verifiable.
type boundKey struct {
	keys.Key
	chain []*x509.Certificate
}

func (k boundKey) Chain() []*x509.Certificate { return k.chain }

func withBoundChain(k keys.Key, b storage.KeyBinding) (keys.Key, error) {
	if len(k.Chain()) >= 1+len(b.Chain) {
		return k, nil // a key opened with the binding's chain (a sealed PKCS#12)
	}
	chain, err := accounts.BindingChain(b)
	if err != nil {
		return nil, err
	}
	if !k.Chain()[0].Equal(chain[0]) {
		return nil, fmt.Errorf("%w: the key's certificate is not the one bound", ErrNoKey)
	}
	return boundKey{k, chain}, nil
}

// SetOrganizationLevel configures the PAdES level an organisation's
// signatures are made at (B-T, B-LT or B-LTA); only the system
// administrator may, and the change is audited.
func SetOrganizationLevel(ctx context.Context, db *storage.DB, p documents.Principal, orgID, level string) error {
	if err := accounts.Authorize(p, accounts.OrganizationCreate, accounts.Target{}); err != nil {
		return fmt.Errorf("%w (the signing level is the system administrator's to set)", err)
	}
	l, err := signing.ParseLevel(level)
	if err != nil || l == signing.LevelBB {
		return invalid("level %q: an organisation signs at B-T, B-LT or B-LTA", level)
	}
	return db.InTx(ctx, func(tx pgx.Tx) error {
		old, err := storage.OrganizationSigningLevel(ctx, tx, orgID)
		if err != nil {
			return err
		}
		if err := storage.SetOrganizationSigningLevel(ctx, tx, orgID, string(l)); err != nil {
			return err
		}
		e := p.Event("organization.signing_level", "organization:"+orgID, map[string]any{"from": old, "to": string(l)})
		e.OrgID = orgID
		return audit.Append(ctx, tx, e)
	})
}
