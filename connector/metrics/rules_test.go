package metrics

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/internal/ruletest"
)

const alertsFile = "../../deploy/alerts.yaml"

// Rule evaluation in these tests: every minute (Prometheus' default
// evaluation_interval) for 20 minutes of series sampled every minute.
const (
	every = time.Minute
	until = 20 * time.Minute
)

// healthy is two replicas, a owning mno-a and b standing by, as the
// connector exports them when all is well: bound, consuming, no errors,
// nothing waiting. The counters are at 0 from the start, as Prepare makes
// them. Cases add or replace series to break one thing.
var healthy = map[string]string{
	`smpp_operator_owner{instance="a", operator="mno-a"}`:                                       `1x20`,
	`smpp_operator_owner{instance="b", operator="mno-a"}`:                                       `0x20`,
	`smpp_bind_state{instance="a", operator="mno-a", bind="mno-a-1", state="bound"}`:            `1x20`,
	`smpp_bind_state{instance="a", operator="mno-a", bind="mno-a-1", state="auth_failed"}`:      `0x20`,
	`smpp_bind_state{instance="a", operator="mno-a", bind="mno-a-1", state="connecting"}`:       `0x20`,
	`smpp_consumer_failures_total{instance="a", operator="mno-a"}`:                              `0x20`,
	`smpp_consumer_failures_total{instance="b", operator="mno-a"}`:                              `0x20`,
	`smpp_publish_errors_total{instance="a", kind="outcome"}`:                                   `0x20`,
	`smpp_publish_errors_total{instance="a", kind="receipt"}`:                                   `0x20`,
	`smpp_publish_errors_total{instance="b", kind="outcome"}`:                                   `0x20`,
	`smpp_outbox_lag_seconds{instance="a"}`:                                                     `0x20`,
	`smpp_outbox_lag_seconds{instance="b"}`:                                                     `0x20`,
	`smpp_inbox_lag_seconds{instance="a"}`:                                                      `0x20`,
	`smpp_inbox_lag_seconds{instance="b"}`:                                                      `0x20`,
	`smpp_submits_total{instance="a", operator="mno-a", outcome="accepted", status="ESME_ROK"}`: `0+600x20`,
	// The credential was written at time 0 (a minute-old rotation); the
	// schedule is 90 days, exported by owner and standby alike.
	`smpp_credential_created_timestamp_seconds{instance="a", operator="mno-a"}`: `0x20`,
	`smpp_credential_max_age_seconds{instance="a", operator="mno-a"}`:           `7776000x20`,
	`smpp_credential_max_age_seconds{instance="b", operator="mno-a"}`:           `7776000x20`,
	// Both replicas run one operators configuration, read from a source
	// that answers.
	`smpp_config_info{instance="a", version="v1"}`:         `1x20`,
	`smpp_config_info{instance="b", version="v1"}`:         `1x20`,
	`smpp_config_refused{instance="a"}`:                    `0x20`,
	`smpp_config_refused{instance="b"}`:                    `0x20`,
	`smpp_config_source_up{instance="a"}`:                  `1x20`,
	`smpp_config_source_up{instance="b"}`:                  `1x20`,
	`smpp_operator_paused{instance="a", operator="mno-a"}`: `0x20`,
	`smpp_operator_paused{instance="b", operator="mno-a"}`: `0x20`,
}

// input is the healthy series with a case's changes, in promqltest's load
// notation (one sample a minute from time 0; "_" none, "stale" gone).
func input(changes map[string]string) string {
	series := maps.Clone(healthy)
	for k, v := range changes {
		if v == "" {
			delete(series, k)
		} else {
			series[k] = v
		}
	}
	var b strings.Builder
	b.WriteString("load 1m\n")
	for _, k := range slices.Sorted(maps.Keys(series)) {
		b.WriteString("  " + k + " " + series[k] + "\n")
	}
	return b.String()
}

// alertCase is one failure (or a near miss) and what a critical alert says.
type alertCase struct {
	alert   string
	name    string
	changes map[string]string // series replaced ("" removes one) in healthy
	onset   time.Duration     // when the failure starts: the rule sees it (pending) then
	fires   time.Duration     // first evaluation firing; 0 for a case it must stay silent in
	labels  map[string]string // the firing alert's labels
}

