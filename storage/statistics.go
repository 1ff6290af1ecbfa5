package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// HandlingCounts are the on-time figures of one group of handled parts
// (or documents) as of a moment.
type HandlingCounts struct {
	Key             string // unit or user id; "" for the organisation
	Received        int
	CompletedOnTime int
	CompletedLate   int
	InProgress      int
	Overdue         int
}

// countsSQL aggregates rows with completed_at and due_at columns as of $asOf.
const countsSQL = `count(*),
	count(*) FILTER (WHERE completed_at < %[1]s AND (due_at IS NULL OR completed_at <= due_at)),
	count(*) FILTER (WHERE completed_at < %[1]s AND due_at IS NOT NULL AND completed_at > due_at),
	count(*) FILTER (WHERE (completed_at IS NULL OR completed_at >= %[1]s) AND (due_at IS NULL OR due_at >= %[1]s)),
	count(*) FILTER (WHERE (completed_at IS NULL OR completed_at >= %[1]s) AND due_at < %[1]s)`

// tallySource is what statistics count: documents received (by the
// organisation) or parts given (by unit or person), as rows of a table and
// as the kinds of handling_tallies kept for it.
type tallySource struct {
	table string // with its alias a
	at    string // when a row entered the period: received or assigned
	kind  string // the tally kind of a row: document, unit or person
	key   string // the tally key of a row
	group string // the columns kind and key are made of, to group by
	where string // the rows that count
	kinds string // the tally kinds of this source
}

var (
	documentSource = tallySource{table: "document_handling a", at: "a.received_at", kind: "'document'", key: "a.organization_id",
		group: "a.organization_id", where: "true", kinds: "t.kind = 'document'"}
	partSource = tallySource{table: "assignments a", at: "a.assigned_at", kind: "CASE WHEN a.unit_id IS NULL THEN 'person' ELSE 'unit' END",
		key: "coalesce(a.unit_id, a.user_id)", group: "a.unit_id, a.user_id", where: "a.role <> 'inform'", kinds: "t.kind IN ('unit', 'person')"}
)

// tallyKey names one counted group: kind document, unit or person.
type tallyKey struct{ kind, key string }

