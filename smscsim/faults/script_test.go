package faults

import (
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
)

// The n-th matching request gets the n-th entry, counts expand, and each
// "then" decides what follows the last entry.
func TestResponseScriptOrder(t *testing.T) {
	params := `{"responses":[{"status":"ESME_ROK","delay":"10ms"},{"status":"ESME_RTHROTTLED","count":2},{"status":"ESME_RSYSERR","close":true}],"then":%q}`
	want := map[string][]string{
		ThenRepeatLast: {"-", "ESME_RTHROTTLED", "ESME_RTHROTTLED", "ESME_RSYSERR", "ESME_RSYSERR", "ESME_RSYSERR"},
		ThenCycle:      {"-", "ESME_RTHROTTLED", "ESME_RTHROTTLED", "ESME_RSYSERR", "-", "ESME_RTHROTTLED"},
		ThenPass:       {"-", "ESME_RTHROTTLED", "ESME_RTHROTTLED", "ESME_RSYSERR", "-", "-"},
	}
	for then, w := range want {
		r := NewRegistry(1, nil)
		add(t, r, Spec{Type: "response_script", Match: Match{Command: "submit_sm"}, Params: []byte(strings.Replace(params, "%q", `"`+then+`"`, 1))})
		var got []string
		for i := range w {
			act := request(r, Event{Command: data.SUBMIT_SM})
			s := "-"
			if act.Status != nil {
				s = act.Status.String()
			}
			got = append(got, s)
			if i == 0 && act.Delay != 10*time.Millisecond {
				t.Errorf("%s: first delay %s, want 10ms", then, act.Delay)
			}
			if i == 3 && !act.Close {
				t.Errorf("%s: entry 3 should close", then)
			}
		}
		if strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("then=%s: got %v, want %v", then, got, w)
		}
		// Other commands do not move the script.
		if act := request(r, Event{Command: data.ENQUIRE_LINK}); act.Status != nil {
			t.Errorf("enquire_link touched: %+v", act)
		}
	}
}

func TestResponseScriptBinds(t *testing.T) {
	r := NewRegistry(1, nil)
	add(t, r, Spec{Type: "response_script", Match: Match{Command: "bind"}, Params: []byte(`{"responses":[{"status":"ESME_RINVPASWD"},{"status":"ESME_ROK"}],"then":"pass"}`)})
	if act := bind(r, Event{Command: data.BIND_TRANSCEIVER}); act.Status == nil || *act.Status != data.ESME_RINVPASWD {
		t.Fatalf("first bind: %+v", act)
	}
	if act := bind(r, Event{Command: data.BIND_TRANSCEIVER}); act.Status != nil {
		t.Fatalf("second bind should keep the server's answer: %+v", act)
	}
}

func TestReceiptScript(t *testing.T) {
	r := NewRegistry(1, nil)
	add(t, r, spec("receipt_script", `{"receipts":[{"delay":"2s","stat":"UNDELIV"},{"drop":true},{"stat":"DELIVRD","err":"007","copies":2,"early":true}],
		"style":{"template":"id:{id} stat:{stat}","esmClass":4,"tlvs":["receipted_message_id"],"idFormat":"hex"}}`))
	a := receipt(r, ReceiptEvent{})
	if a.Delay != 2*time.Second || a.Stat != "UNDELIV" || a.Err != "001" || a.Style == nil || a.Style.Template != "id:{id} stat:{stat}" {
		t.Fatalf("first: %+v", a)
	}
	if a := receipt(r, ReceiptEvent{}); !a.Drop {
		t.Fatalf("second: %+v", a)
	}
	if a := receipt(r, ReceiptEvent{}); a.Err != "007" || a.Copies != 2 || !a.Early || a.Stat != "DELIVRD" {
		t.Fatalf("third: %+v", a)
	}
}
