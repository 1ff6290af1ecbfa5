package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/vanthu/vanthu/documents/calendar"
	"github.com/vanthu/vanthu/events"
	"github.com/vanthu/vanthu/storage"
)

// DeadlineItem is one piece of work with a deadline that someone must be
// reminded of.
type DeadlineItem struct {
	// Key names the item for good (a source prefix and its id): a reminder
	// goes out once per Key, kind and working day.
	Key            string
	OrganizationID string
	DocumentID     string
	Label          string // what is due, as the reminder names it
	AssigneeID     string
	UnitHeadID     string // told too once the item is overdue long enough; may be empty
	Due            time.Time
}

// Deadlines is a source of reminders: packages with deadlines implement it
// (the approval chain's stages: ChainDeadlines; the handling of incoming
// documents: HandlingDeadlines).
type Deadlines interface {
	// Due lists the open items due at or before until. cal is the
	// working calendar the scan loaded (once for every source).
	Due(ctx context.Context, q storage.Querier, cal *calendar.Calendar, until time.Time) ([]DeadlineItem, error)
}

// The kinds of reminder.
const (
	ReminderSoon    events.Kind = "reminder.due-soon"  // due on the next working day
	ReminderToday   events.Kind = "reminder.due-today" // due today
	ReminderOverdue             = events.DocumentOverdue
)

// reminderScanArgs is the periodic scan of every source.
type reminderScanArgs struct{}

func (reminderScanArgs) Kind() string { return "reminder-scan" }

type reminderScanWorker struct {
	river.WorkerDefaults[reminderScanArgs]
	e *Engine
}

func (w *reminderScanWorker) Work(ctx context.Context, _ *river.Job[reminderScanArgs]) error {
	_, err := w.e.ScanReminders(ctx)
	return err
}

// reminderArgs reminds the people of one item on one working day.
type reminderArgs struct {
	Key            string   `json:"key"`
	Day            string   `json:"day"` // YYYY-MM-DD in Vietnam
	Reminder       string   `json:"reminder"`
	OrganizationID string   `json:"organization_id"`
	DocumentID     string   `json:"document_id"`
	Label          string   `json:"label"`
	UserIDs        []string `json:"user_ids"`
	OverdueDays    int      `json:"overdue_days,omitempty"`
}

func (reminderArgs) Kind() string { return "reminder" }

