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

// prepareSteps insert the prepared parts that have no row yet
// (prepareInsertSQL) and read every prepared part (prepareSelectSQL),
// filling each prepare's result with its parts' states in its order.
func (t *txn) prepareSteps() []step {
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
	created := map[partKey]bool{}
	insert := step{sql: prepareInsertSQL, args: []any{ops, msgs, parts, counts, seqs, shas}, read: func(br pgx.BatchResults) error {
		rows, _ := br.Query()
		for rows.Next() {
			var k partKey
			if err := rows.Scan(&k.msg, &k.part); err != nil {
				rows.Close()
				return fmt.Errorf("prepare parts: %w", err)
			}
			created[k] = true
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("prepare parts: %w", err)
		}
		return nil
	}}
	read := step{sql: prepareSelectSQL, args: []any{msgs, parts}, read: func(br pgx.BatchResults) error {
		rows, _ := br.Query()
		states := map[partKey]PartState{}
		shas := map[partKey][]byte{}
		for rows.Next() {
			var sha []byte
			var handedBack bool
			st, err := scanPart(rows, &sha, &handedBack)
			if err != nil {
				rows.Close()
				return fmt.Errorf("read prepared parts: %w", err)
			}
			k := partKey{st.MessageID, int16(st.Part)}
			st.Created, st.HandedBack = created[k], handedBack
			states[k], shas[k] = st, sha
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read prepared parts: %w", err)
		}
		for _, i := range t.preps {
			p := t.batch[i].prepare
			out, fps := make([]PartState, len(p.parts)), make([][]byte, len(p.parts))
			for j, part := range p.parts {
				k := partKey{p.msg.MessageID, int16(part.Number)}
				st, ok := states[k]
				if !ok {
					return fmt.Errorf("prepare %s: part %d neither inserted nor found", p.msg.MessageID, part.Number)
				}
				out[j], fps[j] = st, shas[k]
			}
			t.res[i].parts, t.res[i].fingerprints = out, fps
		}
		return nil
	}}
	return []step{insert, read}
}
