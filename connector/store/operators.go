package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Which operators the replicas have configured (smpp.configured_operators,
// migration 00011). Every replica lists the operators of its operators file
// (TouchOperators) at start and every few seconds; a replica that finds
// commands for an operator it does not know asks whether any replica has
// listed it lately (OperatorsSeenWithin) before it dead-letters them as
// "unknown operator" (connector/operator Strays). Times are the database's
// (now()), never a replica's clock: replicas' clocks may differ, the
// database's is the one they share.

// OperatorSighting is when a replica last listed an operator as configured.
type OperatorSighting struct {
	// Replica is the last replica that listed it.
	Replica string
	// LastSeen is when (the database's clock).
	LastSeen time.Time
	// Ago is how long before the query that was, by the database's clock.
	Ago time.Duration
}

// touchOperatorsSQL lists operators as configured by replica $2, now. The
// ids are sorted (by the caller), so that replicas touching the same rows
// at once lock them in the same order: no deadlock.
const touchOperatorsSQL = `
INSERT INTO smpp.configured_operators AS c (operator_id, replica, last_seen, first_seen)
SELECT id, $2, now(), now() FROM unnest($1::text[]) WITH ORDINALITY AS i(id, n) ORDER BY n
ON CONFLICT (operator_id) DO UPDATE SET last_seen = now(), replica = EXCLUDED.replica`

// operatorsSeenSQL returns the operators listed within the last $1 seconds
// (all of them, or those of $2), with how long ago.
const operatorsSeenSQL = `
SELECT operator_id, replica, last_seen, extract(epoch FROM now() - last_seen)::float8
FROM smpp.configured_operators
WHERE last_seen > now() - make_interval(secs => $1)
	AND (cardinality($2::text[]) = 0 OR operator_id = ANY($2::text[]))`

// TouchOperators records that replica has the operators ids configured,
// now (the database's clock). Several replicas may call it at once.
func (s *Store) TouchOperators(ctx context.Context, replica string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if _, err := s.pool.Exec(ctx, touchOperatorsSQL, ids, replica); err != nil {
		return fmt.Errorf("store: list configured operators: %w", err)
	}
	return nil
}

// OperatorsSeenWithin returns the operators some replica has listed as
// configured (TouchOperators) within the last within, by the database's
// clock: all of them, or only those of ids when given.
func (s *Store) OperatorsSeenWithin(ctx context.Context, within time.Duration, ids ...string) (map[string]OperatorSighting, error) {
	if ids == nil {
		ids = []string{}
	}
	rows, _ := s.pool.Query(ctx, operatorsSeenSQL, within.Seconds(), ids)
	out := map[string]OperatorSighting{}
	var (
		id   string
		o    OperatorSighting
		secs float64
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &o.Replica, &o.LastSeen, &secs}, func() error {
		o.Ago = time.Duration(secs * float64(time.Second))
		out[id] = o
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: configured operators: %w", err)
	}
	return out, nil
}
