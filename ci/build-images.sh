#!/usr/bin/env bash
# Builds the offline look-alike images the scenario suites start with
# testcontainers-go (see ci/README.md):
#
#   smpp-ci/postgres:15       Debian bookworm's PostgreSQL 15 (debootstrap rootfs)
#   smpp-ci/vault:1.21.1      Vault server built from its Go module (ci/tools/vault)
#   smpp-ci/nats:2.12.0       nats-server built from the root module's tool directive
#
# and the product images, around the project's own static binaries (version
# stamped in from `git describe --always --dirty`; see deploy/images/):
#
#   smpp-connector:<version>  (and :latest)   cmd/smpp-connector
#   smscsim:<version>         (and :latest)   cmd/smscsim
#
# Usage: ci/build-images.sh [--force] [postgres|vault|nats|connector|smscsim ...]   (default: all five)
#
# Idempotent and cached: every image carries the label smpp-connector.recipe-hash,
# a hash of everything its recipe is made of; an image whose label matches is
# left alone, so a second run takes seconds. The product binaries are built
# every time (go build is cached, and relinks nothing when nothing changed) and
# their hash is part of their image's. The Vault and NATS binaries are
# cached too, under $SMPP_CI_CACHE (default ~/.cache/smpp-connector), keyed by a
# hash of the Go modules they are built from. The images are built in parallel;
# a failing step is named in the error, with the end of its log.
#
# Environment:
#   SMPP_CI_CACHE   cache and log directory (default ${XDG_CACHE_HOME:-~/.cache}/smpp-connector)
#   DEBIAN_MIRROR   Debian mirror for debootstrap (default: the machine's apt sources)
#   SMPP_CI_FORCE=1 same as --force: rebuild even when the hashes match
#   SMPP_CA_CERTS   CA bundle copied into the product images (default /etc/ssl/certs/ca-certificates.crt)
#
# The tags are also the defaults of scenarios/testenv (images.go): change both together.
set -Eeuo pipefail

readonly POSTGRES_TAG=smpp-ci/postgres:15
readonly POSTGRES_ROOTFS_TAG=smpp-ci/postgres-rootfs:bookworm
readonly VAULT_TAG=smpp-ci/vault:1.21.1
readonly NATS_TAG=smpp-ci/nats:2.12.0
readonly NATS_PKG=github.com/nats-io/nats-server/v2
readonly HASH_LABEL=smpp-connector.recipe-hash
readonly VERSION_PKG=github.com/smpp-connector/smpp-connector/internal/version
readonly PRODUCT_SOURCE=https://github.com/smpp-connector/smpp-connector

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CI="$ROOT/ci"
CACHE="${SMPP_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smpp-connector}"
CA_CERTS="${SMPP_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
FORCE="${SMPP_CI_FORCE:-}"
export GOWORK=off DOCKER_BUILDKIT=0

