package dispatch

import (
	"errors"
	"strings"
	"testing"

	"github.com/linxGnu/gosmpp/data"
)

// An operator without UCS2 (encoding.ucs2: false) gets text in its own
// alphabets or not at all: what needs UCS2, and a command asking for it, is
// a bad command naming the operator, never a data_coding 8 submit_sm.
func TestNoUCS2RefusesWhatNeedsIt(t *testing.T) {
	for _, tc := range []struct {
		name, text, enc string
		prof            Profile
		field, want     string
	}{
		{"CJK on a gsm7 SMSC", "Hi 你好", "auto", Profile{NoUCS2: true}, "text",
			`text needs UCS2 ('你' (U+4F60) at character 3) and operator op has encoding.ucs2: false`},
		{"Latin-1 not allowed", "café ç", "", Profile{NoUCS2: true}, "text",
			`text needs UCS2 ('ç' (U+00E7) at character 5) and operator op has encoding.ucs2: false`},
		{"emoji with Latin-1 allowed", "café 😀", "auto", Profile{NoUCS2: true, AllowLatin1: true}, "text",
			`text needs UCS2 ('😀' (U+1F600) at character 5) and operator op has encoding.ucs2: false`},
		{"gsm7 asked of a latin1 SMSC", "€ and Ω", "gsm7", Profile{NoUCS2: true, DataCoding0: "latin1"}, "text",
			"text needs UCS2 ('€' (U+20AC) at character 0)"},
		{"ucs2 asked", "Hello", "ucs2", Profile{NoUCS2: true}, "encoding",
			`"ucs2" requested and operator op has encoding.ucs2: false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := Build(command(tc.text, tc.enc), tc.prof)
			var bc *BadCommand
			if !errors.As(err, &bc) {
				t.Fatalf("built %d parts (%v), want a bad command", len(parts), err)
			}
			if bc.Field != tc.field || !strings.Contains(bc.Reason, tc.want) {
				t.Fatalf("field %q reason %q, want field %q and %q", bc.Field, bc.Reason, tc.field, tc.want)
			}
		})
	}
	// What fits the operator's alphabets still goes.
	for _, tc := range []struct {
		text   string
		prof   Profile
		wantDC byte
	}{
		{"Hello €", Profile{NoUCS2: true}, data.GSM7BITCoding},
		{"café ç", Profile{NoUCS2: true, AllowLatin1: true}, data.LATIN1Coding},
		{"café ç", Profile{NoUCS2: true, DataCoding0: "latin1"}, data.LATIN1Coding},
		{"Hi 你好", Profile{}, data.UCS2Coding}, // UCS2 allowed: unchanged
	} {
		parts, err := Build(command(tc.text, "auto"), tc.prof)
		if err != nil {
			t.Fatalf("%q %+v: %v", tc.text, tc.prof, err)
		}
		if dc := decoded(t, parts[0]).Message.Encoding().DataCoding(); dc != tc.wantDC {
			t.Errorf("%q %+v: data_coding %d, want %d", tc.text, tc.prof, dc, tc.wantDC)
		}
	}
}

// The destination's TON/NPI come from the profile when the command gives
// none, and from the command when it does.
func TestDestinationDefaultsFromTheProfile(t *testing.T) {
	prof := Profile{DestTON: 2, DestNPI: 9, SourceTON: 3, SourceNPI: 4}
	c := command("Hello", "auto")
	c.Source.Addr = "447700900001" // a number: an alphanumeric sender has defaults of its own
	c.Source.TON, c.Destination.TON, c.Destination.NPI = nil, nil, nil
	parts, err := Build(c, prof)
	if err != nil {
		t.Fatal(err)
	}
	sm := decoded(t, parts[0])
	if sm.DestAddr.Ton() != 2 || sm.DestAddr.Npi() != 9 || sm.SourceAddr.Ton() != 3 || sm.SourceAddr.Npi() != 4 {
		t.Fatalf("destination %d/%d source %d/%d, want the profile's 2/9 and 3/4",
			sm.DestAddr.Ton(), sm.DestAddr.Npi(), sm.SourceAddr.Ton(), sm.SourceAddr.Npi())
	}
	one, zero := 1, 0
	c.Destination.TON, c.Destination.NPI = &one, &zero
	parts, err = Build(c, prof)
	if err != nil {
		t.Fatal(err)
	}
	if sm := decoded(t, parts[0]); sm.DestAddr.Ton() != 1 || sm.DestAddr.Npi() != 0 {
		t.Fatalf("destination %d/%d, want the command's 1/0", sm.DestAddr.Ton(), sm.DestAddr.Npi())
	}
}

// An alphanumeric sender (a name, not a number) whose command gives no
// TON/NPI takes the operator's alphanumeric defaults, and one longer than the
// operator takes is a bad command that names it; a number (with or without
// '+') takes the numeric defaults; the command's own TON wins.
func TestAlphanumericSourceRules(t *testing.T) {
	prof := Profile{SourceTON: 1, SourceNPI: 1, AlphaTON: 5, AlphaNPI: 0, MaxAlphanumeric: 11}
	for _, tc := range []struct {
		addr     string
		ton      *int
		wantTON  byte
		wantNPI  byte
		wantFail string
	}{
		{addr: "ACME", wantTON: 5, wantNPI: 0},
		{addr: "ELEVENCHARS", wantTON: 5, wantNPI: 0},
		{addr: "+447700900001", wantTON: 1, wantNPI: 1},
		{addr: "447700900001", wantTON: 1, wantNPI: 1},
		{addr: "4477009+", wantTON: 5, wantNPI: 0}, // a '+' past the start is not a number
		{addr: "ACME", ton: new(int), wantTON: 0, wantNPI: 0},
		{addr: "TWELVE CHARS", wantFail: `alphanumeric sender "TWELVE CHARS" has 12 characters; operator op takes at most 11`},
	} {
		c := command("Hello", "auto")
		c.Source = Address{Addr: tc.addr, TON: tc.ton}
		parts, err := Build(c, prof)
		if tc.wantFail != "" {
			var b *BadCommand
			if !errors.As(err, &b) || b.Field != "source.addr" || !strings.Contains(err.Error(), tc.wantFail) {
				t.Errorf("%q: err %v, want a bad source.addr: %s", tc.addr, err, tc.wantFail)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.addr, err)
		}
		sm := decoded(t, parts[0])
		if sm.SourceAddr.Ton() != tc.wantTON || sm.SourceAddr.Npi() != tc.wantNPI {
			t.Errorf("%q: source %d/%d, want %d/%d", tc.addr, sm.SourceAddr.Ton(), sm.SourceAddr.Npi(), tc.wantTON, tc.wantNPI)
		}
	}
}

// registered_delivery is the operator's value when the command asks for a
// receipt (1 when the profile gives none), and 0 when it does not.
func TestRegisteredDeliveryFromTheProfile(t *testing.T) {
	for _, tc := range []struct {
		prof byte
		ask  bool
		want byte
	}{{0, true, 1}, {17, true, 17}, {2, true, 2}, {17, false, 0}} {
		c := command("Hello", "auto")
		c.RegisteredDelivery = tc.ask
		parts, err := Build(c, Profile{RegisteredDelivery: tc.prof})
		if err != nil {
			t.Fatal(err)
		}
		if got := decoded(t, parts[0]).RegisteredDelivery; got != tc.want {
			t.Errorf("profile %d, command asks %v: registered_delivery %d, want %d", tc.prof, tc.ask, got, tc.want)
		}
	}
}
