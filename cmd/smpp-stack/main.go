// Command smpp-stack is `make run`: the whole connector on one machine. It
// starts an embedded NATS server, the SMSC simulator with two demo operators
// (deploy/smscsim-demo.yaml), PostgreSQL in a local container, credentials in
// Vault (when its image is built) or in rendered files, and the connector
// itself; then it publishes a demo batch and prints live figures until Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smpp-connector/smpp-connector/connector/config"
	"github.com/smpp-connector/smpp-connector/connector/lease"
	"github.com/smpp-connector/smpp-connector/connector/natscontract"
	"github.com/smpp-connector/smpp-connector/connector/secrets"
	"github.com/smpp-connector/smpp-connector/connector/service"
	"github.com/smpp-connector/smpp-connector/scenarios/testenv"
	"github.com/smpp-connector/smpp-connector/smscsim/control"
	"github.com/smpp-connector/smpp-connector/smscsim/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "smpp-stack:", err)
		os.Exit(1)
	}
}

// demoAccounts are the credentials the demo SMSCs accept (deploy/smscsim-demo.yaml).
var demoAccounts = map[string]secrets.Credential{
	"mno-a": {SystemID: "test", Password: "test"},
	"mno-b": {SystemID: "acme", Password: "secret1"},
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("smpp-stack", flag.ContinueOnError)
	simConfig := fs.String("smscsim-config", "deploy/smscsim-demo.yaml", "simulator configuration")
	opsFile := fs.String("operators", "deploy/connector-demo.yaml", "connector operators")
	batch := fs.Int("batch", 2000, "demo messages to publish (per operator)")
	every := fs.Duration("every", 2*time.Second, "how often to print figures")
	duration := fs.Duration("duration", 0, "stop after this long (0: until Ctrl-C)")
	logFile := fs.String("log", "smpp-stack.log", "where the services log (JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	lf, err := os.Create(*logFile)
	if err != nil {
		return err
	}
	defer lf.Close()
	log := slog.New(slog.NewJSONHandler(lf, nil))
	say := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }

	// 1. NATS, embedded.
	ns, err := testenv.StartNATS("127.0.0.1", 4222, "")
	if err != nil {
		return fmt.Errorf("nats (is something on 127.0.0.1:4222?): %w", err)
	}
	defer ns.Shutdown()
	say("nats        %s (embedded, JetStream)", ns.URL())

	// 2. The simulator and its control API.
	scfg, err := server.LoadConfig(*simConfig)
	if err != nil {
		return err
	}
	sim, err := server.New(scfg, log)
	if err != nil {
		return err
	}
	if err := sim.Start(ctx); err != nil {
		return err
	}
	defer sim.Close()
	api := control.New(sim, control.Options{Logger: log})
	defer api.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:8775")
	if err != nil {
		return fmt.Errorf("simulator control API: %w", err)
	}
	go http.Serve(ln, api)
	for _, id := range sim.Operators() {
		op, _ := sim.Operator(id)
		say("smscsim     %-6s smpp %s  (%s)", id, op.Addr(), op.Profile().Name)
	}
	say("smscsim     control API http://127.0.0.1:8775 (bin/smscsim faults add ..., /openapi.json)")

	// 3. PostgreSQL (and Vault when its image exists) in local containers.
	images := testenv.ImagesFromEnv()
	withVault := testenv.CheckDocker(ctx, images.Vault) == nil
	p, err := testenv.ProviderFromEnv(testenv.NewSessionID())
	if err != nil {
		return err
	}
	say("containers  starting PostgreSQL%s ...", map[bool]string{true: " and Vault", false: ""}[withVault])
	ep, err := p.Start(ctx, testenv.Services{Postgres: true, Vault: withVault})
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p.Stop(sctx)
	}()
	if err != nil {
		return err
	}
	say("postgres    %s", config.RedactDSN(ep.PostgresDSN))

	// 4. Credentials.
	src, where, err := credentials(ctx, ep, withVault, log)
	if err != nil {
		return err
	}
	say("credentials %s", where)

	// 5. The connector.
	ops, err := config.Load(*opsFile)
	if err != nil {
		return err
	}
	svc := config.DefaultService()
	svc.NATS.URL, svc.NATS.CreateStreams = ns.URL(), true
	svc.PostgresDSN, svc.HTTPListen = ep.PostgresDSN, "127.0.0.1:8080"
	conn, err := service.Start(context.WithoutCancel(ctx), svc, ops, service.Options{Log: log, Secrets: src, Migrate: true,
		Lease: lease.Options{Poll: 250 * time.Millisecond, Grace: 750 * time.Millisecond}})
	if err != nil {
		return fmt.Errorf("connector: %w", err)
	}
	say("connector   http://127.0.0.1:8080/metrics /healthz /readyz   (logs: %s)", *logFile)

	// 6. The demo batch and live figures.
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		_ = conn.Stop()
		return err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	go publishBatch(ctx, js, ops.IDs(), *batch, log)
	say("\npublishing %d demo messages per operator on smpp.operator.{id}; Ctrl-C to stop\n", *batch)
	figures(ctx, out, sim, js, ops.IDs(), *every)

	say("\nstopping: the connector finishes what is in flight ...")
	if err := conn.Stop(); err != nil {
		return err
	}
	say("stopped")
	return nil
}

