package dlr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func utc(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

var (
	sub1  = utc(2024, time.January, 15, 12, 30, 0)
	done1 = utc(2024, time.January, 15, 12, 31, 0)
)

func tlvs(kv ...any) map[uint16][]byte {
	m := map[uint16][]byte{}
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case string:
			m[kv[i].(uint16)] = []byte(v)
		case []byte:
			m[kv[i].(uint16)] = v
		case int:
			m[kv[i].(uint16)] = []byte{byte(v)}
		}
	}
	return m
}

func TestParse(t *testing.T) {
	id64 := strings.Repeat("a1b2c3d4", 8)
	tests := []struct {
		name string
		in   Input
		want Receipt
	}{
		{
			name: "standard",
			in: Input{EsmClass: 0x04, ShortMessage: []byte(
				"id:1234567 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:Hello world")},
			want: Receipt{ID: "1234567", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true,
				Submitted: sub1, Done: done1, SubmittedRaw: "2401151230", DoneRaw: "2401151231",
				Sub: 1, Dlvrd: 1, Text: "Hello world", Source: SourceText},
		},
		{
			name: "capitalized keys",
			in: Input{EsmClass: 0x04, ShortMessage: []byte(
				"Id:12D687 Sub:001 Dlvrd:000 Submit date:2401151230 Done date:2401151231 Stat:UNDELIV Err:001 Text:Hello")},
			want: Receipt{ID: "12D687", Stat: "UNDELIV", Err: "001", Status: Undeliverable, Final: true,
				Submitted: sub1, Done: done1, SubmittedRaw: "2401151230", DoneRaw: "2401151231",
				Sub: 1, Text: "Hello", Source: SourceText},
		},
		{
			name: "all upper-case keys",
			in:   Input{ShortMessage: []byte("ID:77 SUB:002 DLVRD:002 SUBMIT DATE:2401151230 DONE DATE:2401151231 STAT:DELIVRD ERR:000 TEXT:X")},
			want: Receipt{ID: "77", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true,
				Submitted: sub1, Done: done1, SubmittedRaw: "2401151230", DoneRaw: "2401151231",
				Sub: 2, Dlvrd: 2, Text: "X", Source: SourceText},
		},
		{
			name: "seconds in dates",
			in: Input{EsmClass: 0x04, ShortMessage: []byte(
				"id:1 sub:001 dlvrd:001 submit date:240115123005 done date:240115123159 stat:EXPIRED err:000 text:")},
			want: Receipt{ID: "1", Stat: "EXPIRED", Err: "000", Status: Expired, Final: true,
				Submitted: utc(2024, 1, 15, 12, 30, 5), Done: utc(2024, 1, 15, 12, 31, 59),
				SubmittedRaw: "240115123005", DoneRaw: "240115123159", Sub: 1, Dlvrd: 1, Source: SourceText},
		},
		{
			name: "four-digit year",
			in:   Input{ShortMessage: []byte("id:1 submit date:20240115123005 done date:20991231235959 stat:DELIVRD")},
			want: Receipt{ID: "1", Stat: "DELIVRD", Status: Delivered, Final: true,
				Submitted: utc(2024, 1, 15, 12, 30, 5), Done: utc(2099, 12, 31, 23, 59, 59),
				SubmittedRaw: "20240115123005", DoneRaw: "20991231235959", Source: SourceText},
		},
		{
			name: "no text",
			in: Input{EsmClass: 0x04, ShortMessage: []byte(
				"id:0001234567 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:REJECTD err:123")},
			want: Receipt{ID: "0001234567", Stat: "REJECTD", Err: "123", Status: Rejected, Final: true,
				Submitted: sub1, Done: done1, SubmittedRaw: "2401151230", DoneRaw: "2401151231",
				Sub: 1, Dlvrd: 1, Source: SourceText},
		},
		{
			name: "short",
			in:   Input{EsmClass: 0x04, ShortMessage: []byte("id:abc stat:ACCEPTD err:000")},
			want: Receipt{ID: "abc", Stat: "ACCEPTD", Err: "000", Status: Accepted, Source: SourceText},
		},
		{
			name: "extra spaces everywhere",
			in: Input{ShortMessage: []byte(
				"  id: 1234567   sub : 001  dlvrd:  001 submit  date: 2401151230 done   date :2401151231  stat :  DELIVRD\terr: 000   text:  spaced out  ")},
			want: Receipt{ID: "1234567", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true,
				Submitted: sub1, Done: done1, SubmittedRaw: "2401151230", DoneRaw: "2401151231",
				Sub: 1, Dlvrd: 1, Text: "spaced out", Source: SourceText},
		},
		{
			name: "text with colons and keys inside",
			in:   Input{ShortMessage: []byte("id:9 stat:DELIVRD err:000 Text:Your code: 1234 stat:FAKE at 10:30")},
			want: Receipt{ID: "9", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true,
				Text: "Your code: 1234 stat:FAKE at 10:30", Source: SourceText},
		},
		{
			name: "lower-case stat",
			in:   Input{ShortMessage: []byte("id:9 stat:delivrd err:0")},
			want: Receipt{ID: "9", Stat: "DELIVRD", Err: "0", Status: Delivered, Final: true, Source: SourceText},
		},
		{
			name: "long stat names",
			in:   Input{ShortMessage: []byte("id:9 stat:Undeliverable")},
			want: Receipt{ID: "9", Stat: "UNDELIVERABLE", Status: Undeliverable, Final: true, Source: SourceText},
		},
		{
			name: "unknown stat",
			in:   Input{ShortMessage: []byte("id:9 stat:NOSUCH err:034")},
			want: Receipt{ID: "9", Stat: "NOSUCH", Err: "034", Status: Unknown, Final: true, Source: SourceText},
		},
		{
			name: "enroute is not final",
			in:   Input{ShortMessage: []byte("id:9 stat:ENROUTE")},
			want: Receipt{ID: "9", Stat: "ENROUTE", Status: Enroute, Source: SourceText},
		},
		{
			name: "missing sub dlvrd and dates",
			in:   Input{ShortMessage: []byte("id:55 stat:DELETED err:000 text:x")},
			want: Receipt{ID: "55", Stat: "DELETED", Err: "000", Status: Deleted, Final: true, Text: "x", Source: SourceText},
		},
		{
			name: "64-char id",
			in:   Input{ShortMessage: []byte("id:" + id64 + " sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:hi")},
			want: Receipt{ID: id64, Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true,
				Submitted: sub1, Done: done1, SubmittedRaw: "2401151230", DoneRaw: "2401151231",
				Sub: 1, Dlvrd: 1, Text: "hi", Source: SourceText},
		},
		{
			name: "uuid id",
			in:   Input{ShortMessage: []byte("id:3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6b stat:DELIVRD")},
			want: Receipt{ID: "3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6b", Stat: "DELIVRD", Status: Delivered, Final: true, Source: SourceText},
		},
		{
			name: "unknown keys and fields in another order",
			in:   Input{ShortMessage: []byte("stat:DELIVRD imsi:234100000000001 id:42 mcc-mnc:234-10 err:000 sub:003 dlvrd:002")},
			want: Receipt{ID: "42", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true, Sub: 3, Dlvrd: 2, Source: SourceText},
		},
		{
			name: "underscore and joined date keys",
			in:   Input{ShortMessage: []byte("id:1 submit_date:2401151230 donedate:2401151231 stat:DELIVRD")},
			want: Receipt{ID: "1", Stat: "DELIVRD", Status: Delivered, Final: true,
				Submitted: sub1, Done: done1, SubmittedRaw: "2401151230", DoneRaw: "2401151231", Source: SourceText},
		},
		{
			name: "unparseable dates kept raw",
			in:   Input{ShortMessage: []byte("id:1 submit date:2413321299 done date:24/01/15 stat:DELIVRD")},
			want: Receipt{ID: "1", Stat: "DELIVRD", Status: Delivered, Final: true,
				SubmittedRaw: "2413321299", DoneRaw: "24/01/15", Source: SourceText},
		},
		{
			name: "29 February",
			in:   Input{ShortMessage: []byte("id:1 submit date:2402291200 done date:2302291200")},
			want: Receipt{ID: "1", Status: Unknown, Final: true, Submitted: utc(2024, 2, 29, 12, 0, 0),
				SubmittedRaw: "2402291200", DoneRaw: "2302291200", Source: SourceText},
		},
		{
			name: "trailing NULs and CRLF",
			in:   Input{ShortMessage: []byte("id:7 stat:DELIVRD\r\nerr:000\x00\x00")},
			want: Receipt{ID: "7", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true, Source: SourceText},
		},
		{
			name: "non-numeric sub",
			in:   Input{ShortMessage: []byte("id:7 sub:abc dlvrd:1 stat:DELIVRD")},
			want: Receipt{ID: "7", Stat: "DELIVRD", Status: Delivered, Final: true, Dlvrd: 1, Source: SourceText},
		},
		{
			name: "empty err value before next key",
			in:   Input{ShortMessage: []byte("id:7 err: stat:DELIVRD")},
			want: Receipt{ID: "7", Stat: "DELIVRD", Status: Delivered, Final: true, Source: SourceText},
		},
		{
			name: "spaced value that contains a colon",
			in:   Input{ShortMessage: []byte("id: abc:def stat:DELIVRD")},
			want: Receipt{ID: "abc:def", Stat: "DELIVRD", Status: Delivered, Final: true, Source: SourceText},
		},
		{
			name: "first occurrence wins",
			in:   Input{ShortMessage: []byte("id:1 stat:DELIVRD id:2 stat:UNDELIV")},
			want: Receipt{ID: "1", Stat: "DELIVRD", Status: Delivered, Final: true, Source: SourceText},
		},
		{
			name: "TLV only",
			in: Input{EsmClass: 0x04, TLVs: tlvs(TagReceiptedMessageID, "1234567\x00", TagMessageState, 2,
				TagNetworkErrorCode, []byte{3, 0, 0})},
			want: Receipt{ID: "1234567", Stat: "DELIVERED", Err: "000", Status: Delivered, Final: true,
				MessageState: 2, HasMessageState: true, NetworkError: []byte{3, 0, 0}, Source: SourceTLV},
		},
		{
			name: "TLV id without NUL, state 5, network error 0x0b",
			in: Input{EsmClass: 0x04, TLVs: tlvs(TagReceiptedMessageID, "abc", TagMessageState, 5,
				TagNetworkErrorCode, []byte{3, 0, 0x0b})},
			want: Receipt{ID: "abc", Stat: "UNDELIVERABLE", Err: "011", Status: Undeliverable, Final: true,
				MessageState: 5, HasMessageState: true, NetworkError: []byte{3, 0, 0x0b}, Source: SourceTLV},
		},
		{
			name: "TLV network error above 999",
			in:   Input{TLVs: tlvs(TagReceiptedMessageID, "abc", TagNetworkErrorCode, []byte{1, 0x10, 0x00})},
			want: Receipt{ID: "abc", Err: "4096", Status: Unknown, Final: true, NetworkError: []byte{1, 0x10, 0}, Source: SourceTLV},
		},
		{
			name: "TLV states 9 and out of range are UNKNOWN",
			in:   Input{TLVs: tlvs(TagReceiptedMessageID, "abc", TagMessageState, 9)},
			want: Receipt{ID: "abc", Stat: "SKIPPED", Status: Unknown, Final: true, MessageState: 9, HasMessageState: true, Source: SourceTLV},
		},
		{
			name: "TLV state 0x42",
			in:   Input{TLVs: tlvs(TagReceiptedMessageID, "abc", TagMessageState, 0x42)},
			want: Receipt{ID: "abc", Stat: "UNKNOWN", Status: Unknown, Final: true, MessageState: 0x42, HasMessageState: true, Source: SourceTLV},
		},
		{
			name: "text and TLV agree",
			in: Input{EsmClass: 0x04, ShortMessage: []byte("id:12d687 stat:DELIVRD err:000"),
				TLVs: tlvs(TagReceiptedMessageID, "12d687\x00", TagMessageState, 2)},
			want: Receipt{ID: "12d687", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true,
				MessageState: 2, HasMessageState: true, Source: SourceBoth},
		},
		{
			// Some operators write the id in hex in the TLV and in decimal in
			// the text: the TLV wins, the difference is recorded.
			name: "text and TLV disagree on id: TLV wins",
			in: Input{EsmClass: 0x04, ShortMessage: []byte("id:1234567 stat:DELIVRD err:000"),
				TLVs: tlvs(TagReceiptedMessageID, "12D687\x00", TagMessageState, 2)},
			want: Receipt{ID: "12D687", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true,
				MessageState: 2, HasMessageState: true, Source: SourceBoth,
				Conflict: `text id "1234567" differs from receipted_message_id "12D687"`},
		},
		{
			name: "text and TLV disagree on status: message_state wins, raw stat kept",
			in: Input{ShortMessage: []byte("id:1 stat:DELIVRD"),
				TLVs: tlvs(TagReceiptedMessageID, "1", TagMessageState, 5)},
			want: Receipt{ID: "1", Stat: "DELIVRD", Status: Undeliverable, Final: true, MessageState: 5, HasMessageState: true, Source: SourceBoth,
				Conflict: `text stat "DELIVRD" (DELIVERED) differs from message_state 5 (UNDELIVERABLE)`},
		},
		{
			name: "message_state UNKNOWN defers to the text",
			in:   Input{ShortMessage: []byte("id:1 stat:EXPIRED"), TLVs: tlvs(TagMessageState, 7)},
			want: Receipt{ID: "1", Stat: "EXPIRED", Status: Expired, Final: true, MessageState: 7, HasMessageState: true, Source: SourceBoth},
		},
		{
			name: "text err wins over network_error_code",
			in: Input{ShortMessage: []byte("id:1 stat:UNDELIV err:005"),
				TLVs: tlvs(TagNetworkErrorCode, []byte{3, 0, 9})},
			want: Receipt{ID: "1", Stat: "UNDELIV", Err: "005", Status: Undeliverable, Final: true,
				NetworkError: []byte{3, 0, 9}, Source: SourceBoth},
		},
		{
			name: "blank TLV id falls back to the text",
			in:   Input{ShortMessage: []byte("id:88 stat:DELIVRD"), TLVs: tlvs(TagReceiptedMessageID, "\x00")},
			want: Receipt{ID: "88", Stat: "DELIVRD", Status: Delivered, Final: true, Source: SourceBoth},
		},
		{
			name: "message_payload carries the text",
			in: Input{EsmClass: 0x04, TLVs: tlvs(TagMessagePayload,
				"id:1234567 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:payload")},
			want: Receipt{ID: "1234567", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true,
				Submitted: sub1, Done: done1, SubmittedRaw: "2401151230", DoneRaw: "2401151231",
				Sub: 1, Dlvrd: 1, Text: "payload", Source: SourceText},
		},
		{
			name: "short_message wins over message_payload",
			in:   Input{ShortMessage: []byte("id:1 stat:DELIVRD"), TLVs: tlvs(TagMessagePayload, "id:2 stat:UNDELIV")},
			want: Receipt{ID: "1", Stat: "DELIVRD", Status: Delivered, Final: true, Source: SourceText},
		},
		{
			name: "intermediate notification is not final",
			in:   Input{EsmClass: 0x20, ShortMessage: []byte("id:1 stat:DELIVRD")},
			want: Receipt{ID: "1", Stat: "DELIVRD", Status: Delivered, Source: SourceText},
		},
		{
			name: "simulator seconds variant with TLVs",
			in: Input{EsmClass: 0x04, ShortMessage: []byte(
				"id:0000000042 sub:001 dlvrd:001 submit date:251126104959 done date:251126105001 stat:DELIVRD err:000 text:Hello from the simul"),
				TLVs: tlvs(TagReceiptedMessageID, "0000000042\x00", TagMessageState, 2, TagNetworkErrorCode, []byte{3, 0, 0})},
			want: Receipt{ID: "0000000042", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true,
				Submitted: utc(2025, 11, 26, 10, 49, 59), Done: utc(2025, 11, 26, 10, 50, 1),
				SubmittedRaw: "251126104959", DoneRaw: "251126105001", Sub: 1, Dlvrd: 1, Text: "Hello from the simul",
				MessageState: 2, HasMessageState: true, NetworkError: []byte{3, 0, 0}, Source: SourceBoth},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !equalReceipt(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func equalReceipt(a, b Receipt) bool {
	return reflect.DeepEqual(a, b)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"nothing", Input{}, "no receipted_message_id TLV, no text"},
		{"no id in text", Input{ShortMessage: []byte("sub:001 dlvrd:001 stat:DELIVRD err:000 text:hi")}, "no receipted_message_id TLV, text has no id:"},
		{"empty id", Input{ShortMessage: []byte("id: stat:DELIVRD")}, "text has an empty id:"},
		{"not a receipt", Input{ShortMessage: []byte("hello there")}, "text is not a receipt"},
		{"blank TLV id, no text id", Input{ShortMessage: []byte("stat:DELIVRD"), TLVs: tlvs(TagReceiptedMessageID, " \x00")}, "receipted_message_id is empty"},
		{"state only", Input{TLVs: tlvs(TagMessageState, 2)}, "no receipted_message_id TLV, no text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrNoID) {
				t.Errorf("error %v does not wrap ErrNoID", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseDoesNotAliasInput(t *testing.T) {
	sm := []byte("id:1 stat:DELIVRD text:abc")
	nec := []byte{3, 0, 1}
	r, err := Parse(Input{ShortMessage: sm, TLVs: map[uint16][]byte{TagNetworkErrorCode: nec}})
	if err != nil {
		t.Fatal(err)
	}
	copy(sm, "XXXXXXXXXXXXXXXXXXXXXXXXXXXX")
	nec[2] = 9
	if r.ID != "1" || r.Text != "abc" || r.NetworkError[2] != 1 {
		t.Errorf("receipt changed with its input: %+v", r)
	}
}

func TestIsReceipt(t *testing.T) {
	id := tlvs(TagReceiptedMessageID, "x")
	tests := []struct {
		esm  byte
		tlvs map[uint16][]byte
		want bool
	}{
		{0x04, nil, true},
		{0x44, nil, true}, // UDHI set on a receipt
		{0x84, nil, true}, // reply path set
		{0x08, nil, true},
		{0x10, nil, true},
		{0x20, nil, true},
		{0x00, nil, false},
		{0x40, nil, false},
		{0x18, nil, false}, // conversation abort
		{0x00, id, true},
		{0x00, tlvs(TagMessageState, 2), false},
	}
	for _, tt := range tests {
		if got := IsReceipt(tt.esm, tt.tlvs); got != tt.want {
			t.Errorf("IsReceipt(%#02x, %v) = %v, want %v", tt.esm, tt.tlvs, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := map[string]Status{
		"DELIVRD": Delivered, "delivered": Delivered, "UNDELIV": Undeliverable, "Undeliverable": Undeliverable,
		"EXPIRED": Expired, "REJECTD": Rejected, "REJECTED": Rejected, "DELETED": Deleted,
		"ACCEPTD": Accepted, "ACCEPTED": Accepted, "ENROUTE": Enroute, "UNKNOWN": Unknown,
		"": Unknown, "NOSUCH": Unknown, "DELIVRD ": Unknown, "ESME_ROK": Unknown, "DELIVRDX": Unknown,
		"BUFFRED": Enroute, "BUFFERD": Enroute, "ACKED": Accepted, "acked": Accepted, "SCHEDULED": Enroute,
		"SCHEDLD": Enroute, "FAILED": Undeliverable, "UNDELIVERABLEX": Unknown,
		// Intermediate spellings seen in the field: not final (an unknown
		// stat is UNKNOWN, which is final and would end the message).
		"BUFFERED": Enroute, "buffered": Enroute, "PENDING": Enroute, "Pending": Enroute,
		"PENDINGX": Unknown, "BUFFERE": Unknown,
	}
	for stat, want := range tests {
		if got := Normalize(stat); got != want {
			t.Errorf("Normalize(%q) = %s, want %s", stat, got, want)
		}
	}
	for state, want := range map[int]Status{0: Enroute, 1: Enroute, 2: Delivered, 3: Expired, 4: Deleted,
		5: Undeliverable, 6: Accepted, 7: Unknown, 8: Rejected, 9: Unknown, 10: Unknown, -1: Unknown} {
		if got := StateStatus(state); got != want {
			t.Errorf("StateStatus(%d) = %s, want %s", state, got, want)
		}
	}
}

var sink Receipt

func BenchmarkParse(b *testing.B) {
	inputs := map[string]Input{
		"text": {EsmClass: 0x04, ShortMessage: []byte(
			"id:1234567890 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:Hello world, how ar")},
		"text+tlv": {EsmClass: 0x04, ShortMessage: []byte(
			"id:1234567890 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:Hello world, how ar"),
			TLVs: map[uint16][]byte{TagReceiptedMessageID: []byte("1234567890\x00"), TagMessageState: {2}, TagNetworkErrorCode: {3, 0, 0}}},
		"capitalized-lowerstat": {EsmClass: 0x04, ShortMessage: []byte(
			"Id:1234567890 Sub:001 Dlvrd:001 Submit date:240115123000 Done date:240115123100 Stat:delivrd Err:000 Text:Hello world, how ar")},
		"tlv-only": {EsmClass: 0x04,
			TLVs: map[uint16][]byte{TagReceiptedMessageID: []byte("1234567890\x00"), TagMessageState: {2}, TagNetworkErrorCode: {3, 0, 0}}},
	}
	for name, in := range inputs {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, err := Parse(in)
				if err != nil {
					b.Fatal(err)
				}
				sink = r
			}
		})
	}
}

// TestParseVariants renders one receipt with every combination of key case,
// spacing and date length and checks that each parses to the same fields.
func TestParseVariants(t *testing.T) {
	cases := []func(string) string{
		func(k string) string { return k },
		strings.ToUpper,
		func(k string) string { return strings.ToUpper(k[:1]) + k[1:] },
	}
	seps := []struct{ before, after string }{{"", ""}, {" ", ""}, {"", " "}, {"  ", "\t"}}
	dates := []struct {
		raw  string
		want time.Time
	}{{"2401151230", sub1}, {"240115123000", sub1}, {"20240115123000", sub1}}
	for ci, kc := range cases {
		for si, sep := range seps {
			for _, d := range dates {
				key := func(k string) string { return kc(k) + sep.before + ":" + sep.after }
				text := key("id") + "98765 " + key("sub") + "002  " + key("dlvrd") + "001 " +
					key("submit date") + d.raw + " " + key("done date") + d.raw + " " +
					key("stat") + "delivrd " + key("err") + "000 " + key("text") + "a: b"
				r, err := Parse(Input{EsmClass: 0x04, ShortMessage: []byte(text)})
				if err != nil {
					t.Fatalf("case %d sep %d: %q: %v", ci, si, text, err)
				}
				want := Receipt{ID: "98765", Stat: "DELIVRD", Err: "000", Status: Delivered, Final: true,
					Submitted: d.want, Done: d.want, SubmittedRaw: d.raw, DoneRaw: d.raw,
					Sub: 2, Dlvrd: 1, Text: "a: b", Source: SourceText}
				if !equalReceipt(r, want) {
					t.Errorf("%q:\n got %+v\nwant %+v", text, r, want)
				}
			}
		}
	}
}
