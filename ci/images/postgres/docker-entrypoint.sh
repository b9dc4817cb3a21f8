#!/bin/bash
# Entrypoint of the PostgreSQL look-alike image (ci/images/postgres). It mimics
# the official image's entrypoint closely enough for testcontainers-go's
# modules/postgres and for anyone who knows the official image:
#   - POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
#     POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default: the user),
#     POSTGRES_INITDB_ARGS, PGDATA;
#   - `docker run IMAGE postgres -c x=y` and `docker run IMAGE -c x=y` both run
#     the server with those options; any other command is executed as is;
#   - a fresh data directory is initialised with a temporary server (listening
#     on the Unix socket only) that runs /docker-entrypoint-initdb.d/*.sql|*.sh,
#     so "database system is ready to accept connections" is logged twice, as
#     the official image does: once for that server, once for the real one;
#   - the real server listens on 0.0.0.0:5432 and accepts password (SCRAM)
#     authentication from any address.
set -Eeuo pipefail

log() { echo "docker-entrypoint: $*" >&2; }
die() { log "error: $*"; exit 1; }

if [ "${1:-}" = postgres ]; then
	shift
elif [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
	exec "$@" # not a server option: run the command given (e.g. bash)
fi

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export PGDATA

as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
	else
		"$@"
	fi
}

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 0700 "$PGDATA"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		die "database is uninitialized and POSTGRES_PASSWORD is not set; set it (or POSTGRES_HOST_AUTH_METHOD=trust)"
	fi
	log "initialising the cluster in $PGDATA for user $POSTGRES_USER"
	pwfile="$(mktemp)"
	printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
	chown postgres:postgres "$pwfile" 2>/dev/null || true
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image
	as_postgres initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \
		--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
		${POSTGRES_INITDB_ARGS:-} >&2
	rm -f "$pwfile"
	{
		echo
		echo "# added by docker-entrypoint.sh: password authentication from anywhere"
		echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
	} >>"$PGDATA/pg_hba.conf"
	echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

	# Temporary server on the Unix socket only, for the init steps.
	as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >&2

	psql_init=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password --host /var/run/postgresql)
	if [ "$POSTGRES_DB" != postgres ]; then
		as_postgres "${psql_init[@]}" --dbname postgres -v db="$POSTGRES_DB" <<-'SQL' >&2
			CREATE DATABASE :"db";
		SQL
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
		*.sh)
			log "running $f"
			# shellcheck disable=SC1090 # the image user's own init scripts
			. "$f"
			;;
		*.sql) log "running $f"; as_postgres "${psql_init[@]}" --dbname "$POSTGRES_DB" -f "$f" >&2 ;;
		*.sql.gz) log "running $f"; gunzip -c "$f" | as_postgres "${psql_init[@]}" --dbname "$POSTGRES_DB" >&2 ;;
		*) log "ignoring $f" ;;
		esac
	done

	as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >&2
	log "PostgreSQL init process complete; ready for start up."
fi

if [ "$(id -u)" = 0 ]; then
	exec setpriv --reuid=postgres --regid=postgres --init-groups -- postgres "$@"
fi
exec postgres "$@"
