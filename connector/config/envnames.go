package config

// EnvNames lists every environment variable the service settings read: the
// SMPP_* variables of the settings table, then VAULT_ADDR and VAULT_TOKEN,
// read when SMPP_VAULT_ADDR and SMPP_VAULT_TOKEN are not set. Deployment
// manifests are tested against it (deploy/kubernetes).
func EnvNames() []string {
	var s Service
	var names []string
	for _, st := range s.settings() {
		names = append(names, st.env)
	}
	return append(names, "VAULT_ADDR", "VAULT_TOKEN")
}
