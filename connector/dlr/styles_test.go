package dlr

import (
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// ucs2 encodes s as UTF-16BE.
func ucs2(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

// check is the part of a Receipt a style test cares about.
type check struct {
	id, stat, err, text string
	status              Status
	final, bare         bool
	note                string // substring of DecodeNote; "" means DecodeNote must be empty
	conflict            string // substring of Conflict; "" means none
}

func (c check) verify(t *testing.T, r Receipt) {
	t.Helper()
	if r.ID != c.id || r.Stat != c.stat || r.Status != c.status || r.Final != c.final || r.BareStat != c.bare {
		t.Errorf("got id %q stat %q status %s final %v bare %v, want id %q stat %q status %s final %v bare %v",
			r.ID, r.Stat, r.Status, r.Final, r.BareStat, c.id, c.stat, c.status, c.final, c.bare)
	}
	if c.err != "" && r.Err != c.err {
		t.Errorf("err %q, want %q", r.Err, c.err)
	}
	if c.text != "" && r.Text != c.text {
		t.Errorf("text %q, want %q", r.Text, c.text)
	}
	if (c.note == "") != (r.DecodeNote == "") || !strings.Contains(r.DecodeNote, c.note) {
		t.Errorf("decode note %q, want one containing %q", r.DecodeNote, c.note)
	}
	if (c.conflict == "") != (r.Conflict == "") || !strings.Contains(r.Conflict, c.conflict) {
		t.Errorf("conflict %q, want one containing %q", r.Conflict, c.conflict)
	}
}

const std = "id:1234567 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 stat:DELIVRD err:000 text:"

func TestParseDataCoding(t *testing.T) {
	le := func(b []byte) []byte { // UTF-16BE to LE
		out := append([]byte(nil), b...)
		for i := 0; i+1 < len(out); i += 2 {
			out[i], out[i+1] = out[i+1], out[i]
		}
		return out
	}
	delivered := check{id: "1234567", stat: "DELIVRD", status: Delivered, final: true}
	with := func(c check, text, note string) check { c.text, c.note = text, note; return c }
	tests := []struct {
		name string
		in   Input
		want check
	}{
		{"ucs2", Input{DataCoding: 8, ShortMessage: ucs2(std + "Привет мир")}, with(delivered, "Привет мир", "")},
		{"ucs2 with BOM", Input{DataCoding: 8, ShortMessage: append([]byte{0xFE, 0xFF}, ucs2(std+"hi")...)}, with(delivered, "hi", "")},
		{"ucs2 little-endian with BOM", Input{DataCoding: 8, ShortMessage: append([]byte{0xFF, 0xFE}, le(ucs2(std+"hé"))...)},
			with(delivered, "hé", "UTF-16LE")},
		{"ucs2 surrogate pair in text", Input{DataCoding: 8, ShortMessage: ucs2(std + "ok 😀")}, with(delivered, "ok 😀", "")},
		{"ucs2 trailing NUL", Input{DataCoding: 8, ShortMessage: append(ucs2(std+"x"), 0, 0)}, with(delivered, "x", "")},
		{"ascii text labelled ucs2", Input{DataCoding: 8, ShortMessage: []byte(std + "x")},
			with(delivered, "x", "data_coding 0x08 but the text is ASCII")},
		{"ascii text of odd length labelled ucs2", Input{DataCoding: 8, ShortMessage: []byte(std + "ab")},
			with(delivered, "ab", "odd length")},
		{"ucs2 in message_payload", Input{DataCoding: 8, TLVs: tlvs(TagMessagePayload, ucs2(std+"payload ü"))}, with(delivered, "payload ü", "")},
		{"latin-1", Input{DataCoding: 3, ShortMessage: []byte(std + "caf\xe9")}, with(delivered, "café", "")},
		{"data_coding 0 as latin-1", Input{DataCoding0: "latin1", ShortMessage: []byte(std + "\xc5se")}, with(delivered, "Åse", "")},
		{"data_coding 0 as ascii", Input{DataCoding0: "ascii", ShortMessage: []byte(std + "a_b@c")}, with(delivered, "a_b@c", "")},
		{"data_coding 0 as ascii, octet above 0x7F", Input{DataCoding0: "ascii", ShortMessage: []byte(std + "\xe9")},
			with(delivered, "\xe9", "not ASCII")},
		{"ia5", Input{DataCoding: 1, ShortMessage: []byte(std + "x")}, with(delivered, "x", "")},
		// php-smpp issue 70: the SMSC copies the GSM septets of the
		// message into text:, here "H€llo" (escape 0x1B 0x65 is €).
		{"gsm7 text with escape", Input{ShortMessage: []byte(std + "H\x1belloworld")}, with(delivered, "H€lloworld", "")},
		{"gsm7 text with basic-table symbols", Input{ShortMessage: []byte(std + "\x00\x11\x5b")}, with(delivered, "@_Ä", "")},
		{"gsm7 text octet above 0x7F", Input{ShortMessage: []byte(std + "caf\xe9")}, with(delivered, "caf\xe9", "not a septet")},
		{"binary data_coding", Input{DataCoding: 4, ShortMessage: []byte(std + "x")}, with(delivered, "x", "not supported")},
		{"unknown data_coding 0 alphabet", Input{DataCoding0: "ebcdic", ShortMessage: []byte(std + "\xe9")},
			with(delivered, "\xe9", "unknown")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.verify(t, r)
		})
	}
}

// Under GSM 7-bit the fields are read as ASCII: an id with _ @ $ stays as
// the SMSC's submit_sm_resp gave it, and a tab stays white space.
func TestParseGSMFieldsStayASCII(t *testing.T) {
	r, err := Parse(Input{ShortMessage: []byte("id:ab_c@d$1\tstat:DELIVRD\terr:000 text:x_y")})
	if err != nil {
		t.Fatal(err)
	}
	check{id: "ab_c@d$1", stat: "DELIVRD", err: "000", status: Delivered, final: true, text: "x§y"}.verify(t, r)
}

func TestParseIntermediateStates(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want check
	}{
		// Kannel smppbox: DLR_SMSC_SUCCESS is sent as stat:BUFFRED with
		// message_state 0.
		{"kannel smppbox BUFFRED", Input{EsmClass: 4, ShortMessage: []byte("id:77 sub:001 dlvrd:000 submit date:2412011200 done date:2412011200 stat:BUFFRED err:000 text:"),
			TLVs: tlvs(TagReceiptedMessageID, "77", TagMessageState, 0)},
			check{id: "77", stat: "BUFFRED", status: Enroute}},
		{"BUFFERD spelling", Input{ShortMessage: []byte("id:77 stat:BUFFERD err:000")}, check{id: "77", stat: "BUFFERD", status: Enroute}},
		{"ACKED", Input{ShortMessage: []byte("id:77 stat:ACKED err:000")}, check{id: "77", stat: "ACKED", status: Accepted}},
		{"ACCEPTD", Input{ShortMessage: []byte("id:77 stat:ACCEPTD err:000")}, check{id: "77", stat: "ACCEPTD", status: Accepted}},
		{"SCHEDLD", Input{ShortMessage: []byte("id:77 stat:SCHEDLD err:000")}, check{id: "77", stat: "SCHEDLD", status: Enroute}},
		{"message_state 0 alone is SCHEDULED", Input{TLVs: tlvs(TagReceiptedMessageID, "77", TagMessageState, 0)},
			check{id: "77", stat: "SCHEDULED", status: Enroute}},
		{"message_state 1", Input{TLVs: tlvs(TagReceiptedMessageID, "77", TagMessageState, 1)},
			check{id: "77", stat: "ENROUTE", status: Enroute}},
		{"message_state 6", Input{TLVs: tlvs(TagReceiptedMessageID, "77", TagMessageState, 6)},
			check{id: "77", stat: "ACCEPTED", status: Accepted}},
		// An SMSC that leaves message_state 0 on final receipts must not
		// turn them into ENROUTE: the text's known stat wins.
		{"message_state 0 with a final text stat", Input{ShortMessage: []byte("id:77 stat:DELIVRD"),
			TLVs: tlvs(TagMessageState, 0)},
			check{id: "77", stat: "DELIVRD", status: Delivered, final: true, conflict: "text stat used"}},
		{"message_state 0 with an unknown text stat", Input{ShortMessage: []byte("id:77 stat:NOSUCH"),
			TLVs: tlvs(TagMessageState, 0)},
			check{id: "77", stat: "NOSUCH", status: Enroute, conflict: "differs from message_state 0"}},
		{"message_state 2 with an intermediate text stat", Input{ShortMessage: []byte("id:77 stat:BUFFRED"),
			TLVs: tlvs(TagMessageState, 2)},
			check{id: "77", stat: "BUFFRED", status: Delivered, final: true, conflict: "differs from message_state 2"}},
		{"FAILED", Input{ShortMessage: []byte("id:77 stat:FAILED err:034")}, check{id: "77", stat: "FAILED", status: Undeliverable, final: true}},
		{"BUFFERED spelling", Input{ShortMessage: []byte("id:77 stat:BUFFERED err:000")}, check{id: "77", stat: "BUFFERED", status: Enroute}},
		{"PENDING", Input{ShortMessage: []byte("id:77 stat:pending err:000")}, check{id: "77", stat: "PENDING", status: Enroute}},
		{"UNKNOWN stays unknown and final", Input{ShortMessage: []byte("id:77 stat:UNKNOWN err:000")},
			check{id: "77", stat: "UNKNOWN", status: Unknown, final: true}},
		{"an unrecognised stat is unknown and final", Input{ShortMessage: []byte("id:77 stat:NOSUCH err:000")},
			check{id: "77", stat: "NOSUCH", status: Unknown, final: true}},
		{"intermediate notification esm_class", Input{EsmClass: 0x20, ShortMessage: []byte("id:77 stat:UNDELIV")},
			check{id: "77", stat: "UNDELIV", status: Undeliverable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.verify(t, r)
		})
	}
}

