package dispatch

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// encoding/json turns invalid UTF-8 into U+FFFD: the command must be refused
// before that, with the offset of the first invalid byte in the text.
func TestParseCommandRefusesInvalidUTF8WithItsOffset(t *testing.T) {
	for name, c := range map[string]struct {
		text   string // the raw bytes between the quotes of "text"
		offset int    // of the first invalid byte in the decoded text
	}{
		"lone continuation byte": {"Hello \x80 world", 6},
		"truncated sequence":     {"ab\xc3", 2},
		"after an escape":        {"\\n\\u00e9x\xff", 4}, // "\n" is 1 byte, "é" 2, "x" 1
		"overlong encoding":      {"\xc0\xafpath", 0},
	} {
		t.Run(name, func(t *testing.T) {
			data := bytes.Replace([]byte(good), []byte(`"text":"Hello"`), []byte(`"text":"`+c.text+`"`), 1)
			_, err := ParseCommand(data, "mno-a")
			var bc *BadCommand
			if !errors.As(err, &bc) {
				t.Fatalf("want a BadCommand, got %v", err)
			}
			if bc.Field != "text" || !strings.Contains(bc.Reason, "invalid UTF-8") ||
				!strings.Contains(bc.Reason, "byte "+itoa(c.offset)+" of the text") {
				t.Fatalf("field %q reason %q: want text, invalid UTF-8 at byte %d of the text", bc.Field, bc.Reason, c.offset)
			}
		})
	}
	// Valid UTF-8, escaped or not, still goes through untouched.
	ok := strings.Replace(good, `"text":"Hello"`, `"text":"Grüße \u20ac \ud83d\ude00"`, 1)
	c, err := ParseCommand([]byte(ok), "mno-a")
	if err != nil || c.Text != "Grüße € 😀" {
		t.Fatalf("%q %v", c.Text, err)
	}
}

