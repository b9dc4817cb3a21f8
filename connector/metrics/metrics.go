// Package metrics defines the connector's Prometheus metrics in one place, so
// dashboards and alerts have one list to read.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the connector's instruments.
type Metrics struct {
	Registry *prometheus.Registry

	Submits           *prometheus.CounterVec   // operator, outcome (accepted|rejected|unknown|retry), status
	DeadBinds         *prometheus.CounterVec   // operator, reason (response_timeouts|enquire_link)
	BindFailures      *prometheus.CounterVec   // operator, reason (tls|connect|refused|timeout|other)
	SubmitLatency     *prometheus.HistogramVec // operator: submit_sm -> submit_sm_resp
	ThrottleWaits     *prometheus.CounterVec   // operator
	ThrottleWaitSec   *prometheus.CounterVec   // operator: seconds spent waiting for the limiter
	Throttled         *prometheus.CounterVec   // operator: ESME_RTHROTTLED / ESME_RMSGQFUL answers
	WindowInUse       *prometheus.GaugeVec     // operator, bind
	WindowSize        *prometheus.GaugeVec     // operator: the configured window (most submit_sm outstanding per bind)
	TPSLimit          *prometheus.GaugeVec     // operator: the contracted TPS the operator's limiter paces to
	BindState         *prometheus.GaugeVec     // operator, bind, state (1 for the current state)
	BindEndpoint      *prometheus.GaugeVec     // operator, bind, endpoint (primary|backup|primary-2|backup-2...): 1 for the one a bound bind is on
	BindFailovers     *prometheus.CounterVec   // operator: binds moved to the next endpoint
	Receipts          *prometheus.CounterVec   // operator, result (matched|held|late_matched|unmatched|duplicate|stale|unparseable|invalid|failed)
	ReceiptLatency    *prometheus.HistogramVec // operator: submit -> receipt received
	PublishErrors     *prometheus.CounterVec   // subject kind (receipt|outcome|deadletter|mo)
	DeadLetters       *prometheus.CounterVec   // operator, reason kind
	Commands          *prometheus.CounterVec   // operator, result (done|bad|retry)
	UnknownOperator   *prometheus.CounterVec   // operator: commands on the subject of an operator no replica runs, dead-lettered
	StrayLastListed   *prometheus.GaugeVec     // operator: commands wait for an operator no replica runs but one listed lately: seconds since
	MO                *prometheus.CounterVec   // operator
	MOInvalid         *prometheus.CounterVec   // operator: MO whose text cannot be read (published raw)
	MOIncomplete      *prometheus.CounterVec   // operator: segmented MO whose other parts never came (expired)
	Owner             *prometheus.GaugeVec     // operator: 1 while this replica owns the operator (binds and sends)
	Consuming         *prometheus.GaugeVec     // operator: 1 while this replica's consumer delivers commands
	ConsumerFailures  *prometheus.CounterVec   // operator: terms that ended because the consumer failed
	CredentialRefused *prometheus.CounterVec   // operator: new credential versions the SMSC refused (the old one carries on)
	CredFromCache     *prometheus.GaugeVec     // operator: 1 while the credential source is unavailable and binds get the cached credential
	CredSourceErrors  *prometheus.CounterVec   // operator, reason (secrets.Reason): failed reads of the credential source
	CredRevision      *prometheus.GaugeVec     // operator: the secret store's version number of the credential the binds use
	CredCreated       *prometheus.GaugeVec     // operator: when that version was written (Unix seconds)
	CredMaxAge        *prometheus.GaugeVec     // operator: the rotation schedule (credentials.maxAge, seconds)
	OutboxPending     prometheus.Gauge         // events in the outbox, waiting to be published
	OutboxLag         prometheus.Gauge         // age of the oldest event in the outbox (seconds; 0 when empty)
	OutboxPublished   *prometheus.CounterVec   // kind (outcome|receipt): events published from the outbox
	InboxPending      prometheus.Gauge         // receipts answered to the SMSC, waiting in the inbox to be applied
	InboxLag          prometheus.Gauge         // age of the oldest receipt in the inbox (seconds; 0 when empty)
	ConfigInfo        *prometheus.GaugeVec     // version: 1 for the operators configuration this replica runs
	ConfigRefused     prometheus.Gauge         // 1 while the operators file as it is now is refused (the previous one runs)
	ConfigReloads     *prometheus.CounterVec   // result (applied|refused): operators files read again that changed
	ConfigChanges     *prometheus.CounterVec   // operator, change (added|removed|in_place|renew|new_term)
	Paused            *prometheus.GaugeVec     // operator: 1 while an engineer has paused its sending
	// The source of the operators configuration (the file, or
	// operator-management-service): answering, when it last did, and
	// whether the last good configuration kept on disk runs instead.
	ConfigSourceUp          prometheus.Gauge
	ConfigSourceLastSuccess prometheus.Gauge
	ConfigFromLastGood      prometheus.Gauge
}

