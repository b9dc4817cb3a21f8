package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
	"github.com/smpp-connector/smpp-connector/smscsim/smpptest"
	"github.com/smpp-connector/smpp-connector/smscsim/tlstest"
)

// The whole service honours the settings it accepts: an operator whose TLS
// endpoint shows a certificate its CA does not vouch for is not ready, the
// reason (operator, endpoint, TLS) on /readyz and the failure counted; a
// command for an operator configured nowhere is dead-lettered and counted.
func TestServiceReportsTLSFailuresAndDeadLettersUnknownOperators(t *testing.T) {
	// The simulator's TLS listener shows a certificate of a CA the operator's
	// caFile does not hold.
	rogue := tlstest.NewCA(t).Issue(t, "rogue", "127.0.0.1")
	sim := startSim(t, server.OperatorConfig{ID: "mno-a", Listen: "127.0.0.1:0",
		TLS:      &server.TLSConfig{Config: tlstest.ServerConfig(rogue)},
		Accounts: []server.AccountConfig{{SystemID: "acme", Password: "pw"}}})
	op, _ := sim.Operator("mno-a")
	ops, err := config.Parse([]byte(fmt.Sprintf("operators:\n  - id: mno-a\n    endpoints: {primary: [{address: %q, tls: true}]}\n    tps: 10\n    tls: {caFile: %q}\n",
		op.Addr(), tlstest.NewCA(t).WriteFile(t, t.TempDir()))))
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t)
	r := startConnector(t, svc, ops, Options{Secrets: staticSource{secrets.Credential{SystemID: "acme", Password: "pw", Version: "1"}},
		StrayEvery: 100 * time.Millisecond})

	want := `operator "mno-a" endpoint ` + op.Addr() + `: TLS: tls: failed to verify certificate: x509: certificate signed by unknown authority`
	smpptest.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		v := r.readyz(t)
		problems, _ := v["problems"].(map[string]any)
		if why, _ := problems["operator mno-a"].(string); v["ready"] != false || !strings.Contains(why, want) {
			return fmt.Errorf("readyz %v: want mno-a not ready, saying %q", v, want)
		}
		return nil
	})
	if n := metric(t, r, `smpp_bind_failures_total{operator="mno-a",reason="tls"}`); n < 1 {
		t.Fatalf("TLS failures counted %v", n)
	}
	if n := sim.Stats().Sum("mno-a", "acme", "", ""); n != 0 {
		t.Fatalf("%d PDUs of acme reached the SMSC through an untrusted certificate", n)
	}

	nc, err := nats.Connect(svc.NATS.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	cmd := `{"messageId":"z-1","operatorId":"mno-zz","source":{"addr":"ACME","ton":5},"destination":{"addr":"447700900123"},"text":"hi"}`
	if _, err := js.Publish(context.Background(), natscontract.DispatchSubjectFor("mno-zz"), []byte(cmd)); err != nil {
		t.Fatal(err)
	}
	c, err := js.OrderedConsumer(context.Background(), natscontract.EventsStream,
		jetstream.OrderedConsumerConfig{FilterSubjects: []string{natscontract.DeadLetterSubjectFor("mno-zz")}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := c.Next(jetstream.FetchMaxWait(20 * time.Second))
	if err != nil {
		t.Fatalf("no dead letter for the unknown operator: %v", err)
	}
	var dl map[string]any
	_ = json.Unmarshal(msg.Data(), &dl)
	if dl["reason"] != "unknown operator" || dl["operatorId"] != "mno-zz" {
		t.Fatalf("dead letter %v", dl)
	}
	smpptest.Eventually(t, 5*time.Second, 50*time.Millisecond, func() error {
		if n := metric(t, r, `smpp_unknown_operator_commands_total{operator="mno-zz"}`); n != 1 {
			return fmt.Errorf("unknown operator commands counted %v, want 1", n)
		}
		return nil
	})
	// The replica lists its own operators, so that a replica that does not
	// know them keeps their commands while none runs them.
	db, err := pgx.Connect(context.Background(), svc.PostgresDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	var listed []string
	if err := db.QueryRow(context.Background(), `SELECT coalesce(array_agg(operator_id ORDER BY operator_id), '{}')
		FROM smpp.configured_operators WHERE last_seen > now() - interval '1 minute' AND replica <> ''`).Scan(&listed); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(listed, []string{"mno-a"}) {
		t.Fatalf("operators listed as configured: %v, want mno-a", listed)
	}
}

// metric reads one series of the replica's /metrics (-1 when absent).
func metric(t *testing.T, r *replica, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + r.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}