say() { printf '%s\n' "$*"; }
die() { printf 'build-images: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
sha() { sha256sum | cut -c1-64; }

# image_hash TAG: the recipe hash label of a local image, or nothing.
image_hash() {
	docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true
}

up_to_date() { # up_to_date TAG HASH
	[ -z "$FORCE" ] && [ "$(image_hash "$1")" = "$2" ]
}

# step NAME CMD...: runs one build step with errexit in force, its output going
# to the job's log; on failure names the step and shows the end of the log.
step() {
	local name="$1" t0 rc
	shift
	t0="$(now)"
	say "$JOB: $name ..."
	set +e
	(
		set -Eeuo pipefail
		"$@"
	) >>"$LOG" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		{
			say "build-images: error: step '$JOB: $name' failed (exit $rc); last lines of $LOG:"
			tail -n 25 "$LOG" | sed 's/^/    /'
		} >&2
		return "$rc"
	fi
	say "$JOB: $name done in $(since "$t0")"
}

# ---------------------------------------------------------------- PostgreSQL

# debian_mirror SUITE: the Debian mirror this machine's apt uses for SUITE.
debian_mirror() {
	local suite="$1" f uri=""
	if [ -n "${DEBIAN_MIRROR:-}" ]; then
		say "$DEBIAN_MIRROR"
		return
	fi
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822 format: paragraphs of "Key: value" lines.
		uri="$(awk -v suite="$suite" '
			BEGIN { RS = ""; FS = "\n" }
			{
				types = ""; uris = ""; suites = ""; enabled = "yes"
				for (i = 1; i <= NF; i++) {
					line = $i
					if (line ~ /^[ \t]*#/) continue
					key = tolower(line); sub(/:.*/, "", key)
					val = line; sub(/^[^:]*:[ \t]*/, "", val)
					if (key == "types") types = val
					else if (key == "uris") uris = val
					else if (key == "suites") suites = val
					else if (key == "enabled") enabled = tolower(val)
				}
				if (enabled == "no" || (" " types " ") !~ / deb /) next
				if ((" " suites " ") ~ (" " suite " ")) { split(uris, u, /[ \t]+/); print u[1]; exit }
			}' "$f")"
		[ -n "$uri" ] && break
	done
	if [ -z "$uri" ]; then
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			# one-line format: deb [options] uri suite components...
			uri="$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
				awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }')"
			[ -n "$uri" ] && break
		done
	fi
	[ -n "$uri" ] || return 1
	say "$uri"
}

ensure_debootstrap() {
	command -v debootstrap >/dev/null && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] && return 0
	[ "$(id -u)" = 0 ] || {
		say "debootstrap is missing and this is not root: apt-get install debootstrap debian-archive-keyring"
		return 1
	}
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends debootstrap debian-archive-keyring ||
		{ apt-get update && apt-get install -y --no-install-recommends debootstrap debian-archive-keyring; }
}

# mounts_under DIR: mount points at or below DIR (from this process's view).
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

unmount_under() {
	local m
	for m in $(mounts_under "$1" | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done
	[ -z "$(mounts_under "$1")" ] || { say "still mounted under $1: $(mounts_under "$1" | tr '\n' ' ')"; return 1; }
}

remove_rootfs() { # never follows a mount that debootstrap left behind (e.g. a bound /dev)
	[ -d "$1" ] || return 0
	unmount_under "$1"
	rm -rf --one-file-system "$1"
}

debootstrap_rootfs() { # debootstrap_rootfs DIR MIRROR
	local dir="$1" mirror="$2"
	# shellcheck source-path=SCRIPTDIR source=images/postgres/rootfs.conf
	. "$CI/images/postgres/rootfs.conf"
	# Two stages, so that a policy-rc.d is in place before the packages are
	# configured: no service may start inside the chroot.
	debootstrap --foreign --variant="$VARIANT" --include="$PACKAGES" \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg "$SUITE" "$dir" "$mirror"
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
	chmod 0755 "$dir/usr/sbin/policy-rc.d"
	chroot "$dir" /debootstrap/debootstrap --second-stage
	unmount_under "$dir"
	# Debian's default cluster is not used (the entrypoint makes one in PGDATA).
	rm -rf "$dir/etc/postgresql/15/main" "$dir/var/lib/postgresql/15/main"
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log
	rm -f "$dir/etc/apt/sources.list" # the mirror's name stays on this machine
}

import_rootfs() { # import_rootfs DIR HASH
	tar -C "$1" --numeric-owner --one-file-system -cf - . |
		docker import --change "LABEL $HASH_LABEL=$2" --change 'CMD ["/bin/bash"]' - "$POSTGRES_ROOTFS_TAG"
}

docker_build() { # docker_build TAG HASH CONTEXT [docker build args...]
	local tag="$1" hash="$2" ctx="$3"
	shift 3
	docker build --force-rm --label "$HASH_LABEL=$hash" --label "smpp-connector.recipe=$tag" \
		-t "$tag" "$@" "$ctx"
}

build_postgres() {
	local rootfs_hash hash dir mirror
	rootfs_hash="$(sha <"$CI/images/postgres/rootfs.conf")"
	hash="$(cat "$CI/images/postgres/Dockerfile" "$CI/images/postgres/docker-entrypoint.sh" |
		{ printf 'rootfs %s\n' "$rootfs_hash"; cat; } | sha)"
	if up_to_date "$POSTGRES_TAG" "$hash"; then
		say "$JOB: $POSTGRES_TAG is up to date"
		return 0
	fi
	if ! up_to_date "$POSTGRES_ROOTFS_TAG" "$rootfs_hash"; then
		[ "$(id -u)" = 0 ] || die "building the PostgreSQL root filesystem needs root (debootstrap, chroot)"
		step "install debootstrap" ensure_debootstrap
		mirror="$(debian_mirror bookworm)" ||
			die "no apt source for Debian bookworm found in /etc/apt; set DEBIAN_MIRROR to a Debian mirror URL"
		mkdir -p "$CACHE/tmp"
		dir="$(mktemp -d "$CACHE/tmp/postgres-rootfs.XXXXXX")"
		# shellcheck disable=SC2064
		trap "remove_rootfs '$dir' >/dev/null 2>&1 || true" EXIT
		step "debootstrap bookworm with postgresql" debootstrap_rootfs "$dir" "$mirror"
		step "docker import rootfs as $POSTGRES_ROOTFS_TAG" import_rootfs "$dir" "$rootfs_hash"
		step "remove rootfs directory" remove_rootfs "$dir"
		trap - EXIT
	fi
	step "docker build $POSTGRES_TAG" docker_build "$POSTGRES_TAG" "$hash" "$CI/images/postgres" \
		--build-arg "BASE_IMAGE=$POSTGRES_ROOTFS_TAG"
}