// New registers every metric on a fresh registry (plus Go and process metrics).
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) prometheus.Collector { r.MustRegister(c); return c }
	latency := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	receiptLatency := []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 900, 3600, 86400}
	return &Metrics{
		Registry: r,
		Submits: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_submits_total",
			Help: "submit_sm answered, by outcome and command_status."}, []string{"operator", "outcome", "status"})).(*prometheus.CounterVec),
		DeadBinds: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_dead_binds_total",
			Help: "Binds declared dead (the SMSC stopped answering) and renewed, by reason: response_timeouts, enquire_link."}, []string{"operator", "reason"})).(*prometheus.CounterVec),
		BindFailures: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_bind_failures_total",
			Help: "Bind attempts that failed, by reason: tls (handshake or certificate), connect, refused (bind_resp error), timeout, other."}, []string{"operator", "reason"})).(*prometheus.CounterVec),
		SubmitLatency: f(prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "smpp_submit_latency_seconds",
			Help: "submit_sm to submit_sm_resp.", Buckets: latency}, []string{"operator"})).(*prometheus.HistogramVec),
		ThrottleWaits: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_throttle_waits_total",
			Help: "submit_sm that waited for the operator's TPS limiter."}, []string{"operator"})).(*prometheus.CounterVec),
		ThrottleWaitSec: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_throttle_wait_seconds_total",
			Help: "Time spent waiting for the operator's TPS limiter."}, []string{"operator"})).(*prometheus.CounterVec),
		Throttled: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_throttled_total",
			Help: "Answers saying we were too fast (ESME_RTHROTTLED, ESME_RMSGQFUL)."}, []string{"operator"})).(*prometheus.CounterVec),
		WindowInUse: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_window_in_use",
			Help: "submit_sm outstanding on a bind."}, []string{"operator", "bind"})).(*prometheus.GaugeVec),
		WindowSize: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_operator_window_size",
			Help: "The operator's window (window in the operators file): the most submit_sm a bind has outstanding, the ceiling of smpp_window_in_use."}, []string{"operator"})).(*prometheus.GaugeVec),
		TPSLimit: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_operator_tps_limit",
			Help: "The operator's contracted TPS (tps in the operators file): the rate its limiter paces submit_sm to, shared by all its binds. Exported by every replica that has the operator configured, owner or standby."}, []string{"operator"})).(*prometheus.GaugeVec),
		BindEndpoint: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_bind_endpoint",
			Help: "1 for the endpoint a bound bind is connected to: primary or backup (primary-2, backup-2, ... for the further addresses of an operator's primary or backup list, in failover order). One series per bound bind: none while a bind is not bound."}, []string{"operator", "bind", "endpoint"})).(*prometheus.GaugeVec),
		BindFailovers: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_bind_failovers_total",
			Help: "Binds moved to the operator's next endpoint: after failed bind attempts on the current one, or a dead bind. Going back to the primary after a bind on a backup drops is not counted."}, []string{"operator"})).(*prometheus.CounterVec),
		BindState: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_bind_state",
			Help: "1 for a bind's current state (connecting, bound, backoff, auth_failed, dead, closed); 0 for the others."}, []string{"operator", "bind", "state"})).(*prometheus.GaugeVec),
		Receipts: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_receipts_total",
			Help: "Delivery receipts by result: matched, held (before their resp), late_matched, unmatched (no part: kept in smpp.unmatched_receipts), duplicate, stale, unparseable and invalid (kept there too), failed (set aside there)."}, []string{"operator", "result"})).(*prometheus.CounterVec),
		ReceiptLatency: f(prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "smpp_receipt_latency_seconds",
			Help: "submit_sm to its delivery receipt.", Buckets: receiptLatency}, []string{"operator"})).(*prometheus.HistogramVec),
		PublishErrors: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_publish_errors_total",
			Help: "Events that could not be published."}, []string{"kind"})).(*prometheus.CounterVec),
		DeadLetters: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_dead_letters_total",
			Help: "Commands sent to the dead-letter subject."}, []string{"operator", "field"})).(*prometheus.CounterVec),
		Commands: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_commands_total",
			Help: "Dispatch commands handled: done, bad, retry (nak with delay)."}, []string{"operator", "result"})).(*prometheus.CounterVec),
		UnknownOperator: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_unknown_operator_commands_total",
			Help: "Commands on the dispatch subject of an operator that no running replica has configured: dead-lettered with reason \"unknown operator\"."}, []string{"operator"})).(*prometheus.CounterVec),
		StrayLastListed: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_stray_operator_last_listed_seconds",
			Help: "Commands wait on the dispatch subject of an operator this replica has not configured and no replica runs (its lease free), but which a replica listed as configured within the window (smpp.configured_operators, default 24h): seconds since it was last listed. They are kept for its replicas, and dead-lettered with reason \"unknown operator\" once no replica has listed it for the window."}, []string{"operator"})).(*prometheus.GaugeVec),
		MO: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_mo_total",
			Help: "Mobile-originated messages reassembled and published."}, []string{"operator"})).(*prometheus.CounterVec),
		MOInvalid: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_mo_invalid_total",
			Help: "MO parts or messages whose text could not be read (malformed UDH, undecodable text): published with their octets and the reason."}, []string{"operator"})).(*prometheus.CounterVec),
		MOIncomplete: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_mo_incomplete_total",
			Help: "Segmented MO messages expired because their other parts never came."}, []string{"operator"})).(*prometheus.CounterVec),
		Owner: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_operator_owner",
			Help: "1 while this replica owns the operator (binds and sends); 0 while another does (standby)."}, []string{"operator"})).(*prometheus.GaugeVec),
		Consuming: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_operator_consuming",
			Help: "1 while this replica's JetStream consumer delivers the operator's commands."}, []string{"operator"})).(*prometheus.GaugeVec),
		ConsumerFailures: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_consumer_failures_total",
			Help: "Times the operator's JetStream consumer could not be created or stopped delivering."}, []string{"operator"})).(*prometheus.CounterVec),
		CredentialRefused: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_credential_refused_total",
			Help: "New credential versions (a rotation) the SMSC refused for good; the binds keep the previous credential."}, []string{"operator"})).(*prometheus.CounterVec),
		CredFromCache: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_credentials_from_cache",
			Help: "1 while the operator's credential source (Vault) cannot answer and its last read was served from the in-memory cache of the last credential read; 0 otherwise."}, []string{"operator"})).(*prometheus.GaugeVec),
		CredSourceErrors: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_credential_source_errors_total",
			Help: "Failed reads of the operator's credential, by reason: unavailable, timeout, token_invalid (served from cache when one is cached); not_found, permission_denied, invalid, unknown_operator, other (never served from cache)."}, []string{"operator", "reason"})).(*prometheus.CounterVec),
		CredRevision: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_credential_version",
			Help: "The secret store's version number (Vault KV v2) of the credential the operator's binds last read; absent when the source does not tell (a rendered file without a version key)."}, []string{"operator"})).(*prometheus.GaugeVec),
		CredCreated: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_credential_created_timestamp_seconds",
			Help: "When the version of the credential the operator's binds last read was written (Vault KV v2 created_time), Unix seconds; its age is time() minus this. Absent when unknown."}, []string{"operator"})).(*prometheus.GaugeVec),
		CredMaxAge: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_credential_max_age_seconds",
			Help: "The operator's rotation schedule (credentials.maxAge): a credential older than this is overdue for rotation."}, []string{"operator"})).(*prometheus.GaugeVec),
		OutboxPending: f(prometheus.NewGauge(prometheus.GaugeOpts{Name: "smpp_outbox_events",
			Help: "Outcome and receipt events stored and waiting in the outbox to be published."})).(prometheus.Gauge),
		OutboxLag: f(prometheus.NewGauge(prometheus.GaugeOpts{Name: "smpp_outbox_lag_seconds",
			Help: "Age of the oldest event waiting in the outbox (0 when it is empty)."})).(prometheus.Gauge),
		OutboxPublished: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_outbox_published_total",
			Help: "Events published from the outbox and acknowledged by JetStream."}, []string{"kind"})).(*prometheus.CounterVec),
		InboxPending: f(prometheus.NewGauge(prometheus.GaugeOpts{Name: "smpp_inbox_receipts",
			Help: "Receipts answered to the SMSC and waiting in the inbox to be matched and stored (failed ones not counted)."})).(prometheus.Gauge),
		InboxLag: f(prometheus.NewGauge(prometheus.GaugeOpts{Name: "smpp_inbox_lag_seconds",
			Help: "Age of the oldest receipt waiting in the inbox (0 when it is empty)."})).(prometheus.Gauge),
		ConfigInfo: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_config_info",
			Help: "1 for the version (a digest of its content) of the operators configuration this replica runs: replicas that converged show the same version."}, []string{"version"})).(*prometheus.GaugeVec),
		ConfigRefused: f(prometheus.NewGauge(prometheus.GaugeOpts{Name: "smpp_config_refused",
			Help: "1 while the operators file as it is now is refused (invalid, or it cannot be read): the previous configuration keeps running."})).(prometheus.Gauge),
		ConfigReloads: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_config_reloads_total",
			Help: "Changed operators configurations read while running, applied or refused as a whole."}, []string{"result"})).(*prometheus.CounterVec),
		ConfigChanges: f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smpp_config_changes_total",
			Help: "Operators changed by a reload: added, removed, changed in place (TPS, window), binds renewed one at a time (credential moved) or a new term (new binds)."}, []string{"operator", "change"})).(*prometheus.CounterVec),
		Paused: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smpp_operator_paused",
			Help: "1 while an engineer has paused the operator's sending (smpp-connector ctl pause): its binds stay up, its commands wait in JetStream."}, []string{"operator"})).(*prometheus.GaugeVec),
		ConfigSourceUp: f(prometheus.NewGauge(prometheus.GaugeOpts{Name: "smpp_config_source_up",
			Help: "1 while the source of the operators configuration answers (the file can be read; operator-management-service gives usable answers over mutual TLS)."})).(prometheus.Gauge),
		ConfigSourceLastSuccess: f(prometheus.NewGauge(prometheus.GaugeOpts{Name: "smpp_config_source_last_success_timestamp_seconds",
			Help: "When the source of the operators configuration last gave a usable answer (Unix seconds)."})).(prometheus.Gauge),
		ConfigFromLastGood: f(prometheus.NewGauge(prometheus.GaugeOpts{Name: "smpp_config_from_last_good",
			Help: "1 while the connector runs the last good configuration kept on disk because operator-management-service has not answered since it started."})).(prometheus.Gauge),
	}
}