// tallyCounts counts a source's rows that entered [from, to), as of asOf,
// per kind and key. Whole months of Vietnam's calendar inside the period
// are read from handling_tallies (FoldHandlingTallies keeps them few), corrected for what
// depends on asOf: rows completed at or after it count as not completed,
// and open rows whose deadline is not before it as in progress. The
// period's partial months at either end are counted from the rows.
// unitOnly, when set, is a condition on the rows (alias a) and another on
// the tallies (alias t) keeping one unit's counts.
func tallyCounts(ctx context.Context, q Querier, src tallySource, orgID string, from, to, asOf time.Time, unitOnly *unitFilter) (map[tallyKey]*HandlingCounts, error) {
	out := map[tallyKey]*HandlingCounts{}
	get := func(kind, key string) *HandlingCounts {
		k := tallyKey{kind, key}
		c := out[k]
		if c == nil {
			c = &HandlingCounts{Key: key}
			if kind == "document" {
				c.Key = ""
			}
			out[k] = c
		}
		return c
	}
	monthStart := func(t time.Time) time.Time {
		v := t.In(vietnam)
		return time.Date(v.Year(), v.Month(), 1, 0, 0, 0, 0, vietnam)
	}
	wholeFrom := monthStart(from)
	if wholeFrom.Before(from) {
		wholeFrom = wholeFrom.AddDate(0, 1, 0)
	}
	wholeTo := monthStart(to)
	var raw [][2]time.Time
	if wholeFrom.Before(wholeTo) {
		if from.Before(wholeFrom) {
			raw = append(raw, [2]time.Time{from, wholeFrom})
		}
		if wholeTo.Before(to) {
			raw = append(raw, [2]time.Time{wholeTo, to})
		}
	} else {
		raw = append(raw, [2]time.Time{from, to})
	}
	// The row queries are planned with their values each time (the
	// simple protocol): a cached generic plan cannot tell the few rows
	// completed after asOf from the year's, and would read them all.
	rowArgs := func(extra ...any) ([]any, string) {
		args := append([]any{pgx.QueryExecModeSimpleProtocol, orgID}, extra...)
		if unitOnly == nil {
			return args, ""
		}
		args = append(args, unitOnly.unitID)
		return args, " AND " + fmt.Sprintf(unitOnly.rows, len(args)-1)
	}
	scanInto := func(rows pgx.Rows, add func(c *HandlingCounts, n [5]int)) error {
		defer rows.Close()
		for rows.Next() {
			var kind, key string
			var n [5]int
			if err := rows.Scan(&kind, &key, &n[0], &n[1], &n[2], &n[3], &n[4]); err != nil {
				return err
			}
			add(get(kind, key), n)
		}
		return rows.Err()
	}
	// The period's partial months, from the rows.
	for _, r := range raw {
		args, only := rowArgs(r[0], r[1], asOf)
		rows, err := q.Query(ctx, `SELECT `+src.kind+`, `+src.key+`::text, `+fmt.Sprintf(countsSQL, "$4")+`
			FROM `+src.table+` WHERE a.organization_id = $1 AND `+src.at+` >= $2 AND `+src.at+` < $3 AND `+src.where+only+`
			GROUP BY `+src.group, args...)
		if err != nil {
			return nil, fmt.Errorf("counts of %s: %w", src.table, err)
		}
		if err := scanInto(rows, func(c *HandlingCounts, n [5]int) {
			c.Received += n[0]
			c.CompletedOnTime += n[1]
			c.CompletedLate += n[2]
			c.InProgress += n[3]
			c.Overdue += n[4]
		}); err != nil {
			return nil, fmt.Errorf("counts of %s: %w", src.table, err)
		}
	}
	if !wholeFrom.Before(wholeTo) {
		return out, nil
	}
	months := []any{wholeFrom.Format(time.DateOnly), wholeTo.Format(time.DateOnly)}
	// Whole months, from the tallies: as things stand now.
	args := append([]any{orgID}, months...)
	only := ""
	if unitOnly != nil {
		args = append(args, unitOnly.unitID)
		only = " AND " + fmt.Sprintf(unitOnly.tallies, len(args))
	}
	rows, err := q.Query(ctx, `SELECT t.kind, t.key::text, sum(t.received)::int, sum(t.done_on_time)::int, sum(t.done_late)::int,
			sum(t.open_no_due)::int, sum(t.open_due)::int
		FROM handling_tallies t WHERE t.organization_id = $1 AND t.month >= $2::date AND t.month < $3::date AND `+src.kinds+only+`
		GROUP BY t.kind, t.key`, args...)
	if err != nil {
		return nil, fmt.Errorf("tallies: %w", err)
	}
	if err := scanInto(rows, func(c *HandlingCounts, n [5]int) {
		c.Received += n[0]
		c.CompletedOnTime += n[1]
		c.CompletedLate += n[2]
		c.InProgress += n[3] // open, no deadline
		c.Overdue += n[4]    // open with a deadline: moved below if still ahead
	}); err != nil {
		return nil, fmt.Errorf("tallies: %w", err)
	}
	// Completed at or after asOf: not completed as of then.
	rargs, ronly := rowArgs(wholeFrom, wholeTo, asOf)
	rows, err = q.Query(ctx, `SELECT `+src.kind+`, `+src.key+`::text,
			count(*) FILTER (WHERE a.due_at IS NULL OR a.completed_at <= a.due_at),
			count(*) FILTER (WHERE a.due_at IS NOT NULL AND a.completed_at > a.due_at),
			count(*) FILTER (WHERE a.due_at IS NULL OR a.due_at >= $4),
			count(*) FILTER (WHERE a.due_at < $4), 0
		FROM `+src.table+` WHERE a.organization_id = $1 AND a.completed_at >= $4 AND `+src.at+` >= $2 AND `+src.at+` < $3 AND `+src.where+ronly+`
		GROUP BY `+src.group, rargs...)
	if err != nil {
		return nil, fmt.Errorf("counts of %s completed later: %w", src.table, err)
	}
	if err := scanInto(rows, func(c *HandlingCounts, n [5]int) {
		c.CompletedOnTime -= n[0]
		c.CompletedLate -= n[1]
		c.InProgress += n[2]
		c.Overdue += n[3]
	}); err != nil {
		return nil, fmt.Errorf("counts of %s completed later: %w", src.table, err)
	}
	// Open with a deadline not before asOf: in progress, not overdue.
	rows, err = q.Query(ctx, `SELECT `+src.kind+`, `+src.key+`::text, count(*), 0, 0, 0, 0
		FROM `+src.table+` WHERE a.organization_id = $1 AND a.completed_at IS NULL AND a.due_at >= $4 AND `+src.at+` >= $2 AND `+src.at+` < $3 AND `+src.where+ronly+`
		GROUP BY `+src.group, rargs...)
	if err != nil {
		return nil, fmt.Errorf("counts of %s within their deadline: %w", src.table, err)
	}
	if err := scanInto(rows, func(c *HandlingCounts, n [5]int) {
		c.InProgress += n[0]
		c.Overdue -= n[0]
	}); err != nil {
		return nil, fmt.Errorf("counts of %s within their deadline: %w", src.table, err)
	}
	// A key whose rows all moved to another month or kind leaves zeros.
	for k, c := range out {
		if *c == (HandlingCounts{Key: c.Key}) {
			delete(out, k)
		}
	}
	return out, nil
}

