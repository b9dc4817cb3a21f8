# smpp-connector: the two commands that matter are `make run` and `make test`.
GO       ?= go
BIN      ?= bin
PKGS_RACE = ./smscsim/... ./connector/... ./internal/... ./cmd/...
export TESTCONTAINERS_RYUK_DISABLED ?= true

.PHONY: staging-up staging-down smoke smoke-failover all build run sim connector-load connector-load-procs kannel-compare test unit scenarios faults gates report images image bench load lint fmt fuzz clean

all: build

## build: compile every binary into ./bin
build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

## run: the main job: NATS + simulator + PostgreSQL (+ Vault when built) + connector, a demo batch, live figures
run: build
	bash ci/build-images.sh postgres
	./$(BIN)/smpp-stack

## sim: the simulator alone with its demo operators
sim: build
	./$(BIN)/smscsim serve --config deploy/smscsim-demo.yaml

## test: vet, unit + integration tests (race detector; real PostgreSQL/Vault/NATS), then the scenario suites and the fault matrix
test: lint images unit scenarios faults

unit:
	$(GO) test -race -count=1 $(PKGS_RACE)
	$(GO) test -count=1 ./migrations/...

## scenarios: the Ginkgo suites against real PostgreSQL, Vault and NATS (builds the images once); the
## fault matrix is left to `make faults`, so that `make test` runs it once, and the staging smoke suite
## (it needs a deployment) to `make smoke`
scenarios: images
	$(GO) test -count=1 -timeout 30m $$($(GO) list ./scenarios/... | grep -v -e '/scenarios/faults$$' -e '/scenarios/smoke$$')

## faults: the fault matrix (scenarios/faults): the connector as its own process under kill -9, NATS,
## PostgreSQL and SMSC restarts, black hole, storms, a wrong password, a replica kill (under 10 minutes;
## no Vault: the connector reads its credentials from a rendered file)
faults:
	bash ci/build-images.sh postgres nats
	$(GO) test -count=1 -v -timeout 15m ./scenarios/faults/

## staging-up: the staging stack on one machine (deploy/staging): the product images, two connector
## replicas, the simulator, NATS, PostgreSQL (+ Vault when built); waits until ready, writes deploy/staging/.env
staging-up:
	bash ci/build-images.sh connector smscsim postgres nats
	bash deploy/staging/staging.sh up

## staging-down: removes the staging stack (containers, network, volumes); nothing up is fine
staging-down:
	bash deploy/staging/staging.sh down

## smoke: the staging smoke suite (scenarios/smoke) against the stack staging-up started; elsewhere set
## the SMPP_SMOKE_* variables and run `go test ./scenarios/smoke/`
smoke:
	@test -f deploy/staging/.env || { echo "no deploy/staging/.env: run make staging-up first"; exit 1; }
	$(GO) test -count=1 ./scenarios/smoke/smokeenv/
	set -a && . deploy/staging/.env && set +a && $(GO) test -count=1 -timeout 20m ./scenarios/smoke/ -ginkgo.v

## smoke-failover: SIGKILL the connector replica owning the operators, then the smoke suite at once,
## pointed at the replica left: it takes over and every receipt still comes back; the killed replica
## is started again
smoke-failover:
	@test -f deploy/staging/.env || { echo "no deploy/staging/.env: run make staging-up first"; exit 1; }
	bash deploy/staging/staging.sh kill-owner
	set -a && . deploy/staging/.env && . deploy/staging/.run/failover.env && set +a && \
		$(GO) test -count=1 -timeout 20m ./scenarios/smoke/ -ginkgo.v; rc=$$?; \
		bash deploy/staging/staging.sh restart-killed || rc=1; exit $$rc

## connector-load: end-to-end throughput of the connector (JetStream in, PostgreSQL, simulator, receipts out)
connector-load:
	bash ci/build-images.sh postgres
	$(GO) test -count=1 -run '^$$' -bench BenchmarkConnectorEndToEnd -benchtime 20000x ./connector/service/

