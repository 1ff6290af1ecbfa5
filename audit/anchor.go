package audit

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/storage"
)

// AnchorRecord is an RFC 3161 timestamp of the chain head: the TSA's
// token over the hash of entry Seq, made at At (the token's time). An
// anchor fixes everything up to Seq: rewriting those entries changes the
// hash the token covers, and deleting the tail leaves an anchor naming an
// entry that is gone.
type AnchorRecord struct {
	Seq      int64     `json:"seq"`
	HeadHash []byte    `json:"head_hash"`
	Token    []byte    `json:"token"`
	At       time.Time `json:"at"`
}

func anchors(ctx context.Context, q storage.Querier) ([]AnchorRecord, error) {
	rows, err := q.Query(ctx, "SELECT seq, head_hash, token, at FROM audit_anchors ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("audit: anchors: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AnchorRecord, error) {
		var a AnchorRecord
		err := row.Scan(&a.Seq, &a.HeadHash, &a.Token, &a.At)
		a.At = a.At.UTC()
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("audit: anchors: %w", err)
	}
	return list, nil
}

// checkAnchor checks a's token by itself: signed by a time-stamping
// certificate (chaining to roots, when given) valid at its time, over the
// SHA-256 head hash stored with it, at the time stored with it. It returns
// the TSA certificate's subject and what is wrong, or "".
func checkAnchor(a AnchorRecord, roots *x509.CertPool) (tsa, fault string) {
	ts, err := signing.CheckTimestampToken(a.Token)
	if err != nil {
		return "", fmt.Sprintf("the TSA token does not verify: %v", err)
	}
	// CheckTimestampToken verified the signature with the only signer.
	var signer *x509.Certificate
	if p7, err := pkcs7.Parse(a.Token); err == nil {
		signer = p7.GetOnlySigner()
	}
	if signer != nil {
		tsa = signer.Subject.String()
	}
	switch {
	case ts.HashAlgorithm != crypto.SHA256:
		return tsa, fmt.Sprintf("the TSA token's imprint is %v, not SHA-256", ts.HashAlgorithm)
	case !bytes.Equal(ts.HashedMessage, a.HeadHash):
		return tsa, "the TSA token does not cover the head hash stored with it"
	case !ts.Time.UTC().Truncate(time.Microsecond).Equal(a.At.Truncate(time.Microsecond)):
		return tsa, fmt.Sprintf("stored time %s is not the TSA token's %s", a.At.Format(time.RFC3339Nano), ts.Time.UTC().Format(time.RFC3339Nano))
	}
	if roots != nil {
		if signer == nil {
			return tsa, "the TSA token carries no time-stamping certificate"
		}
		inter := x509.NewCertPool()
		for _, c := range ts.Certificates {
			inter.AddCert(c)
		}
		_, err := signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: ts.Time,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}})
		if err != nil {
			return tsa, fmt.Sprintf("the TSA certificate is not trusted: %v", err)
		}
	}
	return tsa, ""
}

// Anchor has the TSA at tsaURL timestamp the current chain head and stores
// the token. It does nothing, and returns false, when the log is empty or
// its head is anchored already. client nil means http.DefaultClient. The
// head is read as committed; appends may go on meanwhile (a later anchor
// covers them).
func Anchor(ctx context.Context, db *storage.DB, tsaURL string, client *http.Client) (bool, error) {
	var seq int64
	var head []byte
	var done bool
	err := db.Pool.QueryRow(ctx, `SELECT seq, hash, EXISTS (SELECT FROM audit_anchors a WHERE a.seq = l.seq)
		FROM audit_log l ORDER BY seq DESC LIMIT 1`).Scan(&seq, &head, &done)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("audit: anchor: chain head: %w", err)
	}
	if done {
		return false, nil
	}
	token, err := signing.TimestampDigest(ctx, signing.TimestampOptions{TSAURL: tsaURL, HTTPClient: client, Hash: crypto.SHA256}, head)
	if err != nil {
		return false, fmt.Errorf("audit: anchor entry %d: %w", seq, err)
	}
	ts, err := signing.CheckTimestampToken(token)
	if err != nil {
		return false, fmt.Errorf("audit: anchor entry %d: %w", seq, err)
	}
	at := ts.Time.UTC().Truncate(time.Microsecond)
	tag, err := db.Pool.Exec(ctx, "INSERT INTO audit_anchors (seq, head_hash, token, at) VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING",
		seq, head, token, at)
	if err != nil {
		return false, fmt.Errorf("audit: anchor entry %d: %w", seq, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil // another instance anchored it meanwhile
	}
	// The log line is a copy of the anchor outside the database.
	slog.Info("audit log anchored", "seq", seq, "head", hex.EncodeToString(head), "tsa_time", at.Format(time.RFC3339))
	return true, nil
}

// RunAnchorer anchors the chain head at start and then every interval when
// it moved, until ctx ends. Failures are logged and retried at the next
// tick: the log is still chained meanwhile.
func RunAnchorer(ctx context.Context, db *storage.DB, tsaURL string, interval time.Duration) {
	if interval <= 0 {
		interval = time.Hour
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		actx, cancel := context.WithTimeout(ctx, time.Minute)
		if _, err := Anchor(actx, db, tsaURL, nil); err != nil && ctx.Err() == nil {
			slog.Warn("audit log anchoring failed; will retry", "err", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CanRewrite reports whether the role q is connected as could change or
// delete audit entries (it owns the table, is a superuser, or was granted
// UPDATE, DELETE or TRUNCATE): the service should run as a role that
// cannot. The triggers refuse such changes anyway, but an owner can drop
// them.
func CanRewrite(ctx context.Context, q storage.Querier) (bool, error) {
	var can bool
	err := q.QueryRow(ctx, `SELECT has_table_privilege('audit_log', 'UPDATE')
		OR has_table_privilege('audit_log', 'DELETE') OR has_table_privilege('audit_log', 'TRUNCATE')
		OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
		OR pg_has_role((SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log' AND schemaname = current_schema()), 'USAGE')`).Scan(&can)
	if err != nil {
		return false, fmt.Errorf("audit: privileges: %w", err)
	}
	return can, nil
}
