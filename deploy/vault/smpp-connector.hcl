# smpp-connector's Vault policy: read the operators' SMPP credentials in KV
# v2, nothing else. Load it with setup.sh beside this file.
#
# The connector reads an operator's secret (the latest version, or the one a
# rotation names) at <mount>/data/smpp/operators/<id>, and polls
# <mount>/metadata/smpp/operators/<id> for its current version to notice a
# rotation without fetching the password each time (connector/secrets).
# "+" is one path segment: an operator's secret, not anything below it.
# No "list": the operators file names the ids, and listing would tell a
# leaked token which operators exist. `smpp-connector preflight` checks that
# a read beside these paths is refused.
#
# "secret" is SMPP_VAULT_KV_MOUNT's default and smpp/operators/<id> the
# operators file's default credentials.vaultPath: change these paths with
# either (internal/manifests tests them against both, for every overlay).
# Token renewal and lookup need no rule here: Vault's "default" policy, which
# the role keeps, allows them.
path "secret/data/smpp/operators/+" {
  capabilities = ["read"]
}

path "secret/metadata/smpp/operators/+" {
  capabilities = ["read"]
}