# --------------------------------------------------------------------- Vault

go_build_vault() { # go_build_vault OUT
	mkdir -p "$(dirname "$1")"
	(cd "$CI/tools/vault" && CGO_ENABLED=0 nice -n 10 go build -mod=readonly -trimpath \
		-ldflags "-s -w" -o "$1.tmp.$$" .)
	mv -f "$1.tmp.$$" "$1"
}

# image_from_binary TAG HASH DOCKERFILE_DIR BINARY NAME_IN_CONTEXT
image_from_binary() {
	local tag="$1" hash="$2" dockerdir="$3" bin="$4" name="$5" ctx
	mkdir -p "$CACHE/tmp"
	ctx="$(mktemp -d "$CACHE/tmp/context.XXXXXX")"
	cp "$dockerdir/Dockerfile" "$ctx/"
	ln "$bin" "$ctx/$name" 2>/dev/null || cp "$bin" "$ctx/$name"
	docker_build "$tag" "$hash" "$ctx" || { rm -rf "$ctx"; return 1; }
	rm -rf "$ctx"
}

build_vault() {
	local key hash bin t0
	key="$(cd "$CI/tools/vault" && cat go.mod go.sum main.go | sha)"
	hash="$({ printf 'binary %s\n' "$key"; cat "$CI/images/vault/Dockerfile"; } | sha)"
	if up_to_date "$VAULT_TAG" "$hash"; then
		say "$JOB: $VAULT_TAG is up to date"
		return 0
	fi
	bin="$CACHE/vault/$key/vault"
	if [ -x "$bin" ] && [ -z "$FORCE" ]; then
		say "$JOB: using the cached binary $bin"
	else
		step "go build vault (cold: 15-20 min on 2 cores)" go_build_vault "$bin"
	fi
	step "docker build $VAULT_TAG" image_from_binary "$VAULT_TAG" "$hash" "$CI/images/vault" "$bin" vault
}

# ---------------------------------------------------------------------- NATS

nats_modules() { # the module versions compiled into nats-server, from the root module
	(cd "$ROOT" && go list -mod=readonly -deps -f '{{with .Module}}{{.Path}}@{{.Version}}{{end}}' "$NATS_PKG" | sort -u)
}

go_build_nats() { # go_build_nats OUT
	mkdir -p "$(dirname "$1")"
	(cd "$ROOT" && CGO_ENABLED=0 nice -n 5 go build -mod=readonly -trimpath -ldflags "-s -w" \
		-o "$1.tmp.$$" "$NATS_PKG")
	mv -f "$1.tmp.$$" "$1"
}