## connector-load-procs: the same as deployed: NATS a process of its own, PostgreSQL with fsync on, CPU per
## message of each (SMPP_BENCH_RATE=1000 make connector-load-procs: commands at a steady 1,000/s)
connector-load-procs:
	bash ci/build-images.sh postgres
	SMPP_BENCH_PROCESSES=1 $(GO) test -count=1 -run '^$$' -bench BenchmarkConnectorEndToEnd -benchtime 20000x ./connector/service/

## kannel-compare: Kannel 1.4.5 and the connector side by side on the same simulator, interleaved
## pairs (optional, not in test or CI; needs `apt-get install -y kannel`; see bench/kannel/README.md)
kannel-compare:
	bash bench/kannel/compare.sh

## gates: the phase gate suites only, then the summary table
gates: images
	$(GO) run github.com/onsi/ginkgo/v2/ginkgo -r --label-filter='phase1 || phase2 || phase3 || phase4' ./scenarios

## report: render reports/index.html again from the reports/*.json the suites left (runs no suite; each
## suite also renders it when it ends). SMPP_REPORT_DIR names another reports directory.
report:
	$(GO) run ./scenarios/cmd/gatereport

## images: the registry-free PostgreSQL, Vault and NATS images and the product images (cached; seconds
## when up to date)
images:
	bash ci/build-images.sh

## image: the product images only: smpp-connector and smscsim, tagged with `git describe --always --dirty`
## and latest (static binaries FROM scratch, non-root; `docker run --rm smscsim version`)
image:
	bash ci/build-images.sh connector smscsim

## bench: Go benchmarks (simulator throughput with receipts, encoders, meter)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 200000x ./smscsim/...

## load: 1M submit_sm with receipts against a running simulator (make run in another shell)
load: build
	./$(BIN)/smppload -addr 127.0.0.1:2775 -system-id test -password test -binds 1 -window 100 -n 1000000

## lint: go vet + gofmt check + the import rules (the simulator judges with its own code; the
## production binary does not link the embedded NATS server of the tests)
lint:
	$(GO) vet ./...
	@deps=$$($(GO) list -deps -test ./smscsim/... ./cmd/smscsim ./cmd/smppload | grep '/connector/'); \
	if [ -n "$$deps" ]; then echo "the simulator imports connector code:"; echo "$$deps"; exit 1; fi
	@if $(GO) list -deps ./cmd/smpp-connector | grep -q 'nats-server'; then \
	echo "cmd/smpp-connector links nats-server (it belongs to scenarios/testenv)"; exit 1; fi
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

## fuzz: run each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzReadPDU -fuzztime $(FUZZTIME) ./smscsim/wire
	$(GO) test -run '^$$' -fuzz FuzzSplitPDUs -fuzztime $(FUZZTIME) ./smscsim/replay
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./connector/dlr
	$(GO) test -run '^$$' -fuzz FuzzLooksLikeReceipt -fuzztime $(FUZZTIME) ./connector/dlr
	$(GO) test -run '^$$' -fuzz FuzzKey -fuzztime $(FUZZTIME) ./connector/dlr
	$(GO) test -run '^$$' -fuzz FuzzRead -fuzztime $(FUZZTIME) ./connector/inbound
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./connector/config
	$(GO) test -run '^$$' -fuzz FuzzAnswer -fuzztime $(FUZZTIME) ./connector/oms
	$(GO) test -run '^$$' -fuzz FuzzSegment -fuzztime $(FUZZTIME) ./connector/segment
	$(GO) test -run '^$$' -fuzz FuzzConcatJoin -fuzztime $(FUZZTIME) ./connector/segment
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./connector/segment
	$(GO) test -run '^$$' -fuzz FuzzParseScenario -fuzztime $(FUZZTIME) ./smscsim/scenario
	$(GO) test -run '^$$' -fuzz FuzzSession -fuzztime $(FUZZTIME) ./smscsim/server
	$(GO) test -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME) ./internal/yamlcheck

clean:
	rm -rf $(BIN) reports
