package dispatch

import (
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/smpp-connector/smpp-connector/connector/segment"
	"github.com/smpp-connector/smpp-connector/connector/session"
	"github.com/smpp-connector/smpp-connector/smscsim/wire"
)

const good = `{"messageId":"0b9f","operatorId":"mno-a",
 "source":{"addr":"ACME","ton":5,"npi":0},"destination":{"addr":"447700900123","ton":1,"npi":1},
 "text":"Hello","encoding":"auto","registeredDelivery":true,"validity":"PT24H","priority":0,"futureField":1}`

func TestParseCommandAcceptsTheContract(t *testing.T) {
	c, err := ParseCommand([]byte(good), "mno-a")
	if err != nil {
		t.Fatal(err)
	}
	if c.MessageID != "0b9f" || *c.Source.TON != 5 || c.Destination.Addr != "447700900123" || !c.RegisteredDelivery {
		t.Fatalf("%+v", c)
	}
	if v, _ := c.ValidityPeriod(); v != "000001000000000R" {
		t.Fatalf("validity %q", v)
	}
}

func TestParseCommandNamesWhatIsWrong(t *testing.T) {
	edit := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	cases := map[string]string{
		`{"messageId":`:      "not JSON",
		good + `{}`:          "trailing data",
		edit(`"0b9f"`, `""`): "messageId: required",
		edit(`"0b9f"`, `42`): "messageId: want string",
		edit(`"operatorId":"mno-a"`, `"operatorId":"mno-b"`):   `operatorId: "mno-b" does not match`,
		edit(`"447700900123"`, `"+44 7700"`):                   "destination.addr",
		edit(`"addr":"ACME","ton":5`, `"addr":"ACME","ton":1`): "source.addr: \"ACME\" is not numeric",
		edit(`"addr":"ACME"`, `"addr":"ACMECORPORATION"`):      "source.addr: 15 characters, at most 11",
		edit(`"ton":1,"npi":1`, `"ton":9,"npi":1`):             "destination.ton",
		edit(`"ton":1,"npi":1`, `"ton":1,"npi":2`):             "destination.npi",
		edit(`"Hello"`, `""`):                                  "text: required",
		edit(`"auto"`, `"ebcdic"`):                             "encoding",
		edit(`"PT24H"`, `"tomorrow"`):                          "validity",
		edit(`"PT24H"`, `"P200D"`):                             "99 days",
		edit(`"priority":0`, `"priority":7`):                   "priority",
	}
	for in, want := range cases {
		_, err := ParseCommand([]byte(in), "mno-a")
		if err == nil || !IsBad(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60s...: err %v, want a BadCommand mentioning %q", in, err, want)
		}
	}
}

