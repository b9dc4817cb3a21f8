package outbound_test

import (
	"testing"
	"time"

	"github.com/smpp-connector/smpp-connector/connector/internal/pipelinetest"
	"github.com/smpp-connector/smpp-connector/smscsim/recorder"
)

func debugGaps(t testing.TB, r *pipelinetest.Rig) {
	recs := r.Sim.Recorder.Query(recorder.Filter{Command: "submit_sm"})
	for i := 1; i < len(recs); i++ {
		if gap := recs[i].Time.Sub(recs[i-1].Time); gap > 300*time.Millisecond {
			n := 0
			for j := i; j < len(recs) && recs[j].Time.Sub(recs[i].Time) < 100*time.Millisecond; j++ {
				n++
			}
			t.Logf("gap %v at %d (session %d -> %d), then %d within 100ms", gap, i, recs[i-1].SessionID, recs[i].SessionID, n)
		}
	}
	t.Logf("%d records", len(recs))
}
