// Package store is the connector's correlation store in PostgreSQL
// (smpp.message_correlations, smpp.pending_receipts, smpp.receipt_inbox,
// smpp.unmatched_receipts, smpp.event_outbox; see migrations/sql).
//
// # Flow
//
// For each dispatch command the connector calls PrepareParts before sending:
// it inserts one row per part idempotently and returns every part's current
// state, so that a redelivered command skips the parts that already have an
// SMSC message id. The rows keep the command's content fingerprint: the same
// message id with other content is ErrConflict, not a redelivery. After each submit_sm_resp (or response timeout) it calls
// RecordOutcome, which returns once the outcome is durable; the command is
// acked when every part's outcome is. Each deliver_sm receipt is appended to
// the receipt inbox (AppendReceipt) before it is answered, and applied from
// there by DrainInbox through MatchReceipt's path, keyed by (operator,
// canonical SMSC id) as computed by connector/dlr.
//
// # Batching
//
// PrepareParts, RecordOutcome and MatchReceipt (one of each per part) all go
// through a writer: one collector goroutine per Store gathers requests until
// Options.BatchSize are waiting or Options.Linger has passed since the
// first, and hands the batch to one of Options.Flushers, which writes it in
// a single transaction: set-based statements on arrays (INSERT ... SELECT
// FROM unnest, UPDATE ... FROM unnest), pipelined with BEGIN and COMMIT in
// two round trips (three when a receipt of a multipart message is applied),
// one commit. Every caller waits for its own
// result, which is durable when it returns (DrainInbox's results excepted:
// see "The receipt inbox"). A request that makes its batch
// fail (bad data) is isolated by writing the batch's requests one by one, so
// it cannot fail the others; deadlocks and lost connections are retried.
// Two requests for the same part (or the same SMSC key) go to consecutive
// transactions, in order.
//
// # Where the code is
//
// writer.go collects and isolates batches; flush.go writes one (flushTx: a
// txn sorts the batch by kind of request and sends its round trips, each a
// list of steps that queue a statement and read its result). The steps are
// built per kind of request: flush_prepare.go (insert and read the parts),
// flush_events.go (the receipts' events),
// flush_outcome.go (store the outcomes; release an SMSC id an SMSC reused),
// flush_receipt.go (round 1: take the receipts held for accepted keys, find
// and lock the receipts' parts), flush_receipt_write.go (between the rounds
// the receipt rules are applied in memory; round 2: count the parts of
// multipart messages, store the receipt states, hold the unmatched).
// epoch.go sweeps the receipts held by their id epoch. inbox.go appends
// receipts to the inbox and drains it. unmatched.go keeps the receipts that
// were never applied and re-matches them. mo.go stores MO
// parts, maintenance.go purges and expires. operators.go lists the
// operators each replica has configured (smpp.configured_operators), which
// connector/operator's Strays asks before it dead-letters an operator's
// commands as unknown.
//
// # After a crash
//
// A pending part is either being sent by the delivery that holds it, handed
// back unsent (HandBack: that delivery gave the command back on purpose), or
// left by a process that died while its submit_sm may have been on its way.
// PrepareParts reports the handed-back mark (PartState.HandedBack) and
// TakeBack lets one redelivery claim such parts; a part found pending and
// neither created nor handed back is the third kind, which the caller
// treats by its policy. Both statements run only on those paths, outside
// the batches: the first delivery writes nothing more than before.
//
// "Left by a process that died" must not be said of a part a live handler
// is still sending, or the part is sent twice (policy resend) or reported
// unknown while it is being accepted (policy unknown). JetStream delivers a
// command again when its heartbeats stop reaching NATS, also while its
// first delivery still works on it; connector/outbound keeps one handler
// per part (inflight.go). In one process, a delivery of a message another
// delivery holds waits for it to be done before PrepareParts, then goes on
// from the stored states. Across replicas only the operator's owner
// consumes (connector/lease): an old owner stops starting submits at most a
// lease poll after the new owner took the lock (its next ping fails), the
// new owner starts a grace after that, and the old owner's submits already
// on the wire wait at most its response timeout for their answers, which
// it then stores. So for that long (poll - grace + response timeout, and a
// second to store) after a new owner starts, a part found pending that it
// neither created nor took back is not judged: the command is handed back
// until then, and is judged by its stored state afterwards. This needs no
// owner column and no statement on the first delivery's path, at the cost
// of judging a dead owner's parts up to that long after a takeover.
//
// # Events: the outbox
//
// Every state change the store makes has its event written to
// smpp.event_outbox in the same transaction (outbox.go): outcomeSQL inserts
// the outcome event of each outcome it applies (a data-modifying CTE: the
// same statement), and the receipt events of the receipts applied (held
// ones included, when an outcome releases them) are inserted with the
// batch's last round trip (flush_events.go; a multipart message's events
// carry the count of its parts with a receipt, so with multipart receipts
// they and the commit are a third round trip). Pending parts write no
// event; repeated rejected or unknown answers write theirs again (the same
// JetStream message id), duplicate and stale receipts none. RelayEvents
// hands the oldest events to connector/relay under a transaction advisory
// lock (one relay works at a time, so a part's events go out in order) and
// deletes those JetStream stored. Events() cues the relay after each
// commit that wrote events.
//
// Both queues' readers (the relay's RelayEvents, the drain's DrainInbox)
// read above a cursor (connector/internal/queuecursor): the rows they
// delete leave index entries and heap tuples behind until VACUUM, and a
// read from the start walked all of them (1-3 ms a read at full speed, a
// sequential scan for the inbox). Ids are taken at insert, not commit, so
// the cursor moves past what a read returned only once every transaction
// running during that read has ended (each read returns its snapshot's
// xmin and a transaction id taken after its snapshot; every writer of a
// queue holds its transaction id before it takes a row's): a row committed
// late is read by the next reads, in id order with the rest, and a part's
// later event is never read without its earlier one. It never moves past a
// row a read left in the table, and a read from the start every second
// backs it up.
//
// # The receipt inbox
//
// An SMSC keeps about a hundred deliver_sm unanswered per bind; answering a
// receipt only once it was matched, stored and its event written (a batch
// transaction, 15-20 ms with fsync on) let receipts queue at the SMSC at
// full rate (seconds from submit to receipt event). So a receipt is
// answered once it is durable in smpp.receipt_inbox (migration 00008):
// AppendReceipt's writer puts every receipt that arrived while its previous
// INSERT committed into the next one, a single statement committed by
// itself (group commit; a lone receipt goes at once). The parsed receipt and
// its epoch bounds are stored, since the bounds depend on the binds at the
// time it was read.
//
// DrainInbox (run by connector/inbound's Drainer on each append's cue and a
// poll) reads the oldest rows in id order and writes them BatchSize to a
// transaction of their own (not through the writer's queue: they are a
// batch already), through the flush machinery: round 1 begins by deleting the
// batch's inbox rows (claimStep), before any key lock, so a drain in another
// replica racing for the same rows waits for this transaction and finds
// them gone (its receipts are skipped, and not returned); the receipt is
// applied, held or found a duplicate in the same transaction as its row is
// deleted. Exactly once whatever dies when: a receipt committed to the inbox
// is applied by the next drain of any process. A row that fails its
// transaction alone with an error a retry cannot fix is set aside (moved to
// the unmatched receipts, below) so that it cannot stop the rows behind it;
// a shadow replica's rows are drained only by a shadow replica (its events
// must not be published). The price is an insert and a delete more per
// receipt, in bigger batches than the deliver_sm path made.
//
// A drain's transaction commits without waiting for its WAL flush
// (synchronous_commit off; only a transaction of inbox receipts alone,
// never one with a prepare or an outcome): everything it writes follows
// from the inbox rows it deletes, which are durable. If the database
// crashes before the flush, the transaction is lost whole (WAL is replayed
// in order, so nothing after it survives either): the rows are back in the
// inbox and drained again, to the same result, and an event the relay
// published meanwhile is published again under the same JetStream message
// id, which the stream's duplicate window drops (as for the relay's own
// deletes, outbox.go). A crash of the connector loses nothing: the
// database has the commit. At a steady rate the receipt's way to its event
// then waits for one WAL flush (the append's), not two. So what a drain
// returns (its Drained, counted in the metrics) and the event the relay
// publishes may come before the state is durable; both are recovered from
// the inbox if it is not.
//
// # Receipts before responses
//
// A receipt whose key no row holds yet is held in smpp.pending_receipts
// (Disposition Held), never dropped. Storing an accepted outcome applies the
// held receipts for its key in the same transaction and returns them in
// OutcomeResult.Receipts, their events in the outbox with the outcome's. Both paths take a
// transaction-scoped advisory lock on the key (operator, SMSC key) before they
// look, so a receipt and its response that race each other from two
// connector replicas cannot both miss. Receipts that never match are given
// up by ExpirePendingReceipts (moved to the unmatched receipts, below),
// which returns them for logging and counting.
//
// # Receipts after an SMSC restart
//
// An SMSC that restarts may count its message ids from 1 again while rows
// of messages sent before still hold them, and SMSCs often send a receipt
// before its submit_sm_resp: matched by key alone, such a receipt went to
// the older message (measured: 76 minutes older). A receipt therefore
// carries bounds (Receipt.NotBefore, Horizon, HoldFor), set by
// connector/inbound from the operator's id epoch and receipt horizon:
//
//   - The id epoch begins when the operator's submitting binds go from none
//     bound to one (connector/session Pool.Epoch), and at the process's
//     first bind: the SMSC may have restarted; a restart cannot be told from
//     a network cut. The receipt horizon (operator setting receiptHorizon,
//     72h) bounds the age of a part a receipt may be attributed to.
//   - NotBefore = max(epoch, received - horizon). The lookup matches only a
//     part whose submit was answered (resp_at) at or after it: both times
//     are the connector's, and every answer on the epoch's sessions comes
//     after the epoch began. A part holding the key from before does not
//     match: the receipt is held, as if no part had the key, with its
//     bounds (smpp.pending_receipts.not_before, horizon, hold_until;
//     migration 00007).
//   - The lookup also requires the part to have been submitted before the
//     receipt came (submitted_at <= received_at): a receipt waits in the
//     inbox for a moment, and meanwhile a restarted SMSC may give its id to
//     a new message. Such a receipt is held, its candidate (below) the
//     latest part submitted before it came that holds the key or held it
//     until a newer part took it (displaced_key, set by stealSQL;
//     migration 00009).
//   - The newer part's accepted outcome takes the key (stealSQL moves it
//     from the older part) and releases the receipt onto itself (heldSQL,
//     in the same transaction, its event in the outbox). heldSQL releases
//     only onto a part answered at or after the receipt's NotBefore, so a
//     late write of an older part's outcome does not take it, and only
//     onto a part submitted before the receipt came: an early receipt
//     (before its response) of a part whose response an SMSC restart lost
//     is held with no part holding its id, and the restarted SMSC may give
//     that id to a new part; it stays held and expires unmatched, as the
//     receipt of a part whose outcome is unknown (the at-most-once rule).
//   - When no newer part has taken the key once HoldFor has passed (the
//     operator's ReceiptHold: twice its response timeout, at least 30 s; a
//     new part's response comes within the response timeout of its
//     submit, which precedes its receipt), the binds had dropped for a
//     network cut, not a restart: SweepHeldReceipts (run every few seconds
//     by the service's maintenance) applies the receipt to the part holding
//     the key if that part was answered within the horizon, through the
//     flush machinery (key locks, receipt rules, state, outbox event in one
//     transaction). Otherwise it stays held until ExpirePendingReceipts
//     gives it up (not before its hold has passed).
//
// The price: after each epoch (a process start, a takeover, every rebind
// after all binds were down, a break-before-make credential renewal of an
// operator's only bind) the receipts of parts sent before it wait HoldFor
// (plus up to 5 s) before they are applied and published. What it cannot
// tell: a restarted SMSC whose new submit took the reused id but whose
// response never came (an unknown outcome takes no key) leaves the receipt
// to be swept onto the older part, as after a network cut.
//
// # Unmatched receipts
//
// An SMSC does not send a receipt again once it was answered ESME_ROK, so a
// receipt answered but never applied to a part is kept in
// smpp.unmatched_receipts (migration 00010), with why (UnmatchedReason):
//
//   - unparseable (Unparseable) and invalid (InvalidReceipt): connector/dlr
//     could not read it, or AppendReceipt refused what it read (ErrInvalid).
//     The caller records it with RecordUnmatched, a single INSERT committed
//     by itself, before the deliver_sm (or data_sm) is answered, with the
//     PDU as received (raw bytes, TLVs, esm_class, data_coding); if that
//     fails it asks for the receipt again, as for AppendReceipt. These are
//     rare (a broken SMSC), so they do not go through the inbox's group
//     commit.
//   - no_part (NoPart): held and never released nor swept:
//     ExpirePendingReceipts moves it (one statement deletes it from
//     smpp.pending_receipts and inserts it here), once held longer than the
//     caller's expiry and, for a receipt held by its id epoch, once its hold
//     has passed. Its bounds are kept.
//   - failed (SetAside): a drain's transaction failed with it alone, for an
//     error a retry cannot fix (SQLSTATE classes 22 and 23); DrainInbox moves
//     it here from the inbox in one statement, the error as its detail. (The
//     inbox's failed column is only set by connectors from before
//     migration 00010, which moved the rows set aside until then here.)
//
// Nothing else ends a receipt: a duplicate of a final receipt, a repeat of
// an intermediate state and an intermediate state after a final one are
// applied to their part (receipt_count) without changing its state, and
// counted by the caller (Disposition).
//
// RematchUnmatched moves an operator's no_part receipts whose key a part
// now holds (or held until a newer part took it) back to the inbox, marking
// them matched (matched_at and the part) in the same statement; the drain
// applies them by the usual rules, their events in the outbox. It looks
// only for a part the receipt may belong to (submitted before the receipt
// came, answered within its horizon), and the receipt keeps its received
// time and bounds (a receipt held without bounds gets the widest: the Unix
// epoch), so the drain's lookup refuses a part that took the id after the
// receipt came, as it did the first time. It walks the operator's rows not
// matched, oldest first, until it has moved its limit: a tool to run after
// what can make receipts match (a reconciliation that stored late
// responses), not a loop. A receipt whose key was wrong (an operator's id
// format fixed since) needs its key computed again first (connector/dlr):
// UPDATE its smsc_key, then re-match.
//
// # Receipt rules
//
// The first receipt of a part is applied; a final receipt (anything but
// ENROUTE and ACCEPTED) overrides an intermediate one; a second final
// receipt (whatever its status: a part has one final event, UNKNOWN too,
// final in SMPP) or a repeat of the current intermediate
// state is a Duplicate; an intermediate receipt after a final one, or
// received before the receipt that set the part's intermediate state
// (receipt_at: two handlers append side by side, so a part's second
// receipt can be applied first), is Stale. (Received times are the
// connector's clock, stamped in read order by session.Arrival: a part's
// receipts come over one operator's binds, run by one replica at a time,
// so two replicas' clocks meet only across a lease failover; a skew there
// can make at most an intermediate receipt stale, never a final one.) Only applied receipts
// change the part's state; every receipt increments receipt_count. For
// multipart messages Matched reports how many parts have a receipt (and a
// final one) counting this receipt, serialised per message by an advisory
// lock so that exactly one receipt sees the last part arrive.
//
// # Submit outcome rules
//
// accepted is terminal: it replaces pending, unknown and rejected (a late
// response, or a retry that succeeded), and nothing replaces it. rejected
// replaces pending and unknown (a late response to a timed-out submit); an
// unknown (timeout) replaces only pending and unknown, never an answer.
//
// # Retention
//
// The table is append-mostly and rows are finished within the operators'
// validity period (hours to days). Purge deletes rows created before a
// cutoff whose submit outcome is recorded, in batches of a few thousand rows
// (short transactions, no long locks, vacuum keeps up), found through the
// BRIN index on created_at, which stays a few hundred kilobytes at tens of
// millions of rows. Run it periodically (e.g. every few minutes with a
// retention of 7 to 30 days, longer than any validity period). Pending rows
// (commands never acked) are kept for reconciliation, found by their
// message (migration 00013 dropped the index of unfinished rows, which no
// statement read). Beyond ~100M rows, or when deletes cannot keep up with
// the insert rate, the path is to partition the table by month on created_at
// and drop whole partitions instead of deleting (the unique keys then have to
// include created_at, so lookups by key would go through each partition:
// keep the partition count small).
//
// Purge deletes the unmatched receipts received before the same cutoff (a
// receipt can be re-matched only while its part is kept), in batches found
// through the index on received_at.
package store
