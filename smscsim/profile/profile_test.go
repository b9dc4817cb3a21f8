package profile

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestIDFormats(t *testing.T) {
	cases := []struct {
		f    IDFormat
		n    uint64
		want string
	}{
		{IDFormat{Format: IDDecimal}, 1234567, "1234567"},
		{IDFormat{}, 42, "42"},
		{IDFormat{Format: IDHexLower}, 1234567, "12d687"},
		{IDFormat{Format: IDHexUpper}, 1234567, "12D687"},
		{IDFormat{Format: IDPadded}, 42, "0000000042"},
		{IDFormat{Format: IDPadded, Width: 4}, 42, "0042"},
	}
	for _, c := range cases {
		if got := c.f.Render(c.n); got != c.want {
			t.Errorf("%+v(%d) = %q want %q", c.f, c.n, got, c.want)
		}
		if n, ok := c.f.Parse(c.want); !ok || n != c.n {
			t.Errorf("%+v parse %q = %d %v", c.f, c.want, n, ok)
		}
	}
	u := IDFormat{Format: IDUUID}.Render(7)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u) {
		t.Errorf("uuid %q", u)
	}
	if u != (IDFormat{Format: IDUUID}).Render(7) || u == (IDFormat{Format: IDUUID}).Render(8) {
		t.Error("uuid not a function of the number")
	}
	if l := (IDFormat{Format: IDLongHex}).Render(7); len(l) != 64 {
		t.Errorf("long_hex %q", l)
	}
	if l := (IDFormat{Format: IDLongHex, Width: 40}).Render(7); len(l) != 40 {
		t.Errorf("long_hex 40 %q", l)
	}
}

func TestValidateNamesField(t *testing.T) {
	cases := map[string]Profile{
		"messageId":               {MessageID: IDFormat{Format: "octal"}},
		"receiptMessageId":        {ReceiptMessageID: &IDFormat{Format: "x"}},
		"receipt.carry":           {Receipt: Receipt{Carry: "pigeon"}},
		"receipt.text":            {Receipt: Receipt{Text: "fancy"}},
		"receipt.parts":           {Receipt: Receipt{Parts: "middle"}},
		"dataCoding0":             {DataCoding0: "ebcdic"},
		"style":                   {Style: "nokia-1998"},
		"receipt.pdu":             {Receipt: Receipt{PDU: "submit_sm"}},
		"receipt.dataCoding: 4":   {Receipt: Receipt{DataCoding: 4}},
		"receipt.intermediate[1]": {Receipt: Receipt{Intermediate: []string{"ENROUTE", "DELIVRD"}}},
		"receipt.intermediate[0]": {Receipt: Receipt{Intermediate: []string{"enroute"}}},
	}
	for field, p := range cases {
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: err %v", field, err)
		}
	}
	if err := Default().WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
	good := Profile{Receipt: Receipt{PDU: PDUDataSM, DataCoding: 8, Text: "bare",
		Intermediate: []string{"SCHEDULED", "ENROUTE", "ACCEPTD", "BUFFRED", "ACKED"}}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNewDefaults(t *testing.T) {
	p := Profile{}.WithDefaults()
	if p.Receipt.PDU != PDUDeliverSM || p.Receipt.DataCoding != 0 || p.Receipt.Intermediate != nil ||
		p.Receipt.IntermediateESMClass == nil || *p.Receipt.IntermediateESMClass != 0x04 {
		t.Fatalf("%+v", p.Receipt)
	}
}

func TestStyleIsOverriddenField(t *testing.T) {
	p := Profile{Style: "kannel-smppbox"}.WithDefaults()
	if p.Name != "kannel-smppbox" || strings.Join(p.Receipt.Intermediate, ",") != "BUFFRED,ACKED" || p.Receipt.Carry != CarryBoth {
		t.Fatalf("%+v", p)
	}
	// Fields set beside the style win; an empty list turns the style's off.
	p = Profile{Style: "kannel-smppbox", Name: "mine", Receipt: Receipt{Intermediate: []string{}, PDU: PDUDataSM}}.WithDefaults()
	if p.Name != "mine" || len(p.Receipt.Intermediate) != 0 || p.Receipt.PDU != PDUDataSM || p.Style != "kannel-smppbox" {
		t.Fatalf("%+v", p)
	}
	for _, name := range StyleNames() {
		if err := (Profile{Style: name}).WithDefaults().Validate(); err != nil {
			t.Errorf("style %s: %v", name, err)
		}
	}
}

// overlay lists the fields by hand: every field of Profile and Receipt that a
// profile sets must win over the style's, so a field added later and
// forgotten there fails here.
func TestOverlayKnowsEveryField(t *testing.T) {
	var over Profile
	fill(reflect.ValueOf(&over).Elem())
	got := overlay(Profile{}, over)
	if !reflect.DeepEqual(got, over) {
		t.Fatalf("overlay dropped a field:\n got %+v\nwant %+v", got, over)
	}
}

// fill sets every field of v to a non-zero value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i))
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint8:
		v.SetUint(7)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	default:
		panic("fill: " + v.Kind().String())
	}
}

func TestReceiptFor(t *testing.T) {
	for _, c := range []struct {
		parts       string
		part, total int
		want        bool
	}{
		{PartsEach, 2, 3, true}, {PartsFirst, 1, 3, true}, {PartsFirst, 2, 3, false},
		{PartsLast, 3, 3, true}, {PartsLast, 1, 3, false}, {PartsLast, 1, 1, true},
	} {
		p := Profile{Receipt: Receipt{Parts: c.parts}}
		if got := p.ReceiptFor(c.part, c.total); got != c.want {
			t.Errorf("%s %d/%d = %v", c.parts, c.part, c.total, got)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	var d struct{ D Duration }
	if err := json.Unmarshal([]byte(`{"D":"1.5s"}`), &d); err != nil || d.D.D.Seconds() != 1.5 {
		t.Fatal(d, err)
	}
	if err := json.Unmarshal([]byte(`{"D":2}`), &d); err != nil || d.D.D.Seconds() != 2 {
		t.Fatal(d, err)
	}
	if err := json.Unmarshal([]byte(`{"D":"soon"}`), &d); err == nil {
		t.Fatal("accepted soon")
	}
}
