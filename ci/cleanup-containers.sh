#!/usr/bin/env bash
# Removes every container the scenario framework started (label
# smpp-connector.project=smpp-connector), with its anonymous volumes. CI calls it
# from a trap, so nothing is left behind even when a test binary is killed
# before its DeferCleanup ran (Ryuk, testcontainers' own reaper, cannot be pulled
# here and is disabled).
#
# Usage: ci/cleanup-containers.sh [SESSION_ID]
#   SESSION_ID  only the containers of that test session (label
#               smpp-connector.session=SESSION_ID, printed by the framework)
set -Eeuo pipefail

filter="label=smpp-connector.project=smpp-connector"
[ -n "${1:-}" ] && filter="label=smpp-connector.session=$1"

if ! docker info >/dev/null 2>&1; then
	echo "cleanup-containers: no Docker engine reachable; nothing to clean" >&2
	exit 0
fi
mapfile -t ids < <(docker ps -aq --filter "$filter")
if [ "${#ids[@]}" -eq 0 ]; then
	echo "cleanup-containers: no containers with $filter"
	exit 0
fi
echo "cleanup-containers: removing ${#ids[@]} container(s) with $filter"
docker rm -f -v "${ids[@]}" >/dev/null