// vietnam is the time zone periods are given in (no daylight saving).
var vietnam = time.FixedZone("ICT", 7*3600)

// unitFilter keeps one unit's counts: its own parts and its members'.
// Each condition takes the unit id's placeholder number.
type unitFilter struct {
	unitID  string
	rows    string
	tallies string
}

func oneUnit(unitID string) *unitFilter {
	if unitID == "" {
		return nil
	}
	return &unitFilter{unitID: unitID,
		rows:    `(a.unit_id = $%[1]d OR EXISTS (SELECT 1 FROM user_units m WHERE m.user_id = a.user_id AND m.unit_id = $%[1]d))`,
		tallies: `(t.kind = 'unit' AND t.key = $%[1]d OR t.kind = 'person' AND t.key IN (SELECT m.user_id FROM user_units m WHERE m.unit_id = $%[1]d))`}
}

// FoldHandlingTallies replaces, for an organisation's months that meet
// [from, to), every key's several tally rows by their sum, so reading the
// period's tallies reads one row per key and month. Sums never change:
// rows inserted meanwhile by other transactions are not seen and stay; a
// concurrent fold finds the rows it meant to delete gone and sums only
// what it did delete. Statistics fold once before they count.
func FoldHandlingTallies(ctx context.Context, q Querier, orgID string, from, to time.Time) error {
	_, err := q.Exec(ctx, `
		WITH several AS (
			SELECT kind, key, month FROM handling_tallies
			WHERE organization_id = $1 AND month >= $2::date AND month < $3::date
			GROUP BY kind, key, month HAVING count(*) > 1),
		gone AS (
			DELETE FROM handling_tallies t USING several s
			WHERE t.organization_id = $1 AND t.kind = s.kind AND t.key = s.key AND t.month = s.month
			RETURNING t.*)
		INSERT INTO handling_tallies
		SELECT organization_id, kind, key, month, sum(received), sum(done_on_time), sum(done_late), sum(open_no_due), sum(open_due)
		FROM gone GROUP BY organization_id, kind, key, month`, orgID, from.In(vietnam).Format(time.DateOnly), to.In(vietnam).Format(time.DateOnly))
	if err != nil {
		return fmt.Errorf("fold handling tallies: %w", err)
	}
	return nil
}