// InsertOpts: unique by item and day (and kind), whatever else the
// arguments say, so two scans of one day queue it once.
func (reminderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// reminderBatch is how many items one reminder-batch job carries.
const reminderBatch = 1000

// reminderBatchArgs reminds the people of a batch of items on one working
// day: one job and one transaction for up to reminderBatch items, each
// table written with one statement (see reminderBatchWorker).
type reminderBatchArgs struct {
	Day string `json:"day"` // YYYY-MM-DD in Vietnam
	// Items are the batch's []reminderArgs as JSON text: River indexes
	// job arguments (GIN over river_job.args), and one string is one
	// index entry where a thousand objects would be eight thousand.
	Items string `json:"items"`
}

// Kind names the job. A batch is not a unique job: River's uniqueness by
// arguments hashes each batch's whole arguments (hundreds of kilobytes),
// which cost more than the batch's work; reminders_sent's key keeps each
// item to once a day whatever batches it travels in, and a scan leaves out
// what the day already told.
func (reminderBatchArgs) Kind() string { return "reminder-batch" }

// ScanReminders finds, at the engine's clock, the items that need a
// reminder today and have not had it, and queues them in batches of
// reminderBatch (one reminder-batch job each); it returns how many items
// were queued. On a day off nobody is reminded.
func (e *Engine) ScanReminders(ctx context.Context) (int, error) {
	now := e.cfg.Now()
	cal, err := calendar.Load(ctx, e.db.Pool)
	if err != nil {
		return 0, fmt.Errorf("reminders: %w", err)
	}
	if !cal.IsWorkingDay(now) {
		return 0, nil
	}
	today := dayOf(now)
	// Due within the lead time: before the end of the next working day.
	until := cal.AddDays(now, 1)
	var due []reminderArgs
	for _, src := range e.cfg.Deadlines {
		items, err := src.Due(ctx, e.db.Pool, cal, until)
		if err != nil {
			return 0, fmt.Errorf("reminders: %w", err)
		}
		for _, it := range items {
			if args, ok := e.reminderFor(cal, now, today, it); ok {
				due = append(due, args)
			}
		}
	}
	day := today.Format(time.DateOnly)
	// One scan at a time (the periodic one and a manual one, or two
	// instances): concurrent inserts of the same unique jobs in different
	// orders would deadlock.
	queued := 0
	err = e.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('vanthu.reminders.scan', 0))"); err != nil {
			return err
		}
		// What an earlier scan of the day already told is left out, so a
		// scan every quarter of an hour queues only what is new.
		pending, err := notRemindedYet(ctx, tx, day, due)
		if err != nil {
			return err
		}
		queued = len(pending)
		var params []river.InsertManyParams
		for start := 0; start < len(pending); start += reminderBatch {
			items, err := json.Marshal(pending[start:min(start+reminderBatch, len(pending))])
			if err != nil {
				return err
			}
			params = append(params, river.InsertManyParams{Args: reminderBatchArgs{Day: day, Items: string(items)}})
		}
		for start := 0; start < len(params); start += 100 {
			if _, err := e.client.InsertManyTx(ctx, tx, params[start:min(start+100, len(params))]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reminders: queue: %w", err)
	}
	return queued, nil
}

// notRemindedYet drops the items whose assignee was reminded on day
// already (reminders_sent), in one statement.
func notRemindedYet(ctx context.Context, tx pgx.Tx, day string, items []reminderArgs) ([]reminderArgs, error) {
	if len(items) == 0 {
		return nil, nil
	}
	keys := make([]string, len(items))
	users := make([]string, len(items))
	for i, it := range items {
		keys[i], users[i] = it.Key, it.UserIDs[0]
	}
	rows, err := tx.Query(ctx, `SELECT s.item_key FROM reminders_sent s JOIN unnest($2::text[], $3::uuid[]) AS t(k, u)
		ON s.item_key = t.k AND s.user_id = t.u WHERE s.day = $1::date`, day, keys, users)
	if err != nil {
		return nil, fmt.Errorf("reminders sent today: %w", err)
	}
	sent, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("reminders sent today: %w", err)
	}
	if len(sent) == 0 {
		return items, nil
	}
	done := make(map[string]bool, len(sent))
	for _, k := range sent {
		done[k] = true
	}
	out := items[:0:0]
	for _, it := range items {
		if !done[it.Key] {
			out = append(out, it)
		}
	}
	return out, nil
}

// reminderFor decides what reminder, if any, an item gets today.
func (e *Engine) reminderFor(cal *calendar.Calendar, now, today time.Time, it DeadlineItem) (reminderArgs, bool) {
	if it.AssigneeID == "" {
		return reminderArgs{}, false
	}
	due := dayOf(it.Due)
	a := reminderArgs{Key: it.Key, Day: today.Format(time.DateOnly), OrganizationID: it.OrganizationID,
		DocumentID: it.DocumentID, Label: it.Label, UserIDs: []string{it.AssigneeID}}
	switch {
	case due.Equal(today):
		a.Reminder = string(ReminderToday)
	case due.After(today):
		a.Reminder = string(ReminderSoon)
	default:
		a.Reminder = string(ReminderOverdue)
		a.OverdueDays = workingDaysBetween(cal, due, today)
		if a.OverdueDays >= e.cfg.EscalateAfter && it.UnitHeadID != "" && it.UnitHeadID != it.AssigneeID {
			a.UserIDs = append(a.UserIDs, it.UnitHeadID)
		}
	}
	return a, true
}