func TestParseBareStatus(t *testing.T) {
	tests := []struct {
		name, text string
		want       check
	}{
		{"between done date and err", "id:123 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 DELIVRD err:000 text:x",
			check{id: "123", stat: "DELIVRD", err: "000", status: Delivered, final: true, bare: true, text: "x"}},
		{"at the end", "id:123 sub:001 dlvrd:000 submit date:2412011200 done date:2412011201 err:001 UNDELIV",
			check{id: "123", stat: "UNDELIV", err: "001", status: Undeliverable, final: true, bare: true}},
		{"full word", "id:123 submit date:2412011200 done date:2412011201 EXPIRED", check{id: "123", stat: "EXPIRED", status: Expired, final: true, bare: true}},
		{"intermediate", "id:123 err:000 BUFFRED", check{id: "123", stat: "BUFFRED", status: Enroute, bare: true}},
		{"keyed stat wins over a bare word", "id:123 DELIVRD stat:UNDELIV err:000", check{id: "123", stat: "UNDELIV", status: Undeliverable, final: true}},
		{"lower case is not a bare stat", "id:123 err:000 delivered", check{id: "123", status: Unknown, final: true}},
		{"inside text: is not a bare stat", "id:123 err:000 text:DELIVRD", check{id: "123", status: Unknown, final: true, text: "DELIVRD"}},
		{"the word and an id", "id:123 DELIVRD", check{id: "123", stat: "DELIVRD", status: Delivered, final: true, bare: true}},
		{"the word before the id", "  DELIVRD id:123\n", check{id: "123", stat: "DELIVRD", status: Delivered, final: true, bare: true}},
		{"unknown keys are fields", "id:123 mcc:234 DELIVRD", check{id: "123", stat: "DELIVRD", status: Delivered, final: true, bare: true}},
		// The esm_class says it is a receipt: the text's shape does not
		// matter (it does only to LooksLikeReceipt, for receipts without
		// that esm_class). The first status word outside text: is the
		// stat, words around it or not, as before the shape rule existed:
		// a receipt that says DELIVRD is not turned into UNKNOWN, which is
		// final, for a word beside it.
		{"a word beside the fields", "id:1 DELIVRD err:000 sub:001 Delivered text:x",
			check{id: "1", stat: "DELIVRD", err: "000", status: Delivered, final: true, bare: true, text: "x"}},
		{"the first of two bare words", "id:123 ENROUTE DELIVRD", check{id: "123", stat: "ENROUTE", status: Enroute, bare: true}},
		{"a stat word in prose", "id:123 I was DELIVRD late", check{id: "123", stat: "DELIVRD", status: Delivered, final: true, bare: true}},
		{"prose after the fields", "id:123 sub:001 dlvrd:001 DELIVRD err:000 thanks", check{id: "123", stat: "DELIVRD", status: Delivered, final: true, bare: true}},
		{"prose behind an unknown key", "id:123 Note: it was DELIVRD", check{id: "123", stat: "DELIVRD", status: Delivered, final: true, bare: true}},
		{"prose before the fields", "Hello DELIVRD id:123 err:000", check{id: "123", stat: "DELIVRD", status: Delivered, final: true, bare: true}},
		{"a time not after a date", "id:123 12:00 DELIVRD", check{id: "123", stat: "DELIVRD", status: Delivered, final: true, bare: true}},
		{"empty stat: gives way to a bare word", "id:123 stat: err:000 DELIVRD", check{id: "123", stat: "DELIVRD", status: Delivered, final: true, bare: true}},
		{"value of a key is not bare", "id:DELIVRD err:000", check{id: "DELIVRD", status: Unknown, final: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(Input{EsmClass: 4, ShortMessage: []byte(tt.text)})
			if err != nil {
				t.Fatal(err)
			}
			tt.want.verify(t, r)
		})
	}
	// With the id in receipted_message_id, the text may be the status word
	// alone, or a sentence with one in it; "EXPIRED," is no status word.
	for text, want := range map[string]check{
		"DELIVRD":                  {id: "55", stat: "DELIVRD", status: Delivered, final: true, bare: true},
		" UNDELIV\x00":             {id: "55", stat: "UNDELIV", status: Undeliverable, final: true, bare: true},
		"I was DELIVRD late":       {id: "55", stat: "DELIVRD", status: Delivered, final: true, bare: true},
		"Your message was DELIVRD": {id: "55", stat: "DELIVRD", status: Delivered, final: true, bare: true},
		"EXPIRED, sorry":           {id: "55", status: Unknown, final: true},
		"DELIVRD DELIVRD":          {id: "55", stat: "DELIVRD", status: Delivered, final: true, bare: true},
	} {
		t.Run("tlv id, text "+text, func(t *testing.T) {
			r, err := Parse(Input{EsmClass: 4, ShortMessage: []byte(text), TLVs: tlvs(TagReceiptedMessageID, "55")})
			if err != nil {
				t.Fatal(err)
			}
			want.verify(t, r)
		})
	}
}

