#!/usr/bin/env bash
# Kannel 1.4.5 and our connector side by side on the same simulator, on the
# same machine, interleaved pair by pair (see bench/kannel/README.md).
#
#   bash bench/kannel/compare.sh            # or: make kannel-compare
#   N=20000 PAIRS=3 MODES="max steady" RATE=1000 bash bench/kannel/compare.sh
#
# Settings (environment):
#   N            messages per run (default 20000)
#   PAIRS        interleaved pairs per mode (default 3); odd pairs run Kannel
#                first, even pairs ours first
#   MODES        "max" (each side as fast as it goes) and/or "steady" (paced at
#                RATE msg/s); default "max steady"
#   RATE         the steady rate (default 1000)
#   CONCURRENCY  concurrent sendsms HTTP clients for Kannel (default 100)
#   KANNEL_STORE empty (Kannel's default: queued messages in memory) or "spool"
#                (Kannel's message store, a file per message)
#   KANNEL_PORT_BASE  first of five loopback ports used (default 13900)
#   BEARERBOX, SMSBOX the Kannel binaries (default: bearerbox and smsbox on PATH or /usr/sbin)
#   OUT          results directory (default reports/kannel-compare-<UTC time>)
#
# It leaves in OUT, per run: kannel-MODE-PAIR.json (bench/kannel/kannelload),
# ours-MODE-PAIR.txt (go test -bench output), SIDE-MODE-PAIR.uptime (what the
# machine was doing just before), SIDE-MODE-PAIR.during (mean CPU % of each
# command during the run), Kannel's logs, bearerbox's status page and
# the simulator's counts after each Kannel run; and table.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
N=${N:-20000}
PAIRS=${PAIRS:-3}
MODES=${MODES:-max steady}
RATE=${RATE:-1000}
CONCURRENCY=${CONCURRENCY:-100}
KANNEL_STORE=${KANNEL_STORE:-}
PORT_BASE=${KANNEL_PORT_BASE:-13900}
OUT=${OUT:-$ROOT/reports/kannel-compare-$(date -u +%Y%m%dT%H%M%SZ)}
PATH=$PATH:/usr/sbin:/usr/local/sbin

die() { echo "compare.sh: $*" >&2; exit 1; }

# 1. Kannel must be there; it is not part of the repository.
BEARERBOX=${BEARERBOX:-bearerbox}
SMSBOX=${SMSBOX:-smsbox}
for box in "$BEARERBOX" "$SMSBOX"; do
	if ! command -v "$box" >/dev/null; then
		cat >&2 <<-EOF
		compare.sh: $box not found: Kannel is not installed.
		  Install it from Debian (Kannel 1.4.5 on bookworm):
		    apt-get update && apt-get install -y kannel
		EOF
		exit 2
	fi
done
KANNEL_VERSION=$("$BEARERBOX" --version 2>&1 | sed -n "s/.*bearerbox version \`\\([^']*\\)'.*/\\1/p" | head -1)
[ "$KANNEL_VERSION" = "1.4.5" ] || echo "compare.sh: warning: Kannel $KANNEL_VERSION, the goal is set against 1.4.5" >&2
case "$MODES" in *max*|*steady*) ;; *) die "MODES=\"$MODES\": want max and/or steady" ;; esac
case "$KANNEL_STORE" in ""|spool) ;; *) die "KANNEL_STORE=$KANNEL_STORE: want empty or spool" ;; esac

SIM_PORT=$PORT_BASE
SIM_CONTROL=$((PORT_BASE + 1))
ADMIN_PORT=$((PORT_BASE + 2))
SMSBOX_PORT=$((PORT_BASE + 3))
SENDSMS_PORT=$((PORT_BASE + 4))
for p in $SIM_PORT $SIM_CONTROL $ADMIN_PORT $SMSBOX_PORT $SENDSMS_PORT; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		die "port $p is in use (a Kannel or simulator still running?); set KANNEL_PORT_BASE"
	fi
done

mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/kannel-compare.XXXXXX)
STARTED=()
stop_pid() { # stop one process we started: TERM, then KILL after 15 s
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	echo "compare.sh: pid $pid still running 15 s after TERM: killed" >&2
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local i
	unwatch_cpu /dev/null
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED[i]}"; done
	STARTED=()
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "compare.sh: building the simulator and the Kannel load driver; images for our benchmark"
go build -o "$WORK/smscsim" ./cmd/smscsim
go build -o "$WORK/kannelload" ./bench/kannel/kannelload
bash ci/build-images.sh postgres nats

# snapshot records what else the machine was doing (load average and the
# busiest processes over one second) before a run.
snapshot() {
	{
		uptime
		top -b -n 2 -d 1 | awk '/^top -/ {n++} n == 2' | sed -n '3p;7,14p'
	} >"$1" 2>&1 || true
}

# watch_cpu samples every process's CPU every second while a run goes on (top in
# batch mode); unwatch_cpu stops it and leaves SIDE-MODE-PAIR.during: the mean
# CPU % of each command over the run, the busiest first (ours and Kannel's
# processes included: what is not theirs was running beside them).
WATCH=
watch_cpu() {
	top -b -d 1 -w 200 >"$WORK/top.out" 2>/dev/null &
	WATCH=$!
}
unwatch_cpu() {
	[ -n "$WATCH" ] || return 0
	kill "$WATCH" 2>/dev/null || true
	wait "$WATCH" 2>/dev/null || true
	WATCH=
	awk '/^top -/ {frames++; inproc = 0; next}
		/^ *PID / {inproc = 1; next}
		inproc && NF >= 12 && frames > 1 {cpu[$12] += $9}
		END {for (c in cpu) if (frames > 1) printf "%.0f %s\n", cpu[c] / (frames - 1), c}' "$WORK/top.out" |
		sort -rn | head -12 >"$1" || true
}

wait_port() { # host port seconds
	for _ in $(seq $(($3 * 10))); do
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listens on $1:$2 after $3 s"
}

# 2+3. The simulator as its own process (operator mno-a, account acme/pw, the
# default profile: a receipt for every message, as the connector benchmark's
# startSim), then bearerbox and smsbox, then the load.
run_kannel() { # mode pair
	local mode=$1 pair=$2 tag="kannel-$1-$2" store=""
	cat >"$WORK/sim.yaml" <<-EOF
	operators:
	  - id: mno-a
	    listen: 127.0.0.1:$SIM_PORT
	    accounts:
	      - {systemId: acme, password: pw}
	EOF
	"$WORK/smscsim" serve --config "$WORK/sim.yaml" --control "127.0.0.1:$SIM_CONTROL" --log-level warn \
		>"$OUT/$tag.smscsim.log" 2>&1 &
	local sim=$!
	STARTED+=("$sim")
	wait_port 127.0.0.1 "$SIM_PORT" 30

	if [ "$KANNEL_STORE" = spool ]; then
		mkdir -p "$WORK/spool-$tag"
		store="store-type = spool\nstore-location = \"$WORK/spool-$tag\""
	fi
	sed -e "s|@ADMIN_PORT@|$ADMIN_PORT|g; s|@SMSBOX_PORT@|$SMSBOX_PORT|g; s|@SENDSMS_PORT@|$SENDSMS_PORT|g" \
		-e "s|@SIM_PORT@|$SIM_PORT|g; s|@STORE@|$store|g" bench/kannel/kannel.conf.tmpl >"$OUT/$tag.kannel.conf"
	local status="http://127.0.0.1:$ADMIN_PORT/status.txt?password=bench"
	"$BEARERBOX" -v 2 "$OUT/$tag.kannel.conf" >"$OUT/$tag.bearerbox.log" 2>&1 &
	local bb=$!
	STARTED+=("$bb")
	"$WORK/kannelload" wait -status "$status" -timeout 60s || die "bearerbox did not bind (see $OUT/$tag.bearerbox.log)"
	"$SMSBOX" -v 2 "$OUT/$tag.kannel.conf" >"$OUT/$tag.smsbox.log" 2>&1 &
	local sb=$!
	STARTED+=("$sb")
	"$WORK/kannelload" wait -status "$status" -smsbox -dial "127.0.0.1:$SENDSMS_PORT" -timeout 60s ||
		die "smsbox did not connect (see $OUT/$tag.smsbox.log)"

	local rate=0
	[ "$mode" = steady ] && rate=$RATE
	snapshot "$OUT/$tag.uptime"
	echo "== $tag: $N messages, rate $rate (0: unpaced), $CONCURRENCY sendsms clients; $(uptime)"
	watch_cpu
	"$WORK/kannelload" run -sendsms "http://127.0.0.1:$SENDSMS_PORT/cgi-bin/sendsms" -user bench -pass bench \
		-n "$N" -rate "$rate" -concurrency "$CONCURRENCY" -pid "bearerbox=$bb" -pid "smsbox=$sb" \
		>"$OUT/$tag.json" 2> >(tee "$OUT/$tag.log" >&2) || echo "compare.sh: the Kannel run $tag failed" >&2
	unwatch_cpu "$OUT/$tag.during"
	# what each side counted: bearerbox's status page and the simulator's stats (submit_sm, receipts)
	curl -s "$status" >"$OUT/$tag.status.txt" 2>/dev/null || true
	curl -s "http://127.0.0.1:$SIM_CONTROL/stats" >"$OUT/$tag.smscsim-stats.json" 2>/dev/null || true
	grep -E '"(msgPerS|dlrP50Ms|dlrP99Ms|total|missing)"' "$OUT/$tag.json" | tr -s ' \n' ' ' || true
	echo
	stop_pid "$sb"
	stop_pid "$bb"
	stop_pid "$sim"
	STARTED=()
}