const (
	ownerA = `smpp_operator_owner{instance="a", operator="mno-a"}`
	ownerB = `smpp_operator_owner{instance="b", operator="mno-a"}`
	boundA = `smpp_bind_state{instance="a", operator="mno-a", bind="mno-a-1", state="bound"}`
	authA  = `smpp_bind_state{instance="a", operator="mno-a", bind="mno-a-1", state="auth_failed"}`
	connA  = `smpp_bind_state{instance="a", operator="mno-a", bind="mno-a-1", state="connecting"}`
	consA  = `smpp_consumer_failures_total{instance="a", operator="mno-a"}`
	pubA   = `smpp_publish_errors_total{instance="a", kind="outcome"}`
	outbox = `smpp_outbox_lag_seconds{instance="a"}`
	inbox  = `smpp_inbox_lag_seconds{instance="b"}`
	stray  = `smpp_stray_operator_last_listed_seconds{instance="a", operator="mno-c"}`
	credA  = `smpp_credential_created_timestamp_seconds{instance="a", operator="mno-a"}`
	cfgA1  = `smpp_config_info{instance="a", version="v1"}`
	cfgA2  = `smpp_config_info{instance="a", version="v2"}`
	cfgB1  = `smpp_config_info{instance="b", version="v1"}`
	cfgB2  = `smpp_config_info{instance="b", version="v2"}`
	refusB = `smpp_config_refused{instance="b"}`
	srcA   = `smpp_config_source_up{instance="a"}`
	pauseA = `smpp_operator_paused{instance="a", operator="mno-a"}`
	pauseB = `smpp_operator_paused{instance="b", operator="mno-a"}`
)

// ninetyDaysBefore5m is a creation time whose age reaches 90 days (the
// schedule in healthy) at 5 minutes, the series' times counting from 0.
const ninetyDaysBefore5m = `-7775700`

func critical(extra map[string]string) map[string]string {
	l := map[string]string{"severity": "critical"}
	maps.Copy(l, extra)
	return l
}

var mnoA = critical(map[string]string{"operator": "mno-a"})