func TestParseVendorDeviations(t *testing.T) {
	t.Run("SMPP absolute dates", func(t *testing.T) {
		// smppex issue 46.
		r, err := Parse(Input{EsmClass: 4, ShortMessage: []byte("id:rdwjwxns18krxr9936ey96ymcw sub:000 dlvrd:000 submit date:180711070003912+ done date:180711070000012+ stat:UNDELIV err:000")})
		if err != nil {
			t.Fatal(err)
		}
		if want := utc(2018, 7, 11, 4, 0, 3); !r.Submitted.Equal(want) {
			t.Errorf("submitted %v, want %v", r.Submitted, want)
		}
		if r.SubmittedRaw != "180711070003912+" || r.Status != Undeliverable {
			t.Errorf("%+v", r)
		}
	})
	dates := map[string]time.Time{
		"180711070003912+": utc(2018, 7, 11, 4, 0, 3),
		"180711070003904-": utc(2018, 7, 11, 8, 0, 3),
		"180711070003000+": utc(2018, 7, 11, 7, 0, 3),
		"180711070003049+": {}, // beyond 12 hours
		"1807110700030x0+": {},
		"180711070003900R": {}, // relative time is no date
		"181311070003900+": {},
		// A date key's value may be a separated date and a time (the
		// time token is part of the value: see textFields.scan).
		"24/12/01 12:00":      utc(2024, 12, 1, 12, 0, 0),
		"24/12/01 9:05":       utc(2024, 12, 1, 9, 5, 0),
		"2024-12-01 12:00:00": utc(2024, 12, 1, 12, 0, 0),
		"2024/12/01 23:59:59": utc(2024, 12, 1, 23, 59, 59),
		"24-02-29 00:00":      utc(2024, 2, 29, 0, 0, 0),
		"2024-12-01  12:00":   utc(2024, 12, 1, 12, 0, 0),
		"23-02-29 00:00":      {}, // no 29 February in 2023
		"24/12-01 12:00":      {}, // mixed separators
		"24/12/01":            {}, // no time
		"24/12/01 12":         {},
		"24/12/01 24:00":      {},
		"24/12/01 12:60":      {},
		"24/12/01 12:00:60":   {},
		"24/12/01 123:00":     {},
		"01/12/2024 12:00":    {}, // day first: not read (01/12 or 12/01?)
		"2412011200 12:00":    {},
		"24/1/01 12:00":       {},
		"124/12/01 12:00":     {},
	}
	for s, want := range dates {
		if got := parseDate(s); !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, want %v", s, got, want)
		}
	}
	t.Run("network_error_code as ASCII digits", func(t *testing.T) {
		// Kannel, error_from_network_error_code: "a bogous SMSC sending
		// back network_error_code as 3 digit string".
		r, err := Parse(Input{TLVs: tlvs(TagReceiptedMessageID, "1", TagNetworkErrorCode, "034")})
		if err != nil {
			t.Fatal(err)
		}
		if r.Err != "034" {
			t.Errorf("err %q", r.Err)
		}
	})
	t.Run("err:null", func(t *testing.T) {
		// vumi pull request 873: "we see values like err:null".
		r, err := Parse(Input{ShortMessage: []byte("id:1 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 stat:DELIVRD err:null text:")})
		if err != nil || r.Err != "null" || r.Status != Delivered {
			t.Errorf("%+v %v", r, err)
		}
	})
}

