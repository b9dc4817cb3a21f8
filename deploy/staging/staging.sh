#!/usr/bin/env bash
# The staging stack on one machine: `make staging-up` / `make staging-down`.
#
#   deploy/staging/staging.sh up     start it (or check it: running it again is harmless),
#                                    wait until it is ready, print and write deploy/staging/.env
#   deploy/staging/staging.sh down   remove its containers, network and volumes (nothing up: no-op)
#   deploy/staging/staging.sh env    print deploy/staging/.env (the smoke suite's variables)
#   deploy/staging/staging.sh kill-owner   SIGKILL the connector replica owning the operators
#                                    (a node lost: no drain), to see the standby take over
#   deploy/staging/staging.sh restart-killed   start the replica kill-owner killed again
#
# The product images (smpp-connector:latest, smscsim:latest) and the registry-free
# smpp-ci/postgres and smpp-ci/nats images must exist (make images); smpp-ci/vault
# is used when it exists, else the credentials are rendered to files.
#
# Everything is in the compose project smpp-staging (STAGING_PROJECT): its
# containers carry that project's label only, so neither the tests' cleanup
# (ci/cleanup-containers.sh) nor this script touches the other's.
#
# Environment: STAGING_PROJECT (default smpp-staging), STAGING_TIMEOUT (seconds
# to wait for readiness, default 240), STAGING_CREDENTIALS=vault|files to force
# the credential source.
set -Eeuo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN="$DIR/.run"
ENV_FILE="$DIR/.env"
PROJECT="${STAGING_PROJECT:-smpp-staging}"
TIMEOUT="${STAGING_TIMEOUT:-240}"
VAULT_IMAGE=smpp-ci/vault:1.21.1
# The demo operators (deploy/smscsim-demo.yaml, deploy/connector-demo.yaml) and
# the accounts the simulator accepts for them.
OPERATORS="mno-a mno-b"
declare -A SYSTEM_ID=([mno-a]=test [mno-b]=acme) PASSWORD=([mno-a]=test [mno-b]=secret1)

say() { printf 'staging: %s\n' "$*"; }
die() { printf 'staging: error: %s\n' "$*" >&2; exit 1; }

compose() {
	local files=(-f "$DIR/docker-compose.yml")
	case "${MODE:-}" in
	vault) files+=(-f "$DIR/vault.yml") ;;
	files) files+=(-f "$DIR/files.yml") ;;
	all) files+=(-f "$DIR/vault.yml" -f "$DIR/files.yml") ;;
	esac
	docker-compose --project-name "$PROJECT" --project-directory "$DIR" "${files[@]}" "$@"
}

# port SERVICE PORT: the 127.0.0.1 port Docker published for it.
port() {
	local p
	p="$(compose port "$1" "$2" 2>/dev/null | tail -1)"
	[ -n "$p" ] || die "no published port for $1:$2 (is it running? docker-compose -p $PROJECT ps)"
	printf '%s\n' "${p##*:}"
}

# wait_for WHAT CMD...: retries CMD every second until it succeeds or TIMEOUT.
wait_for() {
	local what="$1" t0=$SECONDS
	shift
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS - t0 > TIMEOUT)); then
			# Once more with its output, to show why.
			"$@" >&2 || true
			compose ps >&2 || true
			die "$what not ready within ${TIMEOUT}s"
		fi
		sleep 1
	done
	say "$what ready ($((SECONDS - t0))s)"
}

random_token() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# render: the secrets of this stack (kept across runs, so that a second `up`
# changes nothing) and the files derived from the demo configuration, with
# container addresses instead of loopback ones.
render() {
	mkdir -p "$RUN/secrets"
	if [ ! -f "$RUN/stack.env" ]; then
		umask 077
		cat >"$RUN/stack.env" <<-EOF
			STAGING_PG_PASSWORD=$(random_token)
			STAGING_SMSCSIM_TOKEN=$(random_token)
			STAGING_VAULT_TOKEN=root-$(random_token)
		EOF
		umask 022
	fi
	set -a
	# shellcheck disable=SC1091
	. "$RUN/stack.env"
	set +a
	local root="$DIR/../.."
	sed 's/listen: 127\.0\.0\.1:/listen: 0.0.0.0:/' "$root/deploy/smscsim-demo.yaml" >"$RUN/smscsim.yaml"
	sed 's/address: 127\.0\.0\.1:/address: smscsim:/' "$root/deploy/connector-demo.yaml" >"$RUN/operators-vault.yaml"
	awk '{ print } /^  - id: / { print "    credentials: {file: /etc/smpp/secrets/" $3 ".json}" }' \
		"$RUN/operators-vault.yaml" >"$RUN/operators-files.yaml"
	for op in $OPERATORS; do
		grep -q "id: $op\$" "$RUN/operators-vault.yaml" || die "operator $op is not in deploy/connector-demo.yaml"
		printf '{"system_id":"%s","password":"%s"}\n' "${SYSTEM_ID[$op]}" "${PASSWORD[$op]}" >"$RUN/secrets/$op.json"
	done
	# Read by the connectors' non-root user (65532) through the bind mount.
	chmod 0755 "$RUN" "$RUN/secrets"
	chmod 0644 "$RUN"/*.yaml "$RUN"/secrets/*.json
}

# receipt_parts: each operator's quirks.receiptParts (default each), as the
# smoke suite wants them: id=style,...
receipt_parts() {
	awk '/^  - id: / { id = $3 } /receiptParts: *[a-z]+/ { match($0, /receiptParts: *[a-z]+/);
		v = substr($0, RSTART, RLENGTH); sub(/receiptParts: */, "", v); style[id] = v }
		END { for (i in style) printf "%s%s=%s", (n++ ? "," : ""), i, style[i] }' "$RUN/operators-vault.yaml"
}

