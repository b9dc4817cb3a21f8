package framework

import (
	"errors"
	"os"
	"path/filepath"
)

// Environment variables for the report locations.
const (
	EnvReportDir = "SMPP_REPORT_DIR"
	EnvGatesFile = "SMPP_GATES_FILE"
)

// RepoRoot returns the repository root: the nearest directory above the
// working directory (a suite's package directory under go test) that holds
// scenarios/gates.yaml.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scenarios", "gates.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root not found (no scenarios/gates.yaml above the working directory)")
		}
		dir = parent
	}
}

// ReportDir is SMPP_REPORT_DIR, or reports/ under the repository root.
func ReportDir() (string, error) {
	if d := os.Getenv(EnvReportDir); d != "" {
		return d, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "reports"), nil
}

// GatesFile is SMPP_GATES_FILE, or scenarios/gates.yaml under the repository root.
func GatesFile() (string, error) {
	if f := os.Getenv(EnvGatesFile); f != "" {
		return f, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "scenarios", "gates.yaml"), nil
}