func TestLooksLikeReceipt(t *testing.T) {
	yes := []string{
		std + "hello",
		"id:1526758174 submit date:1701240904 done date:1701240904 stat:DELIVRD err:000 text:hellow", // jsmpp issue 62
		"id:0654354026 submit date:2302101454 done date:2302101454 stat:DELIVRD err:000",             // jsmpp issue 67
		"id:1298d520-b783-49d9-87af-643d7bf13304 submit date:2411051159 done date:2411051159 stat:DELIVRD err:00",
		"id:123 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 DELIVRD err:000 text:x",
		"ID:77 SUB:001 DLVRD:001 STAT:delivrd ERR:000",
		"id:7 err:0 stat:BUFFRED",
		"  id: 7   stat : UNDELIV   err : 001  ",
		"id:1 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD text:hello err:000", // err after text:
		"id:1 stat:DELIVRD text:hello err:000",                   // the third field after text:
		"id:ABCDEF stat:DELIVRD err:000",                         // a hex id without a digit
		"id:1 mcc:234 stat:DELIVRD err:000",                      // unknown keys are fields
		"id:1 DELIVRD sub:001 err:000",                           // a bare status and two more fields
		"id:9 stat:PENDING done date:250101120130",               // 12-digit date
		"id:9 stat:DELIVRD submit date:180711070003912+",         // SMPP absolute time
		"id:" + strings.Repeat("a1", 32) + " stat:DELIVRD err:0", // 64 characters
		// Dates written with a time after them (the time is part of the
		// date's value, not prose), and ids of any printable characters:
		// the operators of the review send these with esm_class 0.
		"id:1 sub:001 dlvrd:001 submit date:24/12/01 12:00 done date:24/12/01 12:01 stat:DELIVRD err:000 text:x",
		"id:1 sub:001 dlvrd:001 submit date:2024-12-01 12:00:00 done date:2024-12-01 12:01:00 stat:DELIVRD err:000 text:x",
		"id:1 submit date: 24/12/01  9:05 stat:DELIVRD",          // the date alone is the third field
		"id:1 stat:DELIVRD text:x done date:2024-12-01 12:01:00", // after text:
		"id:1 DELIVRD sub:001 done date:24/12/01 12:01",          // with a bare status
		"id:abc+def/1 sub:001 dlvrd:001 submit date:2412011200 done date:2412011201 stat:DELIVRD err:000 text:x",
		"id:msg:42 stat:DELIVRD err:000",
		"id:5, stat:DELIVRD err:000",  // any printable token is an id...
		"id:(5) stat:DELIVRD err:000", // ... the other fields make the receipt
		"id:5-- stat:DELIVRD err:000",
		"id:Ab#1=%~ stat:DELIVRD err:000",
		"id:" + strings.Repeat("+", 64) + " stat:DELIVRD err:0",
	}
	no := []string{
		"",
		"hello",
		"id: 5 stat: ok",                         // no status word
		"id: 5 stat: ok err: 1",                  // no status word
		"id:5 stat:DELIVRD",                      // nothing else a receipt carries (Jasmin: a receipt)
		"paid:5 stat:DELIVRD err:000",            // "paid" is not "id" (Jasmin: a receipt)
		"order id:123 was DELIVERED",             // no third field
		"id:5 err:0 delivered",                   // lower-case bare word
		"id:5 stat:waiting err:000",              // not a status word (Jasmin: a receipt)
		"stat:DELIVRD err:000 sub:001 dlvrd:001", // no id
		"id: stat:DELIVRD err:000",               // empty id
		"id:5 stat:DELIVRD err: sub: dlvrd:",     // no value in the third fields
		"hi text:id:5 stat:DELIVRD err:000",      // all inside text:
		"id:5 text: stat:DELIVRD err:000",        // a stat after text: is text (nor does Parse read it)
		// The reviewer's examples, and prose around receipt words: the
		// text must be in the receipt's shape, its values well-formed.
		"id:123 stat:ok see you",
		"Submit date: tomorrow, done: yes",
		"Your id: 5 is DELIVERED err: none",                       // prose; err not digits
		"Your id: 5 is DELIVERED err: 0",                          // prose
		"id:123 stat:DELIVRD err:000 see you",                     // prose after the fields
		"Hi! id:123 stat:DELIVRD err:000",                         // prose before them
		"id: 42 stat: delivered sub: yes",                         // sub not a number
		"id:5 stat:DELIVRD err:x",                                 // err not a number
		"id:5 stat:DELIVRD err:0x1F",                              // err not a number
		"id:5 stat:DELIVRD sub:1234",                              // sub of 4 digits
		"id:5 stat:DELIVRD done date:9999999999",                  // not a date
		"id:5 stat:DELIVRD submit date:tomorrow",                  // not a date
		"id:" + strings.Repeat("a", 65) + " stat:DELIVRD err:000", // too long for an id
		"id:a\x01b stat:DELIVRD err:000",                          // a control character in the id
		"id:\xff stat:DELIVRD err:000",                            // not UTF-8
		"id:123 DELIVRD err:000",                                  // a bare status needs two more fields
		"id:1 stat:DELIVRD UNDELIV EXPIRED err:000",               // status words beside the stat
		"id:5 stat:DELIVRD text:hi err:000 thanks",                // err is text: nothing after stat:
		// A marked receipt's lenient reading (a word beside the fields)
		// is no shape for one without the mark.
		"id:1 DELIVRD err:000 sub:001 Delivered text:x",
		"id:123 I was DELIVRD late",
		// A time belongs to the date before it, and to nothing else.
		"id:5 stat:DELIVRD 12:00 err:000",                          // not after a date
		"id:5 stat:DELIVRD done date:24/12/01 12:00 13:00 err:000", // a second time
		"id:5 stat:DELIVRD done date:24/12/01 12:00 thanks",        // prose after it
		"id:5 stat:DELIVRD done date:tomorrow 10:30",               // not a date
		"Submit date: tomorrow 10:30, done: yes",                   // no id
		"id:5 stat:DELIVRD done date:24/12/01 25:00",               // not a time
		"id:5 stat:DELIVRD done date:24/13/01 12:00",               // not a date
		"id:5 stat:DELIVRD done date:01/12/2024 12:00",             // day first: ambiguous, not read
		"id:1 text:Your parcel stat:UNDELIV err:1",                 // no stat before text:
		"id:1 err:000 sub:001 text:Your parcel stat:UNDELIV",       // the same
	}
	for _, s := range yes {
		if !LooksLikeReceipt(s) {
			t.Errorf("LooksLikeReceipt(%q) = false, want true", s)
		}
		if _, err := Parse(Input{ShortMessage: []byte(s)}); err != nil {
			t.Errorf("%q looks like a receipt but Parse fails: %v", s, err)
		}
	}
	for _, s := range no {
		if LooksLikeReceipt(s) {
			t.Errorf("LooksLikeReceipt(%q) = true, want false", s)
		}
	}
	// On Input: decoded as Parse decodes.
	if !(Input{DataCoding: 8, ShortMessage: ucs2(std)}).LooksLikeReceipt() {
		t.Error("UCS2 receipt not recognised")
	}
	if !(Input{DataCoding: 8, TLVs: tlvs(TagMessagePayload, ucs2(std))}).LooksLikeReceipt() {
		t.Error("UCS2 receipt in message_payload not recognised")
	}
	if (Input{DataCoding: 8, ShortMessage: ucs2("id: 5 stat: ok")}).LooksLikeReceipt() {
		t.Error("UCS2 MO taken for a receipt")
	}
}