healthy() { curl -fsS --max-time 3 "$1/healthz"; }

# owner_of_all URL...: one connector answers /readyz with ready true and owns
# every operator (none on its standby list, none among its problems).
owner_of_all() {
	local url body op
	for url in "$@"; do
		body="$(curl -fsS --max-time 3 "$url/readyz" 2>/dev/null)" || continue
		for op in $OPERATORS; do
			jq -e --arg op "$op" '.ready == true and ((.standby // []) | index($op) | not)
				and ((.problems // {}) | has($op) | not)' <<<"$body" >/dev/null || continue 2
		done
		OWNER="$url"
		return 0
	done
	return 1
}

up() {
	command -v docker-compose >/dev/null || die "docker-compose is not installed"
	command -v jq >/dev/null || die "jq is not installed"
	for img in smpp-connector:latest smscsim:latest smpp-ci/postgres:15 smpp-ci/nats:2.12.0; do
		docker image inspect "$img" >/dev/null 2>&1 || die "image $img is missing: run make images"
	done
	MODE="${STAGING_CREDENTIALS:-}"
	if [ -z "$MODE" ]; then
		MODE=files
		if docker image inspect "$VAULT_IMAGE" >/dev/null 2>&1; then MODE=vault; fi
	fi
	case "$MODE" in vault | files) ;; *) die "STAGING_CREDENTIALS must be vault or files, not $MODE" ;; esac
	render
	if [ "$MODE" = vault ]; then
		say "credentials: Vault dev server ($VAULT_IMAGE), secret/smpp/operators/{id} written at startup"
	else
		local why="no $VAULT_IMAGE image: make images builds it"
		[ -n "${STAGING_CREDENTIALS:-}" ] && why="STAGING_CREDENTIALS=files"
		say "credentials: rendered files (deploy/staging/.run/secrets; $why)"
	fi

	local infra=(postgres nats smscsim)
	[ "$MODE" = vault ] && infra+=(vault)
	compose up -d --remove-orphans "${infra[@]}"
	wait_for "postgres" compose exec -T postgres pg_isready -U smpp -d smpp -h 127.0.0.1
	# The k8s migration Job: migrations are idempotent, so a second up runs
	# it again harmlessly.
	wait_for "migrations" compose run --rm migrate
	if [ "$MODE" = vault ]; then
		local vault="http://127.0.0.1:$(port vault 8200)"
		wait_for "vault" curl -fsS --max-time 3 "$vault/v1/sys/health"
		for op in $OPERATORS; do
			curl -fsS --max-time 10 -H "X-Vault-Token: $STAGING_VAULT_TOKEN" -X POST \
				-d "{\"data\":{\"system_id\":\"${SYSTEM_ID[$op]}\",\"password\":\"${PASSWORD[$op]}\"}}" \
				"$vault/v1/secret/data/smpp/operators/$op" >/dev/null || die "writing $op's credential to Vault failed"
		done
		say "vault: credentials of $OPERATORS written"
	fi
	# connector-1 first, and connector-2 once it owns every operator: two
	# replicas started together may each win some of the operators' leases,
	# and nothing moves an operator while its owner lives, so the smoke
	# suite (all operators on one connector, the other standing by for
	# smoke-failover) would wait forever. A rolling deploy starts them one
	# by one too.
	compose up -d --remove-orphans connector-1
	local urls=() u
	u="http://127.0.0.1:$(port connector-1 8080)"
	urls+=("$u")
	wait_for "connector-1 /healthz ($u)" healthy "$u"
	OWNER=""
	wait_for "operators $OPERATORS on connector-1 (/readyz)" owner_of_all "$u"
	compose up -d --remove-orphans
	u="http://127.0.0.1:$(port connector-2 8080)"
	urls+=("$u")
	wait_for "connector-2 /healthz ($u)" healthy "$u"
	owner_of_all "${urls[@]}"

	local nats_url="nats://127.0.0.1:$(port nats 4222)"
	local sim_url="http://127.0.0.1:$(port smscsim 8775)"
	local pg_dsn="postgres://smpp:$STAGING_PG_PASSWORD@127.0.0.1:$(port postgres 5432)/smpp?sslmode=disable"
	{
		echo "# Written by deploy/staging/staging.sh up: the staging stack's endpoints."
		echo "# The smoke suite (make smoke) reads the SMPP_SMOKE_* variables."
		echo "SMPP_SMOKE_NATS_URL=$nats_url"
		echo "SMPP_SMOKE_SIM_URL=$sim_url"
		echo "SMPP_SMOKE_SIM_TOKEN=$STAGING_SMSCSIM_TOKEN"
		echo "SMPP_SMOKE_CONNECTOR_URLS=$(
			IFS=,
			echo "${urls[*]}"
		)"
		echo "SMPP_SMOKE_OPERATORS=$(echo "$OPERATORS" | tr ' ' ,)"
		echo "SMPP_SMOKE_RECEIPT_PARTS=$(receipt_parts)"
		echo "# For people, not the suite:"
		echo "STAGING_CREDENTIALS=$MODE"
		echo "STAGING_POSTGRES_DSN=$pg_dsn"
		[ "$MODE" = vault ] && echo "STAGING_VAULT_ADDR=http://127.0.0.1:$(port vault 8200)" &&
			echo "STAGING_VAULT_TOKEN=$STAGING_VAULT_TOKEN"
		echo "STAGING_SMPP_MNO_A=127.0.0.1:$(port smscsim 2775)"
		echo "STAGING_SMPP_MNO_B=127.0.0.1:$(port smscsim 2776)"
	} >"$ENV_FILE"
	chmod 0600 "$ENV_FILE"
	say "operators owned by $OWNER (the other replica stands by)"
	say "ready; environment (also in $ENV_FILE):"
	grep -v '^#' "$ENV_FILE" | sed 's/^/  /'
}