// Invalid bytes outside the text are refused too (they would be replaced
// in an address just as well), with their offset in the command.
func TestParseCommandRefusesInvalidUTF8OutsideTheText(t *testing.T) {
	data := bytes.Replace([]byte(good), []byte(`"ACME"`), []byte("\"AC\xffE\""), 1)
	_, err := ParseCommand(data, "mno-a")
	if err == nil || !IsBad(err) || !strings.Contains(err.Error(), "invalid UTF-8 at byte "+itoa(bytes.IndexByte(data, 0xff))+" of the command") {
		t.Fatalf("got %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// A text longer than the operator's cap of parts goes to the dead letter,
// naming the text, the part count and the cap; the default cap is 10.
func TestBuildCapsTheParts(t *testing.T) {
	long := strings.Repeat("a", 153*11) // 11 GSM 7-bit parts with an 8-bit UDH
	for _, c := range []struct {
		p    Profile
		cap  int
		want int
	}{
		{Profile{}, 10, 11},
		{Profile{MaxParts: 3}, 3, 11},
	} {
		_, err := Build(command(long, "auto"), c.p)
		var bc *BadCommand
		if !errors.As(err, &bc) || bc.Field != "text" ||
			!strings.Contains(bc.Reason, itoa(c.want)+" parts") || !strings.Contains(bc.Reason, "maxParts "+itoa(c.cap)) {
			t.Fatalf("profile %+v: got %v", c.p, err)
		}
	}
	// At the cap it goes.
	parts, err := Build(command(strings.Repeat("a", 153*10), "auto"), Profile{})
	if err != nil || len(parts) != 10 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	parts, err = Build(command(strings.Repeat("a", 153*11), "auto"), Profile{MaxParts: 255})
	if err != nil || len(parts) != 11 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
}

// The fingerprint follows what is sent, not how the JSON is written.
func TestFingerprint(t *testing.T) {
	base, err := ParseCommand([]byte(good), "mno-a")
	if err != nil {
		t.Fatal(err)
	}
	same := `{"priority":0,"validity":"P1D","text":"H\u0065llo","operatorId":"mno-a","messageId":"0b9f",
	 "destination":{"npi":1,"ton":1,"addr":"447700900123"},"source":{"addr":"ACME","ton":5,"npi":0},
	 "registeredDelivery":true,"encoding":"auto"}`
	c, err := ParseCommand([]byte(same), "mno-a")
	if err != nil || !bytes.Equal(c.Fingerprint(), base.Fingerprint()) {
		t.Fatalf("re-serialised command: %v, fingerprints differ", err)
	}
	for name, change := range map[string]func(*Command){
		"text":               func(c *Command) { c.Text = "Hello!" },
		"destination":        func(c *Command) { c.Destination.Addr = "447700900124" },
		"destination.ton":    func(c *Command) { c.Destination.TON = nil },
		"source":             func(c *Command) { c.Source.Addr = "ACMF" },
		"source.npi":         func(c *Command) { one := 1; c.Source.NPI = &one },
		"encoding":           func(c *Command) { c.Encoding = "ucs2" },
		"registeredDelivery": func(c *Command) { c.RegisteredDelivery = false },
		"validity":           func(c *Command) { c.Validity = "PT1H" },
		"priority":           func(c *Command) { c.Priority = 1 },
		"operator":           func(c *Command) { c.OperatorID = "mno-b" },
		"text moved":         func(c *Command) { c.Source.Addr, c.Text = "ACMEH", "ello" },
	} {
		c := base
		change(&c)
		if bytes.Equal(c.Fingerprint(), base.Fingerprint()) {
			t.Errorf("%s changed, fingerprint did not", name)
		}
	}
	if len(base.Fingerprint()) != 32 {
		t.Fatal("not a SHA-256")
	}
}

// A lone surrogate written as a JSON escape is valid JSON but no character:
// encoding/json would decode it to U+FFFD, so it is refused like invalid
// bytes, with its offset. Escaped pairs, escaped backslashes before a "u"
// and a literal U+FFFD go through.
func TestParseCommandRefusesLoneSurrogateEscapes(t *testing.T) {
	for name, c := range map[string]struct {
		text   string // the raw JSON between the quotes of "text"
		offset int    // in the decoded text
	}{
		"high alone":           {`a\ud800b`, 1},
		"low alone":            {`ab\udc00`, 2},
		"high then high":       {`\ud83d\ud83d\ude00`, 0},
		"after a good pair":    {`\ud83d\ude00x\uDBFF`, 5}, // the emoji is 4 bytes, "x" 1
		"high at the very end": {`é\ud800`, 2},
	} {
		t.Run(name, func(t *testing.T) {
			data := strings.Replace(good, `"text":"Hello"`, `"text":"`+c.text+`"`, 1)
			_, err := ParseCommand([]byte(data), "mno-a")
			var bc *BadCommand
			if !errors.As(err, &bc) {
				t.Fatalf("want a BadCommand, got %v", err)
			}
			if bc.Field != "text" || !strings.Contains(bc.Reason, "surrogate") || !strings.Contains(bc.Reason, "byte "+itoa(c.offset)+" of the text") {
				t.Fatalf("field %q reason %q: want text, a lone surrogate at byte %d of the text", bc.Field, bc.Reason, c.offset)
			}
		})
	}
	for raw, want := range map[string]string{
		`\ud83d\ude00 \\ud800`: "😀 \\ud800", // an escaped backslash, then "ud800" as text
		`� \ufffd`:             "� �",
		`\u00e9\u20ac`:         "é€",
	} {
		data := strings.Replace(good, `"text":"Hello"`, `"text":"`+raw+`"`, 1)
		c, err := ParseCommand([]byte(data), "mno-a")
		if err != nil || c.Text != want {
			t.Errorf("%s: %q %v, want %q", raw, c.Text, err, want)
		}
	}
}
