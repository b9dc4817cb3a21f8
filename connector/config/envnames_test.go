package config

import (
	"slices"
	"testing"
)

// EnvNames lists each variable ServiceFromEnv reads, once.
func TestEnvNames(t *testing.T) {
	names := EnvNames()
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("%s listed twice", n)
		}
		seen[n] = true
		var read bool
		_, _ = ServiceFromEnv(func(k string) string {
			if k == n {
				read = true
			}
			return ""
		})
		if !read {
			t.Errorf("%s is listed but ServiceFromEnv does not read it", n)
		}
	}
	for _, want := range []string{"SMPP_OPERATORS_FILE", "SMPP_SHADOW", "SMPP_HTTP_LISTEN", "SMPP_VAULT_TOKEN", "VAULT_ADDR"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s in %v", want, names)
		}
	}
}