down() {
	# Every file, so that whichever credential source ran is removed; the
	# values only need to be set for compose to read the files.
	export STAGING_SMSCSIM_TOKEN="${STAGING_SMSCSIM_TOKEN:-unused}" STAGING_VAULT_TOKEN="${STAGING_VAULT_TOKEN:-unused}"
	MODE=all
	compose --profile jobs down --volumes --remove-orphans --timeout 60
	rm -rf "$RUN" "$ENV_FILE"
	say "removed (project $PROJECT)"
}

# stack_env: the variables compose needs to read the project's files, and
# the credential source up chose.
stack_env() {
	[ -f "$ENV_FILE" ] && [ -f "$RUN/stack.env" ] || die "no staging stack: run make staging-up"
	set -a
	# shellcheck disable=SC1091
	. "$RUN/stack.env"
	set +a
	MODE="$(sed -n 's/^STAGING_CREDENTIALS=//p' "$ENV_FILE")"
}

# kill_owner: SIGKILL the replica owning the operators, the way a node dies:
# no drain, its in-flight work and its lease's session cut.
kill_owner() {
	stack_env
	local svc u killed="" survivors=()
	for svc in connector-1 connector-2; do
		u="http://127.0.0.1:$(port "$svc" 8080)"
		if [ -z "$killed" ] && owner_of_all "$u"; then
			killed="$svc"
			compose kill -s SIGKILL "$svc" >/dev/null
			echo "$svc" >"$RUN/killed"
			say "killed $svc ($u, owner of $OPERATORS) with SIGKILL: the other replica takes over"
		else
			survivors+=("$u")
		fi
	done
	[ -n "$killed" ] || die "no connector replica owns every operator now"
	# The smoke suite, pointed at the replicas left (make smoke-failover).
	echo "SMPP_SMOKE_CONNECTOR_URLS=$(IFS=,; echo "${survivors[*]}")" >"$RUN/failover.env"
}

# restart_killed: start the replica kill_owner killed and wait until it
# answers (it stands by: the other replica owns the operators now).
restart_killed() {
	stack_env
	[ -f "$RUN/killed" ] || { say "no replica was killed"; return 0; }
	local svc
	svc="$(cat "$RUN/killed")"
	compose start "$svc" >/dev/null
	wait_for "$svc /healthz" healthy "http://127.0.0.1:$(port "$svc" 8080)"
	rm -f "$RUN/killed" "$RUN/failover.env"
}

case "${1:-}" in
up) up ;;
down) down ;;
kill-owner) kill_owner ;;
restart-killed) restart_killed ;;
env) [ -f "$ENV_FILE" ] || die "no $ENV_FILE: run make staging-up"; cat "$ENV_FILE" ;;
*) die "usage: $0 up|down|env|kill-owner|restart-killed" ;;
esac