var alertCases = []alertCase{
	// Warnings on the operators configuration applied while running.
	{alert: "SMPPOperatorsConfigRefused", name: "b refuses the new configuration for good",
		changes: map[string]string{refusB: `0 0 0 1x17`}, onset: 3 * time.Minute, fires: 18 * time.Minute,
		labels: map[string]string{"severity": "warning", "instance": "b"}},
	{alert: "SMPPOperatorsConfigRefused", name: "a bad edit fixed after 10 minutes",
		changes: map[string]string{refusB: `0 0 0 1x10 0x7`}},
	{alert: "SMPPOperatorsConfigDiverged", name: "b moves to v2, a stays on v1",
		changes: map[string]string{cfgB1: `1 1 1 stale`, cfgB2: `_ _ _ 1x17`}, onset: 3 * time.Minute, fires: 18 * time.Minute,
		labels: map[string]string{"severity": "warning"}},
	{alert: "SMPPOperatorsConfigDiverged", name: "both move to v2 a minute apart (their polls)",
		changes: map[string]string{cfgB1: `1 1 1 stale`, cfgB2: `_ _ _ 1x17`, cfgA1: `1 1 1 1 stale`, cfgA2: `_ _ _ _ 1x16`}},
	{alert: "SMPPOperatorsConfigSourceDown", name: "a cannot read its source for good",
		changes: map[string]string{srcA: `1 1 1 0x17`}, onset: 3 * time.Minute, fires: 18 * time.Minute,
		labels: map[string]string{"severity": "warning", "instance": "a"}},
	{alert: "SMPPOperatorsConfigSourceDown", name: "the service restarts for 5 minutes",
		changes: map[string]string{srcA: `1 1 1 0x5 1x12`}},
	{alert: "SMPPOperatorPaused", name: "paused on both replicas for 16 minutes: under its hour",
		changes: map[string]string{pauseA: `0x3 1x16`, pauseB: `0x3 1x16`}},
	{alert: "SMPPOperatorPaused", name: "paused for 10 minutes",
		changes: map[string]string{pauseA: `0x3 1x10 0x6`, pauseB: `0x3 1x10 0x6`}},

	// A warning, and the one alert on the rotation schedule.
	{alert: "SMPPCredentialRotationOverdue", name: "the credential's age passes its 90 days",
		changes: map[string]string{credA: ninetyDaysBefore5m + `x20`}, onset: 6 * time.Minute, fires: 16 * time.Minute,
		labels: map[string]string{"severity": "warning", "operator": "mno-a"}},
	{alert: "SMPPCredentialRotationOverdue", name: "rotated 3 minutes after passing its 90 days",
		changes: map[string]string{credA: ninetyDaysBefore5m + `x7 480x12`}},
	{alert: "SMPPCredentialRotationOverdue", name: "a rendered file without created_time (no age known)",
		changes: map[string]string{credA: ""}},

	{alert: "SMPPOperatorWithoutOwner", name: "the owner gives mno-a up and b does not take it",
		changes: map[string]string{ownerA: `1 1 1 0x17`}, onset: 3 * time.Minute, fires: 5 * time.Minute, labels: mnoA},
	{alert: "SMPPOperatorWithoutOwner", name: "a handover with a minute between the owners",
		changes: map[string]string{ownerA: `1 1 1 0x17`, ownerB: `0 0 0 0 1x16`}},

	{alert: "SMPPNoConnectorReporting", name: "every replica's series go stale",
		changes: map[string]string{ownerA: `1x4 stale`, ownerB: `0x4 stale`}, onset: 5 * time.Minute, fires: 7 * time.Minute, labels: critical(nil)},
	{alert: "SMPPNoConnectorReporting", name: "one replica goes, the other reports",
		changes: map[string]string{ownerB: `0x4 stale`}},

	{alert: "SMPPOperatorOwnedTwice", name: "b takes mno-a while a still owns it",
		changes: map[string]string{ownerB: `0 0 0 1x17`}, onset: 3 * time.Minute, fires: 4 * time.Minute, labels: mnoA},
	{alert: "SMPPOperatorOwnedTwice", name: "both seen owning at one scrape of a handover",
		changes: map[string]string{ownerA: `1 1 1 1 0x16`, ownerB: `0 0 0 1x17`}},

	// A consumer that keeps failing counts a failure every few seconds (each
	// term gives the operator up after 5 s): sampled every minute, the counter
	// rises at every sample, or at least once in every 5 minutes.
	{alert: "SMPPOperatorNotConsuming", name: "the consumer fails every minute",
		changes: map[string]string{consA: `0 0 0 1+1x17`}, onset: 3 * time.Minute, fires: 13 * time.Minute, labels: mnoA},
	{alert: "SMPPOperatorNotConsuming", name: "the consumer fails every 4 minutes",
		changes: map[string]string{consA: `0 0 0 1 1 1 1 2 2 2 2 3 3 3 3 4 4 4 4 5 5`}, onset: 3 * time.Minute, fires: 13 * time.Minute, labels: mnoA},
	{alert: "SMPPOperatorNotConsuming", name: "the consumer never fails", changes: nil},
	{alert: "SMPPOperatorNotConsuming", name: "a single failure, then the consumer delivers",
		changes: map[string]string{consA: `0 0 0 1x17`}},
	{alert: "SMPPOperatorNotConsuming", name: "failures for 6 minutes (a NATS restart), then the consumer delivers",
		changes: map[string]string{consA: `0 0 0 1+1x5 6x12`}},
	{alert: "SMPPOperatorNotConsuming", name: "one failure on each replica, 4 minutes apart",
		changes: map[string]string{consA: `0 0 0 1x17`, `smpp_consumer_failures_total{instance="b", operator="mno-a"}`: `0x6 1x13`}},

	{alert: "SMPPBindRefused", name: "the SMSC refuses the password",
		changes: map[string]string{boundA: `1 1 1 0x17`, authA: `0 0 0 1x17`}, onset: 3 * time.Minute, fires: 4 * time.Minute, labels: mnoA},
	{alert: "SMPPBindRefused", name: "one refusal, then a rotated credential binds",
		changes: map[string]string{boundA: `1 1 1 0 1x16`, authA: `0 0 0 1 0x16`}},

	{alert: "SMPPNoBindUp", name: "the owner's bind stays down",
		changes: map[string]string{boundA: `1 1 1 0x17`, connA: `0 0 0 1x17`}, onset: 3 * time.Minute, fires: 5 * time.Minute, labels: mnoA},
	{alert: "SMPPNoBindUp", name: "the bind reconnects within a minute",
		changes: map[string]string{boundA: `1 1 1 0 1x16`, connA: `0 0 0 1 0x16`}},
	{alert: "SMPPNoBindUp", name: "nobody owns mno-a (SMPPOperatorWithoutOwner's case, not this one)",
		changes: map[string]string{ownerA: `1 1 1 0x17`, boundA: `1 1 1 stale`, authA: `0 0 0 stale`, connA: `0 0 0 stale`}},

	{alert: "SMPPPublishErrors", name: "outcome events keep failing to publish",
		changes: map[string]string{pubA: `0 0 0 1+1x17`}, onset: 3 * time.Minute, fires: 8 * time.Minute,
		labels: critical(map[string]string{"kind": "outcome"})},
	{alert: "SMPPPublishErrors", name: "one publish error, then JetStream takes them again",
		changes: map[string]string{pubA: `0 0 0 1x17`}},

	{alert: "SMPPOutboxLagging", name: "the outbox stops draining",
		changes: map[string]string{outbox: `0 0 0 30+60x17`}, onset: 4 * time.Minute, fires: 6 * time.Minute, labels: critical(nil)},
	{alert: "SMPPOutboxLagging", name: "a 90 s lag that drains within a minute",
		changes: map[string]string{outbox: `0 0 0 90 0x16`}},

	{alert: "SMPPInboxLagging", name: "the standby's inbox drain is stuck",
		changes: map[string]string{inbox: `0 0 0 30+60x17`}, onset: 4 * time.Minute, fires: 6 * time.Minute, labels: critical(nil)},
	{alert: "SMPPInboxLagging", name: "a 90 s lag that drains within a minute",
		changes: map[string]string{inbox: `0 0 0 90 0x16`}},

	{alert: "SMPPOperatorCommandsWaitForItsReplicas", name: "mno-c's replicas are all down and its commands wait",
		changes: map[string]string{stray: `_ _ _ 30+60x17`}, onset: 3 * time.Minute, fires: 5 * time.Minute,
		labels: critical(map[string]string{"operator": "mno-c"})},
	{alert: "SMPPOperatorCommandsWaitForItsReplicas", name: "mno-c's replica is back within a minute",
		changes: map[string]string{stray: `_ _ _ 30 stale`}},
}

