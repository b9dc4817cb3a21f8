// Command vault is the HashiCorp Vault server and CLI, built from its Go module so
// that CI can make a Vault look-alike image without pulling from a registry.
// See ci/README.md.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
