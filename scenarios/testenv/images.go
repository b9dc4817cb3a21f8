package testenv

import "os"

// Default images: the local look-alikes built by ci/build-images.sh. Keep them
// in step with the tags in that script.
const (
	DefaultPostgresImage = "smpp-ci/postgres:15"
	DefaultVaultImage    = "smpp-ci/vault:1.21.1"
	DefaultNATSImage     = "smpp-ci/nats:2.12.0"

	// localImagePrefix marks images that only ci/build-images.sh makes: they are
	// never pulled, and their absence is reported with the command to build them.
	localImagePrefix = "smpp-ci/"
)

// Environment variables naming the images of the containers provider.
const (
	EnvPostgresImage = "SMPP_POSTGRES_IMAGE"
	EnvVaultImage    = "SMPP_VAULT_IMAGE"
	EnvNATSImage     = "SMPP_NATS_IMAGE"
)

// Images are the container images the containers provider starts.
type Images struct {
	Postgres, Vault, NATS string
}

// ImagesFromEnv returns the images named by SMPP_POSTGRES_IMAGE,
// SMPP_VAULT_IMAGE and SMPP_NATS_IMAGE, or the local look-alikes.
func ImagesFromEnv() Images {
	return Images{
		Postgres: envOr(EnvPostgresImage, DefaultPostgresImage),
		Vault:    envOr(EnvVaultImage, DefaultVaultImage),
		NATS:     envOr(EnvNATSImage, DefaultNATSImage),
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