# 4. Our benchmark, PostgreSQL durable (fsync on). SMPP_BENCH_PROCESSES=1 and
# SMPP_BENCH_RATE are honoured by benchmarks that know them; the table says
# when a steady run was not paced.
run_ours() { # mode pair
	local mode=$1 pair=$2 tag="ours-$1-$2"
	local env=(SMPP_TEST_PG_DURABLE=1 SMPP_BENCH_PROCESSES=1)
	[ "$mode" = steady ] && env+=("SMPP_BENCH_RATE=$RATE")
	snapshot "$OUT/$tag.uptime"
	echo "== $tag: ${env[*]} go test -count=1 -run '^\$' -bench BenchmarkConnectorEndToEnd -benchtime ${N}x ./connector/service/; $(uptime)"
	watch_cpu # from the build on: the test binary and the connector are built inside
	env "${env[@]}" go test -count=1 -run '^$' -bench BenchmarkConnectorEndToEnd -benchtime "${N}x" ./connector/service/ \
		>"$OUT/$tag.txt" 2>&1 || echo "compare.sh: our benchmark $tag failed (see $OUT/$tag.txt)" >&2
	unwatch_cpu "$OUT/$tag.during"
	if [ "$mode" = steady ] && ! grep -rqs SMPP_BENCH_RATE connector/service/; then
		echo "compare.sh: SMPP_BENCH_RATE is unknown to this benchmark: this run was not paced" | tee -a "$OUT/$tag.txt" >&2
	fi
	grep '^BenchmarkConnectorEndToEnd' "$OUT/$tag.txt" || tail -5 "$OUT/$tag.txt"
}

{
	echo "started $(date -u +%FT%TZ) on $(hostname), $(nproc) cores; Kannel $KANNEL_VERSION; commit $(git rev-parse --short HEAD 2>/dev/null)"
	echo "N=$N PAIRS=$PAIRS MODES=\"$MODES\" RATE=$RATE CONCURRENCY=$CONCURRENCY KANNEL_STORE=${KANNEL_STORE:-memory}"
} | tee "$OUT/settings.txt"

for pair in $(seq "$PAIRS"); do
	for mode in $MODES; do
		if ((pair % 2 == 1)); then
			run_kannel "$mode" "$pair"
			run_ours "$mode" "$pair"
		else
			run_ours "$mode" "$pair"
			run_kannel "$mode" "$pair"
		fi
	done
done

# 5. The table.
echo
"$WORK/kannelload" table -dir "$OUT" | tee "$OUT/table.txt"
echo "results in $OUT"
