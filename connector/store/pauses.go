package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Operators paused by an engineer (smpp.operator_pauses, migration 00012):
// the owner of a paused operator keeps its binds but consumes no command.
// Kept in the database so that the pause holds whichever replica owns the
// operator, after a handover or a restart as before it.

// Pause is one paused operator.
type Pause struct {
	Operator string    `json:"operator"`
	Reason   string    `json:"reason,omitempty"`
	By       string    `json:"by,omitempty"`
	Since    time.Time `json:"since"`
}

const pauseSQL = `
INSERT INTO smpp.operator_pauses (operator_id, reason, paused_by) VALUES ($1, $2, $3)
ON CONFLICT (operator_id) DO UPDATE SET reason = EXCLUDED.reason, paused_by = EXCLUDED.paused_by`

// PauseOperator pauses an operator (paused again: the reason and who are
// replaced, the time kept).
func (s *Store) PauseOperator(ctx context.Context, operator, reason, by string) error {
	if _, err := s.pool.Exec(ctx, pauseSQL, operator, reason, by); err != nil {
		return fmt.Errorf("store: pause operator %s: %w", operator, err)
	}
	return nil
}

// ResumeOperator resumes a paused operator; it reports whether it was paused.
func (s *Store) ResumeOperator(ctx context.Context, operator string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM smpp.operator_pauses WHERE operator_id = $1`, operator)
	if err != nil {
		return false, fmt.Errorf("store: resume operator %s: %w", operator, err)
	}
	return tag.RowsAffected() > 0, nil
}

// Pauses returns the paused operators by id.
func (s *Store) Pauses(ctx context.Context) (map[string]Pause, error) {
	rows, _ := s.pool.Query(ctx, `SELECT operator_id, reason, paused_by, paused_at FROM smpp.operator_pauses`)
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Pause, error) {
		var p Pause
		err := r.Scan(&p.Operator, &p.Reason, &p.By, &p.Since)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: paused operators: %w", err)
	}
	out := make(map[string]Pause, len(ps))
	for _, p := range ps {
		out[p.Operator] = p
	}
	return out, nil
}