func TestValidityFormats(t *testing.T) {
	for in, want := range map[string]string{"PT24H": "000001000000000R", "P2DT12H30M5S": "000002123005000R", "PT90M": "000000013000000R"} {
		c := Command{Validity: in}
		if got, err := c.ValidityPeriod(); err != nil || got != want {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
}

func command(text, enc string) Command {
	ton5, ton1 := 5, 1
	return Command{MessageID: "m-1", OperatorID: "op", Source: Address{Addr: "ACME", TON: &ton5},
		Destination: Address{Addr: "447700900123", TON: &ton1}, Text: text, Encoding: enc, RegisteredDelivery: true}
}

// decoded parses a built submit_sm back from the wire, as the SMSC sees it.
func decoded(t *testing.T, p Part) *pdu.SubmitSM {
	t.Helper()
	raw := wire.Encode(p.PDU)
	f, err := wire.ReadFrame(strings.NewReader(string(raw)), 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := wire.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return out.(*pdu.SubmitSM)
}

func TestBuildChoosesEncoding(t *testing.T) {
	cases := []struct {
		text, enc string
		prof      Profile
		wantDC    byte
	}{
		{"Hello", "auto", Profile{}, data.GSM7BITCoding},
		{"Grüße €", "auto", Profile{}, data.GSM7BITCoding}, // ü, ß? ß is GSM7; € via escape
		{"café ç", "auto", Profile{}, data.UCS2Coding},     // ç is not GSM 7-bit
		{"café ç", "auto", Profile{AllowLatin1: true}, data.LATIN1Coding},
		{"Hello", "auto", Profile{DataCoding0: "latin1"}, data.LATIN1Coding},
		{"Hello", "ucs2", Profile{}, data.UCS2Coding},
		{"Hello 😀", "auto", Profile{AllowLatin1: true}, data.UCS2Coding},
	}
	for _, c := range cases {
		parts, err := Build(command(c.text, c.enc), c.prof)
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		sm := decoded(t, parts[0])
		if dc := sm.Message.Encoding().DataCoding(); dc != c.wantDC {
			t.Errorf("%q %s %+v: data_coding %d, want %d", c.text, c.enc, c.prof, dc, c.wantDC)
		}
		if sm.RegisteredDelivery != 1 || sm.SourceAddr.Ton() != 5 {
			t.Errorf("%q: reg %d ton %d", c.text, sm.RegisteredDelivery, sm.SourceAddr.Ton())
		}
	}
	if _, err := Build(command("emoji 😀", "gsm7"), Profile{}); err == nil || !IsBad(err) || !strings.Contains(err.Error(), "cannot be encoded") {
		t.Fatalf("gsm7 with an emoji: %v", err)
	}
}

func TestBuildSegmentsByStrategyAndRoundTrips(t *testing.T) {
	long := strings.Repeat("Emoji 😀 and text ", 12) // UCS2, several parts
	for _, strategy := range []string{"udh8", "udh16", "sar", "payload"} {
		parts, err := Build(command(long, "auto"), Profile{LongMessage: strategy})
		if err != nil {
			t.Fatal(err)
		}
		frags := make([]segment.Fragment, len(parts))
		for i, p := range parts {
			sm := decoded(t, p)
			sp := segment.FromShortMessage(sm.EsmClass, &sm.Message, sm.OptionalParameters)
			_, total, seq, ok, err := segment.Concat(sp)
			if err != nil || (ok && (total != len(parts) || seq != i+1)) || (!ok && len(parts) != 1) {
				t.Fatalf("%s: part %d: %d/%d %v %v", strategy, i+1, seq, total, ok, err)
			}
			if frags[i].Octets, err = segment.Payload(sp); err != nil {
				t.Fatalf("%s: %v", strategy, err)
			}
			frags[i].DataCoding = sp.DataCoding
		}
		if text, err := segment.Join(frags, "gsm7"); err != nil || text != long {
			t.Fatalf("%s: reassembled %q, %v", strategy, text, err)
		}
		if strategy == "payload" && len(parts) != 1 || strategy != "payload" && len(parts) < 2 {
			t.Fatalf("%s: %d parts", strategy, len(parts))
		}
	}
}

func TestBuildIsStableAcrossRedelivery(t *testing.T) {
	a, _ := Build(command(strings.Repeat("x", 400), "auto"), Profile{})
	b, _ := Build(command(strings.Repeat("x", 400), "auto"), Profile{})
	ma, _ := a[1].PDU.Message.GetMessageData()
	mb, _ := b[1].PDU.Message.GetMessageData()
	if string(ma) != string(mb) || a[0].PDU.GetSequenceNumber() == b[0].PDU.GetSequenceNumber() {
		t.Fatal("same command must give the same parts (but fresh sequence numbers)")
	}
}

func TestClassify(t *testing.T) {
	cases := map[Class][]session.Result{
		Accepted:  {{Status: data.ESME_ROK}},
		Temporary: {{Status: data.ESME_RTHROTTLED}, {Status: data.ESME_RMSGQFUL}, {Status: data.ESME_RSYSERR}, {Status: data.ESME_RX_T_APPN}, {GenericNack: true, Status: data.ESME_RINVCMDLEN}},
		Permanent: {{Status: data.ESME_RINVDSTADR}, {Status: data.ESME_RINVSRCADR}, {Status: data.ESME_RINVMSGLEN}, {Status: data.ESME_RX_P_APPN}},
	}
	for want, rs := range cases {
		for _, r := range rs {
			if got := Classify(r); got != want {
				t.Errorf("%+v: %s, want %s", r, got, want)
			}
		}
	}
	if !Throttling(session.Result{Status: data.ESME_RTHROTTLED}) || Throttling(session.Result{Status: data.ESME_RSYSERR}) {
		t.Fatal("throttling")
	}
}

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
