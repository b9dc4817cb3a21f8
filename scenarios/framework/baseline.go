package framework

import (
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	"gopkg.in/yaml.v3"
)

// EnvBaselineFile overrides scenarios/baseline.yaml.
const EnvBaselineFile = "SMPP_BASELINE_FILE"

// Baseline is the legacy dispatcher's figures (scenarios/baseline.yaml), in
// percent.
type Baseline struct {
	SubmitSuccess float64 `yaml:"submitSuccess"` // submit_sm accepted
	ReceiptRate   float64 `yaml:"receiptRate"`   // accepted messages with a receipt
}

// ParseBaseline reads a baseline file and checks its figures.
func ParseBaseline(b []byte) (Baseline, error) {
	var bl Baseline
	if err := yaml.Unmarshal(b, &bl); err != nil {
		return bl, fmt.Errorf("baseline: %w", err)
	}
	for name, v := range map[string]float64{"submitSuccess": bl.SubmitSuccess, "receiptRate": bl.ReceiptRate} {
		if v <= 0 || v > 100 {
			return bl, fmt.Errorf("baseline: %s: want a percentage in (0, 100], got %v", name, v)
		}
	}
	return bl, nil
}

// LoadBaseline reads SMPP_BASELINE_FILE or scenarios/baseline.yaml; a
// missing or invalid file fails the calling node.
func LoadBaseline() Baseline {
	GinkgoHelper()
	path := os.Getenv(EnvBaselineFile)
	if path == "" {
		root, err := RepoRoot()
		if err != nil {
			Fail(err.Error())
		}
		path = filepath.Join(root, "scenarios", "baseline.yaml")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		Fail(err.Error())
	}
	bl, err := ParseBaseline(b)
	if err != nil {
		Fail(fmt.Sprintf("%s: %v", path, err))
	}
	return bl
}

// Destination ranges of a Mix: the gate suites make the simulated SMSC
// reject submits to RejectPrefix and lose receipts of NoReceiptPrefix.
const (
	RejectPrefix    = "4477009990"
	NoReceiptPrefix = "4477009991"
	plainPrefix     = "4477009000"
)

// Mix spreads n messages over the three destination ranges in the
// baseline's proportions.
type Mix struct {
	N, Rejected, NoReceipt int
}

// Mix shapes n messages to the baseline.
func (b Baseline) Mix(n int) Mix {
	rejected := int(float64(n)*(100-b.SubmitSuccess)/100 + 0.5)
	accepted := n - rejected
	return Mix{N: n, Rejected: rejected, NoReceipt: int(float64(accepted)*(100-b.ReceiptRate)/100 + 0.5)}
}

// Destination of message i (0 <= i < N): the picks of each range are spread
// evenly over the run rather than bunched at its start.
func (m Mix) Destination(i int) string {
	picked := func(i, k, n int) bool { return (i+1)*k/n > i*k/n }
	if picked(i, m.Rejected, m.N) {
		return fmt.Sprintf("%s%03d", RejectPrefix, i%1000)
	}
	// Among the accepted ones: their index without the rejected before them.
	j := i - (i+1)*m.Rejected/m.N
	if picked(j, m.NoReceipt, m.N-m.Rejected) {
		return fmt.Sprintf("%s%03d", NoReceiptPrefix, i%1000)
	}
	return fmt.Sprintf("%s%03d", plainPrefix, i%1000)
}

// SubmitSuccess is the share of accepted submits the mix produces, and
// ReceiptRate the share of accepted messages with a receipt, in percent:
// the baseline up to rounding to whole messages.
func (m Mix) SubmitSuccess() float64 { return 100 * float64(m.N-m.Rejected) / float64(m.N) }
func (m Mix) ReceiptRate() float64 {
	return 100 * float64(m.N-m.Rejected-m.NoReceipt) / float64(m.N-m.Rejected)
}