// RebuildHandlingTallies recomputes every organisation's tallies from the
// rows, as migration 00019 first did: for data loaded with triggers off.
func RebuildHandlingTallies(ctx context.Context, q Querier) error {
	_, err := q.Exec(ctx, `
		WITH gone AS (DELETE FROM handling_tallies)
		INSERT INTO handling_tallies
		SELECT t.organization_id, t.kind, t.key, t.month, sum(t.received), sum(t.done_on_time), sum(t.done_late), sum(t.open_no_due), sum(t.open_due)
		FROM (
			SELECT x.* FROM document_handling h,
				LATERAL handling_tally(h.organization_id, 'document', h.organization_id, h.received_at, h.due_at, h.completed_at, 1) x
			UNION ALL
			SELECT x.* FROM assignments a,
				LATERAL handling_tally(a.organization_id, CASE WHEN a.unit_id IS NULL THEN 'person' ELSE 'unit' END, coalesce(a.unit_id, a.user_id),
					a.assigned_at, a.due_at, a.completed_at, 1) x
			WHERE a.role <> 'inform'
		) t
		GROUP BY t.organization_id, t.kind, t.key, t.month`)
	if err != nil {
		return fmt.Errorf("rebuild handling tallies: %w", err)
	}
	return nil
}

// OrganizationHandlingCounts counts the documents an organisation received
// in [from, to), each judged by its own (the lead's) deadline as of asOf.
func OrganizationHandlingCounts(ctx context.Context, q Querier, orgID string, from, to, asOf time.Time) (HandlingCounts, error) {
	all, err := tallyCounts(ctx, q, documentSource, orgID, from, to, asOf, nil)
	if err != nil {
		return HandlingCounts{}, fmt.Errorf("organisation statistics: %w", err)
	}
	if c := all[tallyKey{"document", orgID}]; c != nil {
		return *c, nil
	}
	return HandlingCounts{}, nil
}

// PartHandlingCounts counts the parts (not for information) given in
// [from, to): per unit for the parts given to units, per person for those
// given to people (directly or as a unit's handler). A part names a unit
// or a person, never both. With unitID, only that unit and its members.
func PartHandlingCounts(ctx context.Context, q Querier, orgID, unitID string, from, to, asOf time.Time) (units, people []HandlingCounts, err error) {
	all, err := tallyCounts(ctx, q, partSource, orgID, from, to, asOf, oneUnit(unitID))
	if err != nil {
		return nil, nil, fmt.Errorf("part statistics: %w", err)
	}
	for k, c := range all {
		if k.kind == "unit" {
			units = append(units, *c)
		} else {
			people = append(people, *c)
		}
	}
	return units, people, nil
}

// UserNames maps user ids to full names.
func UserNames(ctx context.Context, q Querier, ids []string) (map[string]string, error) {
	rows, err := q.Query(ctx, "SELECT id::text, full_name FROM users WHERE id = ANY($1::uuid[])", ids)
	if err != nil {
		return nil, fmt.Errorf("user names: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// IssuedDocument is an outgoing document issued in a period, with when it
// was signed: the last signature of its approval chain, else the last
// signed version before the issued one.
type IssuedDocument struct {
	ID       string
	UnitID   string
	Urgency  string
	SignedAt *time.Time
	IssuedAt time.Time
}

// IssuedDocuments lists an organisation's documents issued in [from, to),
// optionally of one unit.
func IssuedDocuments(ctx context.Context, q Querier, orgID, unitID string, from, to time.Time) ([]IssuedDocument, error) {
	rows, err := q.Query(ctx, `SELECT d.id, coalesce(d.unit_id::text, ''), d.urgency, d.issued_at,
			coalesce((SELECT max(c.at) FROM chain_actions c WHERE c.document_id = d.id AND c.action = 'sign'),
				(SELECT max(v.created_at) FROM document_versions v WHERE v.document_id = d.id AND v.signed
					AND v.number < coalesce((SELECT e.version FROM register_entries e WHERE e.document_id = d.id), 2147483647)))
		FROM documents d WHERE d.organization_id = $1 AND d.issued_at >= $2 AND d.issued_at < $3
			AND d.unit_id IS NOT DISTINCT FROM coalesce($4::uuid, d.unit_id)`, orgID, from, to, nullable(unitID))
	if err != nil {
		return nil, fmt.Errorf("issued documents: %w", err)
	}
	return collect(rows, func(row pgx.Row) (IssuedDocument, error) {
		var d IssuedDocument
		err := row.Scan(&d.ID, &d.UnitID, &d.Urgency, &d.IssuedAt, &d.SignedAt)
		return d, err
	})
}