// StoreStats are the store writer's counters (store.Stats), as metrics read them.
type StoreStats struct {
	Batches, Requests, Retries, Isolated int64
	FlushSeconds                         float64
	// The receipt inbox's appends (group commits) and the receipts they carried.
	Appends, Appended int64
	AppendSeconds     float64
}

// ObserveStore exports the store writer's counters, read when scraped: how
// many transactions, how many requests they carried (their ratio is the batch
// size), and the time spent writing.
func (m *Metrics) ObserveStore(stats func() StoreStats) {
	counter := func(name, help string, v func(StoreStats) float64) {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return v(stats()) }))
	}
	counter("smpp_store_batches_total", "Transactions committed by the store's batch writer.",
		func(s StoreStats) float64 { return float64(s.Batches) })
	counter("smpp_store_requests_total", "Prepares, outcomes and receipts written by the batch writer.",
		func(s StoreStats) float64 { return float64(s.Requests) })
	counter("smpp_store_retries_total", "Batches retried after a transient error (deadlock, lost connection).",
		func(s StoreStats) float64 { return float64(s.Retries) })
	counter("smpp_store_isolated_total", "Failed batches rewritten one request at a time.",
		func(s StoreStats) float64 { return float64(s.Isolated) })
	counter("smpp_store_flush_seconds_total", "Time spent writing batches.",
		func(s StoreStats) float64 { return s.FlushSeconds })
	counter("smpp_store_inbox_appends_total", "INSERTs into the receipt inbox (each commits every receipt that came while the previous one committed).",
		func(s StoreStats) float64 { return float64(s.Appends) })
	counter("smpp_store_inbox_appended_total", "Receipts appended to the receipt inbox.",
		func(s StoreStats) float64 { return float64(s.Appended) })
	counter("smpp_store_inbox_append_seconds_total", "Time spent in receipt inbox INSERTs.",
		func(s StoreStats) float64 { return s.AppendSeconds })
}

