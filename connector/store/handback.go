package store

import (
	"context"
	"fmt"
)

// HandBack marks the message's listed parts, those still pending, as handed
// back unsent: the delivery that held them gives the command back (refused
// before the wire, a temporary answer, not tried yet) and the next delivery
// may submit them. It is written only on that path, never on the first
// delivery's, which is why it is a statement of its own and not batched.
func (s *Store) HandBack(ctx context.Context, operatorID, messageID string, parts []int) error {
	if len(parts) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `UPDATE smpp.message_correlations SET handed_back = true
		WHERE message_id = $1 AND operator_id = $2 AND part_number = ANY($3::int2[]) AND submit_status = 'pending'`,
		messageID, operatorID, int16s(parts)); err != nil {
		return fmt.Errorf("hand back %s parts %v: %w", messageID, parts, err)
	}
	return nil
}

// TakeBack claims the message's listed parts that are pending and handed
// back, for the delivery about to submit them, and returns those it claimed:
// of two deliveries taking the same part, one gets it.
func (s *Store) TakeBack(ctx context.Context, operatorID, messageID string, parts []int) (map[int]bool, error) {
	taken := map[int]bool{}
	if len(parts) == 0 {
		return taken, nil
	}
	rows, err := s.pool.Query(ctx, `UPDATE smpp.message_correlations SET handed_back = false
		WHERE message_id = $1 AND operator_id = $2 AND part_number = ANY($3::int2[]) AND submit_status = 'pending' AND handed_back
		RETURNING part_number`, messageID, operatorID, int16s(parts))
	if err != nil {
		return nil, fmt.Errorf("take back %s parts %v: %w", messageID, parts, err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int16
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("take back %s: %w", messageID, err)
		}
		taken[int(n)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("take back %s: %w", messageID, err)
	}
	return taken, nil
}

func int16s(v []int) []int16 {
	out := make([]int16, len(v))
	for i, x := range v {
		out[i] = int16(x)
	}
	return out
}
