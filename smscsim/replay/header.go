package replay

import (
	"fmt"
	"strings"

	"github.com/linxGnu/gosmpp/data"

	"github.com/smpp-connector/smpp-connector/smscsim/faults"
)

// Header is the comment replay writes on top of a scenario: where it came
// from, what it holds and what it could not reproduce. The system_ids
// appear only when withSystemID is set; passwords never reach a Behaviour.
func Header(b *Behaviour, source string, o Options, withSystemID bool) []string {
	throttled, ok := 0, 0
	for _, a := range b.Submits {
		switch {
		case a.Status == data.ESME_ROK && !a.GenericNack && !a.Drop:
			ok++
		case a.Status == data.ESME_RTHROTTLED || a.Status == data.ESME_RMSGQFUL || a.GenericNack:
			throttled++
		}
	}
	speed := o.Speed
	if speed == 0 {
		speed = 1
	}
	h := []string{
		"Written by smscsim replay from " + source + ".",
		fmt.Sprintf("%d PDUs on %d connection(s): %d submit_sm answered (%d ok, %d throttled or queue full), %d bind(s), %d receipt(s) planned, %d MO, %d other disconnect(s).",
			b.PDUs, b.Conns, len(b.Submits), ok, throttled, len(b.Binds), len(b.Receipts), len(b.MOs), len(b.Disconnects)),
		fmt.Sprintf("Timings are divided by %g. After its last recorded entry a script does what its then: says (%s).", speed, thenText(o.Then)),
		"Play it: smscsim serve --scenario THIS_FILE (the operator's profile still sets the submit_sm_resp id format).",
	}
	if len(b.MOs) > 0 && o.Operator == "" {
		h = append(h, "MO messages were left out: give -operator to replay them.")
	}
	if withSystemID && len(b.Accounts) > 0 {
		h = append(h, "Recorded system_id(s): "+strings.Join(b.Accounts, ", "))
	}
	for _, n := range b.Notes {
		h = append(h, "Note: "+n)
	}
	return h
}

func thenText(then string) string {
	switch then {
	case faults.ThenCycle:
		return "cycle: starts again from the first entry"
	case faults.ThenPass:
		return "pass: the simulator answers as without the script"
	}
	return "repeat_last, the default: the last entry again"
}
