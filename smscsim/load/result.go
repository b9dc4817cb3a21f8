package load

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Latency summarises a latency histogram (quantiles are within 0.8%).
type Latency struct {
	Count uint64 // values recorded
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	Max   time.Duration
}

// Result is what a run did.
type Result struct {
	Addr     string
	BindType string
	Binds    int
	Window   int
	TPSCap   float64

	Sent             uint64            // submit_sm written
	Accepted         uint64            // submit_sm_resp ESME_ROK
	Rejected         uint64            // submit_sm_resp with an error status, or generic_nack
	RejectedByStatus map[string]uint64 // "ESME_RTHROTTLED", "generic_nack ESME_RINVCMDLEN"
	GenericNacks     uint64            // generic_nack received (also counted in Rejected when matched)
	TimedOut         uint64            // no answer within RespTimeout
	Unanswered       uint64            // no answer when the run ended (interrupted, connection lost)
	LateResponses    uint64            // submit_sm_resp for an unknown or timed-out sequence number

	SendElapsed time.Duration // from the first submit to the last submit or answer
	SubmitRate  float64       // Sent / SendElapsed
	RespLatency Latency       // submit_sm -> submit_sm_resp

	ReceiptsRequested bool
	Receipts          uint64  // delivery receipts received
	ReceiptsMatched   uint64  // receipts matched to a submit (these have a latency)
	ReceiptRate       float64 // Receipts / (last receipt - first submit)
	ReceiptLatency    Latency // submit_sm -> receipt
	MO                uint64  // deliver_sm that were not receipts

	Elapsed     time.Duration // whole run, binding and unbinding included
	Interrupted bool          // stopped by the context
}

// Print writes a human-readable report.
func (r Result) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	tps := "none"
	if r.TPSCap > 0 {
		tps = fmt.Sprintf("%g/s", r.TPSCap)
	}
	fmt.Fprintf(tw, "target\t%s, %d %s bind(s), window %d, tps cap %s\n", r.Addr, r.Binds, r.BindType, r.Window, tps)
	if r.Interrupted {
		fmt.Fprintf(tw, "interrupted\tyes\n")
	}
	fmt.Fprintf(tw, "sent\t%d\n", r.Sent)
	fmt.Fprintf(tw, "accepted\t%d\n", r.Accepted)
	fmt.Fprintf(tw, "rejected\t%d\n", r.Rejected)
	for _, k := range sortedKeys(r.RejectedByStatus) {
		fmt.Fprintf(tw, "  %s\t%d\n", k, r.RejectedByStatus[k])
	}
	if r.GenericNacks > 0 {
		fmt.Fprintf(tw, "generic_nack\t%d\n", r.GenericNacks)
	}
	if r.TimedOut > 0 {
		fmt.Fprintf(tw, "timed out\t%d\n", r.TimedOut)
	}
	if r.Unanswered > 0 {
		fmt.Fprintf(tw, "unanswered\t%d\n", r.Unanswered)
	}
	if r.LateResponses > 0 {
		fmt.Fprintf(tw, "late/unknown resp\t%d\n", r.LateResponses)
	}
	fmt.Fprintf(tw, "send phase\t%s\n", fmtDur(r.SendElapsed))
	fmt.Fprintf(tw, "submit/s\t%.1f\n", r.SubmitRate)
	fmt.Fprintf(tw, "resp latency\tp50 %s  p90 %s  p99 %s  max %s\n",
		fmtDur(r.RespLatency.P50), fmtDur(r.RespLatency.P90), fmtDur(r.RespLatency.P99), fmtDur(r.RespLatency.Max))
	if r.ReceiptsRequested || r.Receipts > 0 {
		fmt.Fprintf(tw, "receipts\t%d (%d matched to a submit)\n", r.Receipts, r.ReceiptsMatched)
		if r.Receipts < r.Accepted {
			fmt.Fprintf(tw, "receipts missing\t%d\n", r.Accepted-r.Receipts)
		}
		fmt.Fprintf(tw, "receipts/s\t%.1f\n", r.ReceiptRate)
		if r.ReceiptLatency.Count > 0 {
			fmt.Fprintf(tw, "receipt latency\tp50 %s  p99 %s  max %s\n",
				fmtDur(r.ReceiptLatency.P50), fmtDur(r.ReceiptLatency.P99), fmtDur(r.ReceiptLatency.Max))
		}
	}
	if r.MO > 0 {
		fmt.Fprintf(tw, "mo deliver_sm\t%d\n", r.MO)
	}
	fmt.Fprintf(tw, "elapsed\t%s\n", fmtDur(r.Elapsed))
	tw.Flush()
}

// PrintJSON writes the result as one JSON object and a newline.
func (r Result) PrintJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

type latencyJSON struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func (l Latency) MarshalJSON() ([]byte, error) {
	return json.Marshal(latencyJSON{Count: l.Count, P50: ms(l.P50), P90: ms(l.P90), P99: ms(l.P99), Max: ms(l.Max)})
}

// MarshalJSON renders durations in seconds or milliseconds with their unit in the name.
func (r Result) MarshalJSON() ([]byte, error) {
	by := r.RejectedByStatus
	if by == nil {
		by = map[string]uint64{}
	}
	return json.Marshal(struct {
		Addr              string            `json:"addr"`
		BindType          string            `json:"bind_type"`
		Binds             int               `json:"binds"`
		Window            int               `json:"window"`
		TPSCap            float64           `json:"tps_cap"`
		Sent              uint64            `json:"sent"`
		Accepted          uint64            `json:"accepted"`
		Rejected          uint64            `json:"rejected"`
		RejectedByStatus  map[string]uint64 `json:"rejected_by_status"`
		GenericNacks      uint64            `json:"generic_nacks"`
		TimedOut          uint64            `json:"timed_out"`
		Unanswered        uint64            `json:"unanswered"`
		LateResponses     uint64            `json:"late_responses"`
		SendElapsed       float64           `json:"send_elapsed_s"`
		SubmitRate        float64           `json:"submit_per_s"`
		RespLatency       Latency           `json:"submit_resp_latency"`
		ReceiptsRequested bool              `json:"receipts_requested"`
		Receipts          uint64            `json:"receipts"`
		ReceiptsMatched   uint64            `json:"receipts_matched"`
		ReceiptRate       float64           `json:"receipts_per_s"`
		ReceiptLatency    Latency           `json:"receipt_latency"`
		MO                uint64            `json:"mo"`
		Elapsed           float64           `json:"elapsed_s"`
		Interrupted       bool              `json:"interrupted"`
	}{
		r.Addr, r.BindType, r.Binds, r.Window, r.TPSCap,
		r.Sent, r.Accepted, r.Rejected, by, r.GenericNacks, r.TimedOut, r.Unanswered, r.LateResponses,
		round(r.SendElapsed.Seconds(), 6), round(r.SubmitRate, 1), r.RespLatency,
		r.ReceiptsRequested, r.Receipts, r.ReceiptsMatched, round(r.ReceiptRate, 1), r.ReceiptLatency, r.MO,
		round(r.Elapsed.Seconds(), 6), r.Interrupted,
	})
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}
