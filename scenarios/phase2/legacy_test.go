package phase2_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/smpp-connector/smpp-connector/connector/compare"
	"github.com/smpp-connector/smpp-connector/scenarios/framework"
)

// legacyRun is the shadow run's side of the legacy comparison: the files an
// operator would give `smpp-connector compare` (reports/phase2/legacy/) and
// what they compared to.
type legacyRun struct {
	files     framework.LegacyFiles
	lines     []framework.LegacyLine
	report    *compare.Report
	rejected  int             // legacy lines the SMSC's answers made rejected
	multipart map[string]bool // the ids of the messages of several parts
}

// compareWithLegacy exports the connector's outcomes of the run from its
// database (connector/compare/export.sql, rows created since started),
// writes the legacy dispatcher's log for msgs from what the simulated SMSC
// answered, and compares the two through connector/compare with
// legacy_match_rate's minimum.
func compareWithLegacy(ctx context.Context, smsc *framework.Simulator, msgs []framework.LegacyMessage, started time.Time) *legacyRun {
	GinkgoHelper()
	exported, err := framework.ExportOutcomes(ctx, env.DatabaseDSN, started.Add(-time.Second), time.Now().Add(time.Second))
	Expect(err).NotTo(HaveOccurred())
	lines := framework.LegacyLog(msgs, framework.RecordedSubmits(smsc, "shadow-smsc"), time.Now())
	dir, err := framework.ReportDir()
	Expect(err).NotTo(HaveOccurred())
	files, err := framework.WriteLegacyFiles(filepath.Join(dir, "phase2", "legacy"), lines, exported)
	Expect(err).NotTo(HaveOccurred())
	rep, err := framework.CompareLegacyFiles(files, framework.LegacyMinMatch())
	Expect(err).NotTo(HaveOccurred())
	run := &legacyRun{files: files, lines: lines, report: rep, multipart: map[string]bool{}}
	for _, m := range msgs {
		if m.Parts > 1 {
			run.multipart[m.ID] = true
		}
	}
	for _, l := range lines {
		if l.Result == framework.LegacyRejected {
			run.rejected++
		}
	}
	GinkgoWriter.Printf("legacy comparison: %d of %d messages matched (%s)\n  %s\n", rep.Matched, rep.Total, files.Dir,
		files.Command(rep.MinMatch))
	return run
}

// checkFlippedLegacyFails compares the run's logs again: unchanged they
// pass; with 1% of the legacy outcomes flipped (framework.FlipLegacy) both
// criteria fail, and the report, the criterion's text and the command's
// output name exactly the flipped messages.
func checkFlippedLegacyFails(run *legacyRun) {
	GinkgoHelper()
	minMatch := framework.LegacyMinMatch()
	gates, err := framework.DefaultGates()
	Expect(err).NotTo(HaveOccurred())
	// The gate's verdict on a comparison: its two criteria as the shadow run
	// records them, in a complete run of a suite that succeeded.
	verdict := func(rep *compare.Report) error {
		GinkgoHelper()
		crits, err := framework.LegacyCriteria(rep, gates)
		Expect(err).NotTo(HaveOccurred())
		Expect(crits).To(HaveLen(2))
		return framework.Summary{Group: "phase2", SuiteOK: true, Complete: true, Criteria: crits}.Failures()
	}

	By("comparing the run's logs again, unchanged: both criteria pass")
	same, err := framework.CompareLegacyFiles(run.files, minMatch)
	Expect(err).NotTo(HaveOccurred())
	Expect(same.Total).To(Equal(len(run.lines)))
	Expect(same.Pass).To(BeTrue(), "the identical log: %d of %d matched", same.Matched, same.Total)
	Expect(framework.DisagreeingIDs(same)).To(BeEmpty())
	Expect(verdict(same)).To(Succeed())

	By("flipping 1% of the legacy log's outcomes")
	flipped, ids := framework.FlipLegacy(run.lines, 0.01)
	Expect(ids).To(HaveLen(int(math.Ceil(float64(len(run.lines)) / 100))))
	exported, err := os.ReadFile(run.files.Connector)
	Expect(err).NotTo(HaveOccurred())
	files, err := framework.WriteLegacyFiles(filepath.Join(run.files.Dir, "negative"), flipped, exported)
	Expect(err).NotTo(HaveOccurred())
	rep, err := framework.CompareLegacyFiles(files, minMatch)
	Expect(err).NotTo(HaveOccurred())
	var text bytes.Buffer
	Expect(rep.WriteText(&text)).To(Succeed())
	AddReportEntry("legacy comparison, 1% flipped (negative)", text.String())

	By("the comparison fails the threshold and lists exactly the flipped messages")
	Expect(rep.Pass).To(BeFalse())
	Expect(rep.Total).To(Equal(len(run.lines)))
	Expect(rep.Matched).To(Equal(len(run.lines) - len(ids)))
	failed := verdict(rep)
	Expect(failed).To(MatchError(ContainSubstring("legacy_match_rate: measured 99 % of messages, threshold >= 99.5 % of messages")))
	Expect(failed).To(MatchError(ContainSubstring(fmt.Sprintf("legacy_disagreements: measured %d messages: ", len(ids)))))
	Expect(framework.DisagreeingIDs(rep)).To(Equal(slices.Sorted(slices.Values(ids))))
	// Accepted flipped to rejected, and a rejection given another status.
	Expect(rep.Classes[compare.AcceptedConnectorOnly]).To(BeNumerically(">", 0))
	Expect(rep.Classes[compare.DifferentError]).To(BeNumerically(">", 0))
	Expect(slices.ContainsFunc(ids, func(id string) bool { return run.multipart[id] })).To(BeTrue(),
		"a message of several parts among the flipped: %v", ids)
	for _, id := range ids {
		Expect(failed.Error()).To(ContainSubstring(id), "the gate's verdict (legacy_disagreements' measured text)")
		Expect(text.String()).To(ContainSubstring(id), "the text report")
	}

	By("and `smpp-connector compare`'s entry point (compare.Run) exits with the threshold error")
	var out bytes.Buffer
	err = compare.Run(compare.Options{Legacy: files.Legacy, Mapping: files.Mapping, Connector: files.Connector,
		Format: "json", MinMatch: minMatch}, &out)
	var te *compare.ThresholdError
	Expect(errors.As(err, &te)).To(BeTrue(), "compare.Run: %v", err)
	Expect(te.Matched).To(Equal(rep.Matched))
	for _, id := range ids {
		Expect(out.String()).To(ContainSubstring(`"messageId": "` + id + `"`))
	}
}
