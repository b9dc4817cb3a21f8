package store

import (
	"fmt"

	"github.com/jackc/pgx/v5"
)

// partKey names a part within a batch.
type partKey struct {
	msg  string
	part int16
}

// preparedPart is a part as prepareSQL or prepareSelectSQL returned it.
type preparedPart struct {
	st  PartState
	sha []byte
}

// prepareStep inserts the prepared parts that have no row yet and reads
// the others (prepareSQL). The parts it could not read (inserted by a
// concurrent transaction meanwhile) are read by prepareMissingStep, and
// the results are filled by preparedResults.
func (t *txn) prepareStep() step {
	var (
		ops, msgs     []string
		parts, counts []int16
		seqs          []int32
		shas          [][]byte // nil: NULL
	)
	for _, i := range t.preps {
		p := t.batch[i].prepare
		for _, part := range p.parts {
			ops, msgs = append(ops, p.msg.OperatorID), append(msgs, p.msg.MessageID)
			parts, counts = append(parts, int16(part.Number)), append(counts, int16(p.msg.PartCount))
			seqs, shas = append(seqs, int32(part.SequenceNumber)), append(shas, p.msg.Fingerprint)
		}
	}
	t.prepared = make(map[partKey]preparedPart, len(msgs))
	return step{sql: prepareSQL, args: []any{ops, msgs, parts, counts, seqs, shas}, read: func(br pgx.BatchResults) error {
		rows, _ := br.Query()
		if err := t.readPrepared(rows, true); err != nil {
			return fmt.Errorf("prepare parts: %w", err)
		}
		return nil
	}}
}

// readPrepared adds the parts of rows to t.prepared. withCreated: each row
// leads with whether this transaction inserted it (prepareSQL).
func (t *txn) readPrepared(rows pgx.Rows, withCreated bool) error {
	for rows.Next() {
		var (
			pp                  preparedPart
			created, handedBack bool
			lead                = []any{&pp.sha, &handedBack}
		)
		if withCreated {
			lead = append([]any{&created}, lead...)
		}
		st, err := scanPart(rows, lead...)
		if err != nil {
			rows.Close()
			return err
		}
		st.Created, st.HandedBack = created, handedBack
		pp.st = st
		t.prepared[partKey{st.MessageID, int16(st.Part)}] = pp
	}
	return rows.Err()
}

// missingPrepared lists the prepared parts prepareSQL did not return.
func (t *txn) missingPrepared() (msgs []string, parts []int16) {
	for _, i := range t.preps {
		p := t.batch[i].prepare
		for _, part := range p.parts {
			if _, ok := t.prepared[partKey{p.msg.MessageID, int16(part.Number)}]; !ok {
				msgs, parts = append(msgs, p.msg.MessageID), append(parts, int16(part.Number))
			}
		}
	}
	return msgs, parts
}

// prepareMissingStep reads the parts prepareSQL waited for and skipped
// (prepareSelectSQL: a statement of its own, whose snapshot has them).
func (t *txn) prepareMissingStep(msgs []string, parts []int16) step {
	return step{sql: prepareSelectSQL, args: []any{msgs, parts}, read: func(br pgx.BatchResults) error {
		rows, _ := br.Query()
		if err := t.readPrepared(rows, false); err != nil {
			return fmt.Errorf("read prepared parts: %w", err)
		}
		return nil
	}}
}

// preparedResults fills each prepare's result with its parts' states, in
// its order.
func (t *txn) preparedResults() error {
	for _, i := range t.preps {
		p := t.batch[i].prepare
		out, fps := make([]PartState, len(p.parts)), make([][]byte, len(p.parts))
		for j, part := range p.parts {
			pp, ok := t.prepared[partKey{p.msg.MessageID, int16(part.Number)}]
			if !ok {
				return fmt.Errorf("prepare %s: part %d neither inserted nor found", p.msg.MessageID, part.Number)
			}
			out[j], fps[j] = pp.st, pp.sha
		}
		t.res[i].parts, t.res[i].fingerprints = out, fps
	}
	return nil
}
