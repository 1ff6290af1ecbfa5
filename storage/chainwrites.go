package storage

import (
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The Queue functions add a chain's writes to a batch instead of sending
// each on its own: an action on a chain sends the writes it made in one
// round trip (its history row, its turns ended and given, its stages'
// progress, the chain row, the document's status and its audit entry),
// with the same statements, in the order they were made.

// QueueInsertInboxItem queues InsertInboxItem's insert and returns the item
// as it will be, its id chosen here so that later writes of the same batch
// can name it.
func QueueInsertInboxItem(b *pgx.Batch, it InboxItem) InboxItem {
	if it.Source == "" {
		it.Source = "chain"
	}
	if it.State != "info" {
		it.State = "open"
	}
	it.ID = uuid.NewString()
	b.Queue(`
		INSERT INTO inbox_items (id, organization_id, user_id, document_id, source, stage_id, round, label, task, role, turn_of, counts, since, due_at, state, assignment_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		it.ID, it.OrganizationID, it.UserID, it.DocumentID, it.Source, nullable(it.StageID), it.Round, it.Label, it.Task, it.Role,
		nullable(it.TurnOf), it.Counts, it.Since, it.DueAt, it.State, nullable(it.AssignmentID))
	return it
}

// QueueEndInboxItem queues EndInboxItem's update.
func QueueEndInboxItem(b *pgx.Batch, id, state, outcome string, at time.Time) {
	b.Queue(endInboxItemSQL, id, state, outcome, at)
}

// QueueUpdateStage queues UpdateStage's update.
func QueueUpdateStage(b *pgx.Batch, s ChainStage) {
	b.Queue(updateStageSQL, s.ID, s.State, s.ActivatedAt, s.DueAt, s.CompletedAt, s.Position)
}

// QueueChainAction queues InsertChainAction's insert; its id and time are
// read back with the history (ChainActions, QueueChainActions).
func QueueChainAction(b *pgx.Batch, a ChainAction) {
	b.Queue(insertChainActionSQL, chainActionArgs(a)...)
}

// QueueSaveChain queues SaveChain's upsert.
func QueueSaveChain(b *pgx.Batch, c Chain) {
	b.Queue(saveChainSQL, saveChainArgs(c)...)
}

// QueueSetDocumentStatus queues SetDocumentStatus's update.
func QueueSetDocumentStatus(b *pgx.Batch, documentID, status string) {
	b.Queue(setDocumentStatusSQL, documentID, status)
}

// QueueChainActions queues ChainActions's read; got is called with the
// history when the batch's results are read.
func QueueChainActions(b *pgx.Batch, documentID string, got func([]ChainAction)) {
	b.Queue(chainActionsSQL, documentID).Query(func(rows pgx.Rows) error {
		actions, err := collect(rows, scanChainAction)
		if err != nil {
			return err
		}
		got(actions)
		return nil
	})
}