// credentials seeds Vault with the demo accounts, or renders them to files
// the way Vault Agent would when there is no Vault image.
func credentials(ctx context.Context, ep testenv.Endpoints, withVault bool, log *slog.Logger) (secrets.Source, string, error) {
	if withVault {
		c, err := testenv.NewVaultClient(ep.VaultAddr, ep.VaultToken)
		if err != nil {
			return nil, "", err
		}
		for id, cred := range demoAccounts {
			if _, err := c.KVv2(ep.VaultKVMount).Put(ctx, secrets.DefaultVaultPath(id), map[string]any{
				"system_id": cred.SystemID, "password": cred.Password}); err != nil {
				return nil, "", fmt.Errorf("seed vault: %w", err)
			}
		}
		v, err := secrets.NewVault(ctx, secrets.VaultConfig{Address: ep.VaultAddr, Auth: secrets.TokenAuth{Token: ep.VaultToken}, KVMount: ep.VaultKVMount, Logger: log})
		if err != nil {
			return nil, "", err
		}
		return v, fmt.Sprintf("Vault %s, %s/smpp/operators/{id}", ep.VaultAddr, ep.VaultKVMount), nil
	}
	dir, err := os.MkdirTemp("", "smpp-stack-secrets-*")
	if err != nil {
		return nil, "", err
	}
	f := &secrets.File{Paths: map[string]string{}, Logger: log}
	for id, cred := range demoAccounts {
		path := filepath.Join(dir, id+".json")
		body := fmt.Sprintf(`{"system_id":%q,"password":%q}`, cred.SystemID, cred.Password)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			return nil, "", err
		}
		f.Paths[id] = path
	}
	return f, "rendered files in " + dir + " (no Vault image: build it with `make images` to use Vault)", nil
}

// publishBatch sends the demo traffic: mostly short texts, some long and
// some Unicode, so both operators' segmentation and receipt quirks show.
func publishBatch(ctx context.Context, js jetstream.JetStream, ops []string, n int, log *slog.Logger) {
	texts := []string{"Your code is 482913", "Grüße aus Köln – bis morgen!", strings.Repeat("A long message that needs several parts. ", 6), "Café ☕ at 10? 😀"}
	run := time.Now().UnixNano()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		for _, op := range ops {
			cmd := fmt.Sprintf(`{"messageId":"demo-%d-%s-%d","operatorId":%q,"source":{"addr":"ACME","ton":5,"npi":0},`+
				`"destination":{"addr":"4477009%05d","ton":1,"npi":1},"text":%q,"registeredDelivery":true}`,
				run, op, i, op, i, texts[i%len(texts)])
			if _, err := js.Publish(ctx, natscontract.DispatchSubjectFor(op), []byte(cmd)); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("publish demo command", "err", err)
			}
		}
	}
}

// figures prints, per operator, what the SMSC accepted, the receipts the
// connector published, and the TPS the SMSC measures.
func figures(ctx context.Context, out io.Writer, sim *server.Sim, js jetstream.JetStream, ops []string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	fmt.Fprintf(out, "%-8s %-7s %10s %10s %10s %8s %8s\n", "time", "op", "submit_sm", "accepted", "receipts", "tps", "breaches")
	start := time.Now()
	published := map[string]int{}
	var cons jetstream.Consumer
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if cons == nil {
			cons, _ = js.OrderedConsumer(ctx, natscontract.ReceiptStream, jetstream.OrderedConsumerConfig{})
		}
		countReceipts(cons, published)
		for _, op := range ops {
			st := sim.Stats()
			rep, _ := sim.Meter.Report(op+"/"+accountOf(op), time.Now())
			fmt.Fprintf(out, "%-8s %-7s %10d %10d %10d %8d %8d\n", time.Since(start).Round(time.Second), op,
				st.Sum(op, "", "submit_sm", ""), st.Sum(op, "", "submit_sm", "ESME_ROK"), published[op], rep.CurrentTPS, rep.Breaches)
		}
	}
}

func accountOf(op string) string { return demoAccounts[op].SystemID }

// countReceipts adds the receipt events published since the last call, per
// operator, reading the stream once through one ordered consumer.
func countReceipts(c jetstream.Consumer, out map[string]int) {
	if c == nil {
		return
	}
	for {
		batch, err := c.FetchNoWait(1000)
		if err != nil {
			return
		}
		n := 0
		for m := range batch.Messages() {
			n++
			if i := strings.Index(string(m.Data()), `"operatorId":"`); i >= 0 {
				rest := string(m.Data())[i+14:]
				out[rest[:strings.IndexByte(rest, '"')]]++
			}
		}
		if n == 0 {
			return
		}
	}
}