// Some SMSCs put text: before err:, or add fields after it. Fields after
// text: are read when they are well-formed receipt fields to the end of the
// message, and not already read before text:; anything else there is the
// text. An id after text: is never read (it could only come from the
// subscriber's message, and would match the receipt to another message).
func TestParseFieldsAfterText(t *testing.T) {
	const head = "id:1 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 "
	tests := []struct {
		name, text string
		stat, err  string
		status     Status
		body       string // Receipt.Text
		sub, dlvrd int
		done       time.Time
	}{
		{"err after text", head + "stat:DELIVRD text:hello err:000", "DELIVRD", "000", Delivered, "hello", 1, 1, utc(2025, 1, 1, 12, 1, 0)},
		// stat: after text: is never read: it could be the subscriber's
		// ("Your parcel stat:UNDELIV"); the receipt has no stat, and the
		// fields after it are still read.
		{"stat after text is text", "id:1 text:Your parcel stat:UNDELIV err:1", "", "1", Unknown, "Your parcel stat:UNDELIV", 0, 0, time.Time{}},
		{"stat and err after text", "id:1 text:hi there stat:UNDELIV err:034", "", "034", Unknown, "hi there stat:UNDELIV", 0, 0, time.Time{}},
		{"empty text then fields", "id:1 text: stat:EXPIRED  err : 027", "", "027", Unknown, "stat:EXPIRED", 0, 0, time.Time{}},
		{"stat at the end is text", "id:1 err:000 text:hello stat:DELIVRD", "", "000", Unknown, "hello stat:DELIVRD", 0, 0, time.Time{}},
		{"a date and time after text", "id:1 stat:DELIVRD text:hi done date:24/12/01 12:01", "DELIVRD", "", Delivered, "hi", 0, 0, utc(2024, 12, 1, 12, 1, 0)},
		{"dates and counts after text", "id:1 stat:DELIVRD err:000 text:see you at 10:30 sub:001 dlvrd:001 done date:2501011201",
			"DELIVRD", "000", Delivered, "see you at 10:30", 1, 1, utc(2025, 1, 1, 12, 1, 0)},
		{"a key read before text: stays text", head + "stat:DELIVRD err:000 text:code err:5", "DELIVRD", "000", Delivered, "code err:5", 1, 1, utc(2025, 1, 1, 12, 1, 0)},
		{"a stat read before text: stays text", head + "stat:DELIVRD text:hello stat:UNDELIV", "DELIVRD", "", Delivered, "hello stat:UNDELIV", 1, 1, utc(2025, 1, 1, 12, 1, 0)},
		{"malformed err stays text", head + "stat:DELIVRD text:hello err:abc", "DELIVRD", "", Delivered, "hello err:abc", 1, 1, utc(2025, 1, 1, 12, 1, 0)},
		{"unknown stat stays text", "id:1 err:000 text:hello stat:fine", "", "000", Unknown, "hello stat:fine", 0, 0, time.Time{}},
		{"invalid date stays text", "id:1 stat:DELIVRD text:hi done date:9999999999", "DELIVRD", "", Delivered, "hi done date:9999999999", 0, 0, time.Time{}},
		{"a field followed by words stays text", head + "stat:DELIVRD text:err:000 is fine", "DELIVRD", "", Delivered, "err:000 is fine", 1, 1, utc(2025, 1, 1, 12, 1, 0)},
		{"only the trailing run", head + "stat:DELIVRD text:err:001 then err:000", "DELIVRD", "000", Delivered, "err:001 then", 1, 1, utc(2025, 1, 1, 12, 1, 0)},
		{"an id after text: is not read", "id:1 stat:DELIVRD text:my id:99 err:000", "DELIVRD", "000", Delivered, "my id:99", 0, 0, time.Time{}},
		{"a bare word after text: is text", head + "err:000 text:hello DELIVRD", "", "000", Unknown, "hello DELIVRD", 1, 1, utc(2025, 1, 1, 12, 1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(Input{EsmClass: 4, ShortMessage: []byte(tt.text)})
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != "1" || r.Stat != tt.stat || r.Err != tt.err || r.Status != tt.status || r.Text != tt.body ||
				r.Sub != tt.sub || r.Dlvrd != tt.dlvrd || !r.Done.Equal(tt.done) {
				t.Errorf("%q:\n got id %q stat %q err %q status %s text %q sub %d dlvrd %d done %v\nwant id \"1\" stat %q err %q status %s text %q sub %d dlvrd %d done %v",
					tt.text, r.ID, r.Stat, r.Err, r.Status, r.Text, r.Sub, r.Dlvrd, r.Done,
					tt.stat, tt.err, tt.status, tt.body, tt.sub, tt.dlvrd, tt.done)
			}
		})
	}
	// Decoded as the rest of the text: the fields are split off first.
	for name, in := range map[string]Input{
		"gsm7": {ShortMessage: []byte("id:1 stat:DELIVRD text:H\x1belloworld err:000")},
		"ucs2": {DataCoding: 8, ShortMessage: ucs2("id:1 stat:DELIVRD text:H€lloworld err:000")},
	} {
		r, err := Parse(in)
		if err != nil || r.Text != "H€lloworld" || r.Err != "000" || r.Status != Delivered {
			t.Errorf("%s: text %q err %q status %s (%v)", name, r.Text, r.Err, r.Status, err)
		}
	}
}