// BindFailReasons are the reasons of smpp_bind_failures_total
// (session.BindFailReasons).
var BindFailReasons = []string{"tls", "connect", "refused", "timeout", "other"}

// Prepare creates an operator's alerting series at 0, so that increase()
// sees their first event (a series born at 1 has no increase).
func (m *Metrics) Prepare(operator string) {
	m.Submits.WithLabelValues(operator, "unknown", "timeout")
	m.Submits.WithLabelValues(operator, "unknown", "dead_bind")
	m.DeadBinds.WithLabelValues(operator, "response_timeouts")
	m.DeadBinds.WithLabelValues(operator, "enquire_link")
	m.BindFailovers.WithLabelValues(operator)
	for _, reason := range BindFailReasons {
		m.BindFailures.WithLabelValues(operator, reason)
	}
	m.Receipts.WithLabelValues(operator, "unmatched")
	m.Receipts.WithLabelValues(operator, "failed") // SMPPReceiptsSetAside
	m.Commands.WithLabelValues(operator, "bad")
	m.MOIncomplete.WithLabelValues(operator)
	m.Throttled.WithLabelValues(operator)
	m.ConsumerFailures.WithLabelValues(operator)
	m.CredentialRefused.WithLabelValues(operator)
	m.CredFromCache.WithLabelValues(operator)
	m.Owner.WithLabelValues(operator)
	m.Paused.WithLabelValues(operator)
	for _, kind := range []string{"receipt", "outcome", "deadletter", "mo"} {
		m.PublishErrors.WithLabelValues(kind)
	}
	for _, kind := range []string{"receipt", "outcome"} {
		m.OutboxPublished.WithLabelValues(kind)
	}
}