build_nats() {
	local modules key hash bin
	modules="$(nats_modules 2>>"$LOG")" || {
		say "build-images: error: step '$JOB: go list $NATS_PKG' failed; is the root go.mod consistent? last lines of $LOG:" >&2
		tail -n 10 "$LOG" >&2
		return 1
	}
	key="$(printf '%s\n' "$modules" | sha)"
	hash="$({ printf 'binary %s\n' "$key"; cat "$CI/images/nats/Dockerfile"; } | sha)"
	if up_to_date "$NATS_TAG" "$hash"; then
		say "$JOB: $NATS_TAG is up to date"
		return 0
	fi
	bin="$CACHE/nats/$key/nats-server"
	if [ -x "$bin" ] && [ -z "$FORCE" ]; then
		say "$JOB: using the cached binary $bin"
	else
		step "go build nats-server" go_build_nats "$bin"
	fi
	step "docker build $NATS_TAG" image_from_binary "$NATS_TAG" "$hash" "$CI/images/nats" "$bin" nats-server
}

# ------------------------------------------------------ product images

# product_identity: the version, commit and date stamped into the product
# binaries and their labels. The date is the commit's, not the clock's, so the
# same checkout gives the same binary and the image cache holds.
product_identity() {
	PRODUCT_VERSION="$(git -C "$ROOT" describe --always --dirty 2>/dev/null)" || PRODUCT_VERSION=""
	PRODUCT_COMMIT="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null)" || PRODUCT_COMMIT=""
	PRODUCT_DATE="$(TZ=UTC git -C "$ROOT" log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)" || PRODUCT_DATE=""
	: "${PRODUCT_VERSION:=dev}" "${PRODUCT_COMMIT:=unknown}" "${PRODUCT_DATE:=unknown}"
	# A tag allows [A-Za-z0-9_.-], 128 characters, not starting with . or -.
	PRODUCT_TAG="$(printf '%s' "$PRODUCT_VERSION" | tr -c 'A-Za-z0-9_.-' '_' | sed 's/^[.-]*//' | cut -c1-128)"
	: "${PRODUCT_TAG:=dev}"
}

go_build_product() { # go_build_product OUT PACKAGE
	mkdir -p "$(dirname "$1")"
	# Built in place: when nothing changed, go build finds the binary up to date.
	(cd "$ROOT" && CGO_ENABLED=0 GOOS=linux GOARCH="${GOARCH:-$(go env GOARCH)}" go build -mod=readonly -trimpath -ldflags "-s -w \
		-X $VERSION_PKG.Version=$PRODUCT_VERSION -X $VERSION_PKG.Commit=$PRODUCT_COMMIT \
		-X $VERSION_PKG.Date=$PRODUCT_DATE" -o "$1" "$2")
}

# product_image TAG HASH NAME BINARY: the context is the Dockerfile, the
# binary, the CA bundle and the passwd and group files of deploy/images.
product_image() {
	local tag="$1" hash="$2" name="$3" bin="$4" ctx
	mkdir -p "$CACHE/tmp"
	ctx="$(mktemp -d "$CACHE/tmp/context.XXXXXX")"
	cp "$ROOT/deploy/images/$name/Dockerfile" "$ROOT/deploy/images/passwd" "$ROOT/deploy/images/group" "$ctx/"
	cp "$CA_CERTS" "$ctx/ca-certificates.crt"
	cp "$bin" "$ctx/$name"
	docker_build "$tag" "$hash" "$ctx" \
		--label "org.opencontainers.image.title=$name" \
		--label "org.opencontainers.image.version=$PRODUCT_VERSION" \
		--label "org.opencontainers.image.revision=$PRODUCT_COMMIT" \
		--label "org.opencontainers.image.created=$PRODUCT_DATE" \
		--label "org.opencontainers.image.source=$PRODUCT_SOURCE" \
		--label "org.opencontainers.image.licenses=NOASSERTION" || { rm -rf "$ctx"; return 1; }
	rm -rf "$ctx"
}