// Each critical alert of deploy/alerts.yaml fires on the failure it names,
// with its labels, no earlier than its `for:` allows, and stays silent on a
// near miss. The rules are evaluated by Prometheus' rule manager
// (internal/ruletest), as a gate running the same file would.
func TestCriticalAlertsFireOnTheirFailureOnly(t *testing.T) {
	rules := ruletest.Rules(t, alertsFile)
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, c := range alertCases {
		t.Run(c.alert+"/"+c.name, func(t *testing.T) {
			res := ruletest.Run(t, alertsFile, input(c.changes), every, until)
			rule, ok := res.Rule(c.alert)
			if !ok {
				t.Fatalf("no alert %s in %s", c.alert, alertsFile)
			}
			first, fired := res.FirstFiring(c.alert)
			if c.fires == 0 {
				silent[c.alert] = true
				if fired {
					t.Errorf("fires at %v with %v: want silent", first, res.Firing(first, c.alert))
				}
				return
			}
			fires[c.alert] = true
			switch {
			case !fired:
				t.Fatalf("never fires by %v", until)
			case first != c.fires:
				t.Errorf("first fires at %v, want %v", first, c.fires)
			case c.fires-c.onset < rule.For:
				t.Errorf("the case says it fires %v after its onset, under the rule's for: %v", c.fires-c.onset, rule.For)
			}
			// The rule saw the failure at its onset: what held it back was for:.
			if a := res.Alerts(c.onset, c.alert); len(a) == 0 && rule.For > 0 {
				t.Errorf("not pending at the onset %v: the case's onset is wrong", c.onset)
			}
			got := res.Firing(c.fires, c.alert)
			if len(got) != 1 || ruletest.Format(got[0]) != ruletest.Format(c.labels) {
				var s []string
				for _, l := range got {
					s = append(s, ruletest.Format(l))
				}
				t.Errorf("firing at %v: %v, want [%s]", c.fires, s, ruletest.Format(c.labels))
			}
		})
	}
	for _, r := range rules {
		if r.Labels["severity"] == "critical" && (!fires[r.Name] || !silent[r.Name]) {
			t.Errorf("critical alert %s needs a case where it fires and one where it stays silent (fires %v, silent %v)",
				r.Name, fires[r.Name], silent[r.Name])
		}
	}
}

// On the healthy series no critical alert fires at all.
func TestNoCriticalAlertOnHealthySeries(t *testing.T) {
	res := ruletest.Run(t, alertsFile, input(nil), every, until)
	n := 0
	for _, r := range res.Rules {
		if r.Labels["severity"] != "critical" {
			continue
		}
		n++
		if at, ok := res.FirstFiring(r.Name); ok {
			t.Errorf("%s fires at %v on healthy series: %v", r.Name, at, res.Firing(at, r.Name))
		}
	}
	if n < 10 {
		t.Fatalf("%d critical alerts loaded", n)
	}
}