// A date key's value may be a date written with separators and a time
// after it ("submit date:24/12/01 12:00"): the time is part of the value,
// and the date is read when it is year first (YY/MM/DD, YYYY-MM-DD).
func TestParseDateAndTime(t *testing.T) {
	tests := []struct {
		text                  string
		submitRaw, doneRaw    string
		submitted, done       time.Time
		stat, err, body, note string
	}{
		{"id:1 sub:001 dlvrd:001 submit date:24/12/01 12:00 done date:24/12/01 12:01 stat:DELIVRD err:000 text:x",
			"24/12/01 12:00", "24/12/01 12:01", utc(2024, 12, 1, 12, 0, 0), utc(2024, 12, 1, 12, 1, 0), "DELIVRD", "000", "x", ""},
		{"id:1 sub:001 dlvrd:001 submit date:2024-12-01 12:00:00 done date:2024-12-01 12:01:00 stat:DELIVRD err:000 text:x",
			"2024-12-01 12:00:00", "2024-12-01 12:01:00", utc(2024, 12, 1, 12, 0, 0), utc(2024, 12, 1, 12, 1, 0), "DELIVRD", "000", "x", ""},
		{"id:1 submit date: 24/12/01  9:05 done date:01/12/2024 12:01 stat:DELIVRD",
			"24/12/01  9:05", "01/12/2024 12:01", utc(2024, 12, 1, 9, 5, 0), time.Time{}, "DELIVRD", "", "", ""},
		// Without a date key before it, a time is just a word.
		{"id:1 stat:DELIVRD err:000 text:see you at 10:30", "", "", time.Time{}, time.Time{}, "DELIVRD", "000", "see you at 10:30", ""},
	}
	for _, tt := range tests {
		r, err := Parse(Input{EsmClass: 4, ShortMessage: []byte(tt.text)})
		if err != nil {
			t.Fatal(err)
		}
		if r.ID != "1" || r.SubmittedRaw != tt.submitRaw || r.DoneRaw != tt.doneRaw || !r.Submitted.Equal(tt.submitted) || !r.Done.Equal(tt.done) ||
			r.Stat != tt.stat || r.Err != tt.err || r.Text != tt.body {
			t.Errorf("%q:\n got id %q submitted %q %v done %q %v stat %q err %q text %q\nwant submitted %q %v done %q %v stat %q err %q text %q",
				tt.text, r.ID, r.SubmittedRaw, r.Submitted, r.DoneRaw, r.Done, r.Stat, r.Err, r.Text,
				tt.submitRaw, tt.submitted, tt.doneRaw, tt.done, tt.stat, tt.err, tt.body)
		}
	}
}