build_product() { # build_product NAME: smpp-connector or smscsim
	local name="$1" tag="$1:$PRODUCT_TAG" bin hash
	[ -r "$CA_CERTS" ] || {
		say "build-images: error: $JOB: no CA bundle at $CA_CERTS (apt-get install ca-certificates, or set SMPP_CA_CERTS)" >&2
		return 1
	}
	bin="$CACHE/product/$name/$name"
	step "go build $name $PRODUCT_VERSION" go_build_product "$bin" "./cmd/$name"
	hash="$({
		printf 'version %s\ncommit %s\ndate %s\nsource %s\n' "$PRODUCT_VERSION" "$PRODUCT_COMMIT" "$PRODUCT_DATE" "$PRODUCT_SOURCE"
		cat "$bin" "$ROOT/deploy/images/$name/Dockerfile" "$ROOT/deploy/images/passwd" "$ROOT/deploy/images/group" "$CA_CERTS"
	} | sha)"
	if up_to_date "$tag" "$hash"; then
		say "$JOB: $tag is up to date"
	else
		step "docker build $tag" product_image "$tag" "$hash" "$name" "$bin"
	fi
	docker tag "$tag" "$name:latest"
}

build_connector() { build_product smpp-connector; }
build_smscsim() { build_product smscsim; }

# ---------------------------------------------------------------------- main

# job NAME: one image's build under a per-image lock (so that two runs of this
# script wait for each other instead of building the same thing twice).
job() {
	JOB="$1"
	LOG="$CACHE/logs/$JOB.log"
	local t0 lock
	t0="$(now)"
	: >"$LOG"
	exec {lock}>"$CACHE/locks/$JOB.lock"
	if ! flock -n "$lock"; then
		say "$JOB: another build holds $CACHE/locks/$JOB.lock; waiting"
		flock "$lock"
	fi
	"build_$JOB"
	say "$JOB: finished in $(since "$t0")"
}

main() {
	local images=() img t0 failed=() rc
	declare -A pids=()
	while [ "$#" -gt 0 ]; do
		case "$1" in
		--force) FORCE=1 ;;
		postgres | vault | nats | connector | smscsim) images+=("$1") ;;
		smpp-connector) images+=(connector) ;;
		-h | --help)
			sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
			return 0
			;;
		*) die "unknown argument '$1' (expected --force, postgres, vault, nats, connector or smscsim)" ;;
		esac
		shift
	done
	[ "${#images[@]}" -gt 0 ] || images=(postgres vault nats connector smscsim)

	command -v docker >/dev/null || die "docker CLI not found"
	docker info >/dev/null 2>&1 || die "no Docker engine reachable (docker info failed): start Docker first"
	command -v go >/dev/null || die "go not found"
	command -v flock >/dev/null || die "flock not found (util-linux)"
	mkdir -p "$CACHE/logs" "$CACHE/locks" "$CACHE/tmp"
	product_identity

	t0="$(now)"
	for img in "${images[@]}"; do
		job "$img" &
		pids[$img]=$!
	done
	for img in "${images[@]}"; do
		set +e
		wait "${pids[$img]}"
		rc=$?
		set -e
		[ "$rc" -eq 0 ] || failed+=("$img")
	done
	if [ "${#failed[@]}" -gt 0 ]; then
		die "failed: ${failed[*]} (logs in $CACHE/logs/)"
	fi
	say "build-images: all images ready in $(since "$t0"): $(
		for img in "${images[@]}"; do
			case "$img" in
			postgres) printf '%s ' "$POSTGRES_TAG" ;;
			vault) printf '%s ' "$VAULT_TAG" ;;
			nats) printf '%s ' "$NATS_TAG" ;;
			connector) printf '%s ' "smpp-connector:$PRODUCT_TAG" ;;
			smscsim) printf '%s ' "smscsim:$PRODUCT_TAG" ;;
			esac
		done
	)"
}

main "$@"