// dayOf is the start of t's date in Vietnam.
func dayOf(t time.Time) time.Time {
	t = t.In(calendar.Vietnam)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, calendar.Vietnam)
}

// workingDaysBetween counts the working days after from up to and
// including to.
func workingDaysBetween(cal *calendar.Calendar, from, to time.Time) int {
	n := 0
	for d := from.AddDate(0, 0, 1); !d.After(to) && n < 3660; d = d.AddDate(0, 0, 1) {
		if cal.IsWorkingDay(d) {
			n++
		}
	}
	return n
}

type reminderWorker struct {
	river.WorkerDefaults[reminderArgs]
	e *Engine
}

// Work tells each person once per item, kind and day (reminders_sent
// holds that), in one transaction with the notifications it publishes.
func (w *reminderWorker) Work(ctx context.Context, job *river.Job[reminderArgs]) error {
	a := job.Args
	return w.e.db.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO reminders_sent (item_key, day, kind, user_id)
			SELECT $1, $2::date, $3, u FROM unnest($4::uuid[]) AS u
			ON CONFLICT DO NOTHING RETURNING user_id::text`, a.Key, a.Day, a.Reminder, a.UserIDs)
		if err != nil {
			return fmt.Errorf("reminder %s: %w", a.Key, err)
		}
		users, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("reminder %s: %w", a.Key, err)
		}
		if len(users) == 0 {
			return nil
		}
		ev := events.Event{Kind: events.Kind(a.Reminder), DocumentID: a.DocumentID, UserIDs: users, Summary: reminderSummary(a),
			Data: map[string]any{"item": a.Key, "day": a.Day, "overdue_days": a.OverdueDays}}
		// Webhooks hear of an overdue item once, on its first overdue day.
		if a.Reminder == string(ReminderOverdue) && a.OverdueDays == 1 {
			ev.OrganizationID = a.OrganizationID
		}
		return w.e.Publish(ctx, tx, ev)
	})
}

func reminderSummary(a reminderArgs) string {
	switch events.Kind(a.Reminder) {
	case ReminderSoon:
		return "Sắp đến hạn (ngày làm việc tới): " + a.Label
	case ReminderToday:
		return "Đến hạn hôm nay: " + a.Label
	default:
		return fmt.Sprintf("Quá hạn %d ngày làm việc: %s", a.OverdueDays, a.Label)
	}
}

// ChainDeadlines reminds the participants of the approval chain whose
// stage has a deadline: each open inbox item of the chain with a due time.
// The unit head is a reviewer of one of the participant's units.
type ChainDeadlines struct{}

// Due lists the open chain inbox items due at or before until.
func (ChainDeadlines) Due(ctx context.Context, q storage.Querier, _ *calendar.Calendar, until time.Time) ([]DeadlineItem, error) {
	rows, err := q.Query(ctx, `
		SELECT 'inbox:' || i.id, i.organization_id::text, i.document_id::text, d.subject || ' — ' || i.label,
			i.user_id::text, coalesce((
				SELECT r.user_id::text FROM user_units uu JOIN user_units hu ON hu.unit_id = uu.unit_id
				JOIN user_roles r ON r.user_id = hu.user_id AND r.role = 'reviewer'
				WHERE uu.user_id = i.user_id AND hu.user_id <> i.user_id ORDER BY r.user_id LIMIT 1), ''),
			i.due_at
		FROM inbox_items i JOIN documents d ON d.id = i.document_id
		WHERE i.source = 'chain' AND i.state = 'open' AND i.due_at IS NOT NULL AND i.due_at <= $1
		ORDER BY i.due_at, i.id`, until)
	if err != nil {
		return nil, fmt.Errorf("chain deadlines: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeadlineItem, error) {
		var it DeadlineItem
		err := r.Scan(&it.Key, &it.OrganizationID, &it.DocumentID, &it.Label, &it.AssigneeID, &it.UnitHeadID, &it.Due)
		return it, err
	})
}