// err: before text: is the receipt's and wins over network_error_code (as
// it always did); an err: after text: is read only when the TLV gives no
// code: it is the less sure of the two.
func TestParseErrAfterTextAndNetworkErrorCode(t *testing.T) {
	for _, c := range []struct {
		name, text string
		nec        []byte
		want       string
	}{
		{"before text: wins", "id:1 stat:UNDELIV err:005 text:x", []byte{3, 0, 9}, "005"},
		{"after text: gives way to the TLV", "id:1 stat:UNDELIV text:x err:005", []byte{3, 0, 9}, "009"},
		{"after text: gives way to ASCII digits in the TLV", "id:1 stat:UNDELIV text:x err:005", []byte("034"), "034"},
		{"after text: without the TLV", "id:1 stat:UNDELIV text:x err:005", nil, "005"},
		{"after text: with a TLV that gives no code", "id:1 stat:UNDELIV text:x err:005", []byte{3, 0}, "005"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := Input{EsmClass: 4, ShortMessage: []byte(c.text), TLVs: map[uint16][]byte{}}
			if c.nec != nil {
				in.TLVs[TagNetworkErrorCode] = c.nec
			}
			r, err := Parse(in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Err != c.want || r.Text != "x" {
				t.Errorf("err %q text %q, want err %q text \"x\"", r.Err, r.Text, c.want)
			}
		})
	}
}
