#!/bin/sh
# Loads smpp-connector's Vault policy (smpp-connector.hcl) and its Kubernetes
# auth role (role.json): the ServiceAccount smpp-connector of the overlays'
# namespaces (smpp: production-shadow and production; smpp-staging) logs in
# as role smpp-connector (the Deployment's SMPP_VAULT_ROLE) with a projected
# service-account token of audience "vault" (SMPP_VAULT_JWT_PATH; a token of
# another audience, e.g. the API server's, is refused) and gets a token
# with policy smpp-connector, valid 1 h and renewed by the connector, which
# logs in again before the 4 h maximum. internal/manifests checks the names
# against the manifests.
#
# Needs the vault CLI, VAULT_ADDR and a token that may write sys/policy and
# the auth method's roles, and the Kubernetes auth method enabled and
# configured (vault auth enable kubernetes; vault write auth/kubernetes/config
# kubernetes_host=...). SMPP_VAULT_AUTH_MOUNT: where it is mounted (default
# kubernetes, as the connector's). Running it again overwrites both with the
# same content.
set -eu
here=$(dirname "$0")
mount=${SMPP_VAULT_AUTH_MOUNT:-kubernetes}
vault policy write smpp-connector "$here/smpp-connector.hcl"
# "-" reads every parameter of the role from role.json (JSON on stdin).
vault write "auth/$mount/role/smpp-connector" - < "$here/role.json"
